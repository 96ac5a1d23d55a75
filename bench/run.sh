#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmarks (not part of ctest): builds Release, then
#  1. scale on the fake sysfs: sriov-agent apply --no-netlink --hypervisor none
#     of 1x8, 8x64 and 64x64 PFs x VFs (one app per VF) while `fake-sysfs run`
#     emulates the PF driver: wall and CPU time, peak RSS, sysfs writes (the
#     agent's "applied:" log line), syscalls (strace -c -f, a separate run),
#     the fake driver's CPU; then a re-apply of the unchanged config, which
#     must write nothing; then a config with the same PFs and no apps, which
#     releases every VF; then the config again on a fresh state dir with the
#     VFs present (a first apply that creates none). The same with
#     --hypervisor kvm (passthrough binding to vfio-pci) for the sizes in
#     SR_BENCH_KVM_SIZES. Then the bind failure (SR_BENCH_BINDFAIL_SIZES):
#     --hypervisor kvm with a vfio-pci that takes no VF; the apply must end,
#     exit 3.
#  2. on a real kernel (test/vm, QEMU igb PF with 7 VFs): bench/vm_bench.sh,
#     netlink VF settings through the agent vs an `ip link` loop, `ip -batch`,
#     the floor program (bench/nl_floor.c) and /bin/true, VF
#     creation through the agent vs `echo 7 > sriov_numvfs`, and the
#     event-driven daemon: drift and PF-reload repair latency, idle CPU.
# Writes bench/results/latest.csv and latest.md (and raw.csv, every run) and
# prints the table. See docs/bench.md.
#
# Environment:
#   SR_BENCH_BUILD      build tree (default: build-bench in the repository)
#   SR_BENCH_REPS       repetitions per case, medians reported (default 5)
#   SR_BENCH_SIZES      PFSxVFS list (default "1x8 8x64 64x64")
#   SR_BENCH_KVM_SIZES  sizes for the --hypervisor kvm variant ("" to skip;
#                       default "1x8 8x64": binding waits for each VF)
#   SR_BENCH_BINDFAIL_SIZES sizes for the bind failure ("" to skip; default
#                       "8x64": each run takes the 10 s deadline)
#   SR_BENCH_VM         1 (default) runs the VM part, 0 skips it
#   SR_BENCH_NSIM       1 (default) runs the netdevsim VM part
#                       (bench/vm_bench_nsim.sh: 256/1024 VFs agent vs ip -batch
#                       vs floor, a 4096-VF apply/reapply/reconcile, drift at
#                       1024), 0 skips it
#   SR_BENCH_ONLY=nsim  only the netdevsim part; its tables go to
#                       bench/results/nsim-latest.{csv,md} (latest.* untouched)
#   SR_BENCH_VM_REPS    repetitions inside the VM (default 5)
#   SR_BENCH_IDLE_S     the daemon's idle window in the VM (default 60 s)
#   SR_BENCH_SYSFS_DIR  where fake sysfs trees go (default /dev/shm: memory,
#                       like sysfs; on a disk file system the fake driver's
#                       file creation dominates); state dirs go to TMPDIR
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SR_BENCH_BUILD:-$src/build-bench}
reps=${SR_BENCH_REPS:-5}
sizes=${SR_BENCH_SIZES:-"1x8 8x64 64x64"}
kvm_sizes=${SR_BENCH_KVM_SIZES-"1x8 8x64"}
bindfail_sizes=${SR_BENCH_BINDFAIL_SIZES-"8x64"}
run_vm=${SR_BENCH_VM:-1}
run_nsim=${SR_BENCH_NSIM:-1}
out_name=latest
if [ "${SR_BENCH_ONLY:-}" = nsim ]; then
	sizes='' kvm_sizes='' bindfail_sizes='' run_vm=0 run_nsim=1 out_name=nsim-latest
fi
vm_reps=${SR_BENCH_VM_REPS:-5}
idle_s=${SR_BENCH_IDLE_S:-60}
results=$src/bench/results
totalvfs=64

log() { printf 'bench: %s\n' "$*" >&2; }

for tool in cmake protoc python3 strace; do
	command -v "$tool" >/dev/null || { log "needs $tool (scripts/setup.sh installs it)"; exit 1; }
done

log "building Release in $build"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSR_VM_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
mkdir -p "$build/bench"
cc -O2 -Wall -Wextra -o "$build/bench/measure" "$src/bench/measure.c"
cc -O2 -Wall -Wextra -o "$build/bench/nl-floor" "$src/bench/nl_floor.c"
mkdir -p "$build/test/vm" # the netdevsim part's reader (test/vm is not configured here)
cc -O2 -Wall -Wextra -o "$build/test/vm/nl-vfdump" "$src/test/vm/nl_vfdump.c"

agent=$build/agent/sriov-agent
fake=$build/test/fake-sysfs
measure=$build/bench/measure

