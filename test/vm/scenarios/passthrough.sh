#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm_passthrough (issue 6): `sriov-agent apply --hypervisor kvm` binds the
# apps' VFs to vfio-pci and writes one QEMU -readconfig file per app; the
# real consumer, a nested QEMU (TCG) in this VM, realizes each file's
# vfio-pci device on the right VF. The Xen configs name the same addresses.
# Releasing the apps gives the VFs back to igbvf.
# Config: test/vm/configs/passthrough.txtpb (2 VFs; alpha holds VF 1 by
# name, beta the lowest free one, VF 0).
# Run with: test/vm/run.sh test/vm/scenarios/passthrough.sh
. "$SR_SOURCE_DIR/test/vm/lib.sh"
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-agent.sh"

sr_passthrough_configs

# What a fresh VF looks like, to compare the release with.
sr_write "$dev/sriov_numvfs" 2 >/dev/null
pristine=$(sr_vf_line 0)
sr_write "$dev/sriov_numvfs" 0 >/dev/null
sr_note "a fresh VF: $pristine"

# ---- Apply with passthrough ----
sr_apply "apply passthrough --hypervisor kvm exits 0" \
	--config "$cfg" --state-dir "$state" --hypervisor kvm
sr_check_eq "sriov_numvfs reads 2" 2 "$(cat "$dev/sriov_numvfs")"
list=$("$sr_ctl" --state-dir "$state" list --json)
sr_note "sriovctl list:"
"$sr_ctl" --state-dir "$state" list | sed 's/^/#   /'
addr_alpha=$(sr_jq ".[] | select(.app == \"$alpha\") | .pci" "$list")
addr_beta=$(sr_jq ".[] | select(.app == \"$beta\") | .pci" "$list")
sr_check_eq "alpha holds VF 1 at virtfn1's target" "$(sr_virtfn 1)" "$addr_alpha"
sr_check_eq "beta holds VF 0 at virtfn0's target" "$(sr_virtfn 0)" "$addr_beta"
sr_check_eq "the addresses are 0000:01:10.2 and 0000:01:10.0" "0000:01:10.2 0000:01:10.0" \
	"$addr_alpha $addr_beta"
for a in "$addr_alpha" "$addr_beta"; do
	sr_check_eq "VF $a: driver link is vfio-pci" vfio-pci "$(sr_vf_driver "$a")"
	group=$(basename "$(readlink "/sys/bus/pci/devices/$a/iommu_group")")
	sr_check "VF $a: /dev/vfio/$group exists" test -c "/dev/vfio/$group"
done
sr_check_eq "sriovctl: bound_driver vfio-pci for both, no error" "vfio-pci/null vfio-pci/null" \
	"$(sr_jq '[.[] | select(.app != null) | "\(.bound_driver)/\(.error)"] | join(" ")' "$list")"
sr_check_eq "kernel: alpha's VF 1 has its MAC and VLAN (set before the bind)" \
	"link/ether 02:a1:00:00:00:01 brd ff:ff:ff:ff:ff:ff, vlan 10, spoof checking on, link-state auto, trust off" \
	"$(sr_vf_line 1)"
sr_apply "re-apply exits 0" --config "$cfg" --state-dir "$state" --hypervisor kvm
sr_check_eq "re-apply: zero kernel writes (no rebind)" \
	"0 action(s), 0 sysfs and 0 netlink writes" "$(sr_applied)"

# ---- The KVM configs, through a nested QEMU ----
# sr_qemu_probe (lib-agent.sh) starts QEMU paused on the file: vfio-pci
# realizes the device, so the VF, its group and the address are real.
for app in "$alpha" "$beta"; do
	name=$([ "$app" = "$alpha" ] && echo alpha || echo beta)
	want=$([ "$app" = "$alpha" ] && echo "$addr_alpha" || echo "$addr_beta")
	f=$domains/$app.kvm.cfg
	sr_check "$name: $app.kvm.cfg written under STATE/domains" test -s "$f"
	sr_note "$f:"
	sed 's/^/#   /' "$f"
	sr_check_eq "$name: sriovctl domain-config prints the same file" "$(cat "$f")" \
		"$("$sr_ctl" --state-dir "$state" domain-config "$app")"
	t0=$(date +%s%N)
	out=$(sr_qemu_probe "$f")
	rc=$?
	sr_note "nested QEMU on $name's file: exit $rc after $((($(date +%s%N) - t0) / 1000000)) ms"
	sr_check_eq "$name: nested QEMU ran the file and quit (exit 0)" 0 "$rc"
	replies=$(printf '%s\n' "$out" | grep '^{"return"')
	info_pci=$(printf '%s\n' "$replies" | sed -n 2p | jq -r '.return' 2>/dev/null | tr -d '\r')
	sr_note "info pci:"
	printf '%s\n' "$info_pci" | sed 's/^/#   /'
	qtree=$(printf '%s\n' "$replies" | sed -n 10p | jq -r '.return' 2>/dev/null | sr_qtree_dev vf0)
	sr_note "info qtree, vf0:"
	printf '%s\n' "$qtree" | sed 's/^/#   /'
	sr_check_eq "$name: info qtree: vf0 (vfio-pci) on bus vfport0 of root port vfport0 on pcie.0" \
		'bus: main-system-bus > dev: q35-pcihost, id "" > bus: pcie.0 > dev: pcie-root-port, id "vfport0" > bus: vfport0 > dev: vfio-pci, id "vf0"' \
		"$(printf '%s\n' "$qtree" | sed -n 1p)"
	sr_check_match "$name: info qtree: vf0 is the 82576 VF (8086:10ca) at 00.0 of that bus" \
		'^class Ethernet controller, addr 00:00.0, pci id 8086:10ca ' "$(printf '%s\n' "$qtree" | grep '^class ')"
	sr_check_eq "$name: info qtree: vf0's host is $want" "host = \"$want\"" \
		"$(printf '%s\n' "$qtree" | grep '^host = ')"
	sr_check_eq "$name: vf0 is a realized vfio-pci device on host $want" \
		"vfio-pci true $want" \
		"$(printf '%s\n' "$replies" | sed -n '3,5p' | jq -r '.return' 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
	# Behind its own PCIe root port: vf0 on vfport0's bus, vfport0 a
	# pcie-root-port on pcie.0 at 00:10.0 (devfn 0x80), as the file says.
	sr_check_eq "$name: vf0 is on the secondary bus of root port vfport0" \
		"/machine/peripheral/vfport0/vfport0" \
		"$(printf '%s\n' "$replies" | sed -n 6p | jq -r '.return' 2>/dev/null)"
	sr_check_eq "$name: vfport0 is a pcie-root-port on pcie.0 at 00:10.0 (devfn 128)" \
		"pcie-root-port /machine/q35/pcie.0 128" \
		"$(printf '%s\n' "$replies" | sed -n '7,9p' | jq -r '.return' 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
	sr_check_match "$name: info pci lists the root port (1b36:000c) with id \"vfport0\" at device 16" \
		'Bus +0, device +16, function 0: +PCI bridge: PCI device 1b36:000c .*id "vfport0"' \
		"$(printf '%s' "$info_pci" | tr '\n' ' ')"
	sr_check_match "$name: the file puts vf0 on bus vfport0" '^  bus = "vfport0"$' "$(cat "$f")"
	[ $sr_failed -eq 0 ] || printf '%s\n' "$out" | grep -v '^{"return"' | sed 's/^/#   qemu: /'
