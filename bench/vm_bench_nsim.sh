#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# VM scenario for bench/run.sh: the agent on netdevsim's PF nsim0 with
# hundreds and thousands of VFs (the bed of test/vm/scenarios/lib-nsim.sh:
# a fake PCI tree for the VF table, every netlink read and write and every
# event the real kernel's):
#   SR_BUILD_DIR=build-bench test/vm/run.sh bench/vm_bench_nsim.sh \
#       [sr.env.SR_BENCH_VM_REPS=N] [sr.env.SR_BENCH_NSIM_SIZES=256,1024]
# For each size N (default 256 and 1024), SR_BENCH_VM_REPS rounds (default
# 5), in an order that rotates from round to round, each from the same
# starting point (N VFs, the PF-only config applied, every VF reset by an
# untimed ip -batch to MAC 02:00:..., VLAN 0):
#   nsim_agent    sriov-agent apply: MAC + VLAN on every VF (vflist.data;
#                 one RTM_SETLINK per VF)
#   nsim_ipbatch  the same settings, one `ip -batch` of N lines
#                 `link set nsim0 vf I mac M vlan V`
#   nsim_floor    bench/nl_floor.c --mac-vlan: one RTM_SETLINK per VF with
#                 IFLA_VF_MAC and IFLA_VF_VLAN, raw netlink, nothing else
# each timed by bench/measure (fork, exec, wait4) and checked with
# nl-vfdump (status 0 only when every VF has its MAC and VLAN).
# Then at SR_BENCH_NSIM_BIG VFs (default 4096), SR_BENCH_NSIM_BIG_REPS
# times (default 3):
#   nsim_apply_big      the VFs present (made through the fake tree: its
#                       emulator is slower than the agent's 10 s wait for
#                       VFs), reset, no state: apply of MAC + VLAN on every
#                       VF; wall, peak RSS
#   nsim_reapply_big    the same config again: 0 kernel writes; wall, RSS
# and the daemon (sriov-agent run --kernel-events) on it, once:
#   nsim_reconcile_big  SIGHUP with --config unchanged (the timer's
#                       reconcile): wall until status shows it, CPU
#                       (schedstat, ms) in user_ms; status 0 only with 0 writes
# and at SR_BENCH_NSIM_DRIFT VFs (default 1024), SR_BENCH_VM_REPS times:
#   nsim_drift          `ip link set nsim0 vf LAST vlan 4000`: from ip's
#                       start to the repair's end (repair_done_us); status
#                       0 only with exactly one repair and the VF back
#   nsim_drift_agent    the same, the agent's first event to the repair's end
# Rows: "SR-BENCH: vm-nsim,CASE,1,VFS,REP,WALL_MS,USER_MS,SYS_MS,MAXRSS_KIB,
# SYSFS_WRITES,NETLINK_WRITES,,,STATUS", read by bench/report.py.
. "$SR_SOURCE_DIR/test/vm/lib.sh"
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-agent.sh"
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-nsim.sh"

