#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The daemon keeps the state in memory (agent/daemon/state_model.h): it reads
# STATE-DIR/state.pb once at start and never while it runs, through pushes
# (accepted and refused), timer reconciles, a drift repair, status and info
# requests, and --info-file updates. Counted by strace (every openat of
# state.pb that is not the agent's own atomic write) and by status.
# Usage: state_reads.sh BUILD_DIR
set -uo pipefail
B=${1:?build dir}
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || { echo "not ok - strace not installed (scripts/setup.sh installs it)"; exit 1; }

fake_node "$SYS" 0 || { echo "not ok - fake sysfs"; exit 1; }
mkdir -p "$STATE"
# A state file from a first apply, so the start has one to read.
check "apply two_pfs (one-shot) writes state.pb" apply --config "$CFG_A"
# LeakSanitizer cannot run under ptrace (an ASan build aborts at exit):
# the other daemon tests check leaks; this one counts opens.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	strace -f -qq -e trace=openat -o "$T/strace.log" \
	"$AGENT" run --socket "$SOCK" --sysfs-root "$SYS" --state-dir "$STATE" --no-netlink \
	--log-level debug --interval 1 --info-file "$T/info.pb" </dev/null >/dev/null 2>>"$LOG" &
agent_pid=$!
check "agent starts under strace" wait_for 30 ctl status

# Reads of state.pb: an openat of the file itself without O_CREAT (the
# agent's atomic writes open a temp file and rename it).
reads() { grep -E 'openat\(.*/state\.pb"' "$T/strace.log" | grep -vc 'O_CREAT' || true; }
check "start: state.pb read once" test "$(reads)" = 1

out=$(ctl push "$CFG_B" 2>&1)
check "push config_b: applied" grep -q '^applied: ' <<<"$out"
head -c 200 /dev/urandom >"$T/garbage.pb"
check "garbage push: refused" sh -c "! '$CTL' --socket '$SOCK' push '$T/garbage.pb'"
check "push two_pfs back: applied" sh -c "'$CTL' --socket '$SOCK' push '$CFG_A' | grep -q '^applied: '"
# Drift: a reserved VF unbound behind the agent's back, repaired by the
# 1 s timer (a fake sysfs sends no kernel events).
vf=$(ctl list --json | python3 -c 'import json,sys; print(next(v["pci"] for v in json.load(sys.stdin) if v["app"]))')
echo "$vf" >"$SYS/sys/bus/pci/drivers/vfio-pci/unbind"
check "drift: VF $vf back on vfio-pci" wait_for 30 drv_is "$vf" vfio-pci
n=$(status_field applies)
check "two more timer reconciles" wait_for 30 sh -c "test \$('$CTL' --socket '$SOCK' status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"applies\"])') -ge $((n + 2))"
check "info over the socket" sh -c "'$CTL' --socket '$SOCK' info --from-agent >/dev/null"
check "--info-file written" test -s "$T/info.pb"

check "all that: state.pb still read once (strace)" test "$(reads)" = 1
check "status: state_loads 1" test "$(status_field state_loads)" = 1
# The model is the file: what the agent says is what a reader of the file sees.
check "sriovctl list (from the file) = the daemon's reservations" \
	test "$(status_field reservations)" = "$(ctl list --json | python3 -c 'import json,sys; print(sum(1 for v in json.load(sys.stdin) if v["app"]))')"
# SIGTERM to the agent itself (agent_pid is strace's): strace ends with it.
pkill -TERM -P "$agent_pid" sriov-agent
wait "$agent_pid"
check "agent stops on SIGTERM" test $? = 0
agent_pid=
done_tests
