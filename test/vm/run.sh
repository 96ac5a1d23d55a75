#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boot Debian's kernel under QEMU (TCG) on a q35 with a VT-d IOMMU and an
# igb SR-IOV NIC, and run one scenario script in it.
#
# usage: run.sh SCENARIO [KERNEL_ARG...]
#
# SCENARIO is a bash script on this machine (any path; the guest sees the
# host's / read-only, overlaid with a tmpfs: it may write anywhere, the host
# never sees it). It runs with bash as root in the guest, in an empty
# directory, with the host's tools (ip, qemu, ...) and these variables:
#   SR_VM=1, SR_VM_KVER (guest kernel), SR_VM_WORKDIR (the empty directory,
#   /run/sr-vm, a tmpfs), SR_SOURCE_DIR (this repository),
#   SR_BUILD_DIR (from the environment, default SR_SOURCE_DIR/build),
#   SR_VM_CACHE (prepare.sh's cache: netdevsim.ko is there), and
#   NAME=VALUE for each KERNEL_ARG written sr.env.NAME=VALUE.
# Its exit status is the test's: 0 passes. test/vm/lib.sh has ok/not_ok.
#
# KERNEL_ARGs are added to the kernel command line
#   console=ttyS0 panic=-1 intel_iommu=on iommu=pt quiet no_timer_check
# and one with the same name replaces the default (intel_iommu=off drops
# intel_iommu=on; iommu=nopt drops iommu=pt; "-quiet" drops quiet).
# No spaces inside a value.
#
# Exit: 0 the console showed "SR-VM-RESULT: PASS"; 77 (ctest SKIP) QEMU < 8
# or no kernel (prepare.sh, which run.sh calls first, skipped); anything else: failure. See common.sh for
# SR_VM_TIMEOUT, SR_VM_ACCEL, SR_VM_LOGDIR, SR_VM_QEMU_ARGS.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$here/common.sh"

if [ $# -lt 1 ]; then
	echo "usage: $0 SCENARIO [KERNEL_ARG...]" >&2
	exit 2
fi
scenario=$(realpath -e "$1" 2>/dev/null) || { echo "run.sh: no scenario $1" >&2; exit 2; }
shift
case $scenario in
/run/* | /dev/* | /proc/* | /sys/*)
	echo "run.sh: $scenario: the guest mounts its own /run, /dev, /proc, /sys; put scenarios elsewhere" >&2
	exit 2 ;;
esac
src=$(cd "$here/../.." && pwd)
build=${SR_BUILD_DIR:-$src/build}
[ -d "$build" ] && build=$(cd "$build" && pwd)

sr_vm_check_qemu
# Cheap when the cache is current (ctest's vm_prepare has filled it); keeps
# a hand-run scenario from booting an initramfs older than test/vm/init.
bash "$here/prepare.sh"
case $? in
0) ;;
77) sr_vm_skip "prepare.sh could not get the kernel" ;;
*) echo "run.sh: prepare.sh failed" >&2; exit 1 ;;
esac
sr_vm_check_cache

# Defaults, then the caller's arguments; a caller's NAME=... replaces ours.
# no_timer_check: on a loaded host the TCG guest can miss the kernel's
# early IO-APIC timer test and panic ("timer doesn't work through
# Interrupt-remapped IO-APIC", seen in grub_boot_off).
mapfile -t cmdline < <(sr_vm_merge_args console=ttyS0 panic=-1 intel_iommu=on iommu=pt quiet no_timer_check -- "$@")
for a in "${cmdline[@]}"; do
	case $a in *" "*) echo "run.sh: kernel argument with a space: '$a'" >&2; exit 2 ;; esac
done
for v in "$scenario" "$src" "$build" "$sr_vm_cache"; do
	case $v in *" "*) echo "run.sh: path with a space: '$v'" >&2; exit 2 ;; esac
done
cmdline+=("sr.scenario=$scenario" "sr.src=$src" "sr.build=$build" "sr.modules=$sr_vm_cache/kernel/lib/modules"
	"sr.env.SR_VM_CACHE=$sr_vm_cache")

name=$(basename "$scenario" .sh)
echo "vm: $name: kernel $(cat "$sr_vm_cache/kver"), cmdline: ${cmdline[*]}"
sr_vm_boot "$name" \
	-kernel "$sr_vm_cache/vmlinuz" -initrd "$sr_vm_cache/initrd.gz" \
	-append "${cmdline[*]}"
