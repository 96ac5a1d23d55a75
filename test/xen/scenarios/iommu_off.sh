#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm_xen_iommu_off (issue 14): Xen booted through GRUB with iommu=0 on its
# line and no enable_sriov (test/xen/grub_boot.sh default), so this is also
# the "without the option" half of the GRUB proof (grub-checks.sh).
# `sriov-agent apply --hypervisor xen` is refused with the Xen IOMMU-off
# message and changes nothing: sriov_numvfs and autoprobe stay, no state,
# no domain config, no VF on pciback. sriovctl pfs shows why.
. "$SR_SOURCE_DIR/test/vm/lib.sh"
. "$SR_SOURCE_DIR/test/xen/lib-xen.sh"
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-agent.sh"
. "$SR_SOURCE_DIR/test/xen/scenarios/grub-checks.sh"
sr_configs=$SR_SOURCE_DIR/test/xen/configs
state=$SR_VM_WORKDIR/state

sr_check "toolstack starts" sr_xen_start
sr_grub_xen_checks
cfg=$(sr_encode xen)
sr_check "config encodes with protoc" test -s "$cfg"

pfs=$("$sr_ctl" --json pfs)
sr_note "sriovctl pfs: $("$sr_ctl" pfs | head -n 2 | tr '\n' ';')"
sr_check_eq "sriovctl pfs --json: Xen dom0, Xen's IOMMU off" "true false" \
	"$(sr_jq '"\(.xen.dom0) \(.xen.iommu)"' "$pfs")"
sr_check_match "sriovctl pfs says passthrough to Xen is refused" \
	"Xen's IOMMU off.*passthrough to Xen is refused" "$("$sr_ctl" pfs)"

before="$(cat "$dev/sriov_numvfs") $(cat "$dev/sriov_drivers_autoprobe")"
sr_apply_fails "apply --hypervisor xen is refused" --config "$cfg" --state-dir "$state" --hypervisor xen
sr_check_eq "exit status 1 (rejected), not 3" 1 "$sr_rc"
sr_check_match "the message says Xen's IOMMU is off and what to do" \
	"Xen's IOMMU is off .*boot Xen without iommu=0" "$sr_log"
sr_check_eq "sriov_numvfs and autoprobe unchanged" "$before" \
	"$(cat "$dev/sriov_numvfs") $(cat "$dev/sriov_drivers_autoprobe")"
# The state dir may hold the agent's lock file and an empty domains/ (both
# made before the apply, which checks it can write there): no state, no
# domain config.
sr_check_eq "no state file, no domain config" "absent|" \
	"$([ -e "$state/state.pb" ] && echo present || echo absent)|$(ls "$state/domains" 2>/dev/null)"
sr_check_eq "nothing on pciback" "" "$(ls /sys/bus/pci/drivers/pciback | grep '^0000:' || true)"
sr_check_eq "xl pci-assignable-list is empty" "" "$(xl pci-assignable-list 2>&1 | tr -d ' \t\n')"
sr_check_eq "no sysfs or netlink write in the agent's debug log" 0 \
	"$(printf '%s\n' "$sr_log" | grep -c 'sysfs write\|netlink PF')"
sr_done
