#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sriov-agent run on the real kernel (igb PF, netlink): push config 1 (three
# apps with MAC/VLAN on 4 VFs), push config 2 (one app removed, one added,
# one changed, 4 -> 5 VFs) with the agent SIGKILLing itself after its first
# VF write (SR_FAULT=after-configure:1), restart it, and compare what
# `ip -d link show` reports with config 2; the removed app's VF is back to
# its original state. Then drift made with `ip link set ... vf` is repaired
# by the periodic reconcile.
. "$SR_SOURCE_DIR/test/vm/lib.sh"
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-agent.sh"

w=$SR_VM_WORKDIR state=$SR_VM_WORKDIR/state sock=$SR_VM_WORKDIR/agent.sock log=$SR_VM_WORKDIR/agent.log
sr_ok "igb PF $pf at $pfaddr"

# config N VFCOUNT APP...: APP = uuid-suffix:mac-suffix:vlan[:vfN]
config() {
	local name=$1 count=$2 a u m v x
	shift 2
	{
		echo 'id { uuid: "0e6c2d3a-5f41-4b7e-9c1d-2a3b4c5d6ed0" version: "1" }'
		echo "deviceIoList { ptype: PhyIoNetEthPF phylabel: \"$pf\" logicallabel: \"igb\""
		echo "  phyaddrs { key: \"ifname\" value: \"$pf\" } phyaddrs { key: \"pcilong\" value: \"$pfaddr\" }"
		echo "  vflist { vf_count: $count } }"
		for a in "$@"; do
			IFS=: read -r u m v x <<<"$a"
			echo "apps { uuidandversion { uuid: \"da000000-0000-4000-8000-0000000000$u\" version: \"1\" }"
			echo "  displayname: \"app$u\" fixedresources { memory: 131072 vcpus: 1 virtualizationMode: HVM }"
			echo "  adapters { type: PhyIoNetEthVF name: \"igb$x\" eth_vf { mac: \"02:da:00:00:00:$m\" vlan_id: $v } } }"
		done
	} >"$w/$name.txtpb"
	protoc --proto_path="$SR_SOURCE_DIR/proto" --encode=org.lfedge.eve.config.EdgeDevConfig \
		eveconfig.proto <"$w/$name.txtpb" >"$w/$name.pb"
}
# vf N: the `ip -d link show` line of VF N
vf() { ip -d link show "$pf" | grep -E "^ +vf $1 "; }
# start [INTERVAL]: the agent in the background (pid in apid), until status answers
start() {
	sr_daemon apid "$sock" --state-dir "$state" --hypervisor none --interval "${1:-3600}" \
		--log-level debug 2>>"$log"
}

# Config 1: 4 VFs, apps 01 02 03 on VFs 0 1 2. Config 2: 5 VFs, 02 removed,
# 03 moves to VLAN 203, 04 added on VF 4 (explicit) so VF 1 stays free.
config c1 4 01:01:101 02:02:102 03:03:103
config c2 5 01:01:101 03:03:203 04:04:104:vf4
sr_check "configs encoded" test -s "$w/c1.pb" -a -s "$w/c2.pb"

ip link set "$pf" up
if start; then sr_ok "agent started (pid $apid)"; else sr_not_ok "agent started" "$(tail -5 "$log")"; fi
out=$("$sr_ctl" --socket "$sock" push "$w/c1.pb" 2>&1)
sr_check_match "push config 1: applied" '^applied: 3 reservation' "$out"
sr_check_eq "config 1: 4 VFs" 4 "$(cat "/sys/bus/pci/devices/$pfaddr/sriov_numvfs")"
sr_check_match "config 1: vf 0 MAC/VLAN of app 01" 'link/ether 02:da:00:00:00:01 .*vlan 101' "$(vf 0)"
sr_check_match "config 1: vf 1 MAC/VLAN of app 02" 'link/ether 02:da:00:00:00:02 .*vlan 102' "$(vf 1)"
sr_check_match "config 1: vf 2 MAC/VLAN of app 03" 'link/ether 02:da:00:00:00:03 .*vlan 103' "$(vf 2)"
orig3=$(vf 3 | sed -E 's/^ +vf 3 +//')
sr_note "free vf 3 (original state of a VF): $orig3"
"$sr_ctl" --state-dir "$state" list | sed 's/^/#   /'

# Config 2, and the agent dies right after its first VF write.
kill "$apid"; wait "$apid"
sr_check_eq "SIGTERM: exit 0" 0 "$?"
SR_FAULT=after-configure:1 start || true
"$sr_ctl" --socket "$sock" push "$w/c2.pb" >"$w/push2.out" 2>&1
wait "$apid"
sr_check_eq "push config 2: the agent was SIGKILLed mid-apply" 137 "$?"
sr_note "push answer: $(cat "$w/push2.out")"
sr_check "config 2 is pending after the crash" cmp "$w/c2.pb" "$state/config.pending.pb"
ip -d link show "$pf" | grep -E '^ +vf ' | sed 's/^/#   after crash: /'

