/* SPDX-License-Identifier: MIT */
/*
 * Slow kernel writes off the caller's thread: sriov_numvfs and driver
 * binding. The kernel's sriov_numvfs write runs the driver's
 * sriov_configure synchronously (sriov_numvfs_store in drivers/pci/iov.c):
 * i40e_pci_sriov_configure resets the PF, ixgbe with 125 VFs took ~65 s
 * (sriov-network-operator #1015), some never return (#1033). A VF's
 * unbind and drivers_probe run the driver's remove and probe in the
 * writer's thread too (unbind_store, drivers_probe_store in
 * drivers/base/bus.c): vfio-pci's remove waits, without a bound, until
 * the VF's user lets it go (vfio_unregister_group_dev in
 * drivers/vfio/vfio_main.c: "Device is currently in use, task ... blocked
 * until device is released").
 *
 * With a node's async part on, set_numvfs (0 first, the count, the wait
 * for the VFs: sr_sysfs_set_numvfs), wait_vfs (that wait alone), bind_start (the writes and one look;
 * bind_wait stays the caller's), bind_driver and unbind_driver each run
 * on a thread of their own; the caller waits at
 * most inline_ms (bind_inline_ms for the bindings). A write still running
 * then leaves its PF "busy" (set_numvfs, wait_vfs: -EINPROGRESS; the bindings:
 * -EALREADY, as bind_start's own -EINPROGRESS means "not on the driver
 * yet"), with what it waits for and since when: the apply goes on with
 * the other PFs, and no further write goes to that PF until it ends. A
 * VF's PF is its physfn link. The end is signalled on notify_fd (an
 * eventfd); the caller reaps it (sr_node_async_reap) and applies again.
 *
 * A thread stuck in the kernel cannot be cancelled: it is left running.
 * It uses only what the async part owns (a copy of the sysfs handle, the
 * caller's raw writer): after sr_node_async_disable it no longer touches
 * the node, which may then go away (a daemon's stack at exit).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "model.h"

struct sr_node_real;
struct sr_node_async;

enum sr_busy_kind {
	SR_BUSY_NUMVFS,             /* writing n to sriov_numvfs */
	SR_BUSY_WAIT_VFS,           /* no write: waiting for the n VFs of a
				     * count already set (sr_sysfs_wait_vfs) */
	SR_BUSY_BIND,               /* binding vf to driver (bind_start, bind_driver) */
	SR_BUSY_UNBIND,             /* unbinding vf (unbind_driver) */
};

/* A slow write of a PF, running or ended. */
struct sr_busy {
	char pci[SR_PCI_LEN];       /* the PF */
	enum sr_busy_kind kind;
	uint32_t n;                 /* NUMVFS, WAIT_VFS: the count */
	char vf[SR_PCI_LEN];        /* BIND, UNBIND: the VF */
	char driver[SR_DRIVER_LEN]; /* BIND: the driver */
	time_t since;               /* CLOCK_REALTIME start */
	uint64_t since_ms;          /* sr_sysfs_now_ms() start */
	bool done;
	int rc;                     /* when done: 0 or -errno */
	char msg[SR_ERR_MAX];       /* when done with an error */
};

/* Turn impl's set_numvfs and bindings asynchronous: inline_ms the apply
 * waits for a sriov_numvfs write, bind_inline_ms for a VF's binding
 * (UINT32_MAX: as long as it takes); notify_fd -1: none. The deadline of
 * the VFs' appearance after a sriov_numvfs write is
 * impl->sysfs.numvfs_timeout_ms. impl->sysfs is copied now. */
int sr_node_async_enable(struct sr_node_real *impl, unsigned inline_ms, unsigned bind_inline_ms,
			 int notify_fd);
/* Detach: ended writes freed, running ones left to free themselves; from
 * now on they no longer touch impl (their writes are neither counted nor
 * logged). */
void sr_node_async_disable(struct sr_node_real *impl);
/* Threads of this process still in a write after their part was
 * disabled or not: how many (a test waits for 0; the daemon logs it at
 * exit). */
size_t sr_node_async_live(void);

/* What b waits for, e.g. "writing 4 to sriov_numvfs", "binding VF
 * 0000:03:10.0 to vfio-pci". */
void sr_busy_what(const struct sr_busy *b, char *buf, size_t cap);

/* Writes running now, at most cap into out (may be NULL): their count. */
size_t sr_node_async_busy(struct sr_node_real *impl, struct sr_busy *out, size_t cap);
/* Writes that ended after their apply moved on, at most cap: each given
 * once, then forgotten. */
size_t sr_node_async_reap(struct sr_node_real *impl, struct sr_busy *out, size_t cap);

/* For node.c: the node ops through the async part, and whether PF pci has a
 * write running (why: what it waits for; vfs_change: a sriov_numvfs or the
 * wait for its VFs). wait_vfs: sr_sysfs_wait_vfs through the async part (a
 * PF that waits longer than inline_ms is busy like one being written). */
int sr_node_async_set_numvfs(struct sr_node_real *impl, const char *pf_pci, uint32_t n,
			     struct sr_err *err);
int sr_node_async_wait_vfs(struct sr_node_real *impl, const char *pf_pci, uint32_t n,
			   struct sr_err *err);
int sr_node_async_bind_start(struct sr_node_real *impl, const char *vf_pci, const char *driver,
			     char prev[SR_DRIVER_LEN], struct sr_err *err);
int sr_node_async_bind_driver(struct sr_node_real *impl, const char *vf_pci, const char *driver,
			      char prev[SR_DRIVER_LEN], struct sr_err *err);
int sr_node_async_unbind_driver(struct sr_node_real *impl, const char *vf_pci,
				struct sr_err *err);
bool sr_node_async_pf_busy(struct sr_node_real *impl, const char *pf_pci, bool *vfs_change,
			   char *why, size_t cap);
