/* SPDX-License-Identifier: MIT */
/*
 * The node seam: every read and write an apply makes on the kernel (sysfs
 * and rtnetlink, ifindex lookup, VF dump and link flags included) goes
 * through one struct sr_node_ops. The real implementation (sr_node_real_init)
 * and the unit tests' fake node are two instances of it. step() is the one
 * test hook: the apply calls it at each named point of its run; the agent
 * installs its fault injector there, the library never looks at the
 * environment itself.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "model.h"
#include "netlink.h"
#include "sysfs.h"

struct sr_xen_ops;
struct sr_node_async;

/* Log sink; level is a syslog LOG_* value. */
typedef void (*sr_log_fn)(void *ctx, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Kernel writes made through a node since it was set up. */
struct sr_node_counts {
	size_t sysfs_writes;
	size_t netlink_writes;
};

struct sr_node_ops {
	void *ctx;   /* passed to every function below */

	/* sysfs reads. find_pf and read_vfs as sr_sysfs_find_pf / _read_vfs.
	 * check_passthrough: 0 when VFs can be passed through with driver
	 * (vfio-pci: Linux has IOMMU groups; pciback: a Xen dom0 with Xen's
	 * IOMMU on), else -ENODEV with a message saying what is missing. */
	int (*find_pf)(void *ctx, const char *ifname, const char *pci, struct sr_pf *out,
		       struct sr_err *err);
	int (*read_vfs)(void *ctx, struct sr_pf *pf, struct sr_err *err);
	int (*check_passthrough)(void *ctx, const char *driver, struct sr_err *err);

	/* sysfs writes, as the sr_sysfs_* functions of the same names. */
	int (*set_numvfs)(void *ctx, const char *pf_pci, uint32_t n, struct sr_err *err);
	/* May be NULL. No write: until PF pf_pci has n VFs, as
	 * sr_sysfs_wait_vfs (-EINPROGRESS: the wait goes on past the apply's,
	 * the PF is busy like one being written). */
	int (*wait_vfs)(void *ctx, const char *pf_pci, uint32_t n, struct sr_err *err);
	int (*set_autoprobe)(void *ctx, const char *pf_pci, bool on, struct sr_err *err);
	/* bind_driver, unbind_driver, bind_start: -EALREADY when the write
	 * goes on past the apply's wait, or another write of the VF's PF
	 * runs (node_async.h): the PF is busy, err says with what. */
	int (*bind_driver)(void *ctx, const char *vf_pci, const char *driver,
			   char prev[SR_DRIVER_LEN], struct sr_err *err);
	int (*unbind_driver)(void *ctx, const char *vf_pci, struct sr_err *err);
	/* An apply's binding, as sr_sysfs_bind_start / sr_sysfs_bind_wait:
	 * the writes and one look per VF; a VF not on the driver yet is waited
	 * for until one deadline for the whole apply (started_ms, on
	 * sr_sysfs_now_ms()'s clock). */
	int (*bind_start)(void *ctx, const char *vf_pci, const char *driver,
			  char prev[SR_DRIVER_LEN], struct sr_err *err);
	int (*bind_wait)(void *ctx, const char *vf_pci, const char *driver, uint64_t started_ms,
			 struct sr_err *err);

	/* rtnetlink. All NULL on a node without netlink: VF settings are then
	 * reserved and recorded, never written or read. read_vf_settings
	 * fills the kernel view (has_kernel, kernel) of every VF in pf->vfs;
	 * *truncated when the kernel listed fewer VFs than IFLA_NUM_VF.
	 * set_vf writes the set attributes of s (one request, per-attribute
	 * requests only when it is refused), result[] per attribute
	 * (SR_ATTR_NOT_TRIED when unset). */
	int (*ifindex)(void *ctx, const char *ifname, int *out, struct sr_err *err);
	int (*read_vf_settings)(void *ctx, int ifindex, struct sr_pf *pf, bool *truncated,
				struct sr_err *err);
	int (*set_vf)(void *ctx, int ifindex, uint32_t vf, const struct sr_vf_settings *s,
		      int result[SR_ATTR__COUNT], struct sr_err *err);
	int (*link_up)(void *ctx, int ifindex, bool *was_down, struct sr_err *err);
	/* May be NULL: PF pf_pci has a kernel write outstanding (why: what it
	 * waits for, since when); the apply sends it nothing more.
	 * *vfs_change (may be NULL): the write changes the PF's VFs
	 * (sriov_numvfs), not one VF's driver. */
	bool (*pf_busy)(void *ctx, const char *pf_pci, bool *vfs_change, char *why, size_t cap);
	/* devlink, may be NULL: the eswitch mode of PF pci ("legacy",
	 * "switchdev"), as sr_devlink_eswitch_mode. */
	int (*eswitch_mode)(void *ctx, const char *pf_pci, char mode[16], struct sr_err *err);

	/* Kernel writes so far (the apply reports the difference). */
	void (*counts)(void *ctx, struct sr_node_counts *out);

	/* Test hook, may be NULL: called as the apply passes point for the
	 * nth time in that run (points: docs/daemon.md). 0 goes on; -errno
	 * fails the run there, as if the step's operation had failed (at
	 * "before-save": the state save). A failing hook may say where it
	 * failed in why (its own count of passes, say); the run's message
	 * then names that instead of "point:nth". */
	int (*step)(void *step_ctx, const char *point, size_t nth, struct sr_err *why);
	void *step_ctx;
};

/* The real node: sysfs under sysfs->root, netlink through nl (NULL: none).
 * The node keeps copies of both (nl's socket stays the caller's). Every kernel write is
 * counted and logged at debug level to log (may be NULL). */
struct sr_node_real {
	struct sr_sysfs sysfs;         /* the caller's, with a counting writer */
	sr_sysfs_writer write;         /* the caller's writer */
	void *write_ctx;
	struct sr_nl nl;               /* the caller's, with a counting sender */
	sr_nl_send_fn send;
	void *send_ctx;
	struct sr_node_counts counts;  /* atomic: async writes count too */
	struct sr_node_async *async;   /* slow writes off-thread (node_async.h) */
	const struct sr_xen_ops *xen;  /* how Xen is asked (NULL: libxenctrl) */
	sr_log_fn log;
	void *log_ctx;
};

void sr_node_real_init(struct sr_node_ops *ops, struct sr_node_real *impl,
		       const struct sr_sysfs *sysfs, const struct sr_nl *nl, sr_log_fn log,
		       void *log_ctx);
/* A sysfs write made for impl (r: its result): counted and logged. */
void sr_node_real_wrote(struct sr_node_real *impl, const char *path, const char *value, int r);

/* True when the node writes and reads VF settings (has netlink). */
static inline bool sr_node_has_netlink(const struct sr_node_ops *ops)
{
	return ops->set_vf != NULL;
}

/* pf's netdev ifindex through ops->ifindex; 0 when the node has no
 * netlink, pf has no netdev or the lookup fails. */
int sr_node_pf_ifindex(const struct sr_node_ops *ops, const struct sr_pf *pf);
