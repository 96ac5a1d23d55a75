/* SPDX-License-Identifier: MIT */
/*
 * sysfs access for SR-IOV PFs and VFs. Every path is built under a sysfs
 * root ("/" on a node, a fake tree in tests) and every write goes through
 * one replaceable writer, so tests can emulate a PF driver in-process.
 * Split by job: file I/O under the root (sysfs_io.c), discovery
 * (sysfs_discover.c), writes and their waits (sysfs_write.c). PCI names
 * are not looked up here (sriovctl's agent/cli/pci_names.c).
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "model.h"

/* Writes value to the file at path; returns 0 or -errno (as write(2) did). */
typedef int (*sr_sysfs_writer)(void *ctx, const char *path, const char *value);

struct sr_sysfs {
	char root[PATH_MAX];          /* no trailing slash; "" means "/" */
	sr_sysfs_writer write;        /* default: sr_sysfs_write_file */
	void *write_ctx;
	unsigned wait_timeout_ms;     /* for VFs to appear/disappear and for a
				       * bind to show; default 10000 */
	unsigned wait_poll_ms;        /* default 20 */
	unsigned numvfs_timeout_ms;   /* for VFs to appear/disappear after a
				       * sriov_numvfs write; 0: wait_timeout_ms */
	unsigned numvfs_again_ms;     /* sriov_numvfs answered -EAGAIN: tried
				       * again this long; 0: SR_NUMVFS_AGAIN_MS */
};

void sr_sysfs_init(struct sr_sysfs *s, const char *root);

/* PCI addresses and ifnames are checked (sr_valid_pci, sr_valid_ifname)
 * before they go into a path; functions below answer -EINVAL with a
 * message naming the field. The default writer: */
int sr_sysfs_write_file(void *ctx, const char *path, const char *value);

/* A small file's content, trailing whitespace removed: 0 or -errno. */
int sr_sysfs_read_value(const char *path, char *buf, size_t size);

/* Basename of a symlink's target (a driver, an IOMMU group, a VF address):
 * 0, -errno, or -ENAMETOOLONG when it does not fit in size bytes. */
int sr_sysfs_link_base(const char *path, char *out, size_t size);

/* Locate a PF by ifname (/sys/class/net/IF/device) or by PCI address
 * (/sys/bus/pci/devices/ADDR); either may be NULL/"" but not both. When both
 * are given they must name the same device. Fills pci, ifname (if it has a
 * netdev), driver, ids, totalvfs, numvfs, autoprobe; not vfs, nor the
 * display name.
 * -ENODEV: no such device; -EOPNOTSUPP: the device has no SR-IOV
 * (no sriov_totalvfs). */
int sr_sysfs_find_pf(const struct sr_sysfs *s, const char *ifname, const char *pci,
		     struct sr_pf *out, struct sr_err *err);

int sr_sysfs_read_totalvfs(const struct sr_sysfs *s, const char *pf_pci, uint32_t *out);
int sr_sysfs_read_numvfs(const struct sr_sysfs *s, const char *pf_pci, uint32_t *out);
/* A netdev's flags (/sys/class/net/IF/flags: dev->flags, IFF_UP among
 * them; net/core/net-sysfs.c, the "flags" attribute). 0, -EINVAL for a
 * bad ifname, -EIO when the file holds no number, or -errno (-ENOENT: no
 * such netdev). */
int sr_sysfs_read_netdev_flags(const struct sr_sysfs *s, const char *ifname, uint32_t *out);

/* How long a sriov_numvfs write answered -EAGAIN (another VF operation
 * pending in the driver) is tried again. */
#define SR_NUMVFS_AGAIN_MS 2000

/* Set sriov_numvfs to n: no write when already n; writes 0 first when
 * changing a non-zero count (the kernel answers EBUSY otherwise); a write
 * answered -EAGAIN is made again for up to SR_NUMVFS_AGAIN_MS; then
 * waits until exactly n virtfn links exist (timeout -> -ETIMEDOUT with a
 * message naming PF, wanted and seen). */
int sr_sysfs_set_numvfs(const struct sr_sysfs *s, const char *pf_pci, uint32_t n,
			struct sr_err *err);

/* No write: wait until exactly n virtfn links exist, each leading to a
 * device, as after a sriov_numvfs write (same bound); -ETIMEDOUT with a
 * message naming PF, wanted and seen. For a PF whose sriov_numvfs already
 * says n while its VFs are still appearing: a kernel shows the count only
 * once its VFs are added (sriov_enable in drivers/pci/iov.c sets num_VFs
 * after sriov_add_vfs, both under the device lock sriov_numvfs_show takes),
 * but an emulator in another process, or an agent killed between its write
 * and the emulator's VFs, shows it first. */
int sr_sysfs_wait_vfs(const struct sr_sysfs *s, const char *pf_pci, uint32_t n,
		      struct sr_err *err);

/* Fill pf->vfs (replacing any) from the PF's virtfnN links: index N, PCI
 * address from the link target, netdev name, bound driver, IOMMU group. */
int sr_sysfs_read_vfs(const struct sr_sysfs *s, struct sr_pf *pf, struct sr_err *err);

/* Every SR-IOV capable PCI device (has sriov_totalvfs), with its VFs;
 * name is left empty. */
int sr_sysfs_list_pfs(const struct sr_sysfs *s, struct sr_pf **out, size_t *n_out,
		      struct sr_err *err);
void sr_sysfs_free_pfs(struct sr_pf *pfs, size_t n);

/* True when /sys/kernel/iommu_groups has at least one group. */
bool sr_sysfs_iommu_enabled(const struct sr_sysfs *s);

/* Passthrough binding. autoprobe: sriov_drivers_autoprobe of the PF.
 * bind: driver_override = driver, unbind from the current driver,
 * drivers_probe; checks the VF ended up on driver. unbind: clears
 * driver_override, unbinds, drivers_probe (the host driver takes it back).
 * The previously bound driver is written to prev (may be NULL). */
int sr_sysfs_set_autoprobe(const struct sr_sysfs *s, const char *pf_pci, bool on,
			   struct sr_err *err);
int sr_sysfs_bind_driver(const struct sr_sysfs *s, const char *vf_pci, const char *driver,
			 char prev[SR_DRIVER_LEN], struct sr_err *err);

/* Binding many VFs with one deadline (an apply). bind_start makes
 * bind_driver's writes and looks once, right after drivers_probe: 0 when the
 * VF is on driver (a kernel probes synchronously: the usual answer),
 * -EINPROGRESS when it is not yet (an emulator in another process lags); prev
 * is written in both cases. bind_wait then looks again until the VF is on
 * driver or wait_timeout_ms have passed since started_ms (sr_sysfs_now_ms()
 * at the apply's first bind, the same for all its VFs: once a driver has
 * used up the deadline, each further VF gets one look); -EIO with a message
 * saying where the VF is bound otherwise. bind_driver is bind_start, then
 * bind_wait from its own start. */
int sr_sysfs_bind_start(const struct sr_sysfs *s, const char *vf_pci, const char *driver,
			char prev[SR_DRIVER_LEN], struct sr_err *err);
int sr_sysfs_bind_wait(const struct sr_sysfs *s, const char *vf_pci, const char *driver,
		       uint64_t started_ms, struct sr_err *err);
/* CLOCK_MONOTONIC in milliseconds: the clock of bind_wait's started_ms. */
uint64_t sr_sysfs_now_ms(void);
int sr_sysfs_unbind_driver(const struct sr_sysfs *s, const char *vf_pci, struct sr_err *err);
