#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sriov-agent run on a fake sysfs (PF driver emulated by fake-sysfs run):
# pushes, garbage, non-root clients, a torn-read check, reconcile of drift,
# --config watch, SIGHUP, SIGTERM (also mid-apply) and restarts.
# Usage: run.sh BUILD_DIR
set -uo pipefail
B=${1:?build dir}
. "$(dirname "$0")/lib.sh"

MAP_A="1111=0000:03:00.0/0 2222=0000:03:00.0/1 3333=0000:03:00.0/3 4444=0000:04:00.0/0 5555=0000:04:00.0/1"
MAP_B="1111=0000:03:00.0/0 3333=0000:03:00.0/3 4444=0000:04:00.0/0 7777=0000:03:00.0/1 8888=0000:04:00.0/1"

fake_node "$SYS" 0 || { echo "not ok - fake sysfs"; exit 1; }
check_start "agent starts (kvm passthrough, no netlink, reconcile every 2s)" --interval 2
check "socket is mode 0600" test "$(stat -c %a "$SOCK")" = 600
check "status before any config: no config in force" test "$(status_field config_in_force)" = no
check "status before any config: daemon_state no-config" test "$(status_field daemon_state)" = no-config
check "status text has the pid" sh -c "'$CTL' --socket '$SOCK' status | grep -q '^pid  *$agent_pid\$'"
# A fake sysfs sends no kernel events: no monitor, the timer reconciles.
check "status: no event monitor on a fake sysfs" grep -q '^off: --sysfs-root ' <<<"$(status_field events_monitor)"
check "status: no events, no event reconcile" test "$(status_field events) $(status_field event_reconciles)" = "0 0"

# 1. A good config.
out=$(ctl push "$CFG_A" 2>&1); rc=$?
check "push two_pfs: exit 0, applied" test "$rc" = 0 -a "${out#applied: 5 reservation(s)}" != "$out"
check "list shows the five reservations" test "$(mapping)" = "$MAP_A"
check "config.pb is the pushed config" cmp "$STATE/config.pb" "$CFG_A"
check "status: daemon_state in-force" test "$(status_field daemon_state)" = in-force
check "no pending config left" test ! -e "$STATE/config.pending.pb"
check "status: source push, 5 reservations" \
	test "$(status_field config_source) $(status_field reservations)" = "push 5"
check "push --json" sh -c "'$CTL' --json --socket '$SOCK' push '$CFG_A' | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"ok\"] is True and d[\"app_errors\"] is False and d[\"result\"].startswith(\"applied: \")'"
# The reply is data (control.h): outcome, exit, errno and the counts.
check "push reply fields: outcome applied, exit 0, errno 0, 5 reservations" sh -c "'$CTL' --json --socket '$SOCK' push '$CFG_A' | python3 -c 'import json,sys; d=json.load(sys.stdin); assert (d[\"outcome\"], d[\"exit\"], d[\"errno\"]) == (\"applied\", 0, 0), d'"
cp "$STATE/state.pb" "$T/state.A"

# 2. Garbage and invalid configs: rejected with a reason, agent running,
#    previous config in force, state untouched.
head -c 300 /dev/urandom >"$T/garbage.pb"
out=$(ctl push "$T/garbage.pb" 2>&1); rc=$?
check "garbage push: exit 1" test "$rc" = 1
check "garbage push: reply outcome rejected, errno EINVAL or EBADMSG" sh -c "'$CTL' --json --socket '$SOCK' push '$T/garbage.pb' | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"outcome\"] == \"rejected\" and d[\"exit\"] == 1 and d[\"errno\"] in (22, 74) and not d[\"ok\"], d'"
check "garbage push: rejected with a reason" grep -q "^rejected: config: .*not a valid EdgeDevConfig" <<<"$out"
check "garbage push: agent still running" kill -0 "$agent_pid"
check "garbage push: state untouched" cmp "$STATE/state.pb" "$T/state.A"
check "garbage push: config.pb still the previous one" cmp "$STATE/config.pb" "$CFG_A"
check "garbage push: no pending config left" test ! -e "$STATE/config.pending.pb"
check "garbage push: status shows the rejection" grep -q '^rejected: config' <<<"$(status_field config_result)"
out=$(ctl push "$FIX/bad_vlan.pb" 2>&1); rc=$?
check "bad VLAN push: exit 1, reason names vlan_id" test "$rc" = 1 -a "${out#*vlan_id}" != "$out"
check "bad VLAN push: list unchanged" test "$(mapping)" = "$MAP_A"
: >"$T/empty.pb"
check "sriovctl push of a missing file: exit 1" sh -c "! '$CTL' --socket '$SOCK' push '$T/nope.pb'"
check "sriovctl push without FILE: exit 2" sh -c "'$CTL' --socket '$SOCK' push; test \$? = 2"

