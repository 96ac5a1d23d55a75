/* SPDX-License-Identifier: MIT */
/*
 * The plan: the ordered list of actions that takes the node from what it is
 * to what the config asks, computed by a pure function before the first
 * kernel write. It holds every step an apply takes, the bookkeeping ones
 * (record the VFs, save the intent, read the node back, save) included, in
 * the order they run, so a dry run prints exactly what a real run does.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "err.h"
#include "model.h"

/* In the order a plan holds them (sr_plan_compute emits them so). */
enum sr_action_type {
	SR_ACT_RETIRE_DOMAINS, /* remove domain configs naming a VF about to change hands */
	SR_ACT_RELEASE,      /* restore a VF an app no longer holds */
	SR_ACT_NO_AUTOPROBE, /* stop the host VF driver grabbing new VFs (passthrough) */
	SR_ACT_PF_UP,        /* bring the PF up before its VF count (a driver rule, drivers.h) */
	SR_ACT_SET_NUMVFS,   /* change a PF's VF count */
	SR_ACT_MAP_VFS,      /* note each reservation's VF PCI address (or that it is missing) */
	SR_ACT_CAPTURE,      /* note the original settings of VFs this agent never changed */
	SR_ACT_SAVE_INTENT,  /* save the reservations before the first VF write */
	SR_ACT_CONFIGURE,    /* write VF attributes for a reservation */
	SR_ACT_BIND,         /* bind a reserved VF to the passthrough driver */
	SR_ACT_REREAD,       /* read every PF's VFs and their settings back */
	SR_ACT_SAVE,         /* save the new state, unless nothing changed */
	SR_ACT_WRITE_DOMAINS, /* write the domain configs from the new state */
	SR_ACT_SAVE_CONFIG,  /* save the config as the one in force */
	SR_ACT__COUNT
};

struct sr_action {
	enum sr_action_type type;
	size_t pf;           /* index into the config's PFs (NO_AUTOPROBE, PF_UP, SET_NUMVFS,
			      * CONFIGURE, BIND) */
	size_t res;          /* RELEASE: old reservation; CONFIGURE/BIND: new one */
	uint32_t value;      /* SET_NUMVFS: new count */
	unsigned attrs;      /* CONFIGURE: bit (1 << sr_vf_attr) per attribute */
};

struct sr_plan {
	struct sr_action *actions;
	size_t n, cap;
	size_t n_changes;    /* actions that change the node (sr_action_changes_node) */
};

void sr_plan_free(struct sr_plan *p);

/* RELEASE, NO_AUTOPROBE, SET_NUMVFS, CONFIGURE and BIND change the node;
 * the others are the apply's own bookkeeping. */
bool sr_action_changes_node(enum sr_action_type t);

/* What the plan reads of the world, all of it read before it is computed. */
struct sr_plan_input {
	const struct sr_config *cfg;
	const struct sr_pf *pfs;           /* the node's PF for each cfg->pfs, with
					    * VFs and their kernel view as read */
	const struct sr_reservation *old;  /* saved reservations */
	size_t n_old;
	const struct sr_reservation *res;  /* the new ones (sr_reserve) */
	size_t n_res;
	bool configure;                    /* VF settings are written (netlink) */
	const char *bind_driver;           /* NULL: no passthrough binding */
	bool domains;                      /* domain configs are retired and written
					    * (sr_outputs.retire, .write) */
	bool save_config;                  /* the config is saved as the one in force
					    * (sr_outputs.save_config) */
};

/* The index into in->pfs (and in->cfg->pfs) of the PF at pci; -1: none. */
ssize_t sr_plan_pf_by_pci(const struct sr_plan_input *in, const char *pci);

/* Pure. Order: retire domain configs (when in->domains); releases; per PF autoprobe off, PF up when its driver's rule
 * says so (drivers.h), then its VF count; map the
 * VFs; capture originals; save the intent (when a VF is to be written);
 * every configure; every bind; re-read; save; write the domain
 * configs (in->domains); save the config (in->save_config). */
int sr_plan_compute(const struct sr_plan_input *in, struct sr_plan *out, struct sr_err *err);

/* One line describing an action, for logs and --dry-run. */
void sr_action_format(const struct sr_action *a, const struct sr_plan_input *in, char *buf,
		      size_t cap);
