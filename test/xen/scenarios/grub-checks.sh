# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by the scenarios test/xen/grub_boot.sh boots (after lib.sh and
# lib-xen.sh, with the toolstack up): what grub/01_sriov.cfg did to Xen.
# SR_EXPECT=on: Xen's line ends "iommu=0 iommu=1" and Xen's IOMMU is on;
# off: it ends "iommu=0" and Xen's IOMMU is off. Both: dom0's line got the
# Linux words only with the option, and has no quote characters.
sr_grub_xen_checks() {
	local info xcmd words caps
	info=$(xl info 2>&1)
	xcmd=$(echo "$info" | sed -n 's/^xen_commandline *: //p')
	caps=$(echo "$info" | sed -n 's/^virt_caps *: //p')
	words=" $(cat /proc/cmdline) "
	sr_note "SR_CASE=${SR_CASE:-} SR_EXPECT=${SR_EXPECT:-}; Xen: $xcmd; virt_caps: $caps"
	sr_note "dom0: $(cat /proc/cmdline)"
	sr_note "$(xl dmesg | grep -E 'I/O virtualisation|VT-d|IOMMU' | head -n 4 | tr '\n' ';')"
	sr_check_eq "no quote characters on Xen's or dom0's line" no \
		"$(case "$xcmd$words" in *'"'*) echo yes ;; *) echo no ;; esac)"
	case ${SR_EXPECT:-} in
	on)
		sr_check_match "Xen's line ends with the option's iommu=1 after the inherited iommu=0" \
			' iommu=0 iommu=1$' "$xcmd"
		sr_check_match "virt_caps has pv_directio and hvm_directio" \
			'hvm_directio.*pv_directio|pv_directio.*hvm_directio' "$caps"
		sr_check_match "xl dmesg: I/O virtualisation enabled" 'I/O virtualisation enabled' "$(xl dmesg)"
		sr_check_match "dom0's line has intel_iommu=on iommu=pt (harmless under Xen)" \
			' intel_iommu=on iommu=pt ' "$words"
		;;
	off)
		sr_check_match "Xen's line ends with the inherited iommu=0, nothing after it" ' iommu=0$' "$xcmd"
		sr_check_fails "virt_caps has no directio" grep -q directio <<<"$caps"
		sr_check_match "xl dmesg: I/O virtualisation disabled" 'I/O virtualisation disabled' "$(xl dmesg)"
		sr_check_fails "dom0's line has no intel_iommu=on" grep -q ' intel_iommu=on ' <<<"$words"
		;;
	*)
		sr_not_ok "SR_EXPECT is on or off" "got '${SR_EXPECT:-}'"
		;;
	esac
}
