#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# dom0 of the Xen test bed: toolstack up, xl info, Xen's IOMMU, the igb.
. "$SR_SOURCE_DIR/test/vm/lib.sh"
. "$SR_SOURCE_DIR/test/xen/lib-xen.sh"
sr_check "toolstack starts" sr_xen_start
info=$(xl info 2>&1)
sr_note "$(echo "$info" | grep -E 'xen_version|virt_caps|xen_commandline')"
sr_check_match "virt_caps has pv_directio" 'virt_caps.*pv_directio' "$info"
read -r pf pfaddr < <(sr_find_netdev igb)
sr_check_eq "igb PF at 0000:01:00.0" 0000:01:00.0 "${pfaddr:-}"
sr_check "pciback driver is registered" test -d /sys/bus/pci/drivers/pciback
sr_done