reps=${SR_BENCH_VM_REPS:-5}
IFS=, read -ra sizes <<<"${SR_BENCH_NSIM_SIZES:-256,1024}"
big=${SR_BENCH_NSIM_BIG:-4096}
big_reps=${SR_BENCH_NSIM_BIG_REPS:-3}
drift_n=${SR_BENCH_NSIM_DRIFT:-1024}
parts=${SR_BENCH_NSIM_PARTS:-sizes drift big}
parts=${parts//,/ }
work=$SR_VM_WORKDIR
state=$work/state
measure=$SR_BUILD_DIR/bench/measure
floor=$SR_BUILD_DIR/bench/nl-floor
[ -x "$measure" ] || { measure=$work/measure; cc -O2 -o "$measure" "$SR_SOURCE_DIR/bench/measure.c"; }
[ -x "$floor" ] || { floor=$work/nl-floor; cc -O2 -o "$floor" "$SR_SOURCE_DIR/bench/nl_floor.c"; }
max=$(printf '%s\n' "${sizes[@]}" "$big" "$drift_n" | sort -n | tail -n1)
sr_note "load: $(cat /proc/loadavg) (guest); sizes ${sizes[*]}, big $big, drift $drift_n, reps $reps"

nsim_bed "$max"
ip link set nsim0 up

field() { sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" "$2" | tail -n1; }
writes() {
	sed -n 's/.*applied: [0-9]* action(s), \([0-9]*\) sysfs and \([0-9]*\) netlink writes.*/\1,\2/p' "$1" | tail -n1
}
row() { # CASE VFS REP WALL MEASURE_FILE|'' LOG|'' STATUS
	local u='' y='' rss='' wr=','
	if [ -n "$5" ]; then
		u=$(field user_ms "$5")
		y=$(field sys_ms "$5")
		rss=$(field maxrss_kib "$5")
	fi
	if [ -n "$6" ]; then
		wr=$(writes "$6")
		[ -n "$wr" ] || wr=','
	fi
	echo "SR-BENCH: vm-nsim,$1,1,$2,$3,$4,$u,$y,$rss,$wr,,,$7"
}
agent_apply() { # CONFIG LOG MEASURE_FILE
	rm -f "$3"
	timeout 600 "$measure" -o "$3" "$SR_BUILD_DIR/agent/sriov-agent" apply --config "$1" \
		--hypervisor none --sysfs-root "$nsim_tree" --state-dir "$state" 2>"$2"
}
# every VF has the MAC and VLAN of nsim_config.py's mac-vlan data
settings_ok() { # N
	"$nsim_dump" nsim0 | grep '^vf ' | cut -d' ' -f1-6 | cmp -s - "$work/expect$1"
}
failed=0
fail() { failed=$((failed + 1)); sr_note "$*"; }

# ---- the daemon ----
sock=$work/agent.sock
dlog=$work/daemon.log
stat_of() { "$sr_ctl" --socket "$sock" --json status | jq -r ".$1"; }
settle() { sr_settle "$sock" 60; }
daemon_start() { # N
	local end=$((SECONDS + 600))
	sr_daemon dpid "$sock" --state-dir "$state" --sysfs-root "$nsim_tree" --kernel-events \
		--hypervisor none --config "$work/mv$1.pb" 2>>"$dlog"
	# until the start's apply has a result (applied or not)
	while [ $SECONDS -lt $end ] && [ -z "$(stat_of config_result)" ]; do sleep 0.2; done
	settle
}
sched_ns() { cut -d' ' -f1 "/proc/$dpid/schedstat"; }

if [[ " $parts " = *" sizes "* ]]; then
	for n in "${sizes[@]}"; do
		nsim_encode "$n" "bare$n" --bare
		nsim_encode "$n" "mv$n" --data mac-vlan
		python3 "$nsim_gen" expect "$n" --data mac-vlan >"$work/expect$n"
		python3 "$nsim_gen" ipbatch "$n" nsim0 >"$work/batch$n"
		for ((i = 0; i < n; i++)); do
			printf 'link set nsim0 vf %d mac 02:00:00:00:%02x:%02x vlan 0\n' $i $((i >> 8)) $((i & 255))
		done >"$work/reset$n"
		rm -rf "$state"
		agent_apply "$work/bare$n.pb" "$work/bare.log" "$work/bare.m" ||
			fail "$n VFs: the PF-only config: $(tail -n 3 "$work/bare.log")"
		cases=(nsim_agent nsim_ipbatch nsim_floor)
		for ((rep = 1; rep <= reps; rep++)); do
			for ((k = 0; k < ${#cases[@]}; k++)); do
				c=${cases[$(((k + rep) % ${#cases[@]}))]}
				ip -batch "$work/reset$n" || fail "$n VFs: reset failed"
				case $c in
				nsim_agent)
					rm -rf "$state"
					agent_apply "$work/bare$n.pb" "$work/bare.log" "$work/bare.m" >/dev/null
					agent_apply "$work/mv$n.pb" "$work/a.log" "$work/a.m"
					st=$?
					log=$work/a.log ;;
				nsim_ipbatch)
					rm -f "$work/a.m"
					"$measure" -o "$work/a.m" ip -batch "$work/batch$n"
					st=$?
					log= ;;
				nsim_floor)
					rm -f "$work/a.m"
					"$measure" -o "$work/a.m" "$floor" nsim0 "$n" 02:5e:00:00:00 1 --mac-vlan
					st=$?
					log= ;;
				esac
				settings_ok "$n" || st=$((st + 100))
				[ $st -eq 0 ] || fail "$c $n rep $rep: status $st ${log:+$(tail -n 2 "$log")}"
				row "$c" "$n" "$rep" "$(field wall_ms "$work/a.m")" "$work/a.m" "$log" $st
			done
		done
		sr_note "measured: $n VFs, last round: agent $(grep -c . "$work/batch$n") VFs; $(tail -n 1 "$work/a.log" 2>/dev/null)"
	done

fi

# ---- the daemon's drift repair (before the big PF: no 4096 -> 1024) ----
if [[ " $parts " = *" drift "* ]]; then
	nsim_encode "$drift_n" "mv$drift_n" --data mac-vlan
	python3 "$nsim_gen" expect "$drift_n" --data mac-vlan >"$work/expect$drift_n"
	nsim_make_vfs "$drift_n" || fail "$drift_n VFs could not be made through the fake tree"
	daemon_start "$drift_n"
	last=$((drift_n - 1))
	for ((rep = 1; rep <= reps; rep++)); do
		settle
		r0=$(stat_of repairs)
		t=${EPOCHREALTIME/./}
		ip link set nsim0 vf "$last" vlan 4000
		end=$((SECONDS + 30))
		while [ $SECONDS -lt $end ] && [ "$(stat_of repairs)" -le "$r0" ]; do sleep 0.02; done
		lat=$((($(stat_of repair_done_us) - t) / 1000))
		agent_ms=$(stat_of repair_ms)
		settle
		st=0
		[ "$(($(stat_of repairs) - r0))" = 1 ] || st=$((10 + $(stat_of repairs) - r0))
		[ "$("$nsim_dump" nsim0 "$last" | tail -n1 | cut -d' ' -f1-6)" = "$(tail -n1 "$work/expect$drift_n")" ] || st=$((st + 100))
		[ $st -eq 0 ] || fail "nsim_drift rep $rep: status $st"
		row nsim_drift "$drift_n" "$rep" "$lat" '' '' $st
		row nsim_drift_agent "$drift_n" "$rep" "$agent_ms" '' '' $st
		sr_note "measured: drift of VF $last of $drift_n, rep $rep: $lat ms (agent $agent_ms ms)"
	done
	kill "$dpid" && wait "$dpid"
fi

if [[ " $parts " = *" big "* ]]; then
	# ---- the big PF ----
	nsim_encode "$big" "mv$big" --data mac-vlan
	python3 "$nsim_gen" expect "$big" --data mac-vlan >"$work/expect$big"
	for ((i = 0; i < big; i++)); do
		printf 'link set nsim0 vf %d mac 02:00:00:00:%02x:%02x vlan 0\n' $i $((i >> 8)) $((i & 255))
	done >"$work/reset$big"
	nsim_make_vfs "$big" || fail "$big VFs could not be made through the fake tree"
	for ((rep = 1; rep <= big_reps; rep++)); do
		rm -rf "$state"
		ip -batch "$work/reset$big" || fail "$big VFs: reset failed"
		agent_apply "$work/mv$big.pb" "$work/big.log" "$work/big.m"
		st=$?
		settings_ok "$big" || st=$((st + 100))
		[ $st -eq 0 ] || fail "nsim_apply_big rep $rep: status $st $(tail -n 2 "$work/big.log")"
		row nsim_apply_big "$big" "$rep" "$(field wall_ms "$work/big.m")" "$work/big.m" "$work/big.log" $st
		agent_apply "$work/mv$big.pb" "$work/again.log" "$work/again.m"
		st=$?
		[ "$(writes "$work/again.log")" = 0,0 ] || st=$((st + 100))
		[ $st -eq 0 ] || fail "nsim_reapply_big rep $rep: status $st $(tail -n 2 "$work/again.log")"
		row nsim_reapply_big "$big" "$rep" "$(field wall_ms "$work/again.m")" "$work/again.m" "$work/again.log" $st
	done
	sr_note "measured: $big VFs: $(tail -n 1 "$work/big.log"); again: $(tail -n 1 "$work/again.log")"

	daemon_start "$big"
	a0=$(stat_of applies)
	n0=$(sched_ns)
	t=${EPOCHREALTIME/./}
	kill -HUP "$dpid"
	end=$((SECONDS + 600))
	while [ $SECONDS -lt $end ] && [ "$(stat_of applies)" -le "$a0" ]; do sleep 0.05; done
	w=$(awk -v a="$t" -v b="${EPOCHREALTIME/./}" 'BEGIN { printf "%.3f", (b - a) / 1000 }')
	cpu=$(awk -v n=$(($(sched_ns) - n0)) 'BEGIN { printf "%.1f", n / 1e6 }')
	res=$(stat_of reconcile_result)
	st=0
	[ "$(stat_of applies)" -gt "$a0" ] || st=1
	printf '%s\n' "$res" | grep -q ' 0 sysfs and 0 netlink write(s)$' || st=$((st + 10))
	[ $st -eq 0 ] || fail "nsim_reconcile_big: status $st, $res"
	echo "SR-BENCH: vm-nsim,nsim_reconcile_big,1,$big,1,$w,$cpu,0,,,,,,$st"
	sr_note "measured: reconcile of $big VFs unchanged: $w ms until status showed it, $cpu ms CPU; $res"
	kill "$dpid" && wait "$dpid"

fi
kill "$nsim_fake_pid"
sr_note "load: $(cat /proc/loadavg) (guest, end)"
sr_check_eq "every timed run succeeded and was read back exact" 0 "$failed"
sr_done
