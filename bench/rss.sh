#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Peak RSS of sriov-agent apply at 64 PFs x 64 VFs, 4096 apps each with a
# VLAN (issue 21's targets: <= 8 MiB for the first apply, <= 10 MiB for
# the unchanged re-apply), measured from outside (bench/measure: wait4's
# ru_maxrss) on the fake sysfs with its PF driver emulator.
#
#   bench/rss.sh BUILD_DIR [LABEL BUILD_DIR]...
#
# Each BUILD_DIR is a Release build (its sriov-agent; fake-sysfs and measure
# come from the first). Prints one markdown row per build and step: the
# median of SR_BENCH_REPS (default 3) runs, min..max.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
reps=${SR_BENCH_REPS:-3}
pfs=${SR_RSS_PFS:-64} vfs=${SR_RSS_VFS:-64}
first=$1
fake=$first/test/fake-sysfs
measure=$first/bench/measure
[ -x "$measure" ] || { mkdir -p "$first/bench" && cc -O2 -Wall -Wextra -o "$measure" "$src/bench/measure.c"; }
work=$(mktemp -d)
root=$(mktemp -d /dev/shm/sr-rss.XXXXXX)
trap 'kill $(cat "$root/sys/.fake-driver.pid" 2>/dev/null) 2>/dev/null; rm -rf "$work" "$root"' EXIT

python3 "$src/bench/gen_config.py" --pfs "$pfs" --vfs "$vfs" --settings vlan >"$work/c.txt"
protoc --proto_path="$src/proto" --encode=org.lfedge.eve.config.EdgeDevConfig eveconfig.proto \
	<"$work/c.txt" >"$work/c.pb"

rss() { sed -n 's/.*maxrss_kib=\([0-9]*\).*/\1/p' "$1" | tail -n1; }
median() { sort -n | awk '{a[NR]=$1} END {printf "%d (%d..%d)", a[int((NR+1)/2)], a[1], a[NR]}'; }

one() { # LABEL AGENT
	local label=$1 agent=$2 rep args=() i
	: >"$work/apply.rss"
	: >"$work/reapply.rss"
	for ((rep = 1; rep <= reps; rep++)); do
		rm -rf "$root/sys" "$work/state"
		args=()
		for ((i = 0; i < pfs; i++)); do
			args+=(--pf "pci=0000:$(printf %02x $((0x10 + i))):00.0,ifname=bench$i,driver=igb,totalvfs=$vfs,offset=128,stride=2,vfdriver=igbvf")
		done
		"$fake" create "$root/sys" "${args[@]}"
		"$fake" run "$root/sys" --delay-ms 0 &
		for i in $(seq 200); do [ -s "$root/sys/.fake-driver.pid" ] && break; sleep 0.01; done
		for step in apply reapply; do
			rm -f "$work/$step.m"
			"$measure" -o "$work/$step.m" "$agent" apply --config "$work/c.pb" --no-netlink \
				--hypervisor none --sysfs-root "$root/sys" --state-dir "$work/state" \
				2>"$work/$step.log" || { cat "$work/$step.log" >&2; exit 1; }
			rss "$work/$step.m" >>"$work/$step.rss"
		done
		kill "$(cat "$root/sys/.fake-driver.pid")"
		wait
	done
	for step in apply reapply; do
		echo "| $label | $step | ${pfs}×${vfs} | $(median <"$work/$step.rss") |"
	done
}

echo "| build | step | PFs×VFs | peak RSS KiB, median (min..max) of $reps |"
echo "|-------|------|---------|------------------|"
one "$(git -C "$first/.." rev-parse --short HEAD 2>/dev/null || echo "$first")" "$first/agent/sriov-agent"
shift
while [ $# -ge 2 ]; do
	one "$1" "$2/agent/sriov-agent"
	shift 2
done
