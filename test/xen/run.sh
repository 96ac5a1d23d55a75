#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boot Debian's Xen 4.17 under QEMU (TCG) on test/vm's machine (q35, VT-d,
# igb SR-IOV NIC), with test/vm's kernel and initramfs as dom0, and run one
# scenario script in dom0.
#
# usage: run.sh [--xen ARG]... SCENARIO [DOM0_ARG...]
#
# The scenario interface is test/vm/run.sh's (the same /init runs it: the
# host's / read-only with a tmpfs over it, SR_VM=1, SR_SOURCE_DIR,
# SR_BUILD_DIR, sr.env.NAME=VALUE, PASS on exit 0); test/xen/lib-xen.sh
# starts the toolstack in dom0. In addition SR_XEN_CACHE is the cache
# (the PV guest's kernel and initramfs: vmlinuz, xen-guest.gz).
#
# Xen's command line is
#   console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M
# (no iommu=: Xen 4.17 has its IOMMU on by default, and vm_xen relies on it)
# and each --xen ARG is added; one with the same name replaces the default
# (--xen iommu=0 turns Xen's IOMMU off). dom0's is
#   console=hvc0 panic=-1 quiet
# plus DOM0_ARGs (same replacement rule). No spaces or commas in a value.
#
# The machine's VT-d has interrupt remapping off: with it on, dom0 hangs on
# its first virtio interrupt (measured). 2048 MiB of RAM: 1024 for dom0,
# the rest for guests.
#
# Exit: 0 the console showed "SR-VM-RESULT: PASS"; 77 (ctest SKIP) QEMU < 8,
# or Xen or the kernel could not be had (prepare.sh); anything else: failure.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vm=$(cd "$here/../vm" && pwd)
export SR_VM_IOMMU=${SR_VM_IOMMU:-caching-mode=on,intremap=off}
export SR_VM_MEM=${SR_VM_MEM:-2048}
export SR_VM_TIMEOUT=${SR_VM_TIMEOUT:-800}
# shellcheck source-path=SCRIPTDIR source=../vm/common.sh
. "$vm/common.sh"

xen_extra=()
while [ $# -gt 0 ] && [ "$1" = --xen ]; do
	[ $# -ge 2 ] || { echo "usage: $0 [--xen ARG]... SCENARIO [DOM0_ARG...]" >&2; exit 2; }
	xen_extra+=("$2")
	shift 2
done
if [ $# -lt 1 ]; then
	echo "usage: $0 [--xen ARG]... SCENARIO [DOM0_ARG...]" >&2
	exit 2
fi
scenario=$(realpath -e "$1" 2>/dev/null) || { echo "run.sh: no scenario $1" >&2; exit 2; }
shift
case $scenario in
/run/* | /dev/* | /proc/* | /sys/*)
	echo "run.sh: $scenario: dom0 mounts its own /run, /dev, /proc, /sys; put scenarios elsewhere" >&2
	exit 2 ;;
esac
src=$(cd "$here/../.." && pwd)
build=${SR_BUILD_DIR:-$src/build}
[ -d "$build" ] && build=$(cd "$build" && pwd)

sr_vm_check_qemu
bash "$here/prepare.sh"
case $? in
0) ;;
77) sr_vm_skip "prepare.sh could not get Xen or the kernel" ;;
*) echo "run.sh: prepare.sh failed" >&2; exit 1 ;;
esac
sr_vm_check_cache
[ -r "$sr_vm_cache/xen.elf" ] && [ -r "$sr_vm_cache/xen-guest.gz" ] ||
	sr_vm_skip "no Xen in $sr_vm_cache (run test/xen/prepare.sh)"

mapfile -t xen_cmdline < <(sr_vm_merge_args console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M -- "${xen_extra[@]}")
mapfile -t dom0_cmdline < <(sr_vm_merge_args console=hvc0 panic=-1 quiet -- "$@")
for a in "${xen_cmdline[@]}" "${dom0_cmdline[@]}" "$scenario" "$src" "$build" "$sr_vm_cache"; do
	case $a in *" "*) echo "run.sh: argument or path with a space: '$a'" >&2; exit 2 ;; esac
done
for a in "${dom0_cmdline[@]}" "$scenario" "$src" "$build" "$sr_vm_cache"; do
	case $a in *,*) echo "run.sh: dom0 argument or path with a comma: '$a'" >&2; exit 2 ;; esac
done
dom0_cmdline+=("sr.scenario=$scenario" "sr.src=$src" "sr.build=$build"
	"sr.modules=$sr_vm_cache/kernel/lib/modules" "sr.env.SR_XEN_CACHE=$sr_vm_cache")

name=xen_$(basename "$scenario" .sh)
echo "xen: $name: Xen $(basename "$(cat "$sr_vm_cache/xen.from")"), kernel $(cat "$sr_vm_cache/kver")"
echo "xen: $name: xen: ${xen_cmdline[*]}"
echo "xen: $name: dom0: ${dom0_cmdline[*]}"
# QEMU's multiboot loader: -kernel is Xen, each -initrd module is
# "FILE ARGS", modules separated by commas.
sr_vm_boot "$name" -kernel "$sr_vm_cache/xen.elf" -append "${xen_cmdline[*]}" \
	-initrd "$sr_vm_cache/vmlinuz ${dom0_cmdline[*]},$sr_vm_cache/initrd.gz"
