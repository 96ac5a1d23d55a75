#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Hostile use of the agent and sriovctl on a fake sysfs: two agents on one
# state dir, the agent's own writes to a watched --config, forged status
# lines, silent clients, a pending config that kills every start, temp
# files left by kill -9, and sriovctl's error paths.
# Usage: agent.sh BUILD_DIR
set -uo pipefail
B=${1:?build dir}
. "$(dirname "$0")/../daemon/lib.sh"

fake_node "$SYS" 0 || { echo "not ok - fake sysfs"; exit 1; }

# 1. sriovctl on a node where nothing was applied.
ctl list >/dev/null 2>"$T/list.err"; rc=$?
check "list on a missing state dir: exit 1" test "$rc" = 1
check "list on a missing state dir: says so" grep -q "state dir $STATE: No such file" "$T/list.err"
ctl show not-a-uuid >/dev/null 2>&1; check "show not-a-uuid: exit 2 (usage)" test $? = 2
ctl domain-config 'x"y' >/dev/null 2>&1; check "domain-config of a non-UUID: exit 2" test $? = 2
ctl --json show 99999999-9999-4999-8999-999999999999 >"$T/e1.json" 2>/dev/null; rc=$?
check "--json show, no state: exit 1 and a JSON error" json "assert d['exit'] == 1 and 'state dir' in d['error'], d" "$T/e1.json"
ctl --json status >"$T/e2.json" 2>/dev/null
check "--json status, no agent: a JSON error" json "assert d['exit'] == 1 and d['error'], d" "$T/e2.json"
ctl --json frobnicate >"$T/e3.json" 2>/dev/null
check "--json unknown command: a JSON error, exit 2" json "assert d['exit'] == 2, d" "$T/e3.json"
# Usage errors too (issue 23, 11): an unknown option, before or after
# --json, a bad --hypervisor, an option without its value, no command.
for args in "--json --bogus list" "--bogus --json list" "--json --hypervisor hyperv list" \
	"--json --state-dir" "--json"; do
	# shellcheck disable=SC2086
	"$CTL" $args >"$T/e5.json" 2>/dev/null; rc=$?
	check "sriovctl $args: exit 2 and one JSON error" json \
		"assert d['exit'] == 2 and $rc == 2 and d['error'], d" "$T/e5.json"
done
"$CTL" --json --bogus list >"$T/e6.json" 2>/dev/null
check "--json --bogus: the error names the option" json "assert d['error'] == 'unknown option \"--bogus\"', d" "$T/e6.json"

# 2. Temp files an interrupted write left are removed at start; others kept.
mkdir -p "$STATE/domains"
: >"$STATE/.state.pb.Ab12Cd"
: >"$STATE/domains/.11111111-1111-4111-8111-111111111111.kvm.cfg.Xy9876"
: >"$STATE/.notes.txt.123456"
check "apply two_pfs" apply --config "$CFG_A"
check "stale state temp file removed" test ! -e "$STATE/.state.pb.Ab12Cd"
check "stale domain temp file removed" test ! -e "$STATE/domains/.11111111-1111-4111-8111-111111111111.kvm.cfg.Xy9876"
check "a file the agent never writes is kept" test -e "$STATE/.notes.txt.123456"
ctl --json show 99999999-9999-4999-8999-999999999999 >"$T/e4.json" 2>/dev/null
check "--json show of an unknown app: JSON error, exit 1" json "assert d['exit'] == 1 and 'not in the applied config' in d['error'], d" "$T/e4.json"

# 3. One agent per state dir.
check_start "agent starts" --interval 3600
SOCK2=$T/second.sock
"$AGENT" run --socket "$SOCK2" --sysfs-root "$SYS" --state-dir "$STATE" --no-netlink </dev/null \
	>/dev/null 2>"$T/second.log" &
second=$!
for _ in $(seq 100); do kill -0 "$second" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$second" 2>/dev/null; then kill -9 "$second"; nok "second run on the same state dir still running"; else ok "second run on the same state dir exits"; fi
wait "$second"; rc=$?
check "second run: exit 1" test "$rc" = 1
check "second run: names the holder's pid" grep -q "in use by another sriov-agent (pid $agent_pid)" "$T/second.log"
check "second run: no socket left" test ! -e "$SOCK2"
cp "$STATE/state.pb" "$T/state.A"
apply --config "$CFG_B" 2>"$T/apply2.log"; rc=$?
check "apply while run holds the dir: exit 1" test "$rc" = 1
check "apply while run holds the dir: names the pid" grep -q "pid $agent_pid" "$T/apply2.log"
check "apply while run holds the dir: state untouched" cmp "$STATE/state.pb" "$T/state.A"
check "sriovctl list does not block on the lock" timeout 5 "$CTL" --state-dir "$STATE" --sysfs-root "$SYS" list
check "apply --dry-run takes no lock" apply --config "$CFG_B" --dry-run

# 4. Silent clients delay neither status nor SIGTERM.
python3 - "$SOCK" 10 30 <<'PY' &
import socket, sys, time
path, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    socks.append(s)
time.sleep(secs)
PY
silent=$!
sleep 0.5
t0=$(date +%s%N)
check "status with 10 silent clients connected" ctl status
t1=$(date +%s%N)
check "status answered within 1 s ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -lt 1000
# A client half-way through a frame does not hold the others either.
python3 - "$SOCK" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.send(b"\x00\x00\x01\x00P" + b"\x00" * 10)
time.sleep(20)
PY
half=$!
sleep 0.3
check "status with a half-sent push pending" timeout 2 "$CTL" --socket "$SOCK" status
t0=$(date +%s%N)
stop_agent TERM
t1=$(date +%s%N)
check "SIGTERM with silent clients: exit 0" test "$agent_rc" = 0
check "SIGTERM with silent clients: stopped within 1 s ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -lt 1000
kill "$silent" "$half" 2>/dev/null; wait "$silent" "$half" 2>/dev/null

# 5. Status values cannot forge lines: a --config path with a newline and a
#    fake key in it.
EVIL="$T/cfg
reservations=0
reservations_in_error=42"
cp "$CFG_A" "$EVIL"
check_start "agent with a --config path holding newlines" --interval 3600 --config "$EVIL"
check "status: reservations is the real count (5), not the forged 0" field_is reservations 5
check "status: in error is 0, not the forged 42" field_is reservations_in_error 0
check "status: the path comes back whole" test "$(status_field config_file)" = "$EVIL"
stop_agent TERM

# 6. --config STATE-DIR/config.pb: the agent's own rename of config.pb does
#    not trigger another apply (before: thousands per second).
check_start "agent watching its own config.pb" --interval 3600 --config "$STATE/config.pb"
a0=$(status_field applies)
check "push B" ctl push "$CFG_B"
sleep 2
a1=$(status_field applies)
check "one push, at most 2 applies in 2 s (got $((a1 - a0)))" test $((a1 - a0)) -le 2
check "B in force" cmp "$STATE/config.pb" "$CFG_B"
stop_agent TERM