done
sr_check_eq "the VFs are still on vfio-pci after QEMU quit" "vfio-pci vfio-pci" \
	"$(sr_vf_driver "$addr_alpha") $(sr_vf_driver "$addr_beta")"

# ---- The Xen configs name the same addresses ----
for app in "$alpha" "$beta"; do
	want=$(sr_jq ".[] | select(.app == \"$app\") | .pci" "$list")
	xl=$("$sr_ctl" --state-dir "$state" --hypervisor xen domain-config "$app")
	sr_note "sriovctl --hypervisor xen domain-config $app:"
	printf '%s\n' "$xl" | sed 's/^/#   /'
	sr_check_eq "xl.cfg for $app: pci = [ '$want' ], as sriovctl list says" \
		"pci = [ '$want' ]" "$(printf '%s\n' "$xl" | grep '^pci = ')"
	sr_check_match "xl.cfg for $app: its uuid" "^uuid = \"$app\"$" "$xl"
done

# ---- Release ----
sr_apply "apply passthrough_release (no app) exits 0" \
	--config "$cfg_release" --state-dir "$state" --hypervisor kvm
sr_check_eq "released VFs are back on igbvf" "igbvf igbvf" \
	"$(sr_vf_driver "$addr_alpha") $(sr_vf_driver "$addr_beta")"
sr_check_eq "driver_override cleared" "(null) (null)" \
	"$(cat "/sys/bus/pci/devices/$addr_alpha/driver_override") $(cat "/sys/bus/pci/devices/$addr_beta/driver_override")"
sr_check_eq "kernel: both VFs as before the agent" "$pristine|$pristine" "$(sr_vf_line 0)|$(sr_vf_line 1)"
sr_check_eq "the domain configs are removed" "" "$(ls "$domains")"
list=$("$sr_ctl" --state-dir "$state" list --json)
sr_check_eq "sriovctl list --json: no app, igbvf on both" "igbvf/null igbvf/null" \
	"$(sr_jq '[.[] | "\(.driver)/\(.app)"] | join(" ")' "$list")"

# ---- Again, on VFs that were on igbvf before the bind ----
# Above, the VFs were created unbound (the agent turns the PF's
# sriov_drivers_autoprobe off before creating VFs for passthrough) and the
# release gave them to igbvf by reprobing with autoprobe on. Now they exist
# on igbvf: the bind records igbvf as their original driver and the release
# gives them back to it by driver_override.
sr_apply "apply passthrough again (VFs on igbvf) exits 0" \
	--config "$cfg" --state-dir "$state" --hypervisor kvm
sr_check_eq "both VFs on vfio-pci again" "vfio-pci vfio-pci" \
	"$(sr_vf_driver "$addr_alpha") $(sr_vf_driver "$addr_beta")"
sr_check "both domain configs written again" test -s "$domains/$alpha.kvm.cfg" -a -s "$domains/$beta.kvm.cfg"
sr_apply "release again exits 0" --config "$cfg_release" --state-dir "$state" --hypervisor kvm
sr_check_eq "released VFs are back on igbvf, their original driver" "igbvf igbvf" \
	"$(sr_vf_driver "$addr_alpha") $(sr_vf_driver "$addr_beta")"
sr_check_eq "kernel: both VFs as before the agent, again" "$pristine|$pristine" \
	"$(sr_vf_line 0)|$(sr_vf_line 1)"
sr_note "PF sriov_drivers_autoprobe: $(cat "$dev/sriov_drivers_autoprobe")"

sr_done
