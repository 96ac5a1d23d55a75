#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm_xen (issue 14): sriov-agent in a Xen 4.17 dom0 with --hypervisor xen.
# Two PV apps (test/xen/configs/xen.txtpb): pvmac with a MAC and VLAN 100,
# pvplain with neither (it gets the MAC the agent derives). Checked against
# what Xen's toolstack and the kernel say: the VFs are on pciback and
# `xl pci-assignable-list` names them; `ip link show PF` has each VF's MAC
# and VLAN; each xl.cfg the agent wrote, completed only with the test
# guest's kernel/ramdisk/extra lines, starts with `xl create`; inside each
# guest pcifront shows the VF (8086:10ca), igbvf binds it and the netdev has
# exactly the MAC the agent set. Then xl destroy, and a config without the
# apps takes the VFs off pciback.
# Run with: test/xen/run.sh test/xen/scenarios/xen.sh
. "$SR_SOURCE_DIR/test/vm/lib.sh"
. "$SR_SOURCE_DIR/test/xen/lib-xen.sh"
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-agent.sh"
sr_configs=$SR_SOURCE_DIR/test/xen/configs

pvmac=e1e10001-3c4d-4e5f-8a6b-7c8d9e0f1a14
pvplain=e1e10002-3c4d-4e5f-8a6b-7c8d9e0f1a14
state=$SR_VM_WORKDIR/state
domains=$state/domains
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

sr_check "toolstack starts (xenstored, xenconsoled, xen-init-dom0)" sr_xen_start
cfg=$(sr_encode xen) && cfg_release=$(sr_encode xen_release)
sr_check "configs encode with protoc" test -s "$cfg" -a -s "$cfg_release"

# ---- What the agent sees of Xen ----
pfs=$("$sr_ctl" --json pfs)
sr_note "sriovctl pfs: $("$sr_ctl" pfs | head -n 2 | tr '\n' ';')"
sr_check_eq "sriovctl pfs --json: Xen dom0 with Xen's IOMMU on, no Linux IOMMU groups" \
	"true true false" "$(sr_jq '"\(.xen.dom0) \(.xen.iommu) \(.iommu)"' "$pfs")"

# ---- Apply ----
sr_xen_at "apply"
t0=$(date +%s.%N)
sr_apply "apply --hypervisor xen exits 0" --config "$cfg" --state-dir "$state" --hypervisor xen
sr_note "apply took $(elapsed "$t0")s"
list=$("$sr_ctl" --state-dir "$state" list --json)
"$sr_ctl" --state-dir "$state" list | sed 's/^/#   /'
addr_mac=$(sr_jq ".[] | select(.app == \"$pvmac\") | .pci" "$list")
addr_plain=$(sr_jq ".[] | select(.app == \"$pvplain\") | .pci" "$list")
vf_mac=$(sr_jq ".[] | select(.app == \"$pvmac\") | .vf" "$list")
vf_plain=$(sr_jq ".[] | select(.app == \"$pvplain\") | .vf" "$list")
mac_plain=$(sr_jq ".[] | select(.app == \"$pvplain\") | .kernel.mac" "$list")
sr_check_eq "pvmac holds VF 0 and pvplain VF 1, at their virtfn targets" \
	"0 $(sr_virtfn 0) 1 $(sr_virtfn 1)" "$vf_mac $addr_mac $vf_plain $addr_plain"
sr_check_match "pvplain's MAC is the derived one: locally administered unicast" \
	'^[0-9a-f][26ae](:[0-9a-f]{2}){5}$' "$mac_plain"
sr_check_eq "pvplain's MAC is derived from its adapter identity (UUID, \"igb\", 0), as computed in bash" \
	"$(sr_derive_mac "$pvplain" igb)" "$mac_plain"
# xl prints each BDF followed by spaces: one word per line.
assignable() { xl pci-assignable-list 2>&1 | tr -s ' \t' '\n' | sed '/^$/d'; }
assignable=$(assignable)
sr_note "xl pci-assignable-list: $(echo "$assignable" | tr '\n' ' ')"
for a in "$addr_mac" "$addr_plain"; do
	sr_check_eq "VF $a: driver link is pciback" pciback "$(sr_vf_driver "$a")"
	sr_check_match "VF $a: xl pci-assignable-list names it" "^$a\$" "$assignable"
