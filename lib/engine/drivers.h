/* SPDX-License-Identifier: MIT */
/*
 * Per-driver order rules: what a PF driver needs done, and in what order,
 * beyond the generic plan, each with the kernel function or the issue it
 * comes from. A driver not in the table gets the generic order. The
 * planner (plan.c), the apply's checks (apply.c), --dry-run and
 * `sriovctl pfs` read this one table.
 */
#pragma once

#include <stddef.h>

enum sr_driver_rule {
	/* Bring the PF netdev up before writing sriov_numvfs. */
	SR_RULE_PF_UP_FIRST = 1u << 0,
	/* Read the eswitch mode (devlink) before writing sriov_numvfs: it
	 * must be legacy, where the PF's VF ndo ops set VF MAC/VLAN/... */
	SR_RULE_ESWITCH_LEGACY = 1u << 1,
};

struct sr_driver_rules {
	const char *driver;     /* the PF's driver, as sysfs names it */
	unsigned rules;         /* enum sr_driver_rule bits */
	const char *what;       /* one line: the rule */
	const char *source;     /* the kernel function or issue it comes from */
};

/* The table, *n entries. */
const struct sr_driver_rules *sr_driver_rules_table(size_t *n);
/* The entry for driver; NULL: the generic order. */
const struct sr_driver_rules *sr_driver_rules_of(const char *driver);

/* Every PF, every driver: the VF count allowed is sriov_totalvfs, which the
 * kernel shows as the driver's or the firmware's cap when it has set one
 * (pci_sriov_set_totalvfs; sriov_totalvfs_show -> pci_sriov_get_totalvfs
 * in drivers/pci/iov.c), below the capability's TotalVFs (firmware caps:
 * sriov-network-operator #968). Never the capability itself. */
#define SR_RULE_TOTALVFS_WHAT "VF count allowed: sriov_totalvfs (the driver's or firmware's cap)"
#define SR_RULE_TOTALVFS_SOURCE "drivers/pci/iov.c pci_sriov_get_totalvfs; sriov-network-operator #968"
