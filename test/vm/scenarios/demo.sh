#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo (scripts/demo.sh boots the VM with this; ctest runs it as
# vm_demo): the whole flow on the VM's emulated SR-IOV NIC, told for someone
# who has never seen the project. The commands shown are the ones a user
# types: default state dir (/var/lib/sriov-agent), default hypervisor (kvm).
# A few checks at the end; the demo fails if any step or check fails.
. "$SR_SOURCE_DIR/test/vm/lib.sh"
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-agent.sh"
export PATH=$SR_BUILD_DIR/agent:$PATH

web=3f2a6c1e-8b7d-4e5f-9a0b-1c2d3e4f5a6b
db=7c9e6679-7425-40de-944b-e07fc1f90ae7
domains=/var/lib/sriov-agent/domains
cd "$SR_VM_WORKDIR" || exit 1

title() {
	printf '\n==== %s ====\n' "$1"
	shift
	[ $# -eq 0 ] || printf '%s\n' "$@"
	echo
}
# run CMD...: show the command as typed, run it; a failure ends the demo.
run() {
	local rc
	printf '$ %s\n' "$*"
	"$@"
	rc=$?
	if [ $rc -ne 0 ]; then
		sr_not_ok "\`$*\` exited $rc"
		sr_done
	fi
}

title "The machine" \
	"A QEMU VM running Debian's kernel, with an emulated Intel 82576 NIC (driver" \
	"igb) that supports SR-IOV: its physical function (PF) can be split into up" \
	"to 7 virtual functions (VFs), each a PCI device of its own that a virtual" \
	"machine can get directly (passthrough, through vfio-pci and the IOMMU)."
run sriovctl pfs

title "The config" \
	"The agent takes EVE's EdgeDevConfig (protobuf). This one, as text:"
sed '/^# Encode:/d' "$sr_configs/demo.txtpb"
echo
echo "\$ protoc --encode=org.lfedge.eve.config.EdgeDevConfig eveconfig.proto < demo.txtpb > demo.pb"
sr_encode demo >/dev/null || {
	sr_not_ok "protoc encodes demo.txtpb"
	sr_done
}

title "Apply it" \
	"Validate everything, compute a plan, then: make the VFs, set each app's" \
	"MAC/VLAN/... over netlink, bind its VF to vfio-pci, save the state, write" \
	"one domain config per app."
run sriov-agent apply --config demo.pb

title "All VFs" \
	"Each VF with its PCI address (from sysfs), driver, IOMMU group and app;" \
	"left of | what the app asked, right of | what the kernel reports now. VFs" \
	"2 and 3 are free: with passthrough the agent keeps the host driver off them."
run sriovctl list

title "One app"
run sriovctl show "$web"

title "The kernel's own view (iproute2)" \
	"The PF lists its VFs with the MAC, VLAN, QoS, spoof checking and trust the" \
	"agent set."
run ip -d link show "$pf"

title "The KVM domain config written for web" \
	"A QEMU -readconfig file: the launcher adds disks, kernel and -accel kvm."
run ls "$domains"
run cat "$domains/$web.kvm.cfg"

title "QEMU takes it" \
	"A QEMU inside this VM started on that file (paused, TCG): its vf0 device" \
	"is a vfio-pci device on the VF."
echo "\$ qemu-system-x86_64 -readconfig $domains/$web.kvm.cfg -S -accel tcg ..."
qemu_out=$(sr_qemu_probe "$domains/$web.kvm.cfg")
qemu_rc=$?
# The QMP replies, {"return": VALUE} one a line, read with sed: the demo
# needs nothing beyond scripts/setup.sh's packages.
replies=$(printf '%s\n' "$qemu_out" | tr -d '\r' | grep '^{"return"' |
	sed 's/^{"return": //; s/}$//; s/^"//; s/"$//; s/\\"/"/g')
echo "(qemu) info qtree: vf0, behind its own PCIe root port"
printf '%s\n' "$replies" | sed -n 10p | sed 's/\\r//g; s/\\n/\n/g' | sr_qtree_dev vf0 |
	sed 's/^bus: main-system-bus > dev: q35-pcihost, id "" > //'
qemu_vf0=$(printf '%s\n' "$replies" | sed -n '3,5p' | tr '\n' ' ' | sed 's/ $//')
echo "(qemu) qom-get vf0 type / realized / host: $qemu_vf0"

title "The same app for Xen" "sriovctl prints the domain config for either hypervisor:"
run sriovctl --hypervisor xen domain-config "$web"

title "Apply the same config again" "Nothing changed, so nothing is written:"
printf '$ %s\n' "sriov-agent apply --config demo.pb"
again=$(sriov-agent apply --config demo.pb 2>&1)
rc=$?
printf '%s\n' "$again"
[ $rc -eq 0 ] || {
	sr_not_ok "re-apply exited $rc"
	sr_done
}

title "Checks"
vf0=$(sr_virtfn 0)
web_line=$(sr_vf_line 0)
db_line=$(sr_vf_line 1)
sr_check_eq "web's VF ($vf0) is bound to vfio-pci" vfio-pci "$(sr_vf_driver "$vf0")"
sr_check_eq "kernel: web's VF has its MAC, VLAN 100, QoS 3, spoof checking on, trust off" \
	"link/ether 02:00:00:00:0a:01 brd ff:ff:ff:ff:ff:ff, vlan 100, qos 3, spoof checking on, link-state auto, trust off" \
	"$web_line"
sr_check_eq "kernel: db's VF has the MAC derived from its UUID, VLAN 200, trust on" \
	"link/ether $(sr_derive_mac "$db" uplink) brd ff:ff:ff:ff:ff:ff, vlan 200, spoof checking on, link-state auto, trust on" \
	"$db_line"
sr_check_match "web's KVM config names its VF's address (from the virtfn0 link)" \
	"host = \"$vf0\"" "$(cat "$domains/$web.kvm.cfg")"
sr_check_eq "QEMU realized vf0 as vfio-pci on $vf0 and quit" "0 vfio-pci true $vf0" \
	"$qemu_rc $qemu_vf0"
sr_check_match "re-apply: nothing written" "0 action\(s\), 0 sysfs and 0 netlink writes" "$again"
sr_done
