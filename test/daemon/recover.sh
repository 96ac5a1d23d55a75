#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sriov-agent recover (issue 23, finding 6): a refused state.pb is rebuilt
# from the node, and every running app keeps the VF it holds.
#   1. recover_a then recover_b applied: bbbb and cccc hold VFs 1 and 2 of
#      uplink1, dddd VF 0 (the free one); a node with no state would give
#      them 0, 1, 2 (config order): the control below shows the domain
#      configs a plain re-apply without state.pb would rewrite.
#   2. state.pb corrupted: apply, the daemon and sriovctl refuse, naming the
#      file, the reason and the recovery command; recover refuses to run beside the
#      daemon (the state dir's lock).
#   3. recover --dry-run changes nothing; recover keeps the refused file
#      aside (same bytes) and writes a state that loads; applying recover_b again
#      then writes nothing: the domain configs stay byte-identical, every app
#      on its VF, no kernel write.
#   4. An app with no domain config while the VF its guest held is still on
#      vfio-pci: recover refuses (no app may get that VF), says which VF,
#      that no file names it, and what to do, and writes nothing. Once the
#      VF is given back to the host, the app gets a free VF after the others.
#   5. A domain dir other users can write is not believed.
#   6. A full state disk: recover fails, state.pb is still the refused file.
# Usage: recover.sh BUILD_DIR
set -uo pipefail
B=${1:?build dir}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
CFG_RA=$FIX/recover_a.pb CFG_RB=$FIX/recover_b.pb
DOM=$STATE/domains
recover() { "$AGENT" recover --sysfs-root "$SYS" --state-dir "$STATE" "$@"; }
state_ok() { ctl list >/dev/null; }
# flip the 21st byte of a file
corrupt() { printf '\377' | dd of="$1" bs=1 seek=20 conv=notrunc 2>/dev/null; }

fake_node "$SYS" 0 || { nok "fake node"; done_tests; }

# 1.
check "apply recover_a" apply --config "$CFG_RA"
check "apply recover_b" apply --config "$CFG_RB"
before=$(mapping)
check "bbbb, cccc kept VFs 1, 2 of uplink1, dddd took VF 0 ($before)" test "$before" = \
	"bbbb=0000:03:00.0/1 bbbb=0000:04:00.0/0 cccc=0000:03:00.0/2 dddd=0000:03:00.0/0 eeee=0000:04:00.0/1"
cp -a "$DOM" "$T/dom.before"
cp -a "$STATE" "$T/naive"
rm "$T/naive/state.pb" "$T/naive/config.pb"
"$AGENT" apply --sysfs-root "$SYS" --state-dir "$T/naive" --no-netlink --config "$CFG_RB" --dry-run \
	2>"$T/naive.log"
check "control: with no state at all an apply would rewrite bbbb's, cccc's and dddd's domain configs" \
	test "$(grep -c 'plan: would write domain config .*/\(bbbb\|cccc\|dddd\)[-a-z0-9]*\.kvm\.cfg' "$T/naive.log")" = 3

# 2.
corrupt "$STATE/state.pb"
cp "$STATE/state.pb" "$T/corrupt.pb"
apply --config "$CFG_RB" 2>"$T/refused.log"; rc=$?
check "corrupt state.pb: apply exit 1" test "$rc" = 1
check "the refusal names the file and the reason" grep -qF "$STATE/state.pb: state: " "$T/refused.log"
check "the refusal says: wrong checksum" grep -q "wrong checksum: corrupt" "$T/refused.log"
check "the refusal names the recovery command" \
	grep -qF "sriov-agent recover --state-dir $STATE --dry-run" "$T/refused.log"
ctl list >/dev/null 2>"$T/list.log"; rc=$?
check "sriovctl list on the corrupt state: exit 1, names the recovery command" \
	sh -c "test $rc = 1 && grep -qF 'sriov-agent recover --state-dir $STATE --dry-run' '$T/list.log'"
check_start "daemon starts on the corrupt state" --config "$CFG_RB" --interval 3600
check "daemon: its reconcile names the recovery command" \
	wait_for 10 grep -qF "sriov-agent recover --state-dir $STATE" "$LOG"
recover >"$T/beside.out" 2>"$T/beside.log"; rc=$?
check "recover beside the daemon: exit 1, the lock names it" \
	sh -c "test $rc = 1 && grep -q 'in use by another sriov-agent' '$T/beside.log'"
