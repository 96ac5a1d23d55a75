/* SPDX-License-Identifier: MIT */
/*
 * devlink (generic netlink), read only: the eswitch mode of a PCI device,
 * for the drivers whose VF count must be set in the right mode
 * (drivers.h SR_RULE_ESWITCH_LEGACY).
 */
#pragma once

#include "err.h"

#define SR_ESWITCH_MODE_LEN 16
#define SR_DEVLINK_TIMEOUT_MS 2000

/* DEVLINK_CMD_ESWITCH_GET for pci/<pci>: "legacy", "switchdev" or
 * "mode N" into mode. Both requests (the family, the mode) are answered
 * within SR_DEVLINK_TIMEOUT_MS in all, else -ETIMEDOUT. -ENODEV: no
 * devlink instance for the device; -EOPNOTSUPP: its driver has no eswitch;
 * -ENOENT: no devlink in the kernel; any other failure of the family
 * lookup is that error, named as such. */
int sr_devlink_eswitch_mode(const char *pci, char mode[SR_ESWITCH_MODE_LEN], struct sr_err *err);
/* The same on socket fd (tests: one end of a socketpair standing in for
 * the kernel), timeout_ms for both requests. */
int sr_devlink_eswitch_mode_on(int fd, const char *pci, unsigned timeout_ms,
			       char mode[SR_ESWITCH_MODE_LEN], struct sr_err *err);
/* The same for any devlink handle "BUS/DEV" (netdevsim/netdevsim1: the
 * netdevsim VM bed reads a real kernel's answer with it). */
int sr_devlink_eswitch_mode_handle(const char *handle, char mode[SR_ESWITCH_MODE_LEN],
				   struct sr_err *err);
int sr_devlink_eswitch_mode_handle_on(int fd, const char *handle, unsigned timeout_ms,
				      char mode[SR_ESWITCH_MODE_LEN], struct sr_err *err);
