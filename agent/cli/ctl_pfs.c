/* SPDX-License-Identifier: MIT */
/* sriovctl pfs: SR-IOV capable PFs found in sysfs, the IOMMU, and Xen's
 * (under Xen dom0 has no IOMMU groups: Xen's physinfo says; lib/kernel/xen.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "drivers.h"
#include "pci_names.h"
#include "print.h"
#include "sysfs.h"
#include "xen.h"

/* The PF driver's order rule (lib/engine/drivers.h), under its row; null: the
 * generic order. */
static void print_rule(const struct sr_driver_rules *r)
{
	if (!r) {
		pr_null(PR_JSON, "rule", NULL);
		return;
	}
	pr_obj_open("rule");
	pr_str(PR_ANY, "what", "           rule: %s", r->what);
	pr_str(PR_ANY, "source", " (%s)\n", r->source);
	pr_obj_close();
}

int ctl_pfs(struct ctl *c, int argc, char **argv)
{
	struct sr_sysfs s;
	struct sr_err err = { "" };
	struct sr_pf *pfs = NULL;
	size_t n = 0;
	bool iommu;
	struct sr_xen_info xen;

	if (argc) {
		ctl_err("pfs takes no arguments\n");
		return CTL_USAGE;
	}
	sr_sysfs_init(&s, c->sysfs_root);
	if (sr_sysfs_list_pfs(&s, &pfs, &n, &err)) {
		ctl_err("%s\n", err.msg);
		return 1;
	}
	ctl_pci_names(c->sysfs_root, pfs, n);
	iommu = sr_sysfs_iommu_enabled(&s);
	pr_obj_open(NULL);
	pr_bool(PR_ANY, "iommu", "IOMMU: %s", iommu);
	sr_xen_probe(&s, NULL, &xen);
	pr_text("%s\n", iommu || xen.xen ? "" : " (no IOMMU groups: VF passthrough is refused; boot with intel_iommu=on)");
	if (xen.xen) {
		pr_obj_open("xen");
		pr_bool(PR_JSON, "dom0", NULL, xen.dom0);
		if (xen.dom0)
			pr_bool(PR_ANY, "iommu", "Xen: dom0, Xen's IOMMU %s", xen.directio);
		else
			pr_null(PR_JSON, "iommu", NULL);
		if (!xen.dom0)
			pr_text("Xen: not dom0 (physinfo: %s): passthrough to Xen is refused\n",
				strerror(-xen.physinfo_error));
		else
			pr_text("%s\n", xen.directio ? " (physinfo: directio)" :
				" (physinfo has no directio: passthrough to Xen is refused; boot Xen without iommu=0)");
		pr_obj_close();
	} else {
		pr_null(PR_JSON, "xen", NULL);
	}
	pr_text("%-10s %-13s %-8s %-9s %-9s %s\n", "PF", "PCI", "DRIVER", "TOTALVFS", "NUMVFS", "DEVICE");
	pr_arr_open("pfs");
	for (size_t i = 0; i < n; i++) {
		pr_obj_open(NULL);
		pr_str(PR_ANY, "pf", "%-10s ", pfs[i].ifname[0] ? pfs[i].ifname : NULL);
		pr_str(PR_ANY, "pci", "%-13s ", pfs[i].pci);
		pr_str(PR_ANY, "driver", "%-8s ", pfs[i].driver[0] ? pfs[i].driver : NULL);
		pr_uint(PR_ANY, "totalvfs", "%-9" PRIu64 " ", pfs[i].totalvfs);
		pr_uint(PR_ANY, "numvfs", "%-9" PRIu64 " ", pfs[i].numvfs);
		pr_str(PR_ANY, "name", "%s\n", pfs[i].name[0] ? pfs[i].name : NULL);
		print_rule(sr_driver_rules_of(pfs[i].driver));
		pr_obj_close();
	}
	pr_arr_close();
	if (!n)
		pr_text("(no SR-IOV capable device)\n");
	pr_str(PR_ANY, "totalvfs_rule", "TOTALVFS: %s", SR_RULE_TOTALVFS_WHAT);
	pr_str(PR_ANY, "totalvfs_source", " (%s)\n", SR_RULE_TOTALVFS_SOURCE);
	pr_obj_close();
	pr_finish();
	sr_sysfs_free_pfs(pfs, n);
	return 0;
}
