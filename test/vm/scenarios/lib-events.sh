# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Helpers for the event-driven daemon on the VM's igb PF, shared by
# scenarios/events.sh (ctest vm_events) and bench/vm_bench.sh. Not a
# scenario: source it after test/vm/lib.sh and scenarios/lib-agent.sh.
#   ev_config NAME COUNT   config with COUNT VFs, apps 01 and 02 on VFs 0
#                          and 1 (MAC 02:da:00:00:00:0N, VLAN 10N); its
#                          path in ev_cfg
#   ev_start CONFIG        sriov-agent run --config CONFIG (default
#                          interval: 300 s), until status answers
#   ev_stat KEY            one key of `sriovctl status --json`
#   ev_settle              until no event reconcile for 1.5 s
#   ev_drift               ip link set PF vf 0 mac X behind the agent's back;
#                          waits for the repair; sets ev_lat_ms (ip start ->
#                          the repair's end, the agent's clock), ev_repairs
#                          (repairs it made), ev_agent_ms (first event ->
#                          done, as the agent measured)
#   ev_in_force            the config is on the PF: ev_vfs VFs, vf 0 has
#                          app 1's MAC
#   ev_reload              rmmod igb; modprobe igb; waits for the repair;
#                          sets ev_lat_ms (modprobe start -> repaired),
#                          ev_total_ms (rmmod start -> repaired),
#                          ev_agent_ms (the repair's first event -> done)
#   ev_idle SEC            sets ev_idle_ms (the window), ev_cpu_ms and
#                          ev_cpu_pct (agent utime+stime over it,
#                          /proc/PID/stat, 10 ms ticks), ev_sched_ms (its
#                          time on CPU from /proc/PID/schedstat, ns) and
#                          ev_idle_moves (event reconciles + repairs in it),
#                          ev_idle_applies (applies in it, timer included)

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "lib-events.sh is sourced, not run" >&2
	exit 2
fi

ev_sock=$SR_VM_WORKDIR/ev.sock
ev_state=$SR_VM_WORKDIR/ev-state
ev_log=$SR_VM_WORKDIR/ev-agent.log
ev_pid=
ev_mac0=02:da:00:00:00:01

ev_config() {
	local out=$SR_VM_WORKDIR/$1 a
	ev_vfs=$2
	{
		echo 'id { uuid: "0e6c2d3a-5f41-4b7e-9c1d-2a3b4c5d6ee0" version: "1" }'
		echo "deviceIoList { ptype: PhyIoNetEthPF phylabel: \"$pf\" logicallabel: \"igb\""
		echo "  phyaddrs { key: \"pcilong\" value: \"$pfaddr\" }"
		echo "  vflist { vf_count: $2 } }"
		for a in 1 2; do
			echo "apps { uuidandversion { uuid: \"da000000-0000-4000-8000-00000000000$a\" version: \"1\" }"
			echo "  displayname: \"app$a\" fixedresources { memory: 131072 vcpus: 1 virtualizationMode: HVM }"
			echo "  adapters { type: PhyIoNetEthVF name: \"igb\" eth_vf { mac: \"02:da:00:00:00:0$a\" vlan_id: 10$a } } }"
		done
	} >"$out.txtpb"
	protoc --proto_path="$SR_SOURCE_DIR/proto" --encode=org.lfedge.eve.config.EdgeDevConfig \
		eveconfig.proto <"$out.txtpb" >"$out.pb" && ev_cfg=$out.pb
}

ev_start() {
	ip link set "$pf" up
	ev_t0=${EPOCHREALTIME/./}
	# Each log line prefixed with the time it was read (EPOCHREALTIME).
	sr_daemon ev_pid "$ev_sock" --state-dir "$ev_state" --hypervisor none --config "$1" \
		--log-level debug \
		2> >(while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done >>"$ev_log")
}

# ev_log_since N: the agent's log after line N, without the plan and exec
# lines, as "# log: +MS line" (ms since ev_t0, EPOCHREALTIME in us).
ev_log_since() {
	tail -n +"$(($1 + 1))" "$ev_log" | grep -vE ' (plan|exec): ' |
		awk -v t0="$ev_t0" '{ t = $1; sub(/^[^ ]* /, ""); printf "#   log: +%d ms %s\n", (t * 1e6 - t0) / 1000, $0 }'
}

# ev_restart: SIGTERM the agent and start it again on the same config, so
# that a window measured next is far from its first --interval tick (a
# timer reconcile is not idle; bench.md gives its cost).
ev_restart() {
	kill "$ev_pid" && wait "$ev_pid"
	ev_start "$ev_cfg"
}

