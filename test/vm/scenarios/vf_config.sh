#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm_vf_config (issue 3): sriov-agent configures VFs on the real kernel, and
# the kernel's own view (iproute2's `ip -d link show`, sysfs) shows exactly
# what the config asked.
#
#   1. 4 VFs, 3 apps (test/vm/configs/vf_config.txtpb) with MAC, VLAN, QoS,
#      spoofchk, trust; one app with no MAC (derived), one with a rate limit
#      igb refuses. The PF is down before and up after.
#   2. Re-apply: zero kernel writes.
#   3. The derived MAC is stable: a second apply from an empty state dir
#      derives the same one, and so does an independent computation here.
#   4. Drift (VLAN, spoofchk changed behind the agent's back) is repaired.
#   5. Releasing an app restores its VF's original settings.
#   6. 4 VFs -> 2 (the kernel's EBUSY path), apps reduced to fit.
# Run with: test/vm/run.sh test/vm/scenarios/vf_config.sh
. "$SR_SOURCE_DIR/test/vm/lib.sh"
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-agent.sh"

web=5a1e0001-7c2b-4d3e-8f40-a1b2c3d4e501
db=5a1e0002-7c2b-4d3e-8f40-a1b2c3d4e502
meter=5a1e0003-7c2b-4d3e-8f40-a1b2c3d4e503
state=$SR_VM_WORKDIR/state
bcast="brd ff:ff:ff:ff:ff:ff"
line_web="link/ether 02:5a:00:00:00:01 $bcast, vlan 100, qos 3, spoof checking on, link-state auto, trust off"
line_meter="link/ether 02:5a:00:00:00:03 $bcast, vlan 300, qos 5, spoof checking on, link-state auto, trust on"
db_mac=$(sr_derive_mac "$db" igb)
line_db="link/ether $db_mac $bcast, vlan 200, spoof checking off, link-state auto, trust on"

cfg=$(sr_encode vf_config) && cfg_release=$(sr_encode vf_config_release) &&
	cfg_2vfs=$(sr_encode vf_config_2vfs)
sr_check "configs encode with protoc" test -s "$cfg" -a -s "$cfg_release" -a -s "$cfg_2vfs"
sr_note "PF $pf at $pfaddr; db's MAC derived here: $db_mac"

# ---- 0. What a VF looks like before anyone configures it ----
# Made and removed here so that the release in step 5 has something to be
# compared with that the agent did not record itself.
sr_write "$dev/sriov_numvfs" 4 >/dev/null
pristine=$(sr_vf_line 1)
sr_write "$dev/sriov_numvfs" 0 >/dev/null
sr_note "a fresh VF: $pristine"
sr_check_match "a fresh VF has MAC 00:00:00:00:00:00 and no VLAN" \
	"^link/ether 00:00:00:00:00:00 $bcast, spoof checking on, link-state auto, trust off$" "$pristine"
ip link set "$pf" down
sr_check_fails "PF $pf is down before the first apply" sh -c "ip -o link show $pf | grep -q '[<,]UP[,>]'"

# ---- 1. Apply ----
sr_apply "apply vf_config (4 VFs, 3 apps) exits 0" \
	--config "$cfg" --state-dir "$state" --hypervisor none
sr_check_match "the agent says it brought the PF up" "PF $pfaddr was down: brought it up" "$sr_log"
sr_check_match "PF $pf is up" '[<,]UP[,>]' "$(ip -o link show "$pf")"
# web and db: one RTM_SETLINK each with their 4 attributes; meter's 5
# (rate included) are refused together, then sent one per attribute: 1 + 5.
sr_check_eq "kernel writes: 1 sysfs (sriov_numvfs) and 9 netlink (web 1, db 1, meter 1 + 5, link up 1)" \
	"4 action(s), 1 sysfs and 9 netlink writes" "$(sr_applied)"
sr_check_eq "sriov_numvfs reads 4" 4 "$(cat "$dev/sriov_numvfs")"
sr_check_eq "virtfn0..3 point at 0000:01:10.0, .2, .4, .6" \
	"0000:01:10.0 0000:01:10.2 0000:01:10.4 0000:01:10.6" \
	"$(sr_virtfn 0) $(sr_virtfn 1) $(sr_virtfn 2) $(sr_virtfn 3)"

