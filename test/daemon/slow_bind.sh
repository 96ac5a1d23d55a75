#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A VF bind that does not return (a driver's probe or remove runs in the
# writer's thread: drivers_probe_store and unbind_store in
# drivers/base/bus.c; vfio-pci's remove waits for the VF's user,
# vfio_unregister_group_dev in drivers/vfio/vfio_main.c): the daemon
# answers status and pushes meanwhile, writes nothing more to the PF,
# reports it busy with the bind it waits for, and binds the VF once the
# write returns. The write is held by a FIFO in place of the VF's
# driver_override (its open waits for a reader), the first of the bind's
# writes: fake-sysfs run answers writes after they return, it cannot hold
# one. Usage: slow_bind.sh BUILD_DIR
set -uo pipefail
B=${1:?build dir}
. "$(dirname "$0")/lib.sh"
now_ms() { date +%s%3N; }

VF=0000:03:10.4 # VF 2 of uplink1 (0000:03:00.0): app 7777 of six_requests
fake_node "$SYS" 0 || { echo "not ok - fake sysfs"; exit 1; }
check_start "agent starts (interval 300 s)" --interval 300
check "push A: applied" ctl push "$CFG_A"
OVR=$SYS/sys/bus/pci/devices/$VF/driver_override
check "VF $VF is there, on no driver" test -e "$OVR" -a ! -e "${OVR%/*}/driver"

rm -f "$OVR" && mkfifo "$OVR"
t0=$(now_ms)
# Bounded: a daemon frozen by the write would never answer.
out=$(timeout 60 "$CTL" --socket "$SOCK" push "$FIX/six_requests.pb" 2>&1); rc=$?
t=$(($(now_ms) - t0))
echo "# push six_requests answered after ${t} ms (exit $rc): $out"
check "push while the bind hangs: answered, exit 3 (applied with errors)" \
	test "$rc" = 3 -a "${out#applied with errors:}" != "$out"
check "push: the reply names the busy PF and the bind it waits for" \
	grep -q "busy: PF 0000:03:00.0 binding VF $VF to vfio-pci since" <<<"$out"

t0=$(now_ms)
timeout 60 "$CTL" --socket "$SOCK" status --json >"$T/status.json"; rc=$?
t=$(($(now_ms) - t0))
echo "# status answered in ${t} ms while the bind hangs"
check "status while the bind hangs: answered" test "$rc" = 0
check "status: busy_pfs 1, busy names the PF, the VF and the driver" json \
	"assert d['busy_pfs'] == 1 and 'PF 0000:03:00.0 binding VF $VF to vfio-pci' in d['busy'], d" \
	"$T/status.json"

writes=$(grep -c 'sysfs write .*0000:03:' "$LOG")
out=$(timeout 60 "$CTL" --socket "$SOCK" push "$FIX/six_requests.pb" 2>&1); rc=$?
check "the same push again: answered, exit 3" test "$rc" = 3
check "... still busy with the bind" grep -q 'busy: PF 0000:03:00.0 binding' <<<"$out"
check "no write to the busy PF's devices meanwhile" \
	test "$(grep -c 'sysfs write .*0000:03:' "$LOG")" = "$writes"
check "status answered again" timeout 60 "$CTL" --socket "$SOCK" status

# Release: a regular driver_override for the emulator's probe, then a
# reader for the held write.
mv "$OVR" "$OVR.held" && printf 'vfio-pci\n' >"$OVR"
cat "$OVR.held" >/dev/null
rm -f "$OVR.held"
check "released: VF $VF on vfio-pci" wait_for 30 \
	sh -c "test \"\$(basename \"\$(readlink '${OVR%/*}/driver')\")\" = vfio-pci"
check "... no PF busy" wait_for 30 field_is busy_pfs 0
check "... no reservation in error" wait_for 30 field_is reservations_in_error 0
check "log: the bind's end and the reconcile it started" sh -c \
	"grep -q 'PF 0000:03:00.0: binding VF $VF to vfio-pci ended after' '$LOG' && grep -q 'reconcile (a slow kernel write returned)' '$LOG'"
stop_agent TERM
check "SIGTERM: exit 0" test "$agent_rc" = 0

done_tests