ev_stat() {
	"$sr_ctl" --socket "$ev_sock" --json status | jq -r ".$1"
}

ev_settle() {
	sr_settle "$ev_sock" 50
}

# ev_wait_repairs N: until status shows at least N repairs (10 s at most).
ev_wait_repairs() {
	for _ in $(seq 200); do
		[ "$(ev_stat repairs)" -ge "$1" ] 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

ev_vf0_mac() {
	ip -d link show "$pf" | sed -n 's/^ *vf 0 .*link\/ether \([0-9a-f:]*\).*/\1/p'
}

ev_in_force() {
	[ "$(cat "/sys/bus/pci/devices/$pfaddr/sriov_numvfs" 2>/dev/null)" = "$ev_vfs" ] &&
		[ "$(ev_vf0_mac)" = "$ev_mac0" ]
}

ev_drift() {
	local r0 t0 done_us
	ev_lat_ms= ev_agent_ms= ev_repairs=
	ev_settle
	r0=$(ev_stat repairs)
	t0=${EPOCHREALTIME/./}
	ip link set "$pf" vf 0 mac 02:da:00:00:00:99 || return 1
	ev_wait_repairs $((r0 + 1)) || return 1
	done_us=$(ev_stat repair_done_us)
	ev_agent_ms=$(ev_stat repair_ms)
	ev_lat_ms=$(((done_us - t0) / 1000))
	ev_settle
	ev_repairs=$(($(ev_stat repairs) - r0))
	[ "$(ev_vf0_mac)" = "$ev_mac0" ]
}

ev_reload() {
	local r0 t0 t1 i done_us
	ev_why=
	ev_lat_ms= ev_total_ms= ev_agent_ms=
	ev_settle
	r0=$(ev_stat repairs)
	t0=${EPOCHREALTIME/./}
	ev_t0=$t0
	rmmod igb || { ev_why="rmmod igb failed"; return 1; }
	t1=${EPOCHREALTIME/./}
	modprobe igb || { ev_why="modprobe igb failed"; return 1; }
	for ((i = 0; i < 400; i++)); do
		ev_in_force && break
		sleep 0.025
	done
	[ $i -lt 400 ] || { ev_why="not repaired after 400 looks"; return 1; }
	ev_wait_repairs $((r0 + 1)) || { ev_why="repairs did not move from $r0"; return 1; }
	done_us=$(ev_stat repair_done_us)
	ev_agent_ms=$(ev_stat repair_ms)
	ev_lat_ms=$(((done_us - t1) / 1000))
	ev_total_ms=$(((done_us - t0) / 1000))
	ev_settle
	ev_repairs=$(($(ev_stat repairs) - r0))
}

ev_cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$ev_pid/stat"
}

# Time on CPU in ns (the scheduler's count, finer than the ticks above);
# the agent is single-threaded.
ev_cpu_ns() {
	awk '{ print $1 }' "/proc/$ev_pid/schedstat" 2>/dev/null || echo 0
}

ev_idle() {
	local c0 c1 n0 n1 m0 m1 a0 a1 t0 t1 hz
	ev_settle
	hz=$(getconf CLK_TCK)
	m0=$(($(ev_stat event_reconciles) + $(ev_stat repairs)))
	a0=$(ev_stat applies)
	c0=$(ev_cpu_ticks)
	n0=$(ev_cpu_ns)
	t0=${EPOCHREALTIME/./}
	sleep "$1"
	c1=$(ev_cpu_ticks)
	n1=$(ev_cpu_ns)
	t1=${EPOCHREALTIME/./}
	m1=$(($(ev_stat event_reconciles) + $(ev_stat repairs)))
	a1=$(ev_stat applies)
	ev_idle_applies=$((a1 - a0))
	ev_idle_ms=$(((t1 - t0) / 1000))
	ev_cpu_ms=$(awk -v c=$((c1 - c0)) -v hz="$hz" 'BEGIN { printf "%.1f", 1000 * c / hz }')
	ev_cpu_pct=$(awk -v c="$ev_cpu_ms" -v w="$ev_idle_ms" 'BEGIN { printf "%.3f", 100 * c / w }')
	ev_sched_ms=$(awk -v n=$((n1 - n0)) 'BEGIN { printf "%.3f", n / 1e6 }')
	ev_idle_moves=$((m1 - m0))
}
