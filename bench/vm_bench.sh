#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# VM scenario for bench/run.sh (real kernel, QEMU igb PF with 7 VFs):
#   SR_BUILD_DIR=build-bench test/vm/run.sh bench/vm_bench.sh [sr.env.SR_BENCH_VM_REPS=N]
# Each case SR_BENCH_VM_REPS times (default 5), from the same starting point:
#   settings_agent   VFs exist, config A (7 VFs, no settings) applied; time
#                    sriov-agent apply of config B: MAC + VLAN + spoofchk on +
#                    trust on for all 7 VFs (netlink only: one RTM_SETLINK
#                    per VF with its 4 attributes)
#   settings_iplink  the same settings, `ip link set PF vf N mac .. vlan ..
#                    spoofchk on trust on` for N in 0..6
#   settings_ipbatch the same 7 commands in one `ip -batch` (one process,
#                    one RTM_SETLINK per VF with its 4 attributes)
#   settings_floor   bench/nl_floor.c: exactly the agent's 7 RTM_SETLINK
#                    messages and nothing else (raw netlink, libc only)
#   true             /bin/true: the cost of starting a process
#                    The settings cases run in an order that rotates from
#                    round to round; all but settings_iplink are timed by
#                    bench/measure (fork, exec, wait4), the same one exec for
#                    the agent as for ip, the floor program and /bin/true.
#   create_agent     0 VFs, no state; time sriov-agent apply of config A
#                    (returns once the 7 VFs are there; it also gives each VF
#                    its derived MAC: 7 netlink writes)
#                    (timed by bench/measure)
#   create_echo      0 VFs; time `echo 7 > sriov_numvfs` and the wait until
#                    virtfn0..6 exist (in this shell: no exec)
# Then the event-driven daemon (sriov-agent run, 7 VFs, apps on VFs 0 and 1,
# default --interval 300; helpers in test/vm/scenarios/lib-events.sh):
#   daemon_drift     `ip link set PF vf 0 mac X` behind its back; wall: from
#                    ip's start to the repair's end (the agent's
#                    repair_done_us); status 0 only with exactly one repair
#   daemon_reload    rmmod igb; modprobe igb; wall: from modprobe's start to
#                    the repair's end (VFs and settings back)
#   daemon_drift_agent, daemon_reload_agent: the same runs from the agent's
#                    side, its first event to the repair's end (repair_ms)
#   daemon_idle      once: the agent restarted, then idle for SR_BENCH_IDLE_S
#                    (default 60) s; wall: the window, user: its utime+stime
#                    (10 ms ticks); status 0 only when no apply ran in it
#   daemon_reconcile once: SIGHUP with --config unchanged, the reconcile the
#                    300 s timer runs; user: its CPU (schedstat, ms)
# Prints one "SR-BENCH: vm,CASE,1,7,REP,WALL_MS,USER_MS,SYS_MS,MAXRSS_KIB,
# SYSFS_WRITES,NETLINK_WRITES,,,STATUS" row per run; bench/report.py reads
# them from the console and takes the medians.
. "$SR_SOURCE_DIR/test/vm/lib.sh"

reps=${SR_BENCH_VM_REPS:-5}
agent=$SR_BUILD_DIR/agent/sriov-agent
measure=$SR_BUILD_DIR/bench/measure
work=$SR_VM_WORKDIR
n=7

if ! read -r pf pfaddr < <(sr_find_netdev igb); then
	sr_not_ok "igb PF found" "no interface with driver igb: $(ls /sys/class/net)"
	sr_done
fi
sr_ok "igb PF found: $pf at $pfaddr"
dev=/sys/bus/pci/devices/$pfaddr
ip link set "$pf" up
if [ ! -x "$measure" ]; then # bench/run.sh builds it; by hand, build it here
	measure=$work/measure
	cc -O2 -o "$measure" "$SR_SOURCE_DIR/bench/measure.c"
fi
floor=$SR_BUILD_DIR/bench/nl-floor
if [ ! -x "$floor" ]; then
	floor=$work/nl-floor
	cc -O2 -o "$floor" "$SR_SOURCE_DIR/bench/nl_floor.c"
fi
for ((i = 0; i < n; i++)); do
	echo "link set $pf vf $i mac 02:be:00:00:00:0$i vlan $((200 + i)) spoofchk on trust on"