sr_note "ip -d link show $pf:"
ip -d link show "$pf" | sed 's/^/#   /'
sr_check_eq "kernel: VF 0 (web) mac, vlan 100 qos 3, spoofchk on, trust off" "$line_web" "$(sr_vf_line 0)"
sr_check_eq "kernel: VF 1 (db) derived mac, vlan 200, spoofchk off, trust on" "$line_db" "$(sr_vf_line 1)"
sr_check_eq "kernel: VF 2 (meter) mac, vlan 300 qos 5, spoofchk on, trust on, no rate" \
	"$line_meter" "$(sr_vf_line 2)"
sr_check_eq "kernel: VF 3 (no app) untouched" "$pristine" "$(sr_vf_line 3)"
sr_check_match "db's derived MAC is unicast and locally administered" \
	'^[0-9a-f][26ae]:' "$db_mac"

list=$("$sr_ctl" --state-dir "$state" list --json)
sr_note "sriovctl list:"
"$sr_ctl" --state-dir "$state" list | sed 's/^/#   /'
sr_check_eq "sriovctl list --json: PCI addresses are the virtfn link targets" \
	"$(sr_virtfn 0) $(sr_virtfn 1) $(sr_virtfn 2) $(sr_virtfn 3)" \
	"$(sr_jq '[.[] | .pci] | join(" ")' "$list")"
sr_check_eq "sriovctl list --json: VF -> app is 0 web, 1 db, 2 meter, 3 none" \
	"0=web 1=db 2=meter 3=null" \
	"$(sr_jq '[.[] | "\(.vf)=\(.app_name)"] | join(" ")' "$list")"
sr_check_eq "sriovctl: meter's rate is refused with the errno text, MAC/VLAN/spoofchk/trust ok" \
	"rate=Invalid argument mac=ok vlan=ok spoofchk=ok trust=ok" \
	"$(sr_jq '.[] | select(.app_name == "meter") | .attrs |
		"rate=\(.rate) mac=\(.mac) vlan=\(.vlan) spoofchk=\(.spoofchk) trust=\(.trust)"' "$list")"
sr_check_eq "sriovctl: meter wants max_tx_rate 10000, the kernel has 0" "10000 0" \
	"$(sr_jq '.[] | select(.app_name == "meter") | "\(.desired.max_tx_rate) \(.kernel.max_tx_rate)"' "$list")"
sr_check_eq "sriovctl: web asked no rate, so attrs.rate is null" null \
	"$(sr_jq ".[] | select(.app == \"$web\") | .attrs.rate" "$list")"
sr_check_match "the agent warned about the refused rate, naming PF, VF and app" \
	"warning: PF $pfaddr VF 2 app $meter: driver refused rate: Invalid argument" "$sr_log"

# ---- 2. Re-apply: nothing to do ----
sr_apply "re-apply the same config exits 0" \
	--config "$cfg" --state-dir "$state" --hypervisor none
sr_check_eq "re-apply: zero kernel writes" "0 action(s), 0 sysfs and 0 netlink writes" "$(sr_applied)"

# ---- 3. The derived MAC is stable ----
sr_apply "apply the same config with an empty state dir exits 0" \
	--config "$cfg" --state-dir "$SR_VM_WORKDIR/state2" --hypervisor none
mac1=$(sr_jq '.vfs[0].desired.mac' "$("$sr_ctl" --state-dir "$state" show "$db" --json)")
mac2=$(sr_jq '.vfs[0].desired.mac' "$("$sr_ctl" --state-dir "$SR_VM_WORKDIR/state2" show "$db" --json)")
sr_check_eq "db's derived MAC: the same from two empty state dirs" "$mac1" "$mac2"
sr_check_eq "db's derived MAC: the same as computed here from the UUID" "$db_mac" "$mac1"
sr_check_eq "the second apply touched no VF attribute the kernel already had" "$line_db" "$(sr_vf_line 1)"

# ---- 4. Drift ----
ip link set "$pf" vf 0 vlan 7
ip link set "$pf" vf 1 spoofchk on
sr_check_match "drift made: VF 0 on VLAN 7" ', vlan 7,' "$(sr_vf_line 0)"
sr_apply "re-apply after drift exits 0" \
	--config "$cfg" --state-dir "$state" --hypervisor none