# 7. A pending config that kills the agent at every start is set aside
#    after 3 starts instead of killing every start.
cp "$CFG_A" "$STATE/config.pending.pb"
for i in 1 2 3; do
	SR_FAULT=after-save-intent start_agent --interval 3600 >/dev/null 2>&1
	wait_agent 10
	check "start $i with the pending config: killed at the fault point (rc $agent_rc)" test "$agent_rc" = 137
done
check "pending still there after 3 starts" test -e "$STATE/config.pending.pb"
check_start "4th start" --interval 3600
check "pending config set aside as config.failed.pb" test -e "$STATE/config.failed.pb" -a ! -e "$STATE/config.pending.pb"
check "status says why" sh -c "'$CTL' --socket '$SOCK' --json status | grep -q 'failed 3 starts'"
stop_agent TERM

# 8. Limits of later stages, before the first kernel write: a missing
#    vfio-pci, a read-only or full state dir change nothing.
snap() { (cd "$SYS" && find . -type f -o -type l | sort | while read -r f; do
	if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"; else echo "$f $(md5sum <"$f")"; fi; done
	cd "$1" && find . -type f | sort | xargs md5sum); }
S2=$T/state2
apply2() { "$AGENT" apply --sysfs-root "$SYS" --state-dir "$S2" --no-netlink "$@"; }
check "apply A into a second state dir" apply2 --config "$CFG_A"
snap "$S2" >"$T/snap.before"
mv "$SYS/sys/bus/pci/drivers/vfio-pci" "$T/vfio-pci.away"
apply2 --config "$CFG_B" 2>"$T/novfio.log"; rc=$?
mv "$T/vfio-pci.away" "$SYS/sys/bus/pci/drivers/vfio-pci"
check "vfio-pci not loaded: exit 1" test "$rc" = 1
check "vfio-pci not loaded: says modprobe" grep -q "driver is not loaded .*modprobe vfio-pci" "$T/novfio.log"
snap "$S2" >"$T/snap.after"
check "vfio-pci not loaded: sysfs and state unchanged" cmp "$T/snap.before" "$T/snap.after"
if mount -t tmpfs -o size=64k tmpfs "$S2" 2>/dev/null; then
	umount "$S2"
	# A full state dir: a tmpfs of 64 KiB with the state in it, filled up.
	cp -a "$S2" "$T/s2.orig"
	mount -t tmpfs -o size=64k tmpfs "$S2" && cp -a "$T/s2.orig"/. "$S2"/
	dd if=/dev/zero of="$S2/fill" bs=4k 2>/dev/null
	snap "$S2" >"$T/snap.before"
	apply2 --config "$CFG_B" 2>"$T/full.log"; rc=$?
	check "full state dir: exit 1" test "$rc" = 1
	check "full state dir: says how much is free" grep -q "state dir $S2: [0-9]* bytes free, the apply needs" "$T/full.log"
	snap "$S2" >"$T/snap.after"
	check "full state dir: sysfs and state unchanged" cmp "$T/snap.before" "$T/snap.after"
	rm -f "$S2/fill"
	mount -o remount,ro "$S2"
	snap "$S2" >"$T/snap.before"
	apply2 --config "$CFG_B" 2>"$T/ro.log"; rc=$?
	check "read-only state dir: exit 1" test "$rc" = 1
	check "read-only state dir: says so" grep -q "state dir $S2: .*Read-only file system" "$T/ro.log"
	snap "$S2" >"$T/snap.after2"
	check "read-only state dir: sysfs and state unchanged" cmp "$T/snap.before" "$T/snap.after2"
	umount "$S2"
else
	nok "cannot mount a tmpfs (the full/read-only state dir checks need root)"
fi

# 9. Recovery never waits on a VF it just gave back: an apply killed right
#    after its first release (VF back on igbvf, driver_override igbvf) is
#    redone without the 10 s "still bound to igbvf after unbind" wait.
S3=$T/state3
apply3() { "$AGENT" apply --sysfs-root "$SYS" --state-dir "$S3" --no-netlink "$@"; }
check "apply A into a third state dir" apply3 --config "$CFG_A"
SR_FAULT=after-release:1 apply3 --config "$CFG_B" 2>/dev/null; rc=$?
check "apply B killed after its first release (rc $rc)" test "$rc" = 137
t0=$(date +%s%N)
apply3 --config "$CFG_B" --log-level debug 2>"$T/recover.log"; rc=$?
t1=$(date +%s%N)
check "recovery apply: exit 0" test "$rc" = 0
check "recovery apply within 3 s ($(( (t1 - t0) / 1000000 )) ms)" test $(( (t1 - t0) / 1000000 )) -lt 3000
check "recovery apply: no 'still bound' wait" sh -c "! grep -q 'still bound' '$T/recover.log'"
check "recovery apply: says the VF was given back already" grep -q "already off vfio-pci (on igbvf): no unbind" "$T/recover.log"

# 10. The agent deletes only domain configs it wrote (a manifest in the
#     state dir), and none is left for an app in error.
FOREIGN=$S3/domains/99999999-9999-4999-8999-999999999999.kvm.cfg
echo "written by someone else" >"$FOREIGN"
check "apply A over B" apply3 --config "$CFG_A"
check "a look-alike file the agent never wrote is kept" test -f "$FOREIGN"
check "the manifest names the configs written" grep -qx "11111111-1111-4111-8111-111111111111.kvm.cfg" "$S3/domains.manifest"
check "the manifest does not name the foreign file" sh -c "! grep -q 99999999 '$S3/domains.manifest'"
D1=$S3/domains/11111111-1111-4111-8111-111111111111.kvm.cfg
check "app 1111 has a domain config" test -f "$D1"
VF=0000:03:10.0
grp=$(readlink "$SYS/sys/bus/pci/devices/$VF/iommu_group")
echo "$VF" >"$SYS/sys/bus/pci/drivers/vfio-pci/unbind"
wait_for 5 drv_not "$VF" vfio-pci
rm "$SYS/sys/bus/pci/devices/$VF/iommu_group"
apply3 --config "$CFG_A" 2>"$T/err_app.log"; rc=$?
ln -s "$grp" "$SYS/sys/bus/pci/devices/$VF/iommu_group"
check "app 1111's VF lost its IOMMU group: applied with errors (rc $rc)" test "$rc" = 3
check "app in error: its old domain config is removed" test ! -e "$D1"
check "app in error: the others keep theirs" test -f "$S3/domains/22222222-2222-4222-8222-222222222222.kvm.cfg"