done >"$work/settings.batch"

encode() { # SETTINGS OUT
	python3 "$SR_SOURCE_DIR/bench/gen_config.py" --pf "$pfaddr,$pf" --vfs $n --settings "$1" \
		--vlan-base 200 >"$2.txt" &&
		protoc --proto_path="$SR_SOURCE_DIR/proto" \
			--encode=org.lfedge.eve.config.EdgeDevConfig eveconfig.proto <"$2.txt" >"$2"
}
sr_check "config A (7 VFs, no settings) encodes" encode none "$work/a.pb"
sr_check "config B (MAC, VLAN, spoofchk, trust) encodes" encode full "$work/b.pb"

now_us() { echo "${EPOCHREALTIME/./}"; }
ms_since() { awk -v a="$1" -v b="$(now_us)" 'BEGIN { printf "%.3f", (b - a) / 1000 }'; }

# "applied: N action(s), X sysfs and Y netlink writes" -> "X,Y"
writes() {
	sed -n 's/.*applied: [0-9]* action(s), \([0-9]*\) sysfs and \([0-9]*\) netlink writes.*/\1,\2/p' "$1" | tail -n1
}
field() { sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" "$2" | tail -n1; }

row() { # CASE REP WALL MEASURE_FILE|'' LOG|'' STATUS
	local u='' y='' rss='' wr=','
	if [ -n "$4" ]; then
		u=$(field user_ms "$4")
		y=$(field sys_ms "$4")
		rss=$(field maxrss_kib "$4")
		wr=$(writes "$5")
		[ -n "$wr" ] || wr=','
	fi
	echo "SR-BENCH: vm,$1,1,$n,$2,$3,$u,$y,$rss,$wr,,,$6"
}

agent_apply() { # CONFIG LOG MEASURE_FILE
	rm -f "$3"
	"$measure" -o "$3" "$agent" apply --config "$1" --hypervisor none \
		--sysfs-root / --state-dir "$work/state" 2>"$2"
}

set_numvfs() { sr_write "$dev/sriov_numvfs" "$1" >/dev/null; }

vfs_ready() {
	local i
	for ((i = 0; i < n; i++)); do
		[ -e "$dev/virtfn$i" ] || return 1
	done
	return 0
}

# Untimed: VF i back to a known MAC, no VLAN, spoofchk and trust off.
reset_settings() {
	local i
	for ((i = 0; i < n; i++)); do
		ip link set "$pf" vf $i mac "02:00:00:00:01:0$i" vlan 0 spoofchk off trust off || return 1
	done
}

# One exec under measure; prints nothing, leaves the wall in $w and the
# status in $st.
measured() { # MEASURE_FILE CMD...
	local m=$1
	shift
	rm -f "$m"
	"$measure" -o "$m" "$@"
	st=$?
	w=$(field wall_ms "$m")
}

settings_cases=(settings_agent settings_ipbatch settings_floor true settings_iplink)
settings_case() { # CASE
	case $1 in
	settings_agent) # VFs exist, config A applied, kernel reset
		reset_settings
		rm -rf "$work/state"
		agent_apply "$work/a.pb" "$work/sa0.log" "$work/sa0.m" ||
			sr_note "settings_agent rep $rep: config A: $(tail -n 3 "$work/sa0.log")"
		agent_apply "$work/b.pb" "$work/sa.log" "$work/sa.m"
		st=$?
		w=$(field wall_ms "$work/sa.m")
		if [ $st -ne 0 ]; then
			failed_runs=$((failed_runs + 1))
			sr_note "settings_agent rep $rep: $(tail -n 3 "$work/sa.log")"
		fi
		row settings_agent $rep "$w" "$work/sa.m" "$work/sa.log" $st
		agent_vf6=$(ip -d link show "$pf" | grep -E '^ +vf 6 ')
		;;
	settings_ipbatch) # the same settings, one ip process
		reset_settings
		measured "$work/ib.m" ip -batch "$work/settings.batch"
		[ $st -eq 0 ] || failed_runs=$((failed_runs + 1))
		row settings_ipbatch $rep "$w" '' '' $st
		batch_vf6=$(ip -d link show "$pf" | grep -E '^ +vf 6 ')
		;;
	settings_floor) # the kernel floor: the agent's messages alone
		reset_settings
		measured "$work/fl.m" "$floor" "$pf" $n 02:be:00:00:00 200
		[ $st -eq 0 ] || failed_runs=$((failed_runs + 1))
		row settings_floor $rep "$w" '' '' $st
		floor_vf6=$(ip -d link show "$pf" | grep -E '^ +vf 6 ')
		;;
	true) # starting a process
		measured "$work/true.m" /bin/true
		row true $rep "$w" '' '' $st
		;;
	settings_iplink) # one ip process per VF, started by this shell
		reset_settings
		st=0
		t=$(now_us)
		for ((i = 0; i < n; i++)); do
			ip link set "$pf" vf $i mac "02:be:00:00:00:0$i" vlan $((200 + i)) spoofchk on trust on || st=1
		done
		w=$(ms_since "$t")
		[ $st -eq 0 ] || failed_runs=$((failed_runs + 1))
		row settings_iplink $rep "$w" '' '' $st
		iplink_vf6=$(ip -d link show "$pf" | grep -E '^ +vf 6 ')
		;;
	esac
}

