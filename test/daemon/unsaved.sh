#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A reconcile that must change a record while the state cannot be written
# (issue 23: "when the state cannot be written the affected reservations are
# marked in error rather than reported clean"). The save fails through the
# fault hook (SR_FAULT=before-save:1:EIO, agent/daemon/fault.c), as on a failing
# disk: a VF that lost its IOMMU group and its binding makes the reconcile
# record an error, the save fails, and the daemon counts every reservation
# in error (status reservations_in_error, reconcile_result), never clean.
# Usage: unsaved.sh BUILD_DIR
set -uo pipefail
B=${1:?build dir}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
VF=0000:03:10.0

fake_node "$SYS" 0 || { nok "fake node"; done_tests; }
check "apply A (no fault)" apply --config "$CFG_A"
n=$(ctl list --json | python3 -c 'import json,sys; print(sum(1 for v in json.load(sys.stdin) if v["app"]))')
check "A holds $n reservations" test "$n" -gt 1
SR_FAULT=bogus:1:EIO "$AGENT" apply --sysfs-root "$SYS" --state-dir "$STATE" --config "$CFG_A" \
	2>"$T/bogus.log"
check "SR_FAULT with an unknown point: refused" grep -q "SR_FAULT \"bogus:1:EIO\": allowed POINT\[:N\[:ERRNO\]\]" "$T/bogus.log"
SR_FAULT=before-save:1:EPERM "$AGENT" apply --sysfs-root "$SYS" --state-dir "$STATE" --config "$CFG_A" \
	2>"$T/eperm.log"
check "SR_FAULT with an unknown ERRNO: refused" grep -q "ERRNO \"EPERM\": allowed EIO, ENOSPC, EROFS" "$T/eperm.log"

# The start reconciles A: no record changes, no save, the fault never fires.
SR_FAULT=before-save:1:EIO check_start "daemon with every state save failing" --config "$CFG_A" --interval 3600
check "start: 0 in error" field_is reservations_in_error 0
cp "$STATE/state.pb" "$T/state.before"
rm -f "$SYS/sys/bus/pci/devices/$VF/iommu_group"
echo "$VF" >"$SYS/sys/bus/pci/drivers/vfio-pci/unbind"
check "VF $VF unbound by hand" wait_for 5 drv_not "$VF" vfio-pci
mark=$(wc -l <"$LOG")
kill -HUP "$agent_pid"
check "the reconcile failed after changing the node: the state is not saved" \
	wait_for 10 log_since "$mark" "the state is not saved: all $n reservation(s) counted in error until it is"
check "the log names the failed save" log_since "$mark" "state.pb: not saved: Input/output error (fault injected at before-save, pass 1 of this process)"
check "status: all $n reservations in error, not 1, not 0" field_is reservations_in_error "$n"
status_says() { ctl status --json | grep -qF -- "$1"; }
check "status reconcile_result says so" status_says "counted in error until it is"
check "state.pb as it was (never written)" cmp "$STATE/state.pb" "$T/state.before"
stop_agent
check "daemon stops: exit 0" test "$agent_rc" = 0

# SR_FAULT's N counts the process's passes, and so does its message (issue
# 23, probe 3): the push of B passes before-save for the first time, the
# push of A for the second, while each is its apply's first pass.
fake_node "$SYS" 0 || nok "fake node"
rm -rf "$STATE"
check "a new node, A applied (no fault)" apply --config "$CFG_A"
SR_FAULT=before-save:2:EIO check_start "daemon with the second state save failing" \
	--config "$CFG_A" --interval 3600
check "push B: saved (pass 1)" ctl push "$CFG_B"
mark=$(wc -l <"$LOG")
ctl push "$CFG_A" >"$T/push2.out" 2>&1
check "push A: the message names the process's pass 2, not the apply's 1" \
	grep -qF "fault injected at before-save, pass 2 of this process" "$T/push2.out"
check "the log says the same" log_since "$mark" "fault injected at before-save, pass 2 of this process"
stop_agent
check "daemon stops: exit 0" test "$agent_rc" = 0

# A push that fails after changing the node (issue 23's second probe):
# status counts what state.pb then holds, every reservation in error until
# an apply succeeds, not the 0 of the daemon that had no config.
fake_node "$SYS" 0 || nok "fake node"
rm -rf "$STATE"
SR_FAULT=after-domains:1:EIO check_start "daemon with no config, its first domain configs failing" \
	--interval 3600
ctl push "$CFG_A" >"$T/push3.out" 2>&1
check "push A: failed after changing the node" grep -qF "failed after changing the node" "$T/push3.out"
n=$(ctl list --json | python3 -c 'import json,sys; print(sum(1 for v in json.load(sys.stdin) if v["app"]))')
check "state.pb holds A's reservations ($n)" test "$n" -gt 1
check "status: the $n reservations state.pb holds, not 0" field_is reservations "$n"
check "status: all $n in error until an apply succeeds" field_is reservations_in_error "$n"
stop_agent
check "daemon stops: exit 0" test "$agent_rc" = 0

done_tests
