/* SPDX-License-Identifier: MIT */
/*
 * The real node: struct sr_node_ops over the sysfs layer (sysfs.c) and the
 * rtnetlink layer (netlink.c). The node owns copies of the caller's sysfs
 * and netlink handles whose writer and sender count and log each kernel
 * write, so nothing the caller owns is swapped during an apply.
 */
#include "node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "devlink.h"
#include "node_async.h"
#include "xen.h"

#define LOG(impl, level, ...)                                           \
	do {                                                            \
		if ((impl)->log)                                        \
			(impl)->log((impl)->log_ctx, (level), __VA_ARGS__); \
	} while (0)

void sr_node_real_wrote(struct sr_node_real *impl, const char *path, const char *value, int r)
{
	__atomic_add_fetch(&impl->counts.sysfs_writes, 1, __ATOMIC_RELAXED);
	/* One line per write: a value's newline (driver_override's "\n"
	 * clears it) is shown as \n. */
	LOG(impl, LOG_DEBUG, "sysfs write %s = %.*s%s: %s", path, (int)strcspn(value, "\n"), value,
	    strchr(value, '\n') ? "\\n" : "", r ? strerror(-r) : "ok");
}

static int count_write(void *c, const char *path, const char *value)
{
	struct sr_node_real *impl = c;
	int r = impl->write(impl->write_ctx, path, value);

	sr_node_real_wrote(impl, path, value, r);
	return r;
}

static int count_send(void *c, struct nl_msg *msg)
{
	struct sr_node_real *impl = c;

	impl->counts.netlink_writes++;
	return impl->send(impl->send_ctx, msg);
}

static int real_find_pf(void *c, const char *ifname, const char *pci, struct sr_pf *out,
			struct sr_err *err)
{
	struct sr_node_real *impl = c;

	return sr_sysfs_find_pf(&impl->sysfs, ifname, pci, out, err);
}

static int real_read_vfs(void *c, struct sr_pf *pf, struct sr_err *err)
{
	struct sr_node_real *impl = c;

	return sr_sysfs_read_vfs(&impl->sysfs, pf, err);
}

/* vfio-pci needs Linux's IOMMU groups. Under Xen the hypervisor owns the
 * IOMMU and dom0 has no groups: Xen itself is asked (xen.h). */
static int real_check_passthrough(void *c, const char *driver, struct sr_err *err)
{
	struct sr_node_real *impl = c;

	if (!strcmp(driver, SR_XEN_PCIBACK_DRIVER))
		return sr_xen_check_passthrough(&impl->sysfs, impl->xen, err);
	if (strcmp(driver, "vfio-pci") || sr_sysfs_iommu_enabled(&impl->sysfs))
		return 0;
	return sr_err_set(err, -ENODEV,
			  "passthrough to %s asked but the IOMMU is off (no IOMMU groups under %s/sys/kernel/iommu_groups): boot with intel_iommu=on (grub enable_sriov=true)",
			  driver, impl->sysfs.root);
}

static int real_set_numvfs(void *c, const char *pf_pci, uint32_t n, struct sr_err *err)
{
	struct sr_node_real *impl = c;

	if (impl->async)
		return sr_node_async_set_numvfs(impl, pf_pci, n, err);
	return sr_sysfs_set_numvfs(&impl->sysfs, pf_pci, n, err);
}

static int real_wait_vfs(void *c, const char *pf_pci, uint32_t n, struct sr_err *err)
{
	struct sr_node_real *impl = c;

	if (impl->async)
		return sr_node_async_wait_vfs(impl, pf_pci, n, err);
	return sr_sysfs_wait_vfs(&impl->sysfs, pf_pci, n, err);
}

static bool real_pf_busy(void *c, const char *pf_pci, bool *vfs_change, char *why, size_t cap)
{
	struct sr_node_real *impl = c;

	return impl->async && sr_node_async_pf_busy(impl, pf_pci, vfs_change, why, cap);
}

static int real_set_autoprobe(void *c, const char *pf_pci, bool on, struct sr_err *err)
{
	struct sr_node_real *impl = c;

	return sr_sysfs_set_autoprobe(&impl->sysfs, pf_pci, on, err);
}

static int real_bind_driver(void *c, const char *vf_pci, const char *driver,
			    char prev[SR_DRIVER_LEN], struct sr_err *err)
{
	struct sr_node_real *impl = c;

	if (impl->async)
		return sr_node_async_bind_driver(impl, vf_pci, driver, prev, err);
	return sr_sysfs_bind_driver(&impl->sysfs, vf_pci, driver, prev, err);
}

static int real_bind_start(void *c, const char *vf_pci, const char *driver,
			   char prev[SR_DRIVER_LEN], struct sr_err *err)
{
	struct sr_node_real *impl = c;

	if (impl->async)
		return sr_node_async_bind_start(impl, vf_pci, driver, prev, err);
	return sr_sysfs_bind_start(&impl->sysfs, vf_pci, driver, prev, err);
}

