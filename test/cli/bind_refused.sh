#!/usr/bin/env bash
# Process-level: a passthrough driver that never takes the VFs. 8 PFs x 64
# VFs (512 apps, one VF each) on a fake sysfs whose driver emulator runs in
# another process (fake-sysfs run) and whose vfio-pci refuses every device;
# sriov-agent apply with the default --hypervisor kvm. The apply must end
# with every VF in its error state and exit 3, the refusal reported once per
# PF, not once per VF. The binds share one deadline (10 s), so the apply takes
# about that; the bound asserted here (SR_BIND_REFUSED_LIMIT, 120 s) only
# proves it ends, the timing itself is a bench row (bench/run.sh). Before the
# shared deadline each VF waited 10 s: 512 x 10 s.
# Usage: bind_refused.sh BUILD_DIR [SOURCE_DIR]
set -uo pipefail
B=${1:?build dir}
S=${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
AGENT=$B/agent/sriov-agent CTL=$B/agent/sriovctl FAKE=$B/test/fake-sysfs
limit=${SR_BIND_REFUSED_LIMIT:-120}
pfs=8 vfs=64
T=$(mktemp -d /tmp/sr-bindref-XXXXXX)
drv_pid=
cleanup() { [ -n "$drv_pid" ] && kill "$drv_pid" 2>/dev/null; wait 2>/dev/null; [ -n "${SR_KEEP:-}" ] || rm -rf "$T"; }
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
nok() { fail=$((fail + 1)); echo "not ok - $*"; }
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else nok "$d"; fi; }

args=()
for ((i = 0; i < pfs; i++)); do
	args+=(--pf "pci=0000:$(printf %02x $((0x10 + i))):00.0,ifname=bench$i,driver=igb,totalvfs=$vfs,vfdriver=igbvf")
done
"$FAKE" create "$T/sys" --iommu --driver vfio-pci:refuse "${args[@]}" || exit 1
python3 "$S/bench/gen_config.py" --pfs $pfs --vfs $vfs >"$T/config.txt" &&
	protoc --proto_path="$S/proto" --encode=org.lfedge.eve.config.EdgeDevConfig \
		eveconfig.proto <"$T/config.txt" >"$T/config.pb" || exit 1
"$FAKE" run "$T/sys" 2>"$T/driver.log" &
drv_pid=$!
for _ in $(seq 100); do [ -f "$T/sys/.fake-driver.pid" ] && break; sleep 0.05; done

start=$(date +%s%N)
timeout "$limit" "$AGENT" apply --config "$T/config.pb" --no-netlink --sysfs-root "$T/sys" \
	--state-dir "$T/state" 2>"$T/apply.log"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
echo "# apply: exit $rc after $ms ms (SR_BIND_REFUSED_LIMIT ${limit} s)"
check "the apply ends within ${limit} s (exit $rc, not the timeout's 124)" test "$rc" != 124
check "exit status 3: applied, some apps without their VF" test "$rc" = 3
check "the VFs were made: $pfs x $vfs" \
	test "$(for f in "$T"/sys/sys/bus/pci/devices/0000:1?:00.0/sriov_numvfs; do cat "$f"; echo; done | sort | uniq -c | tr -s ' ')" = " $pfs $vfs"

n=$(grep -c 'not bound to vfio-pci' "$T/apply.log")
check "the refusal is reported once per PF: $n lines for $pfs PFs" test "$n" = "$pfs"
for ((i = 0; i < pfs; i++)); do
	pf=0000:$(printf %02x $((0x10 + i))):00.0
	check "PF $pf: one line, $vfs VFs, the driver's reason" \
		test "$(grep -c "PF $pf: $vfs VF(s) not bound to vfio-pci (the first: VF 0, app .*): VF .*: driver vfio-pci did not take the device after drivers_probe (bound to: none)" "$T/apply.log")" = 1
done
check "no per-VF warning of the bind" \
	sh -c "! grep -E 'warning: PF [^:]+:[^ ]+ VF [0-9]+ app .*vfio-pci' '$T/apply.log'"
# Warnings counted as before: one per VF not bound, one per app left
# without a domain config (the domain writer's own line).
check "the applied line still counts one warning per VF not bound" \
	grep -q "applied: .* $((pfs * vfs)) reservation(s), $((2 * pfs * vfs)) warning(s)" "$T/apply.log"

"$CTL" --state-dir "$T/state" --sysfs-root "$T/sys" --json list >"$T/list.json"
check "every VF reserved, none bound to vfio-pci" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == $((pfs * vfs)), len(d)
assert all(v['app'] for v in d)
assert not any(v.get('driver') == 'vfio-pci' for v in d)" "$T/list.json"
check "every reservation in the state has the error 'bind to vfio-pci failed'" \
	sh -c "test \"\$('$CTL' --state-dir '$T/state' --sysfs-root '$T/sys' --json list |
		python3 -c 'import json,sys; print(sum(v.get(\"error\") == \"bind to vfio-pci failed\" for v in json.load(sys.stdin)))')\" = $((pfs * vfs))"
check "no domain config written" sh -c "! ls '$T/state/domains/'*.cfg"

echo "# $pass passed, $fail failed"
[ "$fail" = 0 ]
