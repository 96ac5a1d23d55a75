/* SPDX-License-Identifier: MIT */
/*
 * devlink (generic netlink), read only: the eswitch mode of a PCI device,
 * for the drivers whose VF count must be set in the right mode
 * (drivers.h SR_RULE_ESWITCH_LEGACY).
 */
#pragma once

#include "err.h"

#define SR_ESWITCH_MODE_LEN 16

/* DEVLINK_CMD_ESWITCH_GET for pci/<pci>: "legacy", "switchdev" or
 * "mode N" into mode. The answer is waited for at most 2 s. -ENODEV: no
 * devlink instance for the device; -EOPNOTSUPP: its driver has no eswitch;
 * -ENOENT: no devlink in the kernel. */
int sr_devlink_eswitch_mode(const char *pci, char mode[SR_ESWITCH_MODE_LEN], struct sr_err *err);