# 3. Garbage on the wire and a silent client do not wedge the agent.
raw() { python3 - "$SOCK" "$1" <<'PY'
import socket, sys, struct, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
what = sys.argv[2]
if what == "huge": s.sendall(b"\xff\xff\xff\xffP")
elif what == "type": s.sendall(b"\x00\x00\x00\x01X")
elif what == "silent": time.sleep(8); sys.exit(0)
hdr = s.recv(5); n = struct.unpack(">I", hdr[:4])[0]
body = b""
while len(body) < n - 1:
    c = s.recv(65536)
    if not c: break
    body += c
print(chr(hdr[4]), body.decode())
PY
}
check "4 GiB frame header: refused with the limit" grep -q "^F rejected: control: message of 4294967294 bytes: allowed 0..16777216" <<<"$(raw huge)"
check "unknown request type: refused" grep -q "^F rejected: unknown request type 0x58" <<<"$(raw type)"
raw silent &
silent=$!
sleep 0.3
t0=$(date +%s)
check "status answered while a silent client holds a connection" timeout 10 "$CTL" --socket "$SOCK" status
check "... within the 5 s request timeout" test $(($(date +%s) - t0)) -le 7
kill "$silent" 2>/dev/null; wait "$silent" 2>/dev/null

# 4. Non-root clients.
if command -v setpriv >/dev/null; then
	nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	out=$(nobody "$CTL" --socket "$SOCK" push "$CFG_B" 2>&1); rc=$?
	check "non-root push (socket 0600): exit 1, permission denied" \
		test "$rc" = 1 -a "${out#*Permission denied}" != "$out"
	chmod 666 "$SOCK"
	out=$(nobody "$CTL" --socket "$SOCK" push "$CFG_B" 2>&1); rc=$?
	check "non-root push (socket opened up): refused by SO_PEERCRED" \
		test "$rc" = 1 -a "${out#*refused: sriov-agent takes requests from root (uid 0) only; you are uid 65534}" != "$out"
	out=$(nobody "$CTL" --socket "$SOCK" status 2>&1); rc=$?
	check "non-root status: refused" test "$rc" = 1 -a "${out#*refused}" != "$out"
	chmod 600 "$SOCK"
	check "non-root: nothing changed" test "$(mapping)" = "$MAP_A"
	check "non-root: state untouched" cmp "$STATE/state.pb" "$T/state.A"
else
	nok "setpriv (util-linux) is not installed"
fi

# 5. sriovctl never sees a torn state file while the agent rewrites it.
rm -f "$T/reader.stop"
"$READER" "$STATE" "$T/reader.stop" >"$T/reader.out" 2>&1 &
reader=$!
pushes_ok=0
for i in $(seq 10); do
	ctl push "$CFG_B" >/dev/null 2>&1 && pushes_ok=$((pushes_ok + 1))
	ctl push "$CFG_A" >/dev/null 2>&1 && pushes_ok=$((pushes_ok + 1))
done
touch "$T/reader.stop"
wait "$reader"; rc=$?
check "20 alternating pushes applied" test "$pushes_ok" = 20
check "state reader: no load error during rewrites ($(cat "$T/reader.out"))" test "$rc" = 0
check "state reader saw the rewrites" test "$(sed -n 's/.*versions=//p' "$T/reader.out")" -ge 10

# 6. Config B: one app removed on each PF, two added, uplink1 4 -> 5 VFs.
check "push B" ctl push "$CFG_B"
check "B: list" test "$(mapping)" = "$MAP_B"
check "B: uplink1 has 5 VFs" test "$(numvfs 0000:03:00.0)" = 5
check "B: reserved VFs on vfio-pci" test "$(vfdrv 0000:03:10.0)$(vfdrv 0000:03:10.2)$(vfdrv 0000:04:10.2)" = vfio-pcivfio-pcivfio-pci
check "B: domain configs of exactly the five apps" \
	test "$(ls "$STATE/domains" | cut -c1-4 | sort | tr '\n' ' ')" = "1111 3333 4444 7777 8888 "

# 7. Reconcile: drift is repaired, vanished VFs are marked, nothing crashes.
# The drift is transient (the emulator makes it, the next 2 s tick repairs
# it): on a loaded machine both can fall between two looks, so the repair
# is judged from the agent's log after the drift, then from the tree.
n0=$(wc -l <"$LOG")
echo 0000:03:10.0 >"$SYS/sys/bus/pci/drivers/vfio-pci/unbind"
check "drift: VF 0000:03:10.0 unbound by someone, rebound by a repair" wait_for 10 \
	log_since "$n0" 'devices/0000:03:10.0/driver_override = vfio-pci: ok'
