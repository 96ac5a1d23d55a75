/* SPDX-License-Identifier: MIT */
/* sriovctl's PCI vendor/device names (libpci, pci.ids): display only. */
#pragma once

#include <stddef.h>

#include "model.h"
#include "sysfs.h"

/* Fill pfs[i].name from each PF's vendor/device ids ("" when unknown). */
void ctl_pci_names(const char *sysfs_root, struct sr_pf *pfs, size_t n);
