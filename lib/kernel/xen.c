/* SPDX-License-Identifier: MIT */
/*
 * Is this node a Xen dom0 that can pass PCI devices through (xen.h).
 */
#include "xen.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "sysfs.h"

void sr_xen_probe(const struct sr_sysfs *s, const struct sr_xen_ops *ops, struct sr_xen_info *out)
{
	char path[PATH_MAX], type[16];
	uint32_t caps = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (!ops)
		ops = &sr_xen_ops_default;
	if (snprintf(path, sizeof(path), "%s/sys/hypervisor/type", s->root) >= (int)sizeof(path) ||
	    sr_sysfs_read_value(path, type, sizeof(type)) || strcmp(type, "xen"))
		return;
	out->xen = true;
	r = ops->physinfo_caps(ops->ctx, &caps);
	if (r) {
		out->physinfo_error = r;
		return;
	}
	out->dom0 = true;
	out->caps = caps;
	out->directio = (caps & SR_XEN_CAP_DIRECTIO) != 0;
}

int sr_xen_check_passthrough(const struct sr_sysfs *s, const struct sr_xen_ops *ops,
			     struct sr_err *err)
{
	struct sr_xen_info x;

	sr_xen_probe(s, ops, &x);
	if (!x.xen)
		return sr_err_set(err, -ENODEV,
				  "passthrough to Xen asked but this node is not a Xen dom0 (%s/sys/hypervisor/type is not \"xen\")",
				  s->root);
	if (!x.dom0)
		return sr_err_set(err, -ENODEV,
				  "passthrough to Xen asked but Xen's physinfo is not available here (%s): not the control domain, or xen-privcmd not loaded",
				  strerror(-x.physinfo_error));
	if (!x.directio)
		return sr_err_set(err, -ENODEV,
				  "passthrough to Xen asked but Xen's IOMMU is off (physinfo has no directio; xl info virt_caps has no pv_directio): boot Xen without iommu=0 (grub enable_sriov=true adds iommu=1)");
	return 0;
}