if start 2; then sr_ok "agent restarted"; else sr_not_ok "agent restarted" "$(tail -5 "$log")"; fi
sr_check "restart finished config 2" cmp "$w/c2.pb" "$state/config.pb"
sr_check "no pending config left" test ! -e "$state/config.pending.pb"
ip -d link show "$pf" | grep -E '^ +vf ' | sed 's/^/#   measured: /'
sr_check_eq "config 2: 5 VFs" 5 "$(cat "/sys/bus/pci/devices/$pfaddr/sriov_numvfs")"
sr_check_match "config 2: vf 0 app 01 kept its VF, MAC, VLAN 101" 'link/ether 02:da:00:00:00:01 .*vlan 101' "$(vf 0)"
sr_check_match "config 2: vf 2 app 03 kept its VF, now VLAN 203" 'link/ether 02:da:00:00:00:03 .*vlan 203' "$(vf 2)"
sr_check_match "config 2: vf 4 app 04 added, VLAN 104" 'link/ether 02:da:00:00:00:04 .*vlan 104' "$(vf 4)"
sr_check_eq "removed app 02: vf 1 back to the original state" "$orig3" "$(vf 1 | sed -E 's/^ +vf 1 +//')"
sr_check_eq "free vf 3: original state" "$orig3" "$(vf 3 | sed -E 's/^ +vf 3 +//')"
json=$("$sr_ctl" --state-dir "$state" list --json)
sr_check_eq "sriovctl list: apps 01 03 04 on VFs 0 2 4, no errors" "01=0 03=2 04=4" \
	"$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(sorted("%s=%d" % (v["app"][-2:], v["vf"]) for v in d if v["app"] and not v["error"])))' <<<"$json")"

# Drift: someone changes a VF behind the agent's back.
# (The agent may repair it before any read here, so the drift is proven by
# ip's exit status and by the agent's repair in its log, not by a read.)
repairs_before=$(grep -c 'applied: [1-9][0-9]* action' "$log")
sr_check "drift made: ip link set $pf vf 0 vlan 999 mac 02:da:00:00:00:99" \
	ip link set "$pf" vf 0 vlan 999 mac 02:da:00:00:00:99
for _ in $(seq 100); do vf 0 | grep -q 'vlan 101' && break; sleep 0.1; done
sr_check_match "reconcile restored vf 0" 'link/ether 02:da:00:00:00:01 .*vlan 101' "$(vf 0)"
for _ in $(seq 50); do [ "$(grep -c 'applied: [1-9][0-9]* action' "$log")" -gt "$repairs_before" ] && break; sleep 0.1; done
sr_check "the agent logged the repair" test "$(grep -c 'applied: [1-9][0-9]* action' "$log")" -gt "$repairs_before"
st=$("$sr_ctl" --socket "$sock" status)
sr_check_match "status: last reconcile applied" 'last reconcile +applied' "$st"

# The PF taken down: the kernel notifies no VF setting change made through
# it then (netdev_state_change needs IFF_UP); the daemon says so once, from
# the reconcile the IFF_UP change itself starts, and status names the PF
# (agent/daemon/pfdown.c). Brought up again: "up again", and the drift made
# meanwhile is repaired by the reconcile that change starts.
n_down=$(wc -l <"$log")
sr_check "ip link set $pf down" ip link set "$pf" down
for _ in $(seq 100); do tail -n +"$((n_down + 1))" "$log" | grep -q "PF $pf ($pfaddr) is down" && break; sleep 0.1; done
sr_check_match "the daemon says the PF is down and what it means" \
	"PF $pf \\($pfaddr\\) is down: the kernel notifies no VF setting change made through it" \
	"$(tail -n +"$((n_down + 1))" "$log")"
sr_check_match "status: down names it" "^down +$pf \\($pfaddr\\)\$" \
	"$("$sr_ctl" --socket "$sock" status)"
sr_check "drift while the PF is down: ip link set $pf vf 0 vlan 997" ip link set "$pf" vf 0 vlan 997
sr_check "ip link set $pf up" ip link set "$pf" up
for _ in $(seq 100); do tail -n +"$((n_down + 1))" "$log" | grep -q "PF $pf ($pfaddr) is up again" && break; sleep 0.1; done
sr_check_match "the daemon says the PF is up again" "PF $pf \\($pfaddr\\) is up again" \
	"$(tail -n +"$((n_down + 1))" "$log")"
for _ in $(seq 100); do vf 0 | grep -q 'vlan 101' && break; sleep 0.1; done
sr_check_match "the drift made while it was down is repaired" 'link/ether 02:da:00:00:00:01 .*vlan 101' "$(vf 0)"
sr_check_eq "said once each" "1 1" \
	"$(tail -n +"$((n_down + 1))" "$log" | grep -c "PF $pf ($pfaddr) is down") $(tail -n +"$((n_down + 1))" "$log" | grep -c "PF $pf ($pfaddr) is up again")"
kill "$apid"; wait "$apid"
sr_check_eq "SIGTERM: exit 0" 0 "$?"

# A driver that answers "try again" (i40e while a VF is in reset, modelled
# by SR_VF_IN_RESET, agent/daemon/fault.c): VF 0 drifts while the agent is
# stopped; it starts with every VF setting answered -EAGAIN for 4 s, gives
# up after its own retries (SR_RETRY_LATER_MS) and, with a 3600 s interval,
# reconciles once 5 s later (run.c later_retry), when the write succeeds.
sr_check "drift while stopped: ip link set $pf vf 0 vlan 998" ip link set "$pf" vf 0 vlan 998
SR_VF_IN_RESET=4000 start || true
sr_check_match "in reset: vf 0 not written yet (vlan 998)" 'vlan 998' "$(vf 0)"
sr_check_match "in reset: the agent will try again in 5 s" 'answered "later": reconcile again in 5 s' \
	"$(cat "$log")"
for _ in $(seq 300); do vf 0 | grep -q "vlan 101" && break; sleep 0.1; done
sr_check_match "after the early retry: vf 0 back to vlan 101" 'link/ether 02:da:00:00:00:01 .*vlan 101' "$(vf 0)"
kill "$apid"; wait "$apid"
sr_check_eq "SIGTERM: exit 0" 0 "$?"
grep -E 'warning|error|killed|pending' "$log" | head -20 | sed 's/^/#   log: /'
sr_done
