#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Crash safety on a fake sysfs: for every fault point of an apply
# (SR_FAULT, agent/daemon/fault.c: the step hook lib/run/exec.c calls), the agent SIGKILLs itself there while it goes
# from config A (two_pfs) to config B; then it is restarted and the node
# must match B exactly: no VF reserved twice, no reservation lost, every
# reserved VF bound for passthrough, every other VF given back, domain
# configs for exactly B's apps. Three ways back: `sriov-agent run` finishing
# the pending pushed config, `apply B` again, and `apply A` (roll back).
# No netlink on a fake sysfs: VF attributes are covered by the VM scenario.
# Usage: crash.sh BUILD_DIR
set -uo pipefail
B=${1:?build dir}
. "$(dirname "$0")/lib.sh"

MAP_A="1111=0000:03:00.0/0 2222=0000:03:00.0/1 3333=0000:03:00.0/3 4444=0000:04:00.0/0 5555=0000:04:00.0/1"
MAP_B="1111=0000:03:00.0/0 3333=0000:03:00.0/3 4444=0000:04:00.0/0 7777=0000:03:00.0/1 8888=0000:04:00.0/1"
POINTS="after-retire-domains after-release:1 after-numvfs:1 after-save-intent after-bind:1 after-bind:2 after-bind:4 before-save after-save after-domains after-save-config"

# node_matches WHAT MAP VFS_ON_03: the invariants, one check each.
node_matches() {
	local what=$1 map=$2 n03=$3 apps
	check "$what: same VF per app, nothing lost ($map)" map_is "$map"
	check "$what: no VF reserved twice, none in error" sh -c "'$CTL' --state-dir '$STATE' list --json | python3 -c '
import json, sys
d = [v for v in json.load(sys.stdin) if v[\"app\"]]
vfs = [(v[\"pf_pci\"], v[\"vf\"]) for v in d]
assert len(vfs) == len(set(vfs)) == 5, vfs
assert not [v for v in d if v[\"error\"]], d'"
	check "$what: VF counts $n03 and 2" test "$(numvfs 0000:03:00.0) $(numvfs 0000:04:00.0)" = "$n03 2"
	check "$what: reserved VFs on vfio-pci, the others given back" sh -c "'$CTL' --state-dir '$STATE' --sysfs-root '$SYS' list --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
bad = [(v[\"pci\"], v[\"app\"], v[\"driver\"]) for v in d if (v[\"driver\"] == \"vfio-pci\") != bool(v[\"app\"])]
assert not bad, bad'"
	apps=$(echo "$map" | tr ' ' '\n' | cut -c1-4 | tr '\n' ' ')
	check "$what: domain configs of exactly $apps" \
		test "$(ls "$STATE/domains" | cut -c1-4 | sort | tr '\n' ' ')" = "$apps"
}

# Not inside $(...): fake_node starts the emulator in the background.
fresh_a() {
	[ -n "$agent_pid" ] && stop_agent KILL
	rm -rf "$STATE"
	if fake_node "$SYS" 0 && apply --config "$CFG_A" 2>>"$T/apply.log"; then
		ok "$1"
	else
		nok "$1"
	fi
}

for f in $POINTS; do
	# 1. Pushed to the running agent; it dies; the next start finishes it.
	# The domain configs are retired and written by every apply, the
	# startup reconcile of A included: the push's is the second.
	fd=$f
	case $f in after-retire-domains | after-domains) fd=$f:2 ;; esac
	fresh_a "[$f] node with config A"
	SR_FAULT=$fd start_agent --interval 3600
	ctl push "$CFG_B" >"$T/push.out" 2>&1
	wait_agent 30
	check "[$f] push: the agent killed itself there (status $agent_rc)" test "$agent_rc" = 137
	check "[$f] push: the pending config survived the crash" cmp "$STATE/config.pending.pb" "$CFG_B"
	check_start "[$f] restart"
	check "[$f] restart: finished the pending config" cmp "$STATE/config.pb" "$CFG_B"
	check "[$f] restart: no pending config left" test ! -e "$STATE/config.pending.pb"
	node_matches "[$f] run" "$MAP_B" 5
	stop_agent TERM

	# 2. sriov-agent apply dies there; apply B again.
	fresh_a "[$f] node with config A"
	SR_FAULT=$f apply --config "$CFG_B" 2>>"$T/apply.log"; rc=$?
	check "[$f] apply: killed there (status $rc)" test "$rc" = 137
	check "[$f] apply B again" apply --config "$CFG_B"
	node_matches "[$f] apply B again" "$MAP_B" 5

	# 3. apply dies there; going back to A restores A.
	fresh_a "[$f] node with config A"
	SR_FAULT=$f apply --config "$CFG_B" 2>>"$T/apply.log"
	check "[$f] apply A (roll back)" apply --config "$CFG_A"
	node_matches "[$f] back to A" "$MAP_A" 4
done

# A point that this run never reaches (no netlink: no VF attribute writes)
# does not fire: the apply completes.
fresh_a "fresh node"
check "after-configure:1 without netlink: no fault, apply completes" \
	env SR_FAULT=after-configure:1 "$AGENT" apply --sysfs-root "$SYS" --state-dir "$STATE" --no-netlink --config "$CFG_B"
node_matches "after-configure:1 (not reached)" "$MAP_B" 5

done_tests