static int real_bind_wait(void *c, const char *vf_pci, const char *driver, uint64_t started_ms,
			  struct sr_err *err)
{
	struct sr_node_real *impl = c;

	return sr_sysfs_bind_wait(&impl->sysfs, vf_pci, driver, started_ms, err);
}

static int real_unbind_driver(void *c, const char *vf_pci, struct sr_err *err)
{
	struct sr_node_real *impl = c;

	if (impl->async)
		return sr_node_async_unbind_driver(impl, vf_pci, err);
	return sr_sysfs_unbind_driver(&impl->sysfs, vf_pci, err);
}

static int real_ifindex(void *c, const char *ifname, int *out, struct sr_err *err)
{
	struct sr_node_real *impl = c;

	return sr_nl_ifindex(&impl->nl, ifname, out, err);
}

static int real_read_vf_settings(void *c, int ifindex, struct sr_pf *pf, bool *truncated,
				 struct sr_err *err)
{
	struct sr_node_real *impl = c;
	struct sr_vf_settings *vfs = NULL;
	size_t n = 0;
	int r;

	for (size_t j = 0; j < pf->n_vfs; j++)
		pf->vfs[j].has_kernel = false;
	r = sr_nl_read_vfs(&impl->nl, ifindex, &vfs, &n, truncated, err);
	if (r)
		return r;
	for (size_t j = 0; j < pf->n_vfs; j++) {
		if (pf->vfs[j].index >= n)
			continue;
		pf->vfs[j].kernel = vfs[pf->vfs[j].index];
		pf->vfs[j].has_kernel = true;
	}
	free(vfs);
	return 0;
}

static int real_set_vf(void *c, int ifindex, uint32_t vf, const struct sr_vf_settings *s,
		       int result[SR_ATTR__COUNT], struct sr_err *err)
{
	struct sr_node_real *impl = c;

	return sr_nl_apply_vf(&impl->nl, ifindex, vf, s, result, err);
}

static int real_link_up(void *c, int ifindex, bool *was_down, struct sr_err *err)
{
	struct sr_node_real *impl = c;

	return sr_nl_link_up(&impl->nl, ifindex, was_down, err);
}

static void real_counts(void *c, struct sr_node_counts *out)
{
	struct sr_node_real *impl = c;

	out->sysfs_writes = __atomic_load_n(&impl->counts.sysfs_writes, __ATOMIC_RELAXED);
	out->netlink_writes = impl->counts.netlink_writes;
}

int sr_node_pf_ifindex(const struct sr_node_ops *ops, const struct sr_pf *pf)
{
	struct sr_err e = { "" };
	int idx = 0;

	if (!ops->ifindex || !pf->ifname[0] || ops->ifindex(ops->ctx, pf->ifname, &idx, &e))
		return 0;
	return idx;
}

static int real_eswitch_mode(void *c, const char *pf_pci, char mode[16], struct sr_err *err)
{
	(void)c;
	return sr_devlink_eswitch_mode(pf_pci, mode, err);
}

void sr_node_real_init(struct sr_node_ops *ops, struct sr_node_real *impl,
		       const struct sr_sysfs *sysfs, const struct sr_nl *nl, sr_log_fn log,
		       void *log_ctx)
{
	*impl = (struct sr_node_real){ .sysfs = *sysfs, .log = log, .log_ctx = log_ctx };
	impl->write = sysfs->write;
	impl->write_ctx = sysfs->write_ctx;
	impl->sysfs.write = count_write;
	impl->sysfs.write_ctx = impl;
	*ops = (struct sr_node_ops){
		.ctx = impl,
		.find_pf = real_find_pf,
		.read_vfs = real_read_vfs,
		.check_passthrough = real_check_passthrough,
		.set_numvfs = real_set_numvfs,
		.wait_vfs = real_wait_vfs,
		.set_autoprobe = real_set_autoprobe,
		.bind_driver = real_bind_driver,
		.unbind_driver = real_unbind_driver,
		.bind_start = real_bind_start,
		.bind_wait = real_bind_wait,
		.counts = real_counts,
		.pf_busy = real_pf_busy,
	};
	if (!nl)
		return;
	impl->nl = *nl;
	impl->send = nl->send;
	impl->send_ctx = nl->send_ctx;
	impl->nl.send = count_send;
	impl->nl.send_ctx = impl;
	ops->ifindex = real_ifindex;
	ops->read_vf_settings = real_read_vf_settings;
	ops->set_vf = real_set_vf;
	ops->link_up = real_link_up;
	/* devlink is the running kernel's: asked only for the real sysfs. */
	if (!impl->sysfs.root[0] || !strcmp(impl->sysfs.root, "/"))
		ops->eswitch_mode = real_eswitch_mode;
}