sr_check_eq "drift repaired with one write per drifted attribute" \
	"2 action(s), 0 sysfs and 2 netlink writes" "$(sr_applied)"
sr_check_eq "kernel: VF 0 back on VLAN 100 qos 3" "$line_web" "$(sr_vf_line 0)"
sr_check_eq "kernel: VF 1 spoofchk back off" "$line_db" "$(sr_vf_line 1)"

# ---- 5. Release db ----
sr_apply "apply vf_config_release (db left out) exits 0" \
	--config "$cfg_release" --state-dir "$state" --hypervisor none
sr_check_match "the plan releases VF 1 from db" "plan: release PF $pfaddr VF 1 \(app $db\)" "$sr_log"
sr_check_eq "release: 1 netlink write (mac, vlan, spoofchk, trust in one request), no sysfs" \
	"1 action(s), 0 sysfs and 1 netlink writes" "$(sr_applied)"
sr_check_eq "kernel: VF 1 is as before the agent (MAC 00:00:00:00:00:00, no VLAN, spoofchk on, trust off)" \
	"$pristine" "$(sr_vf_line 1)"
sr_check_eq "kernel: VF 0 (web) and VF 2 (meter) unchanged" "$line_web|$line_meter" \
	"$(sr_vf_line 0)|$(sr_vf_line 2)"
list=$("$sr_ctl" --state-dir "$state" list --json)
sr_check_eq "sriovctl list --json: VF 1 holds no app" "0=web 1=null 2=meter 3=null" \
	"$(sr_jq '[.[] | "\(.vf)=\(.app_name)"] | join(" ")' "$list")"
sr_check_fails "sriovctl show db: not in the applied config" "$sr_ctl" --state-dir "$state" show "$db"
sr_apply "re-apply vf_config_release exits 0" \
	--config "$cfg_release" --state-dir "$state" --hypervisor none
sr_check_eq "re-apply after release: zero kernel writes" \
	"0 action(s), 0 sysfs and 0 netlink writes" "$(sr_applied)"

# ---- 6. 4 VFs -> 2 ----
sr_check_eq "the kernel refuses 4 -> 2 directly (EBUSY)" "Device or resource busy" \
	"$(sr_write "$dev/sriov_numvfs" 2)"
sr_apply "apply vf_config_2vfs (2 VFs, web and meter) exits 0" \
	--config "$cfg_2vfs" --state-dir "$state" --hypervisor none
sr_check_match "the agent wrote 0, then 2" \
	"sriov_numvfs = 0: ok.*sriov_numvfs = 2: ok" "$(printf '%s' "$sr_log" | tr '\n' ' ')"
sr_check_eq "sriov_numvfs reads 2" 2 "$(cat "$dev/sriov_numvfs")"
sr_check_eq "virtfn0, virtfn1 at 0000:01:10.0, .2; no virtfn2" \
	"0000:01:10.0 0000:01:10.2 absent" "$(sr_virtfn 0) $(sr_virtfn 1) $(sr_virtfn 2)"
sr_check_eq "kernel: VF 0 (web) configured again" "$line_web" "$(sr_vf_line 0)"
sr_check_eq "kernel: VF 1 (meter, moved from VF 2) configured" "$line_meter" "$(sr_vf_line 1)"
list=$("$sr_ctl" --state-dir "$state" list --json)
sr_check_eq "sriovctl list --json: 2 VFs at the virtfn targets, 0 web, 1 meter" \
	"0=0000:01:10.0=web 1=0000:01:10.2=meter" \
	"$(sr_jq '[.[] | "\(.vf)=\(.pci)=\(.app_name)"] | join(" ")' "$list")"
sr_check_eq "sriovctl: meter's rate refused again on its new VF" "Invalid argument" \
	"$(sr_jq '.[] | select(.app_name == "meter") | .attrs.rate' "$list")"
sr_apply "re-apply vf_config_2vfs exits 0" \
	--config "$cfg_2vfs" --state-dir "$state" --hypervisor none
sr_check_eq "re-apply with 2 VFs: zero kernel writes" \
	"0 action(s), 0 sysfs and 0 netlink writes" "$(sr_applied)"

sr_done