failed_runs=0
agent_vf6=
for ((rep = 1; rep <= reps; rep++)); do
	# VF creation through the agent.
	set_numvfs 0
	rm -rf "$work/state"
	agent_apply "$work/a.pb" "$work/ca.log" "$work/ca.m"
	st=$?
	w=$(field wall_ms "$work/ca.m")
	vfs_ready || st=99
	if [ $st -ne 0 ]; then
		failed_runs=$((failed_runs + 1))
		sr_note "create_agent rep $rep: $(tail -n 3 "$work/ca.log")"
	fi
	row create_agent $rep "$w" "$work/ca.m" "$work/ca.log" $st

	# VF creation, bare sysfs.
	set_numvfs 0
	t=$(now_us)
	set_numvfs $n
	st=$?
	until vfs_ready || [ "$(now_us)" -gt $((t + 10000000)) ]; do :; done
	w=$(ms_since "$t")
	vfs_ready || st=99
	[ $st -eq 0 ] || failed_runs=$((failed_runs + 1))
	row create_echo $rep "$w" '' '' $st

	# The settings cases, each from the same starting point, in an order
	# that rotates from round to round (none always runs first after the
	# VF creation above). Each is timed by bench/measure, fork to wait4: one
	# exec for the agent as for ip, the floor and /bin/true.
	for ((k = 0; k < ${#settings_cases[@]}; k++)); do
		settings_case "${settings_cases[$(((k + rep) % ${#settings_cases[@]}))]}"
	done
done

# Where the agent's time goes beside the kernel's: syscalls of one settings
# apply and of one ip -batch (untimed, strace -c).
if command -v strace >/dev/null; then
	reset_settings
	rm -rf "$work/state"
	agent_apply "$work/a.pb" "$work/st0.log" "$work/st0.m"
	strace -f -c -o "$work/agent.strace" "$agent" apply --config "$work/b.pb" \
		--hypervisor none --sysfs-root / --state-dir "$work/state" 2>/dev/null
	reset_settings
	strace -f -c -o "$work/ipbatch.strace" ip -batch "$work/settings.batch"
	for f in agent ipbatch; do
		sr_note "strace -c $f: $(awk '$NF == "total" { print $4 " syscalls, " $2 " s" }' "$work/$f.strace")"
		sr_note "strace -c $f top: $(sort -k4 -n -r "$work/$f.strace" | awk '$NF != "total" && NF >= 5 && $4 ~ /^[0-9]+$/ { printf "%s %s, ", $NF, $4 }' | head -c 400)"
	done
fi

sr_check_eq "every timed run succeeded" 0 "$failed_runs"
sr_check_eq "config B: 0 sysfs and 7 netlink writes (one per VF, its 4 attributes in it)" "0,7" \
	"$(writes "$work/sa.log")"
sr_check_match "vf 6 after the agent: its MAC, vlan 206, spoof checking on, trust on" \
	'02:be:00:00:00:06.*vlan 206.*spoof checking on.*trust on' "$agent_vf6"
sr_check_match "vf 6 after the ip loop: the same" \
	'02:be:00:00:00:06.*vlan 206.*spoof checking on.*trust on' "$iplink_vf6"
sr_check_match "vf 6 after ip -batch: the same" \
	'02:be:00:00:00:06.*vlan 206.*spoof checking on.*trust on' "$batch_vf6"
sr_check_match "vf 6 after the floor program: the same" \
	'02:be:00:00:00:06.*vlan 206.*spoof checking on.*trust on' "$floor_vf6"
sr_note "measured: after the agent: $agent_vf6"
sr_note "measured: after the ip loop: $iplink_vf6"

# The event-driven daemon.
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-agent.sh"
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-events.sh"
ev_config daemon $n
if ev_start "$ev_cfg"; then sr_ok "daemon started"; else sr_not_ok "daemon started" "$(tail -5 "$ev_log")"; fi
sr_check_eq "daemon: event monitor on" "rtnetlink+uevent" "$(ev_stat events_monitor)"
daemon_failed=0
for ((rep = 1; rep <= reps; rep++)); do
	st=0
	ev_drift || st=1
	[ "$ev_repairs" = 1 ] || st=$((10 + ${ev_repairs:-0}))
	[ $st -eq 0 ] || daemon_failed=$((daemon_failed + 1))
	row daemon_drift $rep "$ev_lat_ms" '' '' $st
	row daemon_drift_agent $rep "$ev_agent_ms" '' '' $st
	sr_note "measured: drift $rep: $ev_lat_ms ms (first event -> done: $ev_agent_ms ms), repairs $ev_repairs"
done
for ((rep = 1; rep <= reps; rep++)); do
	st=0
	ev_reload || st=1
	[ $st -eq 0 ] || { daemon_failed=$((daemon_failed + 1)); sr_note "reload $rep: $ev_why"; }
	row daemon_reload $rep "$ev_lat_ms" '' '' $st
	row daemon_reload_agent $rep "$ev_agent_ms" '' '' $st
	sr_note "measured: reload $rep: modprobe -> repaired $ev_lat_ms ms, rmmod -> repaired $ev_total_ms ms, first event -> repaired $ev_agent_ms ms"
done
# The window starts a few seconds after a (re)start: the 300 s timer's
# reconcile stays out of it (docs/bench.md gives its cost).
ev_restart || sr_note "daemon restart failed: $(tail -3 "$ev_log")"
ev_idle "${SR_BENCH_IDLE_S:-60}"
st=0
[ "$ev_idle_applies" = 0 ] || st=$((10 + ev_idle_applies))
[ $st -eq 0 ] || daemon_failed=$((daemon_failed + 1))
# user_ms holds utime+stime (sys_ms 0): report.py takes their sum.
echo "SR-BENCH: vm,daemon_idle,1,$n,1,$ev_idle_ms,$ev_cpu_ms,0,,,,,,$st"
sr_note "measured: idle over $ev_idle_ms ms: utime+stime $ev_cpu_ms ms ($ev_cpu_pct %), schedstat $ev_sched_ms ms, applies $ev_idle_applies"
# What the timer costs: one reconcile of the unchanged config (SIGHUP with
# --config unchanged is the same reconcile), CPU from schedstat (ns).
a0=$(ev_stat applies)
n0=$(ev_cpu_ns)
t=$(now_us)
kill -HUP "$ev_pid"
for _ in $(seq 200); do [ "$(ev_stat applies)" -gt "$a0" ] && break; sleep 0.05; done
w=$(ms_since "$t")
rc_ms=$(awk -v n=$(($(ev_cpu_ns) - n0)) 'BEGIN { printf "%.1f", n / 1e6 }')
st=0
[ "$(ev_stat applies)" -gt "$a0" ] || { st=1; daemon_failed=$((daemon_failed + 1)); }
echo "SR-BENCH: vm,daemon_reconcile,1,$n,1,$w,$rc_ms,0,,,,,,$st"
sr_note "measured: one timer-like reconcile: $rc_ms ms CPU (schedstat, status requests included), $w ms until status showed it"
kill "$ev_pid"
wait "$ev_pid"
sr_check_eq "daemon: every drift repaired with one repair, every reload repaired, no reconcile while idle" 0 "$daemon_failed"
sr_done
