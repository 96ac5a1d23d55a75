#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm_netdevsim*: the agent on a PF with many VFs on the real kernel. The PF
# is netdevsim's netdev "nsim0" (netdevsim.ko from test/vm/netdevsim-build.sh,
# loaded after psample); its VFs are not PCI functions, so the agent gets
# its VF table from a fake PCI tree (--sysfs-root, fake-sysfs) whose PF
# 0000:05:00.0 is nsim0's twin: fake-sysfs writes each VF count the agent
# asks to netdevsim's own sriov_numvfs before it makes the virtfn links.
# Every netlink read and write, and every kernel event, is real. Every check
# reads the kernel back with nl-vfdump (test/vm/nl_vfdump.c: a raw
# RTM_GETLINK, no code shared with the agent).
#
# For each size N in NSIM_SIZES (comma list, default 64), on one state dir:
#   1. apply: every VF's MAC, VLAN, QoS, protocol, spoofchk, trust, link
#      state and rates from vflist.data (test/vm/nsim_config.py), one app on
#      VF 0; netdevsim's sriov_numvfs is N, nl-vfdump shows every VF exact;
#   2. re-apply: 0 kernel writes;
#   3. sriovctl list --json (kernel and desired view) and sriovctl info
#      --format json against nl-vfdump;
#   4. release (the PF alone): every VF as netdevsim made it (VLAN protocol
#      802.1Q: see pristine below).
#   5. at NSIM_DRIFT VFs (default: the last size) the daemon (run
#      --kernel-events): a drift of the last VF's VLAN (`ip link set nsim0 vf
#      LAST vlan 4000`) repaired by the event path with exactly one repair;
#      at NSIM_RECONCILE VFs (default: NSIM_DRIFT): a reconcile of the
#      unchanged config (SIGHUP) writes nothing.
# Sizes above NSIM_AGENT_CREATES_MAX (default 1024) get their VFs made
# through the fake tree before the apply (lib-nsim.sh nsim_make_vfs: the
# emulator is slower than the agent's 10 s wait for VFs); below it the
# agent writes the count.
# Run with: test/vm/run.sh test/vm/scenarios/netdevsim.sh sr.env.NSIM_SIZES=64
. "$SR_SOURCE_DIR/test/vm/lib.sh"
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-agent.sh"

. "$SR_SOURCE_DIR/test/vm/scenarios/lib-nsim.sh"

IFS=, read -ra sizes <<<"${NSIM_SIZES:-64}"
drift_n=${NSIM_DRIFT:-${sizes[-1]}}
rec_n=${NSIM_RECONCILE:-$drift_n}
max=$(printf '%s\n' "${sizes[@]}" "$drift_n" "$rec_n" | sort -n | tail -n1)
w=$SR_VM_WORKDIR
state=$w/state
tree=$nsim_tree
nsdev=$nsim_dev
dump=$nsim_dump
gen=$nsim_gen
# An apply that has not returned after this long fails its check (a hang
# must not eat the VM's whole timeout).
apply_timeout=${NSIM_APPLY_TIMEOUT:-240}

nsim_bed "$max"

# nsim_apply WHAT CFG: apply, log at info into $w/apply.log (the console
# gets its last lines), exit status in sr_rc, elapsed ms in nsim_ms.
nsim_apply() {
	local t0
	t0=${EPOCHREALTIME/./}
	timeout "$apply_timeout" "$sr_agent" apply --config "$2" --state-dir "$state" --sysfs-root "$tree" \
		--hypervisor none --log-level info 2>"$w/apply.log" </dev/null
	sr_rc=$?
	nsim_ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	sr_log=$(cat "$w/apply.log")
	tail -n 3 "$w/apply.log" | sed 's/^/#   /'
	if [ $sr_rc -eq 0 ]; then
		sr_ok "$1 ($nsim_ms ms)"
	else
		sr_not_ok "$1" "sriov-agent exited $sr_rc"
	fi
}

# nsim_same WHAT EXPECTED_FILE ACTUAL_FILE: equal, else the first lines
# that differ.
nsim_same() {
	if cmp -s "$2" "$3"; then
		sr_ok "$1"
	else
		sr_not_ok "$1" "first difference: $(diff "$2" "$3" | grep -m1 '^<') / $(diff "$2" "$3" | grep -m1 '^>') ($(diff "$2" "$3" | grep -c '^>') lines differ)"
	fi
}

# The kernel's view, VF lines only (num_vf checked apart).
nsim_dump() {
	"$dump" nsim0 >"$w/dump.all" || return 1
	grep '^vf ' "$w/dump.all" >"$1"
}

