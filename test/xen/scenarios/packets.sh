#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm_xen_packets (issue 22): isolation through the NIC between Xen PV guests.
# sriov-agent --hypervisor xen gives three PV apps a VF each
# (test/xen/configs/xen_packets.txtpb): pva and pvb on VLAN 100, pvc on VLAN
# 200. The three guests (test/xen/guest-init) start at once; each waits for
# carrier on its igbvf netdev, puts an IPv6 link-local address on it and
# says "ready". Once all three are ready, dom0 writes "go" to each one's
# console; then each pings the peers it should reach until they answer
# (bounded: 60 echoes), and after that the peers it should not reach, 5
# echoes each. Expected (this script's words, not the config's): pva and pvb
# reach each other through their VFs and the NIC's switch; neither reaches
# pvc, nor pvc them. Then xl destroy, the release.
# Run with: test/xen/run.sh test/xen/scenarios/packets.sh
. "$SR_SOURCE_DIR/test/vm/lib.sh"
. "$SR_SOURCE_DIR/test/xen/lib-xen.sh"
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-agent.sh"
sr_configs=$SR_SOURCE_DIR/test/xen/configs

state=$SR_VM_WORKDIR/state
domains=$state/domains
names=(pva pvb pvc)
uuids=(e1e10021-3c4d-4e5f-8a6b-7c8d9e0f1a22 e1e10022-3c4d-4e5f-8a6b-7c8d9e0f1a22
	e1e10023-3c4d-4e5f-8a6b-7c8d9e0f1a22)
addrs=(fe80::e1:a fe80::e1:b fe80::e1:c)
# The expectation: whom each guest reaches, and whom it must not.
reach=(fe80::e1:b fe80::e1:a '')
isolated=(fe80::e1:c fe80::e1:c 'fe80::e1:a,fe80::e1:b')

sr_check "toolstack starts (xenstored, xenconsoled, xen-init-dom0)" sr_xen_start
# With Xen's lazy FPU switching, processes in dom0 and the guests crash here
# (test/xen/README.md); the test runs with spec-ctrl=eager-fpu.
sr_check_match "Xen switches FPU state eagerly for PV (spec-ctrl=eager-fpu)" \
	'Support for PV VMs:.* EAGER_FPU' "$(xl dmesg)"
cfg=$(sr_encode xen_packets)
sr_check "config encodes with protoc" test -s "$cfg"
sed '/^apps {/,/^}/d' "$sr_configs/xen_packets.txtpb" |
	protoc --proto_path="$SR_SOURCE_DIR/proto" --encode=org.lfedge.eve.config.EdgeDevConfig \
		eveconfig.proto >"$SR_VM_WORKDIR/release.pb"

sr_xen_at "apply"
sr_apply "apply --hypervisor xen exits 0" --config "$cfg" --state-dir "$state" --hypervisor xen
sr_check_eq "kernel: VFs 0, 1 on VLAN 100, VF 2 on VLAN 200" "100 100 200" \
	"$(for v in 0 1 2; do sr_vf_line $v | sed -n 's/.*, vlan \([0-9]*\),.*/\1/p'; done | tr '\n' ' ' | sed 's/ $//')"

rx() { cat "/sys/class/net/$pf/statistics/rx_packets"; }
rx0=$(rx)
# ---- the three guests at once ----
sr_xen_at "guests"
for i in 0 1 2; do
	f=$domains/${uuids[i]}.xen.cfg
	sr_check "the agent wrote ${names[i]}'s xl.cfg" test -s "$f"
	extra="console=hvc0 quiet sr.addr=${addrs[i]}"
	[ -z "${reach[i]}" ] || extra="$extra sr.reach=${reach[i]}"
	extra="$extra sr.isolated=${isolated[i]}"
	{
		grep -v '^extra' "$f"
		sr_xen_guest_cfg | grep -v '^extra'
		echo "extra = \"$extra\""
	} >"$SR_VM_WORKDIR/${names[i]}.cfg"
	sr_check "xl create ${names[i]}" xl create "$SR_VM_WORKDIR/${names[i]}.cfg"