stop_agent
check "daemon stops: exit 0" test "$agent_rc" = 0

# 3.
recover --dry-run >"$T/dry.out" 2>&1; rc=$?
check "recover --dry-run: exit 0" test "$rc" = 0
check "recover --dry-run: the refused file and why" grep -q "^refused: .*wrong checksum" "$T/dry.out"
check "recover --dry-run: 5 adapters kept, each from its domain config" \
	test "$(grep -c ': kept: named by .*\.kvm\.cfg$' "$T/dry.out")" = 5
check "recover --dry-run: dddd kept on uplink1 VF 0" \
	grep -q "^app dddddddd-dddd-4ddd-8ddd-dddddddddddd adapter uplink1#0: PF uplink1 VF 0 (0000:03:10.0): kept" "$T/dry.out"
check "recover --dry-run: state.pb untouched" cmp "$STATE/state.pb" "$T/corrupt.pb"
check "recover --dry-run: nothing moved aside" sh -c "! ls '$STATE' | grep -q refused"
recover >"$T/rec.out" 2>&1; rc=$?
check "recover: exit 0" sh -c "test $rc = 0 || { cat '$T/rec.out'; false; }"
moved=$(ls "$STATE"/state.pb.refused-* 2>/dev/null)
check "recover: the refused file kept aside, its bytes as they were" cmp "$moved" "$T/corrupt.pb"
check "recover: says where it kept it" grep -qF "kept the refused file as $moved" "$T/rec.out"
check "recover: the new state.pb loads" state_ok
check "recover: the reservations as before ($(mapping))" test "$(mapping)" = "$before"
recover >"$T/again.out" 2>&1; rc=$?
check "recover on an accepted state: exit 0, nothing to recover" \
	sh -c "test $rc = 0 && grep -q 'is accepted (5 reservation(s)): nothing to recover' '$T/again.out'"
check "recover on an accepted state: nothing else moved" test "$(ls "$STATE" | grep -c refused)" = 1
apply --config "$CFG_RB" 2>"$T/reapply.log"; rc=$?
check "apply recover_b again: exit 0" test "$rc" = 0
check "apply recover_b again: no kernel write" grep -q "0 sysfs and 0 netlink writes" "$T/reapply.log"
check "every app kept its VF ($(mapping))" test "$(mapping)" = "$before"
check "the domain configs are byte-identical" diff -r "$T/dom.before" "$DOM"

# 3b. state.pb deleted by hand (the obvious recovery, issue 23, 6), the
#     config in force still there: the state was lost, not never made.
#     Apply refuses as for a corrupt file; recover rebuilds it.
rm "$STATE/state.pb"
apply --config "$CFG_RB" 2>"$T/lost.log"; rc=$?
check "state.pb deleted, config.pb there: apply exit 1" test "$rc" = 1
check "... says the state was lost" \
	grep -qF "$STATE/state.pb: missing, while $STATE/config.pb (saved after it by every apply) is there: the state was lost" "$T/lost.log"
check "... names the recovery command" grep -qF "sriov-agent recover --state-dir $STATE --dry-run" "$T/lost.log"
check "... nothing written: still no state.pb" test ! -e "$STATE/state.pb"
recover >"$T/lost.out" 2>&1; rc=$?
check "recover the lost state: exit 0" sh -c "test $rc = 0 || { cat '$T/lost.out'; false; }"
check "... says why" grep -q "^refused: $STATE/state.pb: missing, while" "$T/lost.out"
check "... every app on its VF ($(mapping))" test "$(mapping)" = "$before"
apply --config "$CFG_RB" 2>"$T/lost2.log"
check "... the apply then writes nothing" grep -q "0 sysfs and 0 netlink writes" "$T/lost2.log"
check "... the domain configs are byte-identical" diff -r "$T/dom.before" "$DOM"

# 4.
mv "$DOM/dddddddd-dddd-4ddd-8ddd-dddddddddddd.kvm.cfg" "$T/dddd.cfg"
corrupt "$STATE/state.pb"
cp "$STATE/state.pb" "$T/corrupt4.pb"
recover >"$T/nodom.out" 2>&1; rc=$?
check "no domain config for dddd, its VF on vfio-pci: exit 1" test "$rc" = 1
check "dddd: no VF, and why" \
	grep -q "^app dddddddd-dddd-4ddd-8ddd-dddddddddddd adapter uplink1#0: PF uplink1: no VF: its VF is not known: no domain config of app dddd" "$T/nodom.out"