# What netdevsim's VFs hold after a release: as netdevsim made them
# (vfconfigs is kcalloc'd in dev.c nsim_bus_dev_max_vfs_write: every field
# 0), but vlan_proto: 0 cannot be given back, the kernel takes only 802.1Q
# or 802.1ad in IFLA_VF_VLAN_LIST (net/core/rtnetlink.c do_setvfinfo:
# EPROTONOSUPPORT), so VLAN 0 returns with 802.1Q, as `ip link set nsim0
# vf N vlan 0` leaves it.
pristine() {
	local i
	for ((i = 0; i < $1; i++)); do
		echo "vf $i mac 00:00:00:00:00:00 vlan 0 qos 0 proto 802.1Q spoofchk off trust off link_state auto min_tx 0 max_tx 0"
	done
}

# sriovctl list --json's kernel view (KEY=kernel) or desired one, as nl-vfdump lines.
list_lines() {
	jq -r --arg k "$2" '.[] | .[$k] as $s |
		"vf \(.vf) mac \($s.mac) vlan \($s.vlan // 0) qos \($s.qos // 0) proto \($s.vlan_proto // "0x0000") spoofchk \(if $s.spoofchk then "on" else "off" end) trust \(if $s.trust then "on" else "off" end) link_state \($s.link_state // "auto") min_tx \($s.min_tx_rate // 0) max_tx \($s.max_tx_rate // 0)"' "$1"
}

# ---- the daemon ----
sock=$w/agent.sock
dlog=$w/daemon.log
stat_of() { "$sr_ctl" --socket "$sock" --json status | jq -r ".$1"; }
settle() { sr_settle "$sock" 50; }
daemon_start() {
	nsim_encode "$1" "daemon$1"
	python3 "$gen" expect "$1" >"$w/expect$1"
	sr_daemon dpid "$sock" --state-dir "$state" --sysfs-root "$tree" --kernel-events --hypervisor none \
		--config "$w/daemon$1.pb" --log-level debug 2>>"$dlog"
	# the start's apply of thousands of VFs may outlast sr_daemon's wait
	local end=$((SECONDS + apply_timeout))
	while [ $SECONDS -lt $end ] && ! stat_of config_result | grep -q '^applied'; do sleep 0.2; done
	sr_check_eq "daemon on $1 VFs: the config applied" applied "$(stat_of config_result | cut -d: -f1)"
	settle
	nsim_dump "$w/dgot"
	nsim_same "daemon on $1 VFs: nl-vfdump: every VF set" "$w/expect$1" "$w/dgot"
}

# daemon_drift N: a drift of the last VF's VLAN, repaired by one repair.
daemon_drift() {
	local last r0 t0 end done_us
	last=$(($1 - 1))
	r0=$(stat_of repairs)
	t0=${EPOCHREALTIME/./}
	sr_check "drift: ip link set nsim0 vf $last vlan 4000" ip link set nsim0 vf "$last" vlan 4000
	end=$((SECONDS + 30))
	while [ $SECONDS -lt $end ] && [ "$(stat_of repairs)" -le "$r0" ]; do sleep 0.05; done
	done_us=$(stat_of repair_done_us)
	settle
	sr_check_eq "drift: exactly one repair" 1 "$(($(stat_of repairs) - r0))"
	[ "$(stat_of repairs)" -gt "$r0" ] || grep -vE " (plan|exec): " "$dlog" | tail -n 25 | sed 's/^/#   log: /'
	sr_note "measured: drift of VF $last of $1: ip start -> repaired $(((done_us - t0) / 1000)) ms (agent: $(stat_of repair_ms) ms)"
	grep -E 'repair \(' "$dlog" | tail -n 2 | sed 's/^/#   log: /'
	sr_check_eq "drift: nl-vfdump: VF $last as configured again" "$(tail -n1 "$w/expect$1")" "$("$dump" nsim0 "$last" | tail -n1)"
}

# daemon_reconcile N: SIGHUP with --config unchanged writes nothing.
daemon_reconcile() {
	local a0 r0 end
	a0=$(stat_of applies)
	r0=$(stat_of repairs)
	kill -HUP "$dpid"
	end=$((SECONDS + apply_timeout))
	while [ $SECONDS -lt $end ] && [ "$(stat_of applies)" -le "$a0" ]; do sleep 0.1; done
	sr_check "reconcile of $1 VFs, unchanged (SIGHUP): done" test "$(stat_of applies)" -gt "$a0"
	sr_check_match "  ... zero kernel writes" '^applied: .* 0 sysfs and 0 netlink write\(s\)$' "$(stat_of reconcile_result)"
	sr_check_eq "  ... and no repair" "$r0" "$(stat_of repairs)"
	nsim_dump "$w/dgot"
	nsim_same "  ... nl-vfdump: every VF as configured" "$w/expect$1" "$w/dgot"
}

