#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The test bed itself, on the real kernel: QEMU's igb PF and its VFs behave
# as the agent expects (sysfs, iproute2's netlink, vfio, IOMMU groups).
# Run with: test/vm/run.sh test/vm/scenarios/smoke.sh
. "$SR_SOURCE_DIR/test/vm/lib.sh"

sr_note "kernel $(uname -r), cmdline: $(cat /proc/cmdline)"

if ! read -r pf pfaddr < <(sr_find_netdev igb); then
	sr_not_ok "igb PF found" "no interface with driver igb: $(ls /sys/class/net)"
	sr_done
fi
sr_ok "igb PF found: $pf at $pfaddr"
dev=/sys/bus/pci/devices/$pfaddr
ip link set "$pf" up

sr_check_eq "sriov_totalvfs is 7" 7 "$(cat "$dev/sriov_totalvfs" 2>&1)"
sr_note "sriov_offset $(cat "$dev/sriov_offset"), sriov_stride $(cat "$dev/sriov_stride"), sriov_vf_device $(cat "$dev/sriov_vf_device")"

# Four VFs, at the addresses the virtfn links give.
sr_check "write 4 to sriov_numvfs" sr_write "$dev/sriov_numvfs" 4
sr_check_eq "sriov_numvfs reads 4" 4 "$(cat "$dev/sriov_numvfs")"
vfs=
for i in 0 1 2 3 4; do
	[ -L "$dev/virtfn$i" ] && vfs="$vfs virtfn$i=$(basename "$(readlink "$dev/virtfn$i")")"
done
sr_note "measured:$vfs"
sr_check_eq "virtfn0..3 point at 0000:01:10.0, .2, .4, .6" \
	" virtfn0=0000:01:10.0 virtfn1=0000:01:10.2 virtfn2=0000:01:10.4 virtfn3=0000:01:10.6" "$vfs"
sr_check_eq "virtfn0/physfn points back at the PF" "$pfaddr" \
	"$(basename "$(readlink "$dev/virtfn0/physfn")")"

err=$(sr_write "$dev/sriov_numvfs" 2)
sr_check_eq "writing 2 while 4 are enabled fails with EBUSY" "Device or resource busy" "$err"
sr_check "write 0 to sriov_numvfs" sr_write "$dev/sriov_numvfs" 0
sr_check_eq "no virtfn0 after writing 0" absent "$([ -e "$dev/virtfn0" ] && echo present || echo absent)"
sr_check "then write 2" sr_write "$dev/sriov_numvfs" 2
sr_check_eq "sriov_numvfs reads 2" 2 "$(cat "$dev/sriov_numvfs")"
sr_check_eq "virtfn1 present, virtfn2 absent" "yes no" \
	"$([ -L "$dev/virtfn1" ] && echo yes || echo no) $([ -e "$dev/virtfn2" ] && echo yes || echo no)"

# Host iproute2 over netlink.
show=$(ip -d link show "$pf")
sr_check_match "ip -d link show lists vf 0" '^ +vf 0 ' "$show"
sr_check_match "ip -d link show lists vf 1" '^ +vf 1 ' "$show"
sr_check "ip link set vf 0 mac/vlan/qos/spoofchk/trust" \
	ip link set "$pf" vf 0 mac 02:11:22:33:44:55 vlan 100 qos 3 spoofchk on trust on
vf0=$(ip -d link show "$pf" | grep -E '^ +vf 0 ')
sr_note "measured: $vf0"
sr_check_match "vf 0 mac 02:11:22:33:44:55" 'link/ether 02:11:22:33:44:55' "$vf0"
sr_check_match "vf 0 vlan 100, qos 3" 'vlan 100, qos 3' "$vf0"
sr_check_match "vf 0 spoof checking on" 'spoof checking on' "$vf0"
sr_check_match "vf 0 trust on" 'trust on' "$vf0"
sr_check_fails "ip link set vf 0 max_tx_rate 10000 (above the 1000 Mbit/s link) is refused" \
	ip link set "$pf" vf 0 max_tx_rate 10000

# vfio-pci through driver_override.
vf1=$(basename "$(readlink "$dev/virtfn1")")
vfdev=/sys/bus/pci/devices/$vf1
drv_before=$([ -e "$vfdev/driver" ] && basename "$(readlink "$vfdev/driver")" || echo none)
sr_note "VF 1 ($vf1) driver before: $drv_before"
sr_check "driver_override vfio-pci on VF 1" sr_write "$vfdev/driver_override" vfio-pci
if [ -e "$vfdev/driver" ]; then
	sr_check "unbind VF 1 from $drv_before" sr_write "$vfdev/driver/unbind" "$vf1"
fi
sr_check "drivers_probe VF 1" sr_write /sys/bus/pci/drivers_probe "$vf1"
sr_check_eq "VF 1 bound to vfio-pci" vfio-pci \
	"$([ -e "$vfdev/driver" ] && basename "$(readlink "$vfdev/driver")" || echo none)"
group=$(basename "$(readlink "$vfdev/iommu_group" 2>/dev/null)" 2>/dev/null)
sr_check "VF 1 has /dev/vfio/$group" test -n "$group" -a -c "/dev/vfio/$group"

ngroups=$(ls /sys/kernel/iommu_groups | wc -l)
sr_note "iommu groups: $ngroups, types: $(cat /sys/kernel/iommu_groups/*/type 2>/dev/null | sort | uniq -c | tr -s ' \n' ' ')"
sr_check "/sys/kernel/iommu_groups is not empty" test "$ngroups" -gt 0

sr_done
