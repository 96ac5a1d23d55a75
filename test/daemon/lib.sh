# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Helpers for the daemon tests: a fake sysfs with its driver emulator, an
# agent in the background, sriovctl, checks. Source after setting B.
AGENT=$B/agent/sriov-agent CTL=$B/agent/sriovctl FAKE=$B/test/fake-sysfs
FIX=$B/test/fixtures CFG_A=$B/test/fixtures/two_pfs.pb CFG_B=$B/test/daemon/config_b.pb
READER=$B/test/state-reader
T=$(mktemp -d /tmp/sr-daemon-XXXXXX)
chmod 755 "$T"
drv_pid= agent_pid=
pass=0 fail=0

cleanup() {
	[ -n "$agent_pid" ] && kill -9 "$agent_pid" 2>/dev/null
	[ -n "$drv_pid" ] && kill "$drv_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); echo "ok - $*"; }
# The agent log's length at the first failure: done_tests shows the lines
# around it (the log spans every section; its tail may be a later one).
first_fail_line=
nok() {
	fail=$((fail + 1))
	echo "not ok - $*"
	[ -n "$first_fail_line" ] || first_fail_line=$(wc -l <"$LOG" 2>/dev/null || echo 0)
}
# check WHAT CMD...: passes when CMD exits 0; its output shown on failure.
check() {
	local d=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$d"; else nok "$d"; printf '#   %s\n' "$out" | head -20; fi
}
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $1" "$2"; }
done_tests() {
	if [ "$fail" -gt 0 ] && [ -s "$LOG" ]; then
		echo "# agent log up to the first failure (line $first_fail_line of $LOG):"
		head -n "$first_fail_line" "$LOG" | tail -n 60 | sed 's/^/#   /'
	fi
	echo "# $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}

# fake_node DIR [DELAY_MS]: two igb-like PFs (7 VFs each), IOMMU, emulator.
fake_node() {
	local dir=$1 delay=${2:-0}
	[ -n "$drv_pid" ] && kill "$drv_pid" 2>/dev/null && wait "$drv_pid" 2>/dev/null
	rm -rf "$dir"
	"$FAKE" create "$dir" --iommu \
		--pf pci=0000:03:00.0,ifname=eth1,driver=igb,totalvfs=7,offset=128,stride=2,vfdriver=igbvf \
		--pf pci=0000:04:00.0,ifname=eth2,driver=igb,totalvfs=7,offset=128,stride=2,vfdriver=igbvf ||
		return 1
	"$FAKE" run "$dir" --delay-ms "$delay" </dev/null >/dev/null 2>>"$T/driver.log" &
	drv_pid=$!
	for _ in $(seq 100); do [ -f "$dir/.fake-driver.pid" ] && return 0; sleep 0.05; done
	return 1
}

SYS=$T/sys STATE=$T/state SOCK=$T/agent.sock LOG=$T/agent.log
ctl() { "$CTL" --socket "$SOCK" --state-dir "$STATE" --sysfs-root "$SYS" "$@"; }
apply() { "$AGENT" apply --sysfs-root "$SYS" --state-dir "$STATE" --no-netlink "$@"; }

# start_agent [ARG...]: agent run in the background (env passes through);
# waits until it answers status.
start_agent() {
	"$AGENT" run --socket "$SOCK" --sysfs-root "$SYS" --state-dir "$STATE" --no-netlink \
		--log-level debug "$@" </dev/null >/dev/null 2>>"$LOG" &
	agent_pid=$!
	for _ in $(seq 200); do
		ctl status >/dev/null 2>&1 && return 0
		kill -0 "$agent_pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# stop_agent [SIG]: signal the agent, wait; its exit status in agent_rc.
# (Not inside $(...): the agent is a child of this shell.)
stop_agent() {
	kill -"${1:-TERM}" "$agent_pid" 2>/dev/null
	wait "$agent_pid"
	agent_rc=$?
	agent_pid=
}
# wait_agent SECONDS: wait for the agent to exit by itself; its status in
# agent_rc (KILLed and 254 after SECONDS).
wait_agent() {
	local n=$(($1 * 20))
	for _ in $(seq "$n"); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$agent_pid" 2>/dev/null && { kill -9 "$agent_pid"; wait "$agent_pid"; agent_rc=254; agent_pid=; return; }
	wait "$agent_pid"
	agent_rc=$?
	agent_pid=
}
# check_start WHAT [ARG...]: start_agent as a check.
check_start() {
	local d=$1
	shift
	if start_agent "$@" >/dev/null; then ok "$d"; else nok "$d"; tail -5 "$LOG" | sed 's/^/#   /'; fi
}

# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
	local n=$(($1 * 20))
	shift
	for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}

# log_since N PATTERN: the agent log after its line N has PATTERN (fixed).
log_since() { tail -n +"$(($1 + 1))" "$LOG" | grep -qF -- "$2"; }
numvfs() { cat "$SYS/sys/bus/pci/devices/$1/sriov_numvfs"; }
vfdrv() { local l; l=$(readlink "$SYS/sys/bus/pci/devices/$1/driver" 2>/dev/null) && basename "$l" || echo none; }
# app -> "pf_pci/vf" of every reservation, sorted
mapping() { ctl list --json | python3 -c '
import json,sys
d=json.load(sys.stdin)
print(" ".join(sorted("%s=%s/%d" % (v["app"][:4], v["pf_pci"], v["vf"]) for v in d if v["app"])))'; }
status_field() { ctl status --json | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
# Predicates for wait_for (evaluated on every try).
map_is() { test "$(mapping)" = "$1"; }
field_is() { test "$(status_field "$1")" = "$2"; }
drv_is() { test "$(vfdrv "$1")" = "$2"; }
drv_not() { test "$(vfdrv "$1")" != "$2"; }
numvfs_is() { test "$(numvfs "$1")" = "$2"; }
