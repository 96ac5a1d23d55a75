/* SPDX-License-Identifier: MIT */
/*
 * sriov_numvfs writes off the caller's thread. The kernel's write runs the
 * driver's sriov_configure synchronously (sriov_numvfs_store in
 * drivers/pci/iov.c): i40e_pci_sriov_configure resets the PF, ixgbe with
 * 125 VFs took ~65 s (sriov-network-operator #1015), some never return
 * (#1033). With a node's async part on, set_numvfs starts the write (0
 * first, the count, the wait for the VFs: sr_sysfs_set_numvfs) on a thread
 * of its own and waits for it at most inline_ms; a write still running
 * then leaves its PF "busy" (-EINPROGRESS, with what it waits for and since
 * when): the apply goes on with the other PFs, and no further write goes to
 * that PF until it ends. Its end is signalled on notify_fd (an eventfd);
 * the caller reaps it (sr_node_async_reap) and applies again. A thread
 * stuck in the kernel cannot be cancelled: it is left running.
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

/* A sriov_numvfs write of a PF, running or ended. */
struct sr_busy {
	char pci[SR_PCI_LEN];
	uint32_t n;                 /* the count being written */
	bool wait_only;             /* no write: waiting for the n VFs of a
				     * count already set (sr_sysfs_wait_vfs) */
	time_t since;               /* CLOCK_REALTIME start */
	uint64_t since_ms;          /* sr_sysfs_now_ms() start */
	bool done;
	int rc;                     /* when done: 0 or -errno */
	char msg[SR_ERR_MAX];       /* when done with an error */
};

/* Turn impl's set_numvfs asynchronous: inline_ms the apply waits for a
 * write (UINT32_MAX: as long as it takes); notify_fd -1: none. The
 * deadline of the write itself is impl->sysfs.numvfs_timeout_ms. */
int sr_node_async_enable(struct sr_node_real *impl, unsigned inline_ms, int notify_fd);
/* Detach: ended writes freed, running ones left to free themselves. */
void sr_node_async_disable(struct sr_node_real *impl);

/* Writes running now, at most cap into out (may be NULL): their count. */
size_t sr_node_async_busy(struct sr_node_real *impl, struct sr_busy *out, size_t cap);
/* Writes that ended after their apply moved on, at most cap: each given
 * once, then forgotten. */
size_t sr_node_async_reap(struct sr_node_real *impl, struct sr_busy *out, size_t cap);

/* For node.c: set_numvfs through the async part, and whether PF pci has a
 * write running (why: what it waits for). */
int sr_node_async_set_numvfs(struct sr_node_real *impl, const char *pf_pci, uint32_t n,
			     struct sr_err *err);
/* For node.c: sr_sysfs_wait_vfs through the async part (a PF that waits
 * longer than inline_ms is busy like one being written). */
int sr_node_async_wait_vfs(struct sr_node_real *impl, const char *pf_pci, uint32_t n,
			   struct sr_err *err);
bool sr_node_async_pf_busy(struct sr_node_real *impl, const char *pf_pci, char *why, size_t cap);