check "the VF on vfio-pci no app was given is a conflict, named" \
	grep -q "^conflict: VF 0000:03:10.0 (PF uplink1 VF 0) is on vfio-pci (a guest may hold it) and kept for no app: named by no domain config$" "$T/nodom.out"
check "the count says so" grep -q "^4 adapter(s) keep the VF they hold, 1 have no VF: their VF is not known" "$T/nodom.out"
check "says what to do" grep -q "^what to do: find the app whose guest holds each VF above" "$T/nodom.out"
check "the refusal: nothing written" grep -q "recover: refused: 1 VF(s) on a passthrough driver kept for no app .*; nothing written$" "$T/nodom.out"
check "state.pb is still the refused file, nothing set aside" \
	sh -c "cmp '$STATE/state.pb' '$T/corrupt4.pb' && test \$(ls '$STATE' | grep -c refused) = 1"
# The app stopped, its VF given back to the host: no guest holds it.
echo 0000:03:10.0 >"$SYS/sys/bus/pci/drivers/vfio-pci/unbind"
check "VF 0 given back (off vfio-pci)" wait_for 10 drv_not 0000:03:10.0 vfio-pci
recover --dry-run >"$T/nodom2.out" 2>&1; rc=$?
check "then: exit 0" sh -c "test $rc = 0 || { cat '$T/nodom2.out'; false; }"
check "dddd: a free VF, after the others, and why" \
	grep -q "^app dddddddd-dddd-4ddd-8ddd-dddddddddddd adapter uplink1#0: PF uplink1 VF 0 (0000:03:10.0): a free VF: its VF is not known: no domain config of app dddd" "$T/nodom2.out"
check "the count says so" grep -q "^4 adapter(s) keep the VF they hold, 1 get a free VF after them" "$T/nodom2.out"

# 5. A domain dir another user can change says nothing about the apps.
chmod 0777 "$DOM"
recover --dry-run >"$T/untrusted.out" 2>&1; rc=$?
chmod 0700 "$DOM"
check "domain dir writable by others: refused, exit 1" \
	sh -c "test $rc = 1 && grep -q 'its domain configs cannot say which VF an app holds: domain dir' '$T/untrusted.out'"
check "recover --dry-run names the config in force by its path" \
	grep -qF "recovering from the node: config $STATE/config.pb (the config in force)" "$T/nodom.out"


# 5b. The wrong --hypervisor: no file read, and the output asks.
recover --dry-run --hypervisor xen >"$T/xen.out" 2>&1
check "--hypervisor xen on KVM configs: says no <uuid>.xen.cfg was read" \
	grep -q "^note: no domain config (<uuid>.xen.cfg) was read in $DOM: are --domain-dir and --hypervisor" "$T/xen.out"
# No config in force and no --config: said, nothing written.
mv "$STATE/config.pb" "$T/config.pb"
recover --dry-run >"$T/nocfg.out" 2>&1; rc=$?
mv "$T/config.pb" "$STATE/config.pb"
check "no config in force: exit 1, asks for --config" \
	sh -c "test $rc = 1 && grep -q 'no config in force (give the config the apps run with: --config FILE)' '$T/nocfg.out'"

# 6. A full state disk: the new state cannot be written. state.pb is still
#    the refused file, never no file (an apply would take that for "no VF
#    held" and reserve in config order).
S6=$T/state6
mkdir -p "$S6"
if mount -t tmpfs -o size=64k,mode=0700 tmpfs "$S6"; then
	cp -a "$STATE/." "$S6/"
	corrupt "$S6/state.pb"
	cp "$S6/state.pb" "$T/corrupt6.pb"
	dd if=/dev/zero of="$S6/fill" bs=4k 2>/dev/null
	"$AGENT" recover --sysfs-root "$SYS" --state-dir "$S6" >"$T/full.out" 2>&1; rc=$?
	check "full state disk: recover exits 1 (rc $rc)" test "$rc" = 1
	check "full state disk: the failed write is named" grep -q "No space left on device" "$T/full.out"
	check "full state disk: state.pb is still the refused file" cmp "$S6/state.pb" "$T/corrupt6.pb"
	umount "$S6"
else
	nok "cannot mount a tmpfs (the full state disk check needs root)"
fi

done_tests