# 11. Domain configs follow the reservations even when the apply is killed
#     between the state save and the domain configs: none names a VF that
#     another app holds (A -> B moves 0000:03:10.2 from 2222 to 7777).
S4=$T/state4
apply4() { "$AGENT" apply --sysfs-root "$SYS" --state-dir "$S4" --no-netlink "$@"; }
check "apply A into a fourth state dir" apply4 --config "$CFG_A"
check "2222 has a domain config naming 0000:03:10.2" grep -q '0000:03:10.2' "$S4/domains/22222222-2222-4222-8222-222222222222.kvm.cfg"
SR_FAULT=after-save apply4 --config "$CFG_B" 2>/dev/null; rc=$?
check "apply B killed right after its state save (rc $rc)" test "$rc" = 137
"$CTL" --state-dir "$S4" --sysfs-root "$SYS" list --json >"$T/list4.json"
check "no domain config names a VF another app holds" python3 - "$T/list4.json" "$S4/domains" <<'PY'
import json, os, re, sys
held = {v["pci"]: v["app"] for v in json.load(open(sys.argv[1])) if v["app"]}
bad = []
for f in os.listdir(sys.argv[2]):
    if not f.endswith(".kvm.cfg"):
        continue
    app = f.split(".")[0]
    for pci in re.findall(r'host = "([0-9a-f:.]+)"', open(os.path.join(sys.argv[2], f)).read()):
        if held.get(pci) != app:
            bad.append(f"{f} names {pci}, held by {held.get(pci)}")
assert not bad, bad
PY
check "the released app's config is gone" test ! -e "$S4/domains/22222222-2222-4222-8222-222222222222.kvm.cfg"
check "the next apply writes 7777's config" apply4 --config "$CFG_B"
check "7777's config names 0000:03:10.2" grep -q '0000:03:10.2' "$S4/domains/77777777-7777-4777-8777-777777777777.kvm.cfg"

# 12. Other local users (issue 23: 1, 11). The lock and every file the
#     agent writes are 0600 in a dir of its own; a lock file another user
#     could open (an older agent made it 0644) is replaced, so a read lock
#     taken through it locks nobody out, but not under an agent that holds
#     it; directories another user controls are refused before anything
#     changes.
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
S5=$T/state5
apply5() { "$AGENT" apply --sysfs-root "$SYS" --state-dir "$S5" --no-netlink "$@"; }
check "apply A into a fifth state dir" apply5 --config "$CFG_A"
check "state dir made 0700" test "$(stat -c %a "$S5")" = 700
for f in lock state.pb config.pb domains.manifest domains/11111111-1111-4111-8111-111111111111.kvm.cfg; do
	check "$f: mode 0600" test "$(stat -c %a "$S5/$f")" = 600