done
sr_check_eq "sriovctl: bound_driver pciback for both, no error" "pciback/null pciback/null" \
	"$(sr_jq '[.[] | select(.app != null) | "\(.bound_driver)/\(.error)"] | join(" ")' "$list")"
sr_check_eq "ip link show $pf: pvmac's VF has its MAC and VLAN 100" \
	"link/ether 02:e1:00:00:00:01 brd ff:ff:ff:ff:ff:ff, vlan 100, spoof checking on, link-state auto, trust off" \
	"$(sr_vf_line "$vf_mac")"
sr_check_eq "ip link show $pf: pvplain's VF has the derived MAC, no VLAN" \
	"link/ether $mac_plain brd ff:ff:ff:ff:ff:ff, spoof checking on, link-state auto, trust off" \
	"$(sr_vf_line "$vf_plain")"
sr_apply "re-apply exits 0" --config "$cfg" --state-dir "$state" --hypervisor xen
sr_check_eq "re-apply: zero kernel writes (no rebind)" \
	"0 action(s), 0 sysfs and 0 netlink writes" "$(sr_applied)"

# ---- The xl.cfg files, through xl create ----
sr_xen_at "guests"
# One guest at a time: each is created, reports, and stays up while the
# next one is created.
for app in "$pvmac" "$pvplain"; do
	name=pvmac
	[ "$app" = "$pvplain" ] && name=pvplain
	f=$domains/$app.xen.cfg
	sr_check "the agent wrote $app.xen.cfg" test -s "$f"
	sr_note "$(basename "$f"): $(grep -v '^#' "$f" | tr '\n' ' ')"
	{ cat "$f"; sr_xen_guest_cfg; } >"$SR_VM_WORKDIR/$app.cfg"
	t0=$(date +%s.%N)
	sr_check "xl create $app.xen.cfg (+ kernel, ramdisk, extra)" xl create "$SR_VM_WORKDIR/$app.cfg"
	log=$(sr_xen_guest_log $name)
	for _ in $(seq 360); do
		grep -qa "SR-GUEST: done" "$log" 2>/dev/null && break
		sleep 0.5
	done
	sr_check "guest $name reported (SR-GUEST: done) after $(elapsed "$t0")s" grep -qa "SR-GUEST: done" "$log"
	tr -d '\r' <"$log" | grep -a "SR-GUEST:" | sed "s/^/#   $name: /"
done
sr_note "xl list: $(xl list | tr -s ' ' | tr '\n' ';')"
for name in pvmac pvplain; do
	log=$(sr_xen_guest_log $name)
	want=02:e1:00:00:00:01
	[ $name = pvplain ] && want=$mac_plain
	g=$(tr -d '\r' <"$log")
	sr_check_match "guest $name: pcifront shows the VF (8086:10ca) and igbvf has it" \
		'^SR-GUEST: pci [0-9a-f:.]+ 8086:10ca driver=igbvf$' "$g"
	sr_check_match "guest $name: its igbvf netdev has the MAC the agent set ($want)" \
		"^SR-GUEST: net [a-z0-9]+ mac=$want driver=igbvf pci=" "$g"
done

# ---- xl destroy: the VFs stay with pciback, assignable again ----
sr_xen_at "xl destroy"
for name in pvmac pvplain; do
	sr_check "xl destroy $name" timeout 120 xl destroy $name
	sr_check "domain $name is gone" sr_xen_wait_gone $name 60
done
assignable=$(assignable)
for a in "$addr_mac" "$addr_plain"; do
	sr_check_eq "after xl destroy: VF $a still on pciback" pciback "$(sr_vf_driver "$a")"
	sr_check_match "after xl destroy: VF $a assignable" "^$a\$" "$assignable"
done

# ---- Release: a config without the apps ----
sr_xen_at "release"
sr_apply "apply the config without apps exits 0" --config "$cfg_release" --state-dir "$state" --hypervisor xen
assignable=$(assignable)
for a in "$addr_mac" "$addr_plain"; do
	sr_check_eq "released VF $a back on igbvf" igbvf "$(sr_vf_driver "$a")"
done
sr_check_eq "xl pci-assignable-list is empty" "" "$assignable"
sr_check_eq "the xl.cfg files are gone" "" "$(ls "$domains")"
sr_check_eq "sriov_numvfs still 2" 2 "$(cat "$dev/sriov_numvfs")"
sr_xen_at "done"
sr_done