work=$(mktemp -d "${TMPDIR:-/tmp}/sr-bench.XXXXXX")
sysdir=${SR_BENCH_SYSFS_DIR:-/dev/shm}
[ -d "$sysdir" ] && [ -w "$sysdir" ] || sysdir=$work
fake_root=$(mktemp -d "$sysdir/sr-bench-sys.XXXXXX")
fake_pid=
cleanup() {
	[ -z "$fake_pid" ] || kill "$fake_pid" 2>/dev/null || true
	rm -rf "$work" "$fake_root"
}
trap cleanup EXIT

mkdir -p "$results"
raw=$work/raw.csv
echo "bench,case,pfs,vfs_per_pf,rep,wall_ms,user_ms,sys_ms,maxrss_kib,sysfs_writes,netlink_writes,syscalls,driver_cpu_ms,status" >"$raw"

# key=value fields of a measure line
field() { sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" "$2" | tail -n1; }

# The agent's "applied: N action(s), X sysfs and Y netlink writes" -> "X,Y"
writes() {
	local w
	w=$(sed -n 's/.*applied: [0-9]* action(s), \([0-9]*\) sysfs and \([0-9]*\) netlink writes.*/\1,\2/p' "$1" | tail -n1)
	echo "${w:-,}"
}

encode() { # PFS VFS APPS_PER_PF OUT
	python3 "$src/bench/gen_config.py" --pfs "$1" --vfs "$2" --apps "$3" >"$4.txt"
	protoc --proto_path="$src/proto" --encode=org.lfedge.eve.config.EdgeDevConfig \
		eveconfig.proto <"$4.txt" >"$4"
}

# A fresh fake tree with PFS PFs of totalvfs VFs, its driver emulator running
# under measure (its CPU lands in $work/driver.m when it stops).
fake_start() { # PFS IOMMU(0|1) [EXTRA fake-sysfs create ARGS...]
	local args=() i
	rm -rf "$fake_root/sys" "$work/driver.m"
	for ((i = 0; i < $1; i++)); do
		args+=(--pf "pci=0000:$(printf %02x $((0x10 + i))):00.0,ifname=bench$i,driver=igb,totalvfs=$totalvfs,offset=128,stride=2,vfdriver=igbvf")
	done
	[ "$2" = 0 ] || args+=(--iommu)
	shift 2
	args+=("$@")
	"$fake" create "$fake_root/sys" "${args[@]}"
	"$measure" -o "$work/driver.m" "$fake" run "$fake_root/sys" --delay-ms 0 &
	for i in $(seq 200); do
		[ -s "$fake_root/sys/.fake-driver.pid" ] && break
		sleep 0.01
	done
	fake_pid=$(cat "$fake_root/sys/.fake-driver.pid")
}

fake_stop() {
	kill "$fake_pid"
	fake_pid=
	wait
}

driver_cpu() {
	awk -v u="$(field user_ms "$work/driver.m")" -v s="$(field sys_ms "$work/driver.m")" \
		'BEGIN { printf "%.3f", u + s }'
}

apply() { # HV CONFIG OUT_PREFIX [WRAPPER...]
	local hv=$1 cfg=$2 pre=$3
	shift 3
	"$@" "$agent" apply --config "$cfg" --no-netlink --hypervisor "$hv" \
		--sysfs-root "$fake_root/sys" --state-dir "$work/state" 2>"$pre.log"
}

# The four steps of a case, in order on one fake tree and state dir:
# apply (from 0 VFs), reapply (unchanged config), release (same PFs, no apps:
# every reservation released, the VFs stay), present (the config again on a
# fresh state dir, VFs already there: a first apply that creates no VFs).
steps=(apply reapply release present)
step_config() { [ "$1" = release ] && echo "$work/config0.pb" || echo "$work/config.pb"; }

# one_case BENCH PFS VFS HV: reps timed runs of the steps, then one strace run.
one_case() {
	local bench=$1 pfs=$2 vfs=$3 hv=$4 iommu=0 rep step w sc drv
	[ "$hv" = none ] || iommu=1
	encode "$pfs" "$vfs" "$vfs" "$work/config.pb"
	encode "$pfs" "$vfs" 0 "$work/config0.pb"
	for ((rep = 1; rep <= reps + 1; rep++)); do
		fake_start "$pfs" "$iommu"
		rm -rf "$work/state" "$work"/*.m
		for step in "${steps[@]}"; do
			[ "$step" != present ] || rm -rf "$work/state"
			if [ $rep -le "$reps" ]; then
				apply "$hv" "$(step_config "$step")" "$work/$step" "$measure" -o "$work/$step.m" ||
					{ cat "$work/$step.log" >&2; exit 1; }
			else
				# Syscalls, separately: strace distorts the timings.
				apply "$hv" "$(step_config "$step")" "$work/$step" \
					strace -c -f -o "$work/$step.strace" ||
					{ cat "$work/$step.log" >&2; exit 1; }
			fi
		done
		fake_stop
		drv=$(driver_cpu)
		for step in "${steps[@]}"; do
			w=$(writes "$work/$step.log")
			if [ $rep -le "$reps" ]; then
				# The fake driver's CPU goes with the step that made it work.
				echo "$bench,$step,$pfs,$vfs,$rep,$(field wall_ms "$work/$step.m"),$(field user_ms "$work/$step.m"),$(field sys_ms "$work/$step.m"),$(field maxrss_kib "$work/$step.m"),$w,,$([ "$step" = apply ] && echo "$drv"),$(field status "$work/$step.m")" >>"$raw"
			else
				sc=$(awk '$NF == "total" { print $4 }' "$work/$step.strace")
				echo "$bench,$step,$pfs,$vfs,strace,,,,,$w,$sc,,0" >>"$raw"
			fi
		done
	done
	log "$bench ${pfs}x$vfs: $(grep -c "^$bench,apply,$pfs,$vfs,[0-9]" "$raw") runs; last: $(grep -h applied "$work"/apply.log | tail -n1)"
}

for s in $sizes; do
	one_case fake "${s%x*}" "${s#*x}" none
done
for s in $kvm_sizes; do
	one_case fake-kvm "${s%x*}" "${s#*x}" kvm
done

# Bind failure: --hypervisor kvm where vfio-pci takes no VF (fake-sysfs
# --driver vfio-pci:refuse), from 0 VFs: the apply ends with every app in
# error (exit 3); the binds share one 10 s deadline.
bindfail_case() { # PFS VFS
	local pfs=$1 vfs=$2 rep st
	encode "$pfs" "$vfs" "$vfs" "$work/config.pb"
	for ((rep = 1; rep <= reps; rep++)); do
		fake_start "$pfs" 1 --driver vfio-pci:refuse
		rm -rf "$work/state" "$work/apply.m"
		st=0
		apply kvm "$work/config.pb" "$work/apply" "$measure" -o "$work/apply.m" || st=$?
		fake_stop
		[ "$st" = 3 ] || { log "bind failure ${pfs}x$vfs: exit $st, not 3"; cat "$work/apply.log" >&2; exit 1; }
		echo "fake-bindfail,apply,$pfs,$vfs,$rep,$(field wall_ms "$work/apply.m"),$(field user_ms "$work/apply.m"),$(field sys_ms "$work/apply.m"),$(field maxrss_kib "$work/apply.m"),$(writes "$work/apply.log"),,$(driver_cpu),0" >>"$raw"
	done
	log "bind failure ${pfs}x$vfs: $(grep -h applied "$work/apply.log" | tail -n1)"
}
for s in $bindfail_sizes; do
	bindfail_case "${s%x*}" "${s#*x}"
done

if [ "$run_vm" = 1 ]; then
	log "VM part: bench/vm_bench.sh in test/vm (TCG; a few minutes)"
	set +e
	SR_BUILD_DIR=$build SR_VM_TIMEOUT=${SR_VM_TIMEOUT:-900} \
		bash "$src/test/vm/run.sh" "$src/bench/vm_bench.sh" "sr.env.SR_BENCH_VM_REPS=$vm_reps" \
		"sr.env.SR_BENCH_IDLE_S=$idle_s" \
		>"$work/vm.log" 2>&1
	vm_rc=$?
	set -e
	cp "$work/vm.log" "$build/bench/vm_console.log"
	# The scenario prints "SR-BENCH: bench,case,...,status" rows.
	sed -n 's/^.*SR-BENCH: //p' "$work/vm.log" | tr -d '\r' >>"$raw"
	case $vm_rc in
	0) ;;
	77) log "VM part skipped (no QEMU >= 8 or no kernel): $(grep -m1 SKIP "$work/vm.log" || true)" ;;
	*) log "VM part failed (exit $vm_rc); console in $build/bench/vm_console.log" ;;
	esac
fi

if [ "$run_nsim" = 1 ]; then
	log "netdevsim part: bench/vm_bench_nsim.sh in test/vm (TCG; ~10 minutes)"
	bash "$src/test/vm/netdevsim-build.sh" || log "netdevsim.ko could not be built"
	set +e
	SR_BUILD_DIR=$build SR_VM_TIMEOUT=${SR_VM_TIMEOUT:-1800} \
		bash "$src/test/vm/run.sh" "$src/bench/vm_bench_nsim.sh" "sr.env.SR_BENCH_VM_REPS=$vm_reps" \
		>"$work/nsim.log" 2>&1
	nsim_rc=$?
	set -e
	cp "$work/nsim.log" "$build/bench/nsim_console.log"
	sed -n 's/^.*SR-BENCH: //p' "$work/nsim.log" | tr -d '\r' >>"$raw"
	grep -E '^# (measured|load):' "$work/nsim.log" | tr -d '\r' >&2 || true
	[ "$nsim_rc" = 0 ] || log "netdevsim part failed (exit $nsim_rc); console in $build/bench/nsim_console.log"
fi

[ "$out_name" != latest ] || cp "$raw" "$results/raw.csv"
python3 "$src/bench/report.py" --raw "$raw" --csv "$results/$out_name.csv" --md "$results/$out_name.md" \
	--reps "$reps" --vm-reps "$vm_reps" --build "$build"
cat "$results/$out_name.md"
echo
cat "$results/$out_name.csv"
