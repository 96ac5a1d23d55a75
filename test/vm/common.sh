# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Sourced by test/vm/run.sh, test/grub/boot.sh and test/xen/*.sh: the machine every VM test
# boots, and the one place that decides PASS from the console.
#
# Environment (all optional):
#   QEMU            QEMU binary (default qemu-system-x86_64)
#   SR_VM_ACCEL     accelerator (default tcg)
#   SR_VM_TIMEOUT   seconds before QEMU is killed (default 300)
#   SR_VM_BOOT_TIMEOUT seconds the guest has to reach its scenario (default
#                   120; the slowest boot, Xen from GRUB, takes about 20)
#   SR_VM_CACHE     prepare.sh's cache (default test/vm/cache)
#   SR_VM_LOGDIR    where console logs go (default $SR_VM_CACHE/logs)
#   SR_VM_QEMU_ARGS extra QEMU arguments, split on spaces (e.g. a second NIC)
#   SR_VM_MEM       guest RAM in MiB (default 1024; the Xen test bed uses 2048)
#   SR_VM_IOMMU     intel-iommu properties (default intremap=on,caching-mode=on;
#                   caching mode is what lets vfio work in the guest, and it
#                   makes Linux use strict "DMA" domains instead of "DMA-FQ")

sr_vm_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sr_vm_cache=${SR_VM_CACHE:-$sr_vm_dir/cache}
sr_vm_logdir=${SR_VM_LOGDIR:-$sr_vm_cache/logs}
sr_vm_qemu=${QEMU:-qemu-system-x86_64}

sr_vm_skip() {
	echo "SKIP: $*"
	exit 77
}

# QEMU >= 8 has the emulated SR-IOV NIC igb (82576, 7 VFs). Exits 77 if not.
sr_vm_check_qemu() {
	local v
	command -v "$sr_vm_qemu" >/dev/null 2>&1 ||
		sr_vm_skip "$sr_vm_qemu not found (scripts/setup.sh installs QEMU >= 8 from bookworm-backports)"
	v=$("$sr_vm_qemu" --version | sed -n '1s/.*version \([0-9]*\)\..*/\1/p')
	[ "${v:-0}" -ge 8 ] ||
		sr_vm_skip "$sr_vm_qemu is version ${v:-unknown}; the igb SR-IOV NIC needs QEMU >= 8"
}

# The kernel and initramfs made by prepare.sh. Exits 77 if absent.
sr_vm_check_cache() {
	if [ ! -r "$sr_vm_cache/vmlinuz" ] || [ ! -r "$sr_vm_cache/initrd.gz" ] || [ ! -r "$sr_vm_cache/kver" ]; then
		sr_vm_skip "no kernel in $sr_vm_cache (run test/vm/prepare.sh; it skips when Debian's kernel cannot be downloaded)"
	fi
}

# sr_vm_merge_args DEFAULT... -- ARG...: a command line, one word a line:
# the defaults not named by an ARG (an ARG NAME=... replaces the default
# NAME..., "-DEFAULT" drops it), then the ARGs that are not "-...".
sr_vm_merge_args() {
	local defaults=() args=() d a keep
	while [ "$1" != -- ]; do defaults+=("$1"); shift; done
	shift
	args=("$@")
	for d in "${defaults[@]}"; do
		keep=1
		for a in "${args[@]}"; do
			[ "${a%%=*}" = "${d%%=*}" ] && keep=0
			[ "$a" = "-$d" ] && keep=0
		done
		[ $keep -eq 0 ] || echo "$d"
	done
	for a in "${args[@]}"; do
		case $a in -*) ;; *) echo "$a" ;; esac
	done
}

# The machine: q35 with a VT-d IOMMU (interrupt remapping, caching mode so
# vfio works), one igb PF alone behind root port 1 (PF 0000:01:00.0), and
# the host's / exported read-only over 9p. The igb's user-mode netdev has
# restrict=on: the guest cannot reach the host or anything beyond it.
sr_vm_machine_args() {
	# shellcheck disable=SC2206 # word splitting of SR_VM_QEMU_ARGS is the point
	local extra=(${SR_VM_QEMU_ARGS:-})
	printf '%s\n' \
		-accel "${SR_VM_ACCEL:-tcg}" \
		-machine q35,kernel-irqchip=split -cpu max -m "${SR_VM_MEM:-1024}" -smp 2 \
		-nographic -no-reboot \
		-device "intel-iommu,${SR_VM_IOMMU:-intremap=on,caching-mode=on}" \
		-device pcie-root-port,id=rp1,slot=1 \
		-device igb,bus=rp1,netdev=n1 \
		-netdev user,id=n1,restrict=on \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on \
		"${extra[@]}"
}