check "... the reconcile says it repaired" wait_for 5 log_since "$n0" 'repair (interval): '
check "reconcile binds it back to vfio-pci" wait_for 6 drv_is 0000:03:10.0 vfio-pci
n0=$(wc -l <"$LOG")
echo 0 >"$SYS/sys/bus/pci/devices/0000:04:00.0/sriov_numvfs"
check "PF driver reload (VFs of 0000:04:00.0 gone): a repair sets 2 again" wait_for 10 \
	log_since "$n0" 'devices/0000:04:00.0/sriov_numvfs = 2: ok'
check "reconcile re-creates them" wait_for 6 test -e "$SYS/sys/bus/pci/devices/0000:04:00.0/virtfn1"
check "... 2 of them" numvfs_is 0000:04:00.0 2
check "... and binds them to vfio-pci again" wait_for 6 drv_is 0000:04:10.2 vfio-pci
check "... both" wait_for 6 drv_is 0000:04:10.0 vfio-pci
check "... same VFs for the same apps" test "$(mapping)" = "$MAP_B"
link=$(readlink "$SYS/sys/bus/pci/devices/0000:03:00.0/virtfn3")
rm "$SYS/sys/bus/pci/devices/0000:03:00.0/virtfn3"
check "vanished VF: reservation marked in error" wait_for 6 field_is reservations_in_error 1
check "vanished VF: sriovctl show names the error" sh -c "'$CTL' --state-dir '$STATE' --json show 33333333-3333-4333-8333-333333333333 | python3 -c 'import json,sys; d=json.load(sys.stdin)[\"vfs\"]; assert len(d) == 1 and \"missing\" in d[0][\"error\"], d'"
check "vanished VF: agent still running" kill -0 "$agent_pid"
out=$(ctl push "$CFG_B" 2>&1); rc=$?
check "push while an app's VF is missing: exit 3, 'applied with errors' ($out)" \
	test "$rc" = 3 -a "${out#applied with errors: 5 reservation(s), 1 in error, 1 app(s) without their VF}" != "$out"
check "status: apps_without_vf 1" field_is apps_without_vf 1
out=$("$CTL" --json --socket "$SOCK" push "$CFG_B" 2>&1); rc=$?
check "push --json while an app's VF is missing: exit 3, ok and app_errors true" sh -c \
	"test $rc = 3 && python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d[\"ok\"] is True and d[\"app_errors\"] is True and d[\"outcome\"] == \"applied-with-errors\" and d[\"exit\"] == 3, d' '$out'"
ln -s "$link" "$SYS/sys/bus/pci/devices/0000:03:00.0/virtfn3"
check "VF back: error cleared" wait_for 6 field_is reservations_in_error 0
check "status: last reconcile applied" grep -q '^applied' <<<"$(status_field reconcile_result)"

# 8. SIGTERM: exit 0, state intact, socket removed; restart keeps the VFs.
cp "$STATE/state.pb" "$T/state.B"
stop_agent TERM
check "SIGTERM: exit 0" test "$agent_rc" = 0
check "SIGTERM: socket removed" test ! -e "$SOCK"
check "SIGTERM: state intact" sh -c "'$CTL' --state-dir '$STATE' list >/dev/null && test \"\$('$CTL' --state-dir '$STATE' list --json | python3 -c 'import json,sys; print(sum(1 for v in json.load(sys.stdin) if v[\"app\"]))')\" = 5"
mkdir -p "$T/cfg" "$T/other"
cp "$CFG_B" "$T/cfg/desired.pb"
check_start "restart with --config (same config as in force)" --interval 30 --config "$T/cfg/desired.pb"
check "restart: same VF for every app" test "$(mapping)" = "$MAP_B"
check "restart: reconciled from the saved config" test "$(status_field config_source)" = startup