done
check "domain dir made 0700" test "$(stat -c %a "$S5/domains")" = 700
# What an older agent left: a 0755 dir and a 0644 lock another user holds.
chmod 755 "$S5"; chmod 644 "$S5/lock"
nobody /usr/bin/python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "rb")
fcntl.lockf(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
print("locked", flush=True)
time.sleep(60)' "$S5/lock" >"$T/nobody.locked" 2>"$T/nobody.err" &
holder=$!
wait_for 10 test -s "$T/nobody.locked"
check "uid 65534 holds a read lock on the old 0644 lock file" test -s "$T/nobody.locked"
apply5 --config "$CFG_B" 2>"$T/lock5.log"; rc=$?
check "apply with a user's read lock on the old file: exit 0 (rc $rc)" test "$rc" = 0
check "apply says the lock file was replaced" grep -q "lock had mode 0644 .*replaced by a new file of mode 0600" "$T/lock5.log"
check "the new lock file is 0600" test "$(stat -c %a "$S5/lock")" = 600
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
check "uid 65534 cannot open the new lock file" sh -c "! setpriv --reuid=65534 --regid=65534 --clear-groups cat '$S5/lock' 2>/dev/null"
check "no lock.new left after the replacement" test ! -e "$S5/lock.new"
# An older agent still running holds a write lock on its 0644 file: the
# file is not replaced under it (issue 23, probe 2: the replacement is made
# under a lock; two agents starting at once are test_files' cases).
chmod 644 "$S5/lock"
/usr/bin/python3 -c '
import fcntl, os, sys, time
f = open(sys.argv[1], "r+b")
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
print(os.getpid(), flush=True)
time.sleep(60)' "$S5/lock" >"$T/older.locked" 2>"$T/older.err" &
older=$!
wait_for 10 test -s "$T/older.locked"
apply5 --config "$CFG_B" 2>"$T/lock5b.log"; rc=$?
check "apply while an older agent holds its 0644 lock: exit 1 (rc $rc)" test "$rc" = 1
check "... names the older agent's pid" grep -q "in use by another sriov-agent (pid $(cat "$T/older.locked"))" "$T/lock5b.log"
check "... its lock file is not replaced" test "$(stat -c %a "$S5/lock")" = 644
kill "$older" 2>/dev/null; wait "$older" 2>/dev/null
# Directories another user controls: refused, nothing changed.
snap "$S5" >"$T/snap5.before"
mkdir -p "$T/userdir/domains"; chown -R 65534:65534 "$T/userdir"
apply5 --config "$CFG_A" --domain-dir "$T/userdir/domains" 2>"$T/udir.log"; rc=$?
check "domain dir owned by uid 65534: exit 1" test "$rc" = 1
check "domain dir owned by uid 65534: says so" grep -q "domain dir $T/userdir/domains: .*owned by another user" "$T/udir.log"
chown 0:0 "$T/userdir/domains"
apply5 --config "$CFG_A" --domain-dir "$T/userdir/domains" 2>"$T/udir2.log"; rc=$?
check "domain dir in a dir uid 65534 owns: exit 1" test "$rc" = 1
check "domain dir in a dir uid 65534 owns: names it" grep -q "its path goes through $T/userdir (owner uid 65534" "$T/udir2.log"
ln -s "$T/userdir/domains" "$T/link-to-userdir"
apply5 --config "$CFG_A" --domain-dir "$T/link-to-userdir" 2>"$T/udir3.log"; rc=$?
check "a symlink leading into a user's dir: exit 1" test "$rc" = 1
# A symlink another user owns, in a sticky dir (/tmp), leading to a dir
# root owns (the probe: uid 65534's link to /etc was taken as root's state
# dir; the user can swap it for another at any time): refused, also
# reached through a root symlink, and nothing written where it leads.
mkdir -p "$T/sticky" "$T/rootdir"; chmod 1777 "$T/sticky"; chmod 700 "$T/rootdir"
nobody ln -s "$T/rootdir" "$T/sticky/link"
ln -s sticky/link "$T/rootlink"
apply5 --config "$CFG_A" --domain-dir "$T/sticky/link" 2>"$T/udir6.log"; rc=$?
check "a user's symlink in a sticky dir as domain dir: exit 1 (rc $rc)" test "$rc" = 1
check "... says whose symlink" grep -q "domain dir $T/sticky/link: $T/sticky/link (owner uid 65534, mode 0777): a symlink owned by another user" "$T/udir6.log"
"$AGENT" apply --sysfs-root "$SYS" --state-dir "$T/rootlink" --no-netlink --config "$CFG_A" 2>"$T/udir7.log"; rc=$?
check "a root symlink to it as state dir: exit 1 (rc $rc)" test "$rc" = 1
check "... names the user's symlink on the way" grep -q "state dir $T/rootlink: its path goes through $T/sticky/link (owner uid 65534" "$T/udir7.log"
check "... nothing written where the symlink leads" test -z "$(ls -A "$T/rootdir")"
mkdir -p "$T/shared"; chmod 777 "$T/shared"
apply5 --config "$CFG_A" --domain-dir "$T/shared" 2>"$T/udir4.log"; rc=$?
check "a world-writable domain dir: exit 1" test "$rc" = 1
check "a world-writable domain dir: says so" grep -q "writable by other users" "$T/udir4.log"
chmod 757 "$S5"
apply5 --config "$CFG_A" 2>"$T/udir5.log"; rc=$?
check "a world-writable state dir: exit 1" test "$rc" = 1
check "a world-writable state dir: says so" grep -q "state dir $S5: .*writable by other users" "$T/udir5.log"
chmod 700 "$S5"
snap "$S5" >"$T/snap5.after"
check "refused dirs: sysfs and state unchanged" cmp "$T/snap5.before" "$T/snap5.after"

# 13. "rejected" means nothing changed (issue 23, 3): a --domain-dir that is
#     a file, a directory where the agent writes a domain config or the
#     manifest are refused before the first kernel write (before: exit 1
#     "rejected ... Not a directory" with state.pb already holding B).
S6=$T/state6
apply6() { "$AGENT" apply --sysfs-root "$SYS" --state-dir "$S6" --no-netlink "$@"; }
check "apply A into a sixth state dir" apply6 --config "$CFG_A"
snap "$S6" >"$T/snap6.before"
: >"$T/not-a-dir"
apply6 --config "$CFG_B" --domain-dir "$T/not-a-dir" 2>"$T/r6a.log"; rc=$?
check "--domain-dir a regular file: exit 1" test "$rc" = 1
check "--domain-dir a regular file: rejected, says not a directory" grep -q "rejected: domain dir $T/not-a-dir: not a directory" "$T/r6a.log"
mkdir "$S6/domains/77777777-7777-4777-8777-777777777777.kvm.cfg"
apply6 --config "$CFG_B" 2>"$T/r6b.log"; rc=$?
rmdir "$S6/domains/77777777-7777-4777-8777-777777777777.kvm.cfg"
check "a directory in place of a domain config: exit 1" test "$rc" = 1
check "a directory in place of a domain config: says so" grep -q "rejected: domain config $S6/domains/77777777-7777-4777-8777-777777777777.kvm.cfg: a directory where the agent writes a file" "$T/r6b.log"
mv "$S6/domains.manifest" "$T/manifest6"; mkdir "$S6/domains.manifest"
apply6 --config "$CFG_B" 2>"$T/r6c.log"; rc=$?
rmdir "$S6/domains.manifest"; mv "$T/manifest6" "$S6/domains.manifest"
check "a directory in place of domains.manifest: exit 1" test "$rc" = 1
check "a directory in place of domains.manifest: says so" grep -q "rejected: state file $S6/domains.manifest: a directory" "$T/r6c.log"
snap "$S6" >"$T/snap6.after"
check "each refusal: sysfs and state unchanged" cmp "$T/snap6.before" "$T/snap6.after"
check "then B applies" apply6 --config "$CFG_B"

# 14. Files that are not what they should be (issue 23, 7 and 9): an
#     --info-file naming the state file or the --config file is refused at
#     start (it overwrote them: the agent was wedged, also after a
#     restart); a --config that is a FIFO with no writer is refused without
#     blocking (the start hung with the socket bound and the lock held).
cp "$STATE/state.pb" "$T/state.keep"
"$AGENT" run --socket "$SOCK" --sysfs-root "$SYS" --state-dir "$STATE" --no-netlink \
	--info-file "$STATE/state.pb" </dev/null >/dev/null 2>"$T/info1.log" &
p14=$!
for _ in $(seq 200); do kill -0 "$p14" 2>/dev/null || break; sleep 0.05; done
kill -9 "$p14" 2>/dev/null; wait "$p14"; rc=$?
check "--info-file STATE/state.pb: exit 1 at start (rc $rc)" test "$rc" = 1
check "--info-file STATE/state.pb: says why" grep -q "in the state dir $STATE, whose files are the agent's own" "$T/info1.log"
check "--info-file STATE/state.pb: state.pb untouched" cmp "$STATE/state.pb" "$T/state.keep"
cp "$CFG_A" "$T/cfg14.pb"
"$AGENT" run --socket "$SOCK" --sysfs-root "$SYS" --state-dir "$STATE" --no-netlink \
	--config "$T/cfg14.pb" --info-file "$T/./cfg14.pb" </dev/null >/dev/null 2>"$T/info2.log" &
p14=$!
for _ in $(seq 200); do kill -0 "$p14" 2>/dev/null || break; sleep 0.05; done
kill -9 "$p14" 2>/dev/null; wait "$p14"; rc=$?
check "--info-file naming the --config file: exit 1 at start (rc $rc)" test "$rc" = 1
check "--info-file naming the --config file: says so" grep -q "is the --config file" "$T/info2.log"
check "--info-file naming the --config file: config untouched" cmp "$T/cfg14.pb" "$CFG_A"
mkfifo "$T/fifo.pb"
timeout 20 "$AGENT" apply --sysfs-root "$SYS" --state-dir "$STATE" --no-netlink --config "$T/fifo.pb" 2>"$T/fifo1.log"; rc=$?
check "apply --config FIFO: exit 1, not blocked (rc $rc)" test "$rc" = 1
check "apply --config FIFO: says it is not a regular file" grep -q "fifo.pb: not a regular file (a FIFO)" "$T/fifo1.log"
if start_agent --interval 3600 --config "$T/fifo.pb"; then
	ok "run --config FIFO: starts and answers"
	check "run --config FIFO: logs why it is not read" grep -q "fifo.pb: not a regular file (a FIFO)" "$LOG"
	stop_agent TERM
	check "run --config FIFO: stops on SIGTERM, exit 0" test "$agent_rc" = 0
else
	nok "run --config FIFO: starts and answers (blocked: killed)"
	stop_agent KILL
fi

# 15. A full state file system never stops a repair (issue 23, 2): the
#     config in force applied again rebinds a VF unbound by hand and makes
#     again the VFs of a PF set to 0 by hand, writing no file (before: exit
#     1 "N bytes free, the apply needs M", nothing repaired).
S7=$T/state7
mkdir -p "$S7"
fake_node "$SYS" 0 || nok "a fresh fake node"
if mount -t tmpfs -o size=256k,mode=0700 tmpfs "$S7"; then
	apply7() { "$AGENT" apply --sysfs-root "$SYS" --state-dir "$S7" --no-netlink "$@"; }
	check "apply A into a small state file system" apply7 --config "$CFG_A"
	check "A in force: config.pb" cmp "$S7/config.pb" "$CFG_A"
	dd if=/dev/zero of="$S7/fill" bs=4k 2>/dev/null
	check "the state file system is full" test "$(stat -f -c %a "$S7")" = 0
	(cd "$S7" && find . -type f ! -name fill | sort | xargs md5sum) >"$T/s7.before"
	echo 0000:03:10.0 >"$SYS/sys/bus/pci/drivers/vfio-pci/unbind"
	wait_for 5 drv_not 0000:03:10.0 vfio-pci
	echo 0 >"$SYS/sys/bus/pci/devices/0000:04:00.0/sriov_numvfs"
	wait_for 5 numvfs_is 0000:04:00.0 0
	apply7 --config "$CFG_A" 2>"$T/full7.log"; rc=$?
	check "repair on a full state disk: exit 0 (rc $rc)" sh -c "test $rc = 0 || { tail -5 '$T/full7.log'; false; }"
	check "the unbound VF is on vfio-pci again" drv_is 0000:03:10.0 vfio-pci
	check "the PF's VFs are made again" test "$(numvfs 0000:04:00.0)" != 0
	(cd "$S7" && find . -type f ! -name fill | sort | xargs md5sum) >"$T/s7.after"
	check "the repair wrote no file (state, domain configs as they were)" cmp "$T/s7.before" "$T/s7.after"
	apply7 --config "$CFG_B" 2>"$T/full7b.log"; rc=$?
	check "a new config on the full disk: still refused before any write (rc $rc)" test "$rc" = 1
	check "a new config on the full disk: says how much is free" grep -q "bytes free, the apply needs" "$T/full7b.log"
	# recover on the full disk: its save fails, the refused file stays
	# state.pb; run again (twice, a second apart), no second name is added
	# for it (the probe: one more state.pb.refused-<time> per attempt).
	printf '\377' | dd of="$S7/state.pb" bs=1 seek=20 conv=notrunc 2>/dev/null
	for i in 1 2; do
		"$AGENT" recover --sysfs-root "$SYS" --state-dir "$S7" >/dev/null 2>"$T/rec7.$i.log"; rc=$?
		check "recover $i on the full disk: exit 1, no space (rc $rc)" \
			sh -c "test $rc = 1 && grep -q 'No space left on device' '$T/rec7.$i.log'"
		sleep 1.1
	done
	check "... one refused name kept, not one per attempt" \
		test "$(find "$S7" -maxdepth 1 -name 'state.pb.refused-*' | wc -l)" = 1
	rm "$S7/fill"
	"$AGENT" recover --sysfs-root "$SYS" --state-dir "$S7" >"$T/rec7.out" 2>&1; rc=$?
	check "space freed: recover exits 0 and names that file (rc $rc)" \
		sh -c "test $rc = 0 && grep -q \"kept the refused file as $(find "$S7" -maxdepth 1 -name 'state.pb.refused-*')\$\" '$T/rec7.out'"
	check "... still one refused name" \
		test "$(find "$S7" -maxdepth 1 -name 'state.pb.refused-*' | wc -l)" = 1
	umount "$S7"
else
	nok "cannot mount a tmpfs (the full state disk checks need root)"
fi

# 16. kill -9 between a sriov_numvfs write and the VFs' appearance (issue
#     23, 10). The emulator makes VFs 3 s after a write; the agent, killed
#     with uplink1's new count written and none of its VFs there yet, is
#     started again: it finds the count it wants, waits for the VFs (the
#     bound of a write), and gives every app its VF (before: exit 3, three
#     apps "VF missing", their domain configs removed).
S8=$T/state8
fake_node "$SYS" 0 || nok "a fresh fake node"
apply8() { "$AGENT" apply --sysfs-root "$SYS" --state-dir "$S8" --no-netlink "$@"; }
check "apply A into an eighth state dir" apply8 --config "$CFG_A"
kill "$drv_pid"
wait "$drv_pid" 2>/dev/null
"$FAKE" run "$SYS" --delay-ms 3000 </dev/null >/dev/null 2>>"$T/driver.log" &
drv_pid=$!
check "a slow emulator (VFs 3 s after a write)" wait_for 5 test -f "$SYS/.fake-driver.pid"
"$AGENT" apply --sysfs-root "$SYS" --state-dir "$S8" --no-netlink --config "$CFG_B" 2>"$T/killed8.log" &
a8=$!
check "apply B (uplink1 4 -> 5) writes the new count" wait_for 30 numvfs_is 0000:03:00.0 5
kill -9 "$a8"
wait "$a8" 2>/dev/null
vfs8() { find "$SYS/sys/bus/pci/devices/0000:03:00.0/" -maxdepth 1 -name 'virtfn*' | wc -l; }
check "... killed with the count written and no VF there yet" test "$(vfs8)" = 0
apply8 --config "$CFG_B" --log-level debug 2>"$T/restart8.log"; rc=$?
check "restart: exit 0, every app has its VF (rc $rc)" sh -c "test $rc = 0 || { tail -5 '$T/restart8.log'; false; }"
check "restart: waited for the VFs still coming" grep -q "sriov_numvfs is 5 but 0 VFs are there: waiting" "$T/restart8.log"
check "restart: no 'VF is missing'" sh -c "! grep -q 'VF is missing' '$T/restart8.log'"
check "restart: the count was not written again (sysfs writes are logged)" sh -c "grep -q 'sysfs write ' '$T/restart8.log' && ! grep -q '0000:03:00.0/sriov_numvfs = ' '$T/restart8.log'"
check "restart: domain configs of exactly the five apps of B" \
	test "$(ls "$S8/domains" | cut -c1-4 | sort | tr '\n' ' ')" = "1111 3333 4444 7777 8888 "

# 17. A changed --domain-dir (issue 23, 4): the configs the agent wrote in
#     the earlier directory are removed before the first kernel write (the
#     manifest keeps a section per directory until they are); a file it
#     never wrote there stays; a directory that is no longer the agent's
#     own is not touched, and the apply is not refused for it (before: the
#     old configs stayed, naming VFs that other apps now hold).
fake_node "$SYS" 0 || nok "a fresh fake node"
S9=$T/state9 D9a=$T/dom9a D9b=$T/dom9b D9c=$T/dom9c D9d=$T/dom9d
apply9() { "$AGENT" apply --sysfs-root "$SYS" --state-dir "$S9" --no-netlink "$@"; }
apps9() { find "$1" -name '*.kvm.cfg' -printf '%f\n' | cut -c1-4 | sort | tr '\n' ' '; }
check "apply A with --domain-dir D9a" apply9 --config "$CFG_A" --domain-dir "$D9a"
check "D9a holds A's five configs" test "$(apps9 "$D9a")" = "1111 2222 3333 4444 5555 "
echo "not the agent's" >"$D9a/99999999-9999-4999-8999-999999999999.kvm.cfg"
apply9 --config "$CFG_B" --domain-dir "$D9b" --dry-run 2>"$T/dry9.log"
check "dry run to D9b: says it would remove D9a's configs" grep -q "plan: would remove domain config $D9a/22222222-2222-4222-8222-222222222222.kvm.cfg: written for an earlier --domain-dir" "$T/dry9.log"
check "dry run: D9a untouched" test "$(apps9 "$D9a")" = "1111 2222 3333 4444 5555 9999 "
apply9 --config "$CFG_B" --domain-dir "$D9b" --log-level debug 2>"$T/move9.log"; rc=$?
check "apply B with --domain-dir D9b: exit 0 (rc $rc)" test "$rc" = 0
check "D9a: no config the agent wrote is left (2222's named a VF 7777 now holds)" \
	test "$(apps9 "$D9a")" = "9999 "
check "D9b holds B's five configs" test "$(apps9 "$D9b")" = "1111 3333 4444 7777 8888 "
check "the manifest names D9b only" sh -c "grep '^dir ' '$S9/domains.manifest' | tr '\n' ' ' | grep -qx 'dir $D9b '"
check "the old configs were removed before the first kernel write" python3 - "$T/move9.log" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
rm = [i for i, l in enumerate(lines) if "written for an earlier --domain-dir" in l]
wr = [i for i, l in enumerate(lines) if "sysfs write " in l]
assert len(rm) == 5 and wr and max(rm) < min(wr), (rm, wr)
PY
# The same directory under another name (a symlink): nothing removed.
ln -s "$D9b" "$T/dom9link"
apply9 --config "$CFG_B" --domain-dir "$T/dom9link" 2>"$T/link9.log"; rc=$?
check "--domain-dir a symlink to D9b: exit 0, no config removed (rc $rc)" \
	sh -c "test $rc = 0 && ! grep -q 'removed domain config' '$T/link9.log'"
check "... D9b still holds B's five configs" test "$(apps9 "$D9b")" = "1111 3333 4444 7777 8888 "
check "apply B with D9c" apply9 --config "$CFG_B" --domain-dir "$D9c"
check "... D9b emptied of the agent's configs" test "$(apps9 "$D9b")" = ""
# A directory another user can now write is not the agent's: left alone.
chmod 0777 "$D9c"
apply9 --config "$CFG_A" --domain-dir "$D9d" 2>"$T/foreign9.log"; rc=$?
chmod 0700 "$D9c"
check "old dir writable by others: the apply goes on (rc $rc)" test "$rc" = 0
check "... its configs are left" test "$(apps9 "$D9c")" = "1111 3333 4444 7777 8888 "
check "... and the agent says why" grep -q "earlier domain dir $D9c.*left and forgotten" "$T/foreign9.log"
check "... and forgets it" sh -c "! grep -q '^dir $D9c' '$S9/domains.manifest'"

# 18. The --config watch survives its directory (issue 23, 5): removed and
#     made again, another renamed into place, a ConfigMap-style "..data"
#     symlink swap; status says when the file on disk is not the config in
#     force; a writer that closes the file between two chunks is read whole
#     once the file has been quiet for 500 ms (before: its prefix, which
#     decodes, was applied first). The timer is 3600 s: only the watch acts.
fake_node "$SYS" 0 || nok "a fresh fake node"
rm -rf "$STATE"
CD=$T/cfgdir
mkdir -p "$CD"
cp "$CFG_A" "$CD/config.pb"
check_start "agent with --config in a directory of its own" --interval 3600 --config "$CD/config.pb"
check "A applied from the file" wait_for 10 cmp "$STATE/config.pb" "$CFG_A"
check "status: the file on disk is in force" wait_for 5 field_is config_file_state "in force"
rm -rf "$CD"
mkdir "$CD"
cp "$CFG_B" "$CD/config.pb"
check "directory removed and made again: B applied" wait_for 10 cmp "$STATE/config.pb" "$CFG_B"
mkdir "$T/cfgnew"
cp "$CFG_A" "$T/cfgnew/config.pb"
n1=$(wc -l <"$LOG")
mv "$CD" "$T/cfgold"
mv "$T/cfgnew" "$CD"
check "another directory renamed into place: A applied" wait_for 10 cmp "$STATE/config.pb" "$CFG_A"
check "... by the watch" wait_for 5 log_since "$n1" "--config changed: applying $CD/config.pb"
check "the log says the directory is watched again" grep -q "watching directory $CD again" "$LOG"
# ConfigMap layout: config.pb -> ..data/config.pb, ..data -> ..ts1.
rm "$CD/config.pb"
mkdir "$CD/..ts1" "$CD/..ts2"
cp "$CFG_A" "$CD/..ts1/config.pb"
cp "$CFG_B" "$CD/..ts2/config.pb"
ln -s ..ts1 "$CD/..data"
ln -s ..data/config.pb "$CD/config.pb"
ln -s ..ts2 "$CD/..data_tmp"
mv -T "$CD/..data_tmp" "$CD/..data"
check "ConfigMap '..data' symlink swap: B applied" wait_for 10 cmp "$STATE/config.pb" "$CFG_B"
# A file that is refused: status says the file differs from the config in force.
head -c 300 /dev/urandom >"$T/garbage18"
ln -s ..ts3 "$CD/..data_tmp"
mkdir "$CD/..ts3"
cp "$T/garbage18" "$CD/..ts3/config.pb"
mv -T "$CD/..data_tmp" "$CD/..data"
check "a refused file: status says it differs from the config in force" wait_for 10 sh -c \
	"'$CTL' --socket '$SOCK' --json status | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"config_file_state\"].startswith(\"differs from the config in force: not taken\"), d'"
check "... and B stays in force" cmp "$STATE/config.pb" "$CFG_B"
# A writer that closes between two chunks, the first a prefix that decodes.
rm "$CD/config.pb"
cp "$CFG_B" "$CD/config.pb"
wait_for 10 field_is config_file_state "in force"
n0=$(wc -l <"$LOG")
# Cut A at a top-level field boundary (every field of EdgeDevConfig is
# length-delimited), the longest proper prefix the agent takes.
python3 - "$CFG_A" "$T/cut" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
        if c < 0x80: return v, i
bounds, i = [], 0
while i < len(data):
    _, i = varint(data, i); n, i = varint(data, i); i += n; bounds.append(i)
for k, cut in enumerate(bounds[:-1]):
    open(f"{sys.argv[2]}.{k:02d}", "wb").write(data[:cut])
PY
taken=
for c in $(ls -r "$T"/cut.*); do
	if "$AGENT" apply --dry-run --sysfs-root "$SYS" --state-dir "$T/probe18" --no-netlink \
		--config "$c" >/dev/null 2>&1; then taken=$c; break; fi
done
check "a prefix of A is a config the agent takes ($taken)" test -n "$taken"
cp "$taken" "$T/chunk1"
tail -c +"$(($(stat -c %s "$taken") + 1))" "$CFG_A" >"$T/chunk2"
check "... chunk1 + chunk2 is A" sh -c "cat '$T/chunk1' '$T/chunk2' | cmp - '$CFG_A'"
cat "$T/chunk1" >"$CD/config.pb"
sleep 0.1
cat "$T/chunk2" >>"$CD/config.pb"
check "the whole file applied" wait_for 10 cmp "$STATE/config.pb" "$CFG_A"
sleep 1
check "... and only the whole file: one apply from the watch" \
	test "$(tail -n +"$((n0 + 1))" "$LOG" | grep -c -- '--config changed: applying')" = 1
stop_agent

# 19. "rejected" means nothing changed, also when retiring domain configs
#     fails half way (the probe of this round): going from A to B removes
#     two apps' configs before the first kernel write; the second removal
#     fails (a file mounted over it: EBUSY). The first is gone, so the
#     apply must say "failed after changing the node" (before: "rejected
#     ...: nothing applied"). Then B applies.
S10=$T/state10
apply10() { "$AGENT" apply --sysfs-root "$SYS" --state-dir "$S10" --no-netlink "$@"; }
check "apply A into a tenth state dir" apply10 --config "$CFG_A"
retired=$(cd "$S10/domains" && ls | grep -E '^(2222|5555)' | sort)
check "A has the two configs B retires ($(echo $retired))" test "$(echo "$retired" | wc -l)" = 2
last=$(echo "$retired" | tail -n1)
: >"$T/blank10"
mount --bind "$T/blank10" "$S10/domains/$last"
apply10 --config "$CFG_B" 2>"$T/r10.log"; rc=$?
umount "$S10/domains/$last"
check "a retirement that fails after a removal: exit 1" test "$rc" = 1
check "... says failed after changing the node, not rejected" \
	sh -c "grep -q 'failed after changing the node: .*$last: Device or resource busy' '$T/r10.log' && ! grep -q 'rejected' '$T/r10.log'"
check "then B applies" apply10 --config "$CFG_B"

# 20. A state file system out of inodes is refused before the first kernel
#     write, as one out of blocks is (the probe: the free-space check read
#     only blocks; the apply failed half way on its temp file).
S11=$T/state11
mkdir -p "$S11"
mount -t tmpfs -o size=4m,nr_inodes=64,mode=0700 tmpfs "$S11"
apply11() { "$AGENT" apply --sysfs-root "$SYS" --state-dir "$S11" --no-netlink --domain-dir "$T/dom11" "$@"; }
check "apply A into a state dir on a small tmpfs" apply11 --config "$CFG_A"
i=0
while touch "$S11/fill.$i" 2>/dev/null; do i=$((i + 1)); done
rm -f "$S11/fill.$((i - 1))" "$S11/fill.$((i - 2))" "$S11/fill.$((i - 3))"
snap "$S11" >"$T/snap11.before"
apply11 --config "$CFG_B" 2>"$T/r11.log"; rc=$?
snap "$S11" >"$T/snap11.after"
check "3 inodes free: exit 1" test "$rc" = 1
check "... rejected, naming the inodes" grep -q 'rejected: .*inodes free, the apply needs 8: nothing applied' "$T/r11.log"
check "... sysfs and state unchanged" cmp "$T/snap11.before" "$T/snap11.after"
rm -f "$S11"/fill.*
check "then B applies" apply11 --config "$CFG_B"
umount "$S11"

# 21. The manifest names only files the agent writes (the probe: a line
#     "important.txt", in the current dir's section or under a planted
#     "dir" line, made apply remove that file).
mkdir -p "$T/victim21" && chmod 0700 "$T/victim21"
echo keep >"$S10/domains/important.txt"
echo keep >"$T/victim21/important.txt"
printf 'important.txt\ndir %s\nimportant.txt\n' "$T/victim21" >>"$S10/domains.manifest"
check "apply A with a planted manifest" apply10 --config "$CFG_A"
check "... the domain dir's important.txt is still there" test -e "$S10/domains/important.txt"
check "... the planted dir's important.txt is still there" test -e "$T/victim21/important.txt"
check "... the manifest no longer names it" sh -c "! grep -q important.txt '$S10/domains.manifest'"

# 22. sriov-agent recover never gives a VF a guest may hold to another app
#     (issue 23, 6; the probe: with state.pb corrupt and app dddd's domain
#     config edited to name cccc's VF, recover then apply swapped the two
#     apps' VFs, with only note: lines). Any VF on vfio-pci that the domain
#     configs do not say whose it is makes recover refuse and write nothing.
#     Deleting state.pb instead is refused. A symlink in the domain dir is
#     not followed; a refused file is named with its reason.
fake_node "$SYS" 0 || nok "fake node for 22"
S22=$T/state22 D22=$T/state22/domains
DD=$D22/dddddddd-dddd-4ddd-8ddd-dddddddddddd.kvm.cfg
apply22() { "$AGENT" apply --sysfs-root "$SYS" --state-dir "$S22" --no-netlink "$@"; }
recover22() { "$AGENT" recover --sysfs-root "$SYS" --state-dir "$S22" "$@"; }
corrupt22() { printf '\377' | dd of="$S22/state.pb" bs=1 seek=20 conv=notrunc 2>/dev/null; }
check "apply recover_a" apply22 --config "$FIX/recover_a.pb"
check "apply recover_b: cccc on uplink1 VF 2, dddd on VF 0" apply22 --config "$FIX/recover_b.pb"
check "... dddd's config names VF 0" grep -q 'host = "0000:03:10.0"' "$DD"
cp -a "$D22" "$T/dom22.before"
corrupt22
cp "$S22/state.pb" "$T/corrupt22.pb"
sed -i 's/0000:03:10\.0/0000:03:10.4/' "$DD"
recover22 >"$T/r22.out" 2>&1; rc=$?
check "dddd's config names cccc's VF: recover exits 1" test "$rc" = 1
check "... the contested VF, both files and both apps named" grep -q \
	"^conflict: VF 0000:03:10.4 (PF uplink1 VF 2) is on vfio-pci (a guest may hold it) and kept for no app: named by $D22/cccccccc-cccc-4ccc-8ccc-cccccccccccc.kvm.cfg (app cccccccc-cccc-4ccc-8ccc-cccccccccccc) and by $DD (app dddddddd-dddd-4ddd-8ddd-dddddddddddd)" \
	"$T/r22.out"
check "... dddd's own VF, named by no file, is a conflict too" \
	grep -q "^conflict: VF 0000:03:10.0 (PF uplink1 VF 0) is on vfio-pci .*: named by no domain config$" "$T/r22.out"
check "... cccc and dddd: no VF (never someone else's)" \
	test "$(grep -c '^app \(cccc\|dddd\)[-a-z0-9]* adapter uplink1#0: PF uplink1: no VF: ' "$T/r22.out")" = 2
check "... nothing written: state.pb is the refused file" cmp "$S22/state.pb" "$T/corrupt22.pb"
apply22 --config "$FIX/recover_b.pb" 2>/dev/null
check "... so apply still refuses (no swap): exit 1" test $? = 1
check "... cccc's config still names VF 2" grep -q 'host = "0000:03:10.4"' "$D22/cccccccc-cccc-4ccc-8ccc-cccccccccccc.kvm.cfg"
# The obvious way out, state.pb deleted and the config applied again,
# would give the VFs out in config order: refused too.
mv "$S22/state.pb" "$T/state22.pb"
apply22 --config "$FIX/recover_b.pb" 2>"$T/a22lost.log"; rc=$?
check "state.pb deleted: apply refuses (exit 1), the state was lost" \
	sh -c "test $rc = 1 && grep -q 'state.pb: missing, while .*config.pb .*: the state was lost' '$T/a22lost.log'"
check "... no state written, cccc's config still names VF 2" sh -c \
	"test ! -e '$S22/state.pb' && grep -q 'host = \"0000:03:10.4\"' '$D22/cccccccc-cccc-4ccc-8ccc-cccccccccccc.kvm.cfg'"
mv "$T/state22.pb" "$S22/state.pb"
# The evidence repaired (dddd's config names the VF its guest holds):
# recover keeps both, the apply writes nothing.
cp "$T/dom22.before/$(basename "$DD")" "$DD"
recover22 >"$T/r22b.out" 2>&1; rc=$?
check "dddd's config repaired: recover exits 0" sh -c "test $rc = 0 || { cat '$T/r22b.out'; false; }"
apply22 --config "$FIX/recover_b.pb" 2>"$T/a22.log"
check "... the apply writes nothing" grep -q "0 sysfs and 0 netlink writes" "$T/a22.log"
check "... the domain configs are byte-identical" diff -r "$T/dom22.before" "$D22"
# A symlink named as dddd's config, to a file outside the domain dir that
# names dddd's VF: not followed, and said.
mv "$DD" "$T/outside.cfg"
ln -s "$T/outside.cfg" "$DD"
corrupt22
recover22 --dry-run >"$T/r22c.out" 2>&1; rc=$?
check "a symlink as dddd's config: not followed (exit 1, not kept)" \
	sh -c "test $rc = 1 && ! grep -q '^app dddd.*: kept' '$T/r22c.out'"
check "... dddd's line says the symlink was refused" grep -q \
	"^app dddddddd-dddd-4ddd-8ddd-dddddddddddd adapter uplink1#0: PF uplink1: no VF: its VF is not known: its domain config $DD was not used: a symlink: refused (not followed)$" \
	"$T/r22c.out"
# A config with a second VF at position 0: named, with the reason.
rm "$DD"
{ cat "$T/outside.cfg"; printf '\n[device "vf0"]\n  driver = "vfio-pci"\n  host = "0000:03:10.6"\n'; } >"$DD"
recover22 --dry-run >"$T/r22d.out" 2>&1
check "a second VF at position 0: dddd's line says so, not 'no domain config found'" grep -q \
	"^app dddddddd-dddd-4ddd-8ddd-dddddddddddd adapter uplink1#0: PF uplink1: no VF: its VF is not known: its domain config $DD was not used: line [0-9]*: a second VF at position 0$" \
	"$T/r22d.out"
check "... and no line says no domain config was found" sh -c "! grep -q 'no domain config of app dddd' '$T/r22d.out'"
# 23. A --socket in a directory other users may write (issue 23, probe 1):
#     a user's listener there made `run` exit ("another agent is
#     listening") and took root's push, answering a fake "applied". The
#     agent refuses such a socket dir (sr_dir_trusted, as for the state
#     dir); sriovctl talks only to a listener running as root or as itself
#     (SO_PEERCRED), before it sends anything.
PUB=$T/pub23
mkdir -p "$PUB" && chmod 1777 "$PUB"
nobody /usr/bin/python3 -c '
import os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(4)
print(os.getpid(), flush=True)
got = open(sys.argv[2], "a")
while True:
    c, _ = s.accept()
    c.settimeout(2)
    n = 0
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            n += len(b)
    except OSError:
        pass
    got.write("%d\n" % n); got.flush()
    reply = b"outcome=applied\nexit=0\nerrno=0\nresult=applied: fake\n"
    try:
        c.sendall(struct.pack(">I", len(reply) + 1) + b"O" + reply)
    except OSError:
        pass
    c.close()' "$PUB/agent.sock" "$PUB/got" >"$T/pub23.up" 2>"$T/pub23.err" &
fake23=$!
wait_for 10 test -s "$T/pub23.up"
check "uid 65534 listens on $PUB/agent.sock" test -S "$PUB/agent.sock"
lpid=$(cat "$T/pub23.up")
"$AGENT" run --socket "$PUB/agent.sock" --sysfs-root "$SYS" --state-dir "$T/state23" --no-netlink \
	</dev/null >/dev/null 2>"$T/run23.log" &
run23=$!
for _ in $(seq 100); do kill -0 "$run23" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$run23" 2>/dev/null; then kill -9 "$run23"; nok "run with a socket in a 1777 dir: still running"; fi
wait "$run23"; rc=$?
check "run with a socket in a 1777 dir: exit 1 (rc $rc)" test "$rc" = 1
check "... refuses the socket dir, naming path, owner and mode" \
	grep -q "socket dir $PUB: $PUB (owner uid 0, mode 1777): writable by other users" "$T/run23.log"
check "... the user's socket is still theirs" test "$(stat -c %u "$PUB/agent.sock")" = 65534
"$CTL" --socket "$PUB/agent.sock" push "$CFG_A" >"$T/push23.out" 2>&1; rc=$?
check "sriovctl push to the user's listener: exit 1 (rc $rc)" test "$rc" = 1
check "... names the socket, the listener's uid and pid" \
	grep -q "$PUB/agent.sock: the process listening there (pid $lpid) runs as uid 65534" "$T/push23.out"
check "... prints no fake \"applied\"" sh -c "! grep -q 'applied: fake' '$T/push23.out'"
"$CTL" --socket "$PUB/agent.sock" status >"$T/status23.out" 2>&1; rc=$?
check "sriovctl status to it: exit 1, refused the same way" \
	sh -c "test $rc = 1 && grep -q 'runs as uid 65534' '$T/status23.out'"
check "... the listener received no byte" sh -c "test \"\$(sort -u '$PUB/got')\" = 0"
kill "$fake23" 2>/dev/null; wait "$fake23" 2>/dev/null
mkdir -p "$T/user23" && chown 65534:65534 "$T/user23" && chmod 755 "$T/user23"
"$AGENT" run --socket "$T/user23/agent.sock" --sysfs-root "$SYS" --state-dir "$T/state23" \
	--no-netlink </dev/null >/dev/null 2>"$T/run23b.log" &
run23=$!
for _ in $(seq 100); do kill -0 "$run23" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$run23" 2>/dev/null; then kill -9 "$run23"; nok "run with a socket in a user's dir: still running"; fi
wait "$run23"; rc=$?
check "run with a socket in a dir uid 65534 owns: exit 1, says so (rc $rc)" \
	grep -q "socket dir $T/user23: $T/user23 (owner uid 65534, mode 0755): owned by another user" "$T/run23b.log"
check "... made no socket there" test ! -e "$T/user23/agent.sock"

done_tests
