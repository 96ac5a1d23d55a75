#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A PF driver that does not return from a sriov_numvfs write (fake-sysfs
# run holds it while the device dir has .fake-hold, as a PF reset in
# i40e_pci_sriov_configure or ixgbe with many VFs would): the daemon answers
# status and pushes meanwhile, applies the other PF, writes nothing more to
# the busy one, reports it, and applies it once the write returns; stopped
# while a write is held, it says the write cannot be cancelled.
# Usage: slow.sh BUILD_DIR   (SR_SLOW_HOLD_S: how long the write is held, 60)
set -uo pipefail
B=${1:?build dir}
. "$(dirname "$0")/lib.sh"
HOLD_S=${SR_SLOW_HOLD_S:-60}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
now_ms() { date +%s%3N; }

fake_node "$SYS" 0 || { echo "not ok - fake sysfs"; exit 1; }
# --interval 300: nothing but the write's end may bring the PF back.
check_start "agent starts (interval 300 s)" --interval 300
check "push A: applied" ctl push "$CFG_A"
check "PF 03 has 4 VFs" numvfs_is 0000:03:00.0 4

# B asks uplink1 (0000:03:00.0) 4 -> 5: the write of 0 never returns.
HOLD=$SYS/sys/bus/pci/devices/0000:03:00.0/.fake-hold
: >"$HOLD"
t_hold=$(now_ms)
out=$(ctl push "$CFG_B" 2>&1); rc=$?
t=$(($(now_ms) - t_hold))
echo "# push B answered after ${t} ms: $out"
check "push B on the hung PF: answered, exit 3 (applied with errors), not rejected" \
	test "$rc" = 3 -a "${out#applied with errors:}" != "$out"
check "push B: the reply names the busy PF and its write" \
	grep -q 'busy: PF 0000:03:00.0 writing 5 to sriov_numvfs since' <<<"$out"
check "config B is in force (the node changed)" cmp "$STATE/config.pb" "$CFG_B"

t0=$(now_ms)
ctl status --json >"$T/status.json"; rc=$?
t=$(($(now_ms) - t0))
echo "# status answered in ${t} ms while the write hangs"
check "status while the write hangs: answered" test "$rc" = 0
check "status: busy_pfs 1, busy names the PF and the count" json \
	'assert d["busy_pfs"] == 1 and "PF 0000:03:00.0 writing 5 to sriov_numvfs" in d["busy"], d' "$T/status.json"
check "status: daemon_state busy" json 'assert d["daemon_state"] == "busy", d' "$T/status.json"
check "status text shows busy" sh -c "'$CTL' --socket '$SOCK' status | grep -q '^busy  *PF 0000:03:00.0 writing 5'"

# C: B with uplink2 (0000:04:00.0) 2 -> 4 VFs (cbattr counts are powers of two): applied while 03 hangs.
sed 's/value: "2"/value: "4"/' "$SRC/test/daemon/config_b.txtpb" |
	protoc --proto_path="$SRC/proto" --encode=org.lfedge.eve.config.EdgeDevConfig eveconfig.proto \
		>"$T/config_c.pb"
writes=$(grep -c 'sysfs write .*0000:03:00.0/sriov_numvfs' "$LOG")
t0=$(now_ms)
out=$(ctl push "$T/config_c.pb" 2>&1); rc=$?
t=$(($(now_ms) - t0))
echo "# push C answered in ${t} ms: $out"
check "push C (the other PF) while 03 hangs: answered, exit 3" test "$rc" = 3
check "push C: PF 04 applied: 4 VFs" numvfs_is 0000:04:00.0 4
check "no second sriov_numvfs write to the busy PF" \
	test "$(grep -c 'sysfs write .*0000:03:00.0/sriov_numvfs' "$LOG")" = "$writes"
check "the busy PF still has its 4 VFs (the driver has not acted)" \
	test "$(ls -d "$SYS"/sys/bus/pci/devices/0000:03:00.0/virtfn* | wc -l)" = 4

# Held for HOLD_S in all; status keeps answering.
answered=0 asked=0
while [ $(($(now_ms) - t_hold)) -lt $((HOLD_S * 1000)) ]; do
	asked=$((asked + 1))
	ctl status >/dev/null 2>&1 && answered=$((answered + 1))
	sleep 5
done
check "status answered each time during the ${HOLD_S} s hold ($answered of $asked)" test "$answered" = "$asked"
check "still busy at the end of the hold" field_is busy_pfs 1

rm -f "$HOLD"
check "released: PF 03 gets its 5 VFs" wait_for 60 numvfs_is 0000:03:00.0 5
check "... and is applied: no PF busy" wait_for 30 field_is busy_pfs 0
check "... the reservations of C in force, none in error" wait_for 30 field_is reservations_in_error 0
check "log: the write's end and the reconcile it started" sh -c \
	"grep -q 'PF 0000:03:00.0: writing 5 to sriov_numvfs ended after' '$LOG' && grep -q 'reconcile (a slow kernel write returned)' '$LOG'"
stop_agent TERM
check "SIGTERM: exit 0" test "$agent_rc" = 0

# Stopped while a write is outstanding: the documented limit (it cannot be
# cancelled) is said when it applies.
check_start "agent starts again" --interval 300
: >"$HOLD"
ctl push "$CFG_A" >/dev/null 2>&1
check "push A on the held PF: busy" field_is busy_pfs 1
mark=$(wc -l <"$LOG")
stop_agent TERM
rm -f "$HOLD"
check "SIGTERM while busy: exit 0" test "$agent_rc" = 0
check "SIGTERM while busy: the log says the write cannot be cancelled" \
	log_since "$mark" "stopping while PF 0000:03:00.0 writing 4 to sriov_numvfs since"

done_tests