# 9. --config is watched (rename and in-place write), SIGHUP re-reads it.
cp "$CFG_A" "$T/cfg/.desired.tmp" && mv "$T/cfg/.desired.tmp" "$T/cfg/desired.pb"
check "--config replaced by rename: A applied" wait_for 10 map_is "$MAP_A"
check "--config: status source file" test "$(status_field config_source)" = file
check "--config: config.pb follows" cmp "$STATE/config.pb" "$CFG_A"
cp "$T/garbage.pb" "$T/cfg/desired.pb"
check "--config garbage: rejected" wait_for 10 sh -c "'$CTL' --socket '$SOCK' status | grep -q '^last config  *rejected: config'"
check "--config garbage: A still in force" test "$(mapping)" = "$MAP_A"
check "--config garbage: config.pb unchanged" cmp "$STATE/config.pb" "$CFG_A"
check "--config garbage: agent running" kill -0 "$agent_pid"
ln "$T/cfg/desired.pb" "$T/other/desired.pb"   # same inode, unwatched directory
cat "$CFG_B" >"$T/other/desired.pb"
sleep 0.5
check "in-place write outside the watched directory: not noticed" test "$(mapping)" = "$MAP_A"
kill -HUP "$agent_pid"
check "SIGHUP: --config re-read, B applied" wait_for 10 map_is "$MAP_B"
check "SIGHUP: agent running" kill -0 "$agent_pid"

# 10. SIGTERM during an apply: the apply finishes, then exit 0.
kill "$drv_pid"; wait "$drv_pid" 2>/dev/null
"$FAKE" run "$SYS" --delay-ms 700 </dev/null >/dev/null 2>>"$T/driver.log" &
drv_pid=$!
sleep 0.3
ctl push "$CFG_A" >"$T/slow.out" 2>&1 &
slow=$!
sleep 0.4
stop_agent TERM
check "SIGTERM mid-apply: exit 0" test "$agent_rc" = 0
wait "$slow"; rc=$?
check "SIGTERM mid-apply: the push was applied ($(cat "$T/slow.out"))" test "$rc" = 0
check "SIGTERM mid-apply: log shows apply then stop" sh -c "grep -n 'config from push applied\|Terminated: stopping' '$LOG' | tail -2 | tr '\n' ' ' | grep -q 'applied.*stopping'"
check "SIGTERM mid-apply: uplink1 back at 4 VFs" test "$(numvfs 0000:03:00.0)" = 4
check "SIGTERM mid-apply: state is A" test "$(mapping)" = "$MAP_A"
check_start "restart without --config: A in force"
check "restart: same VFs" test "$(mapping)" = "$MAP_A"
out=$("$AGENT" run --socket "$SOCK" --sysfs-root "$SYS" --state-dir "$T/state2" --no-netlink 2>&1); rc=$?
check "second agent: exit 1, names the reason" test "$rc" = 1 -a "${out#*another agent is listening}" != "$out"
stop_agent INT
check "final SIGINT: exit 0" test "$agent_rc" = 0
check "status with no agent: exit 1" sh -c "'$CTL' --socket '$SOCK' status; test \$? = 1"

# 11. Boot order: --config names PFs whose driver is not loaded yet. The
# file is refused (PF not on the node), and the timer tries it again until
# the PFs appear; then it applies with no push and no SIGHUP.
kill "$drv_pid" 2>/dev/null; wait "$drv_pid" 2>/dev/null; drv_pid=
SYS=$T/sys-late STATE=$T/state-late
rm -rf "$SYS"; mkdir -p "$SYS/sys/class/net" "$SYS/sys/bus/pci/devices"
check_start "agent with --config before its PFs exist" --config "$CFG_A" --interval 1
check "--config refused: names the missing PF" grep -q 'no such network interface' <<<"$(status_field config_result)"
check "nothing reserved yet" test "$(status_field reservations)" = 0
fake_node "$SYS"
check "the PFs appear: --config applied by the timer" wait_for 10 map_is "$MAP_A"
check "status: config from the file, in force" test "$(status_field config_source) $(status_field config_in_force)" = "file yes"
check "log: the retry says why" grep -q -- '--config waits for its PFs' "$LOG"
stop_agent TERM
check "late PFs: SIGTERM exit 0" test "$agent_rc" = 0

# 12. A push accepted while --config waits for its PFs replaces the wait:
# the timer must not apply the older file over the pushed config.
kill "$drv_pid" 2>/dev/null; wait "$drv_pid" 2>/dev/null; drv_pid=
SYS=$T/sys-late2 STATE=$T/state-late2
rm -rf "$SYS"; mkdir -p "$SYS/sys/class/net" "$SYS/sys/bus/pci/devices"
check_start "agent with --config A before its PFs exist (interval 2 s)" --config "$CFG_A" --interval 2
fake_node "$SYS"
check "push B once the PFs are there: applied" ctl push "$CFG_B"
sleep 3
check "after the next ticks B is still in force (the file's wait ended)" map_is "$MAP_B"
check "status: config from push" field_is config_source push
stop_agent TERM