done
# said NAME WORD: the guest's console has a line "SR-GUEST: WORD...".
said() { tr -d '\r' <"/var/log/xen/console/guest-$1.log" 2>/dev/null | grep -qa "^SR-GUEST: $2"; }
# wait_said WORD SECONDS: until every guest said WORD.
wait_said() {
	local n t=0
	for n in "${names[@]}"; do
		while ! said "$n" "$2" && [ $t -lt $(($3 * 2)) ]; do
			sleep 0.5
			t=$((t + 1))
		done
		sr_check "guest $n said \"$2\" (${1})" said "$n" "$2"
	done
}
wait_said "carrier and its address" ready 600
sr_xen_at "all ready"
# dom0 to guest: a line on its console, through the pty xenconsoled made.
for n in "${names[@]}"; do
	tty=$(xenstore-read "/local/domain/$(xl domid "$n")/console/tty")
	sr_check "go to $n's console ($tty)" sh -c "printf 'go\n' >'$tty'"
done
wait_said "its pings" pinged 900
sr_xen_at "pinged"
for n in "${names[@]}"; do
	tr -d '\r' <"/var/log/xen/console/guest-$n.log" | grep -a "^SR-GUEST:" | sed "s/^/#   $n: /"
done
log() { tr -d '\r' <"/var/log/xen/console/guest-$1.log"; }
sr_check_match "pva (VLAN 100) reaches pvb (VLAN 100) through its VF" \
	'^SR-GUEST: reach fe80::e1:b ok' "$(log pva)"
sr_check_match "pvb (VLAN 100) reaches pva (VLAN 100) through its VF" \
	'^SR-GUEST: reach fe80::e1:a ok' "$(log pvb)"
sr_check_match "pva (VLAN 100) does not reach pvc (VLAN 200): 0 of 5 echoes" \
	'^SR-GUEST: isolated fe80::e1:c answered 0 of 5' "$(log pva)"
sr_check_match "pvb (VLAN 100) does not reach pvc (VLAN 200): 0 of 5 echoes" \
	'^SR-GUEST: isolated fe80::e1:c answered 0 of 5' "$(log pvb)"
sr_check_match "pvc (VLAN 200) does not reach pva: 0 of 5 echoes" \
	'^SR-GUEST: isolated fe80::e1:a answered 0 of 5' "$(log pvc)"
sr_check_match "pvc (VLAN 200) does not reach pvb: 0 of 5 echoes" \
	'^SR-GUEST: isolated fe80::e1:b answered 0 of 5' "$(log pvc)"
for i in 0 1 2; do
	sr_check_match "guest ${names[i]}: its igbvf netdev has the MAC the agent set" \
		"^SR-GUEST: net [a-z0-9]+ mac=02:e1:00:00:22:0$((i + 1)) driver=igbvf" "$(log "${names[i]}")"
done

sr_note "PF $pf received $(( $(rx) - rx0 )) frames while the guests ran"
# What dom0's kernel says about crashes or the IOMMU, if anything.
dmesg | grep -aiE 'bug|bad page|segfault|general protection|corrupt|dmar' | tail -n 12 | sed 's/^/#   dom0 dmesg: /'
# ---- xl destroy, release ----
sr_xen_at "xl destroy"
for n in "${names[@]}"; do
	sr_check "xl destroy $n" timeout 120 xl destroy "$n"
done
sr_apply "apply the config without apps exits 0" --config "$SR_VM_WORKDIR/release.pb" \
	--state-dir "$state" --hypervisor xen
for v in 0 1 2; do
	sr_check_eq "released VF $v back on igbvf" igbvf "$(sr_vf_driver "$(sr_virtfn $v)")"
done
sr_xen_at "done"
sr_done
