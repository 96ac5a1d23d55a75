/* SPDX-License-Identifier: MIT */
/*
 * Is this node a Xen dom0 whose hypervisor can pass PCI devices through?
 *
 * Under Xen the hypervisor owns the IOMMU: dom0's Linux has no IOMMU
 * groups, and the only authority is Xen itself. The toolstack learns it
 * from the XEN_SYSCTL_physinfo hypercall (xl info's virt_caps
 * "pv_directio"/"hvm_directio" are XEN_SYSCTL_PHYSCAP_directio), and so
 * does this module, through one replaceable operation (the default is
 * libxenctrl's xc_physinfo; tests install their own). Whether the kernel
 * runs on Xen at all is read from sysfs under the sysfs root
 * (/sys/hypervisor/type is "xen").
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct sr_sysfs;

/* The PCI driver of Linux's Xen PCI backend: the module is xen-pciback,
 * the driver it registers is "pciback" (/sys/bus/pci/drivers/pciback). */
#define SR_XEN_PCIBACK_DRIVER "pciback"

struct sr_xen_ops {
	/* XEN_SYSCTL_physinfo capabilities (XEN_SYSCTL_PHYSCAP_* bits): 0 or
	 * -errno (-EPERM in a domU, -ENOENT without /dev/xen/privcmd, -ENOSYS
	 * when built without libxenctrl). */
	int (*physinfo_caps)(void *ctx, uint32_t *caps);
	void *ctx;
};

/* The default: libxenctrl (xc_interface_open + xc_physinfo), logging nowhere. */
extern const struct sr_xen_ops sr_xen_ops_default;

/* XEN_SYSCTL_PHYSCAP_directio in Xen's public sysctl.h (stable since 4.15). */
#define SR_XEN_CAP_DIRECTIO (1u << 2)

struct sr_xen_info {
	bool xen;            /* /sys/hypervisor/type is "xen" */
	bool dom0;           /* physinfo answered: the control domain */
	bool directio;       /* Xen's IOMMU is on: PCI passthrough possible */
	uint32_t caps;       /* physinfo capabilities (dom0 only) */
	int physinfo_error;  /* -errno of physinfo when it failed, else 0 */
};

/* Fill out (always; never fails). ops NULL = sr_xen_ops_default. */
void sr_xen_probe(const struct sr_sysfs *s, const struct sr_xen_ops *ops, struct sr_xen_info *out);

/* 0 when passthrough through Xen can work here; else -ENODEV with a
 * message saying which of the three conditions is missing and what to do. */
int sr_xen_check_passthrough(const struct sr_sysfs *s, const struct sr_xen_ops *ops,
			     struct sr_err *err);