# 13. While --config waits for a PF (0000:09:00.0 is not on the node), the
# file is rewritten with the config in force: the wait ends, and each tick
# is one plain reconcile, not a retry of the file plus a reconcile.
kill "$drv_pid" 2>/dev/null; wait "$drv_pid" 2>/dev/null; drv_pid=
SYS=$T/sys-wait STATE=$T/state-wait
fake_node "$SYS"
check_start "agent for the waiting file (interval 1 s)" --interval 1
check "push A" ctl push "$CFG_A"
stop_agent TERM
SRC=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$T/cfg13"
sed 's/0000:04:00\.0/0000:09:00.0/' "$SRC/test/fixtures/two_pfs.txtpb" |
	protoc --proto_path="$SRC/proto" --encode=org.lfedge.eve.config.EdgeDevConfig eveconfig.proto \
		>"$T/cfg13/desired.pb"
n13=$(wc -l <"$LOG")
check_start "restart with --config naming a PF not on the node" --interval 1 --config "$T/cfg13/desired.pb"
check "the file waits: refused for the missing PF" grep -q '0000:09:00.0: no such PCI device' <<<"$(status_field config_result)"
check "... and is retried by the timer" wait_for 5 log_since "$n13" 'interval: --config waits for its PFs: applying'
check "status: daemon_state waiting-for-pfs" test "$(status_field daemon_state)" = waiting-for-pfs
cp "$CFG_A" "$T/cfg13/.tmp" && mv "$T/cfg13/.tmp" "$T/cfg13/desired.pb"
check "file rewritten with the config in force: the wait ends" wait_for 5 log_since "$n13" 'is the config in force: no longer waiting for its PFs'
check "status: daemon_state in-force again" test "$(status_field daemon_state)" = in-force
n0=$(wc -l <"$LOG")
sleep 2.5
check "... the ticks after it reconcile once each, no retry of the file" sh -c \
	"tail -n +$((n0 + 1)) '$LOG' | grep -q 'reconcile (interval)\$' && ! tail -n +$((n0 + 1)) '$LOG' | grep -q 'waits for its PFs'"
check "... A still in force" map_is "$MAP_A"
stop_agent TERM

# 14. A managed PF that is down: the kernel sends no notification for a VF
# setting changed through it (netdev_state_change needs IFF_UP), so such a
# change waits for the timer (docs/daemon.md, Events). The daemon says so
# once when the PF goes down and once when it is up again (not at every
# reconcile), and status names the PFs down (issue 23, probe 4). The fake
# tree's class/net/IF/flags stands for dev->flags.
kill "$drv_pid" 2>/dev/null; wait "$drv_pid" 2>/dev/null; drv_pid=
SYS=$T/sys-down STATE=$T/state-down
fake_node "$SYS"
echo 0x1003 >"$SYS/sys/class/net/eth1/flags"
echo 0x1003 >"$SYS/sys/class/net/eth2/flags"
check_start "agent for the PF link states" --interval 3600
check "push A" ctl push "$CFG_A"
check "status: no PF down" field_is down_pfs 0
applies_after() { test "$(status_field applies)" -gt "$1"; }
hup_reconcile() { local a; a=$(status_field applies); kill -HUP "$agent_pid"; wait_for 10 applies_after "$a"; }
n14=$(wc -l <"$LOG")
echo 0x1002 >"$SYS/sys/class/net/eth1/flags"
check "eth1 down, SIGHUP: a reconcile" hup_reconcile
check "... the log says eth1 is down and what it means" log_since "$n14" \
	"PF eth1 (0000:03:00.0) is down: the kernel notifies no VF setting change made through it while it is down; such a change is found by the reconcile every 3600s"
check "status: down_pfs 1" field_is down_pfs 1
check "status: down names it" field_is down "eth1 (0000:03:00.0)"
status_shows() { ctl status | grep -q -- "$1"; }
check "sriovctl status (text) shows it" status_shows '^down  *eth1 (0000:03:00.0)$'
check "a second reconcile, still down" hup_reconcile
check "... said once, not at every reconcile" \
	test "$(tail -n +"$((n14 + 1))" "$LOG" | grep -c 'PF eth1 (0000:03:00.0) is down')" = 1
echo 0x1003 >"$SYS/sys/class/net/eth1/flags"
check "eth1 up again, SIGHUP: a reconcile" hup_reconcile
check "... the log says it is up again" log_since "$n14" "PF eth1 (0000:03:00.0) is up again"
check "status: down_pfs 0" field_is down_pfs 0
check "eth2 never named" sh -c "! tail -n +$((n14 + 1)) '$LOG' | grep -q 'PF eth2 .* is \(down\|up again\)'"
stop_agent TERM

done_tests
