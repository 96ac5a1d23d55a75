#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sriov-agent run and systemd's notify protocol, with a stand-in for
# $NOTIFY_SOCKET (notify_listen.py): READY=1 only after the startup apply,
# carrying its result in STATUS=; STATUS= after each config; RELOADING=1,
# then READY=1 around SIGHUP; STOPPING=1 on SIGTERM. A build without
# libsystemd (sriov-agent --version: "sd_notify: none") sends nothing.
# Usage: notify.sh BUILD_DIR
set -uo pipefail
B=${1:?build dir}
. "$(dirname "$0")/lib.sh"

MAP_A="1111=0000:03:00.0/0 2222=0000:03:00.0/1 3333=0000:03:00.0/3 4444=0000:04:00.0/0 5555=0000:04:00.0/1"
MSGS=$T/notify.log
python3 "$(dirname "$0")/notify_listen.py" "$T/notify.sock" "$MSGS" &
listen_pid=$!
trap 'kill $listen_pid 2>/dev/null; cleanup' EXIT
wait_for 5 test -S "$T/notify.sock" || { echo "not ok - notify listener"; exit 1; }
backend=$("$AGENT" --version | sed -n 's/^sd_notify: //p')
check "--version names the notify backend ($backend)" test -n "$backend"
check "--version: first line is sriov-agent VERSION" sh -c "'$AGENT' --version | head -1 | grep -Eq '^sriov-agent [0-9]+\.[0-9]+\.[0-9]+$'"

# A slow driver (300 ms per sriov_numvfs write): the startup apply takes a
# while, and READY=1 must not come before it is done.
fake_node "$SYS" 300 || { echo "not ok - fake sysfs"; exit 1; }
cp "$CFG_A" "$T/config.pb"
NOTIFY_SOCKET=$T/notify.sock start_agent --config "$T/config.pb"
check "agent started" kill -0 "$agent_pid"
msg() { sed -n "$1p" "$MSGS"; }
ready_line() { grep -n 'READY=1' "$MSGS" | head -1 | cut -d: -f1; }

if [ "$backend" = none ]; then
	sleep 1
	kill -HUP "$agent_pid"
	sleep 1
	stop_agent TERM
	check "no libsystemd: agent exits 0" test "$agent_rc" = 0
	check "no libsystemd: nothing sent to \$NOTIFY_SOCKET" test ! -s "$MSGS"
	done_tests
fi

check "READY=1 sent" wait_for 10 grep -q 'READY=1' "$MSGS"
check "the first READY=1 carries the startup apply's result" \
	grep -Eq '^READY=1\|STATUS=applied: 5 reservation\(s\), 0 in error' <(msg "$(ready_line)")
check "STATUS=applied: ... came before READY=1" \
	sh -c "head -n \$(( $(ready_line) - 1 )) '$MSGS' | grep -q '^STATUS=applied: 5 reservation'"
check "at READY=1 the state already holds the reservations" test "$(mapping)" = "$MAP_A"

n=$(wc -l <"$MSGS")
kill -HUP "$agent_pid"
check "SIGHUP: READY=1 after the reload" wait_for 10 sh -c "tail -n +$((n + 1)) '$MSGS' | grep -q READY=1"
after=$(tail -n +$((n + 1)) "$MSGS")
check "SIGHUP: RELOADING=1 first" grep -q '^RELOADING=1' <(head -1 <<<"$after")
check "SIGHUP: then READY=1 with the re-read config's result" grep -Eq '^READY=1\|STATUS=applied: ' <(tail -1 <<<"$after")

stop_agent TERM
check "SIGTERM: agent exits 0" test "$agent_rc" = 0
check "SIGTERM: STOPPING=1 sent" grep -q '^STOPPING=1' "$MSGS"

# WatchdogSec=1s: WATCHDOG=1 from the poll loop, also while a worker thread
# is stuck in a sriov_numvfs write (held by fake-sysfs run); STATUS= names
# the busy PF.
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=1000000 start_agent --config "$T/config.pb"
check "watchdog: agent started" kill -0 "$agent_pid"
check "watchdog: WATCHDOG=1 sent" wait_for 10 grep -q '^WATCHDOG=1$' "$MSGS"
: >"$SYS/sys/bus/pci/devices/0000:03:00.0/.fake-hold"
out=$(timeout 60 "$CTL" --socket "$SOCK" push "$CFG_B" 2>&1)
check "watchdog: the push on the held PF answered, PF busy" grep -q 'busy: PF 0000:03:00.0 writing' <<<"$out"
check "watchdog: STATUS= says the PF is busy and with what" \
	grep -q '^STATUS=applied with errors: .*busy: PF 0000:03:00.0 writing 5 to sriov_numvfs since' "$MSGS"
n=$(grep -c '^WATCHDOG=1$' "$MSGS")
sleep 3
m=$(grep -c '^WATCHDOG=1$' "$MSGS")
echo "# WATCHDOG=1 while the write is held: $((m - n)) in 3 s (every 500 ms asked)"
check "watchdog: pings go on while the worker is stuck" test $((m - n)) -ge 2
check "watchdog: still busy" field_is busy_pfs 1
rm -f "$SYS/sys/bus/pci/devices/0000:03:00.0/.fake-hold"
check "watchdog: released, no PF busy" wait_for 30 field_is busy_pfs 0
stop_agent TERM
check "watchdog: SIGTERM, exit 0" test "$agent_rc" = 0
done_tests
