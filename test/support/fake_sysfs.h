/* SPDX-License-Identifier: MIT */
/*
 * A fake sysfs tree for tests, laid out like the kernel's, plus a PF
 * driver emulator that reacts to writes of sriov_numvfs like a real driver:
 * it refuses counts above sriov_totalvfs (-ERANGE), answers -EBUSY to a
 * non-zero -> non-zero change, and creates/removes the VFs (PCI device
 * directories + virtfnN links, with offset/stride so VF index != PCI
 * function) asynchronously after a delay.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct sr_fake_pf {
	const char *pci;          /* "0000:03:00.0" */
	const char *ifname;       /* PF netdev, NULL for none */
	const char *driver;       /* e.g. "igb" */
	uint32_t totalvfs;        /* 0: device without SR-IOV (no sriov_* files) */
	uint32_t offset, stride;  /* VF routing-ID offset/stride, e.g. 128, 2 */
	uint16_t vendor, device;  /* e.g. 0x8086, 0x10c9 */
	uint16_t vf_device;       /* e.g. 0x10ca */
	const char *vf_driver;    /* driver VFs bind to, e.g. "igbvf"; NULL unbound */
	const char *vf_ifname_fmt;/* e.g. "eth1v%u" for a VF netdev, NULL for none */
	bool iommu;               /* give each device its own IOMMU group */
	const char *numvfs_mirror;/* a real sriov_numvfs (absolute path) the driver
	                           * writes each new VF count to before it makes
	                           * the VFs (test/vm: netdevsim's), NULL none */
};

/* mkdtemp() a new tree; *root_out is malloc'd, owned by the caller. */
int sr_fake_sysfs_create(char **root_out);
/* Lay out the empty skeleton (sys/bus/pci/..., sys/class/net, ...) in dir,
 * an existing directory. The root replaces "/". */
int sr_fake_sysfs_init(const char *dir);
/* Adds a PF (and its drivers). offset/stride 0 mean 128/2; vendor, device,
 * vf_device 0 mean 0x8086/0x10c9/0x10ca. The PF netdev exists while the PF
 * is bound to driver; a VF's netdev while it is bound to vf_driver. */
int sr_fake_sysfs_add_pf(const char *root, const struct sr_fake_pf *pf);
/* sys/bus/pci/drivers/NAME with bind/unbind. A refusing driver never takes
 * a device (to test "driver did not bind"). Idempotent. */
int sr_fake_sysfs_add_driver(const char *root, const char *name, bool refuses);
/* rm -rf the tree and free root. */
void sr_fake_sysfs_destroy(char *root);

/* In-process emulator. Use as the sysfs writer:
 *   s.write = sr_fake_driver_write; s.write_ctx = drv; */
struct sr_fake_driver;
struct sr_fake_driver *sr_fake_driver_new(const char *root, unsigned delay_ms);
int sr_fake_driver_write(void *ctx, const char *path, const char *value);
unsigned sr_fake_driver_writes(const struct sr_fake_driver *drv); /* writes seen */
void sr_fake_driver_free(struct sr_fake_driver *drv); /* waits for pending work */

/* i40e: the next `writes` sriov_numvfs writes of PF pci answer -EAGAIN,
 * as i40e_pci_sriov_configure does while __I40E_VIRTCHNL_OP_PENDING is held
 * by another VF operation (drivers/net/ethernet/intel/i40e/
 * i40e_virtchnl_pf.c: "Unable to configure VFs, other operation is
 * pending."). */
void sr_fake_driver_pending(struct sr_fake_driver *drv, const char *pci, unsigned writes);
/* A hung or slow driver: while held, a sriov_numvfs write of PF pci does
 * not return (the kernel's write runs the driver's sriov_configure
 * synchronously: i40e_pci_sriov_configure resets the PF, ixgbe with many
 * VFs takes about a minute). Held, a VF pci's bind, unbind or
 * drivers_probe write does not return either: they run the driver's probe
 * or remove in the writer's thread (bind_store, unbind_store,
 * drivers_probe_store in drivers/base/bus.c), and vfio-pci's remove waits
 * until the VF's user lets it go (vfio_unregister_group_dev in
 * drivers/vfio/vfio_main.c). hold false lets it go. blocked: writes
 * waiting now. */
void sr_fake_driver_hold(struct sr_fake_driver *drv, const char *pci, bool hold);
unsigned sr_fake_driver_blocked(struct sr_fake_driver *drv);

/* For a driver emulator in another process (fake-sysfs run): someone else
 * already wrote the file at path; react to its current content as the
 * driver would. A refused sriov_numvfs value is replaced by the previous
 * count. Returns 0 or the -errno the kernel would have answered. */
int sr_fake_driver_react(struct sr_fake_driver *drv, const char *path);