for n in "${sizes[@]}"; do
	sr_note "==== $n VFs ===="
	if [ "$n" -gt "${NSIM_AGENT_CREATES_MAX:-1024}" ]; then
		sr_check "$n VFs: made through the fake tree before the apply (the agent waits 10 s for VFs)" \
			nsim_make_vfs "$n"
	fi
	nsim_encode "$n" "full$n" && nsim_encode "$n" "bare$n" --bare
	python3 "$gen" expect "$n" >"$w/expect$n"
	# 1. apply
	nsim_apply "$n VFs: apply (every VF: MAC, VLAN, QoS, proto, spoofchk, trust, link state, rates)" \
		"$w/full$n.pb"
	sr_check_eq "$n VFs: netdevsim's sriov_numvfs" "$n" "$(cat "$nsdev/sriov_numvfs")"
	nsim_dump "$w/got$n"
	sr_check_eq "$n VFs: nl-vfdump: num_vf" "num_vf $n" "$(head -n1 "$w/dump.all")"
	nsim_same "$n VFs: nl-vfdump: every VF has every setting of its vflist.data entry" \
		"$w/expect$n" "$w/got$n"
	# 2. re-apply
	nsim_apply "$n VFs: re-apply" "$w/full$n.pb"
	sr_check_eq "$n VFs: re-apply: zero kernel writes" "0 action(s), 0 sysfs and 0 netlink writes" "$(sr_applied)"
	# 3. sriovctl list and info against the kernel
	"$sr_ctl" --state-dir "$state" --sysfs-root "$tree" list --json >"$w/list.json"
	list_lines "$w/list.json" kernel >"$w/list-kernel"
	list_lines "$w/list.json" desired >"$w/list-desired"
	nsim_same "$n VFs: sriovctl list: kernel view = nl-vfdump" "$w/got$n" "$w/list-kernel"
	nsim_same "$n VFs: sriovctl list: desired = nl-vfdump" "$w/got$n" "$w/list-desired"
	sr_check_eq "$n VFs: sriovctl list: VF 0 held by the app" 5e000001-0000-4000-8000-000000000001 \
		"$(jq -r '.[0].app' "$w/list.json")"
	"$sr_ctl" --state-dir "$state" --sysfs-root "$tree" info --format json >"$w/info.json"
	jq -r '.dinfo.assignableAdapters[] | select(.type == "PhyIoNetEthVF") | .ioAddressList[0] |
		"vf \(.vfInfo.index // 0) mac \(.macAddress) vlan \(.vfInfo.vlanId // 0)"' "$w/info.json" >"$w/info-lines"
	cut -d' ' -f1-6 "$w/got$n" >"$w/got-macvlan"
	nsim_same "$n VFs: sriovctl info: every VF bundle's MAC and VLAN = nl-vfdump" "$w/got-macvlan" "$w/info-lines"
	# 4. release
	nsim_apply "$n VFs: release (the PF alone, no vflist.data)" "$w/bare$n.pb"
	nsim_dump "$w/rel$n"
	pristine "$n" >"$w/pristine$n"
	nsim_same "$n VFs: release: nl-vfdump: every VF as netdevsim made it (802.1Q)" "$w/pristine$n" "$w/rel$n"
	# 5. the daemon
	if [ "$n" = "$drift_n" ] || [ "$n" = "$rec_n" ]; then
		daemon_start "$n"
		[ "$n" != "$drift_n" ] || daemon_drift "$n"
		[ "$n" != "$rec_n" ] || daemon_reconcile "$n"
		kill "$dpid" && wait "$dpid"
	fi
done

# 6. devlink on the real kernel: netdevsim's eswitch mode (dev.c
# nsim_devlink_eswitch_mode_get/_set) as lib/kernel/devlink.c reads it,
# against iproute2's devlink, in both modes; a handle with no devlink
# instance is -ENODEV, named. (The VFs are released above: switchdev is
# entered with the VFs netdevsim has.)
dl=$SR_BUILD_DIR/test/vm/devlink-mode
dlh=netdevsim/netdevsim1
dl_tool() { devlink dev eswitch show "$dlh" | sed -n 's/.* mode \([a-z]*\).*/\1/p'; }
sr_check_eq "devlink: the library reads legacy, as devlink(8) does" "legacy $(dl_tool)" \
	"$("$dl" "$dlh") legacy"
if devlink dev eswitch set "$dlh" mode switchdev 2>"$w/dl.err"; then
	sr_check_eq "devlink: after switchdev, the library reads switchdev, as devlink(8) does" \
		"switchdev switchdev" "$("$dl" "$dlh") $(dl_tool)"
	sr_check "devlink: back to legacy" devlink dev eswitch set "$dlh" mode legacy
	sr_check_eq "devlink: the library reads legacy again" legacy "$("$dl" "$dlh")"
else
	sr_not_ok "devlink dev eswitch set $dlh mode switchdev" "$(cat "$w/dl.err")"
fi
out=$("$dl" netdevsim/netdevsim9 2>&1)
sr_check_eq "devlink: no such instance: exit 1" 1 "$?"
sr_check_match "devlink: no such instance: named, No such device" \
	'eswitch mode of netdevsim/netdevsim9: No such device' "$out"

kill "$nsim_fake_pid"
sr_done