# sr_vm_qemu_crashed LOG RC: QEMU itself aborted (an assertion inside the
# emulator, exit 134) before the guest printed a result. Seen here once in
# the 13 boots of a full test run: "iotlb_to_section: Assertion `section_index <
# d->map.sections_nb' failed" (multi-threaded TCG with the emulated VT-d).
# That is not the code under test failing, so sr_vm_boot retries it once.
sr_vm_qemu_crashed() {
	[ "$2" -eq 134 ] || return 1
	tr -d '\r' <"$1" | grep -q '^SR-VM-RESULT: ' && return 1
	tr -d '\r' <"$1" | grep -aq "$(basename "$sr_vm_qemu"): .*Assertion .* failed"
}

# sr_vm_boot_watch LOG PIDFILE MARK: in the background while QEMU runs.
# When the guest has not started its scenario within SR_VM_BOOT_TIMEOUT
# seconds, creates MARK and stops QEMU. Seen here once in ~50 full runs:
# the guest's kernel stuck in /init's insmod ("task insmod blocked for more
# than 120 seconds"), before any code under test ran.
sr_vm_boot_watch() {
	local log=$1 pidfile=$2 mark=$3 i
	for ((i = 0; i < ${SR_VM_BOOT_TIMEOUT:-120}; i++)); do
		sleep 1
		tr -d '\r' <"$log" 2>/dev/null | grep -aq '^SR-VM: scenario .* starts at' && return 0
		[ -s "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null && return 0
	done
	[ -s "$pidfile" ] || return 0
	: >"$mark"
	kill "$(cat "$pidfile")" 2>/dev/null
	return 0
}

# sr_vm_boot NAME QEMU_ARG...: boot with the machine above plus the given
# arguments, console to stdout and $sr_vm_logdir/NAME.log. Returns 0 only if
# the console shows "SR-VM-RESULT: PASS"; prints the measured times. Retried
# once, with the log of the first boot kept, when QEMU itself crashed
# (NAME.qemu-crash.log) or the guest never reached its scenario
# (NAME.boot-hang.log); any other failure is final. scripts/test.sh counts
# both kinds of log in its summary.
sr_vm_boot() {
	local name=$1 log t0 t1 rc result attempt pidfile mark watch
	shift
	local machine=()
	mapfile -t machine < <(sr_vm_machine_args)
	mkdir -p "$sr_vm_logdir"
	log=$sr_vm_logdir/$name.log
	pidfile=$sr_vm_logdir/$name.pid
	mark=$sr_vm_logdir/$name.boot-hang
	for attempt in 1 2; do
		echo "vm: $name: console log $log"
		rm -f "$pidfile" "$mark"
		: >"$log"
		sr_vm_boot_watch "$log" "$pidfile" "$mark" &
		watch=$!
		t0=$(date +%s.%N)
		timeout -k 10 "${SR_VM_TIMEOUT:-300}" "$sr_vm_qemu" "${machine[@]}" -pidfile "$pidfile" "$@" \
			</dev/null 2>&1 | tee "$log"
		rc=${PIPESTATUS[0]}
		t1=$(date +%s.%N)
		kill "$watch" 2>/dev/null
		wait "$watch" 2>/dev/null
		[ "$attempt" -eq 1 ] || break
		if [ -e "$mark" ]; then
			mv "$log" "$sr_vm_logdir/$name.boot-hang.log"
			echo "vm: $name: the guest did not reach its scenario in ${SR_VM_BOOT_TIMEOUT:-120}s (log $sr_vm_logdir/$name.boot-hang.log); booting once more"
		elif sr_vm_qemu_crashed "$log" "$rc"; then
			mv "$log" "$sr_vm_logdir/$name.qemu-crash.log"
			echo "vm: $name: QEMU itself crashed (exit $rc, log $sr_vm_logdir/$name.qemu-crash.log); booting once more"
		else
			break
		fi
	done
	local hung=0
	[ -e "$mark" ] && hung=1
	rm -f "$pidfile" "$mark"
	result=$(tr -d '\r' <"$log" | sed -n 's/^SR-VM-RESULT: //p' | tail -n1)
	printf 'vm: %s: QEMU exit %s after %.1fs wall; result: %s\n' \
		"$name" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" "${result:-none}"
	tr -d '\r' <"$log" | grep -a 'SR-VM: \(init at\|scenario\)' | sed "s/^.*SR-VM:/vm: $name: guest:/"
	if [ "$hung" -eq 1 ]; then
		echo "vm: $name: FAIL: the guest did not reach its scenario in ${SR_VM_BOOT_TIMEOUT:-120}s, twice"
		return 1
	fi
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "vm: $name: FAIL: timed out after ${SR_VM_TIMEOUT:-300}s"
		return 1
	fi
	if [ "$result" != PASS ]; then
		echo "vm: $name: FAIL: no 'SR-VM-RESULT: PASS' on the console"
		return 1
	fi
	return 0
}
