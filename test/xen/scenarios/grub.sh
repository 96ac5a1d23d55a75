#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# grub_xen_sriov (test/xen/grub_boot.sh sriov): GRUB -> Xen -> dom0 with
# enable_sriov=true on an entry whose Xen line carries iommu=0; the agent's
# view agrees with Xen's.
. "$SR_SOURCE_DIR/test/vm/lib.sh"
. "$SR_SOURCE_DIR/test/xen/lib-xen.sh"
. "$SR_SOURCE_DIR/test/xen/scenarios/grub-checks.sh"
sr_check "toolstack starts" sr_xen_start
sr_grub_xen_checks
pfs=$("$SR_BUILD_DIR/agent/sriovctl" --json pfs)
want=true
[ "${SR_EXPECT:-}" = on ] || want=false
sr_check_eq "sriovctl pfs --json: dom0, Xen's IOMMU $want" "true $want" \
	"$(printf '%s' "$pfs" | jq -r '"\(.xen.dom0) \(.xen.iommu)"')"
sr_done
