/* SPDX-License-Identifier: MIT */
/*
 * Apply a config: decode + validate -> read the node -> reserve -> plan ->
 * execute -> save state. Nothing is written to the kernel before the whole
 * config has been validated against the node, and the plan is computed
 * before the first write, so bad input changes nothing and an unchanged
 * config is an empty plan.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "model.h"
#include "state.h"

struct sr_sysfs;
struct sr_nl;
struct sr_xen_ops;

/* Log sink; level is a syslog LOG_* value. */
typedef void (*sr_log_fn)(void *ctx, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

enum sr_action_type {
	SR_ACT_RELEASE,      /* restore a VF an app no longer holds */
	SR_ACT_NO_AUTOPROBE, /* stop the host VF driver grabbing new VFs (passthrough) */
	SR_ACT_SET_NUMVFS,   /* change a PF's VF count */
	SR_ACT_CONFIGURE,    /* write VF attributes for a reservation */
	SR_ACT_BIND,         /* bind a reserved VF to the passthrough driver */
};

struct sr_action {
	enum sr_action_type type;
	size_t pf;           /* index into the config's PFs (RELEASE: unused) */
	size_t res;          /* RELEASE: old reservation; CONFIGURE/BIND: new one */
	uint32_t value;      /* SET_NUMVFS: new count */
	unsigned attrs;      /* CONFIGURE: bit (1 << sr_vf_attr) per attribute */
};

struct sr_plan {
	struct sr_action *actions;
	size_t n;
};

void sr_plan_free(struct sr_plan *p);

/* Pure: what must change to go from the node's state to the desired one.
 * pfs: the node's PFs for cfg->pfs (numvfs as read); kernel[i]: VF settings
 * the kernel reports for pfs[i] (NULL = unknown); old/new reservations.
 * configure: false when VF settings are not written (no netlink);
 * bind_driver: NULL for no passthrough binding. */
int sr_plan_compute(const struct sr_config *cfg, const struct sr_pf *pfs,
		    struct sr_vf_settings *const *kernel, size_t const *n_kernel,
		    const struct sr_reservation *old, size_t n_old,
		    const struct sr_reservation *res, size_t n_res, bool configure,
		    const char *bind_driver, struct sr_plan *out, struct sr_err *err);

/* One line describing an action, for logs and --dry-run. */
void sr_action_format(const struct sr_action *a, const struct sr_config *cfg,
		      const struct sr_reservation *old, const struct sr_reservation *res,
		      char *buf, size_t cap);

struct sr_apply_ctx {
	struct sr_sysfs *sysfs;
	struct sr_nl *nl;            /* NULL: VF settings are reserved, not written */
	const char *state_dir;
	const char *bind_driver;     /* NULL: no passthrough binding */
	const struct sr_xen_ops *xen; /* bind_driver "pciback": how Xen's IOMMU
				       * is asked (NULL: libxenctrl) */
	bool dry_run;                /* compute and log the plan; write nothing */
	sr_log_fn log;               /* may be NULL */
	void *log_ctx;
	/* out: */
	size_t sysfs_writes;         /* kernel writes performed */
	size_t netlink_writes;
	size_t n_actions;
	size_t n_warnings;           /* attributes refused, VFs missing, ... */
};

/* Apply config bytes. On success the new state is saved (unless nothing
 * changed) and, if st_out is non-NULL, handed to the caller. */
int sr_apply(struct sr_apply_ctx *ctx, const uint8_t *cfg, size_t len, struct sr_state *st_out,
	     struct sr_err *err);
