#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boot Xen through real GRUB (BIOS, a grub-mkrescue ISO) with
# grub/01_sriov.cfg, the way EVE boots it (multiboot2 + module2), and run a
# scenario in dom0 that checks what the option did to Xen.
#
# usage: grub_boot.sh CASE [SCENARIO]
#   sriov    grubenv enable_sriov=true; the Xen line carries an inherited
#            iommu=0 before $sriov_xen_cmdline -> "iommu=0 iommu=1": Xen's
#            IOMMU on (SR_EXPECT=on)
#   default  no enable_sriov, the same entry -> iommu=0 stays: Xen's IOMMU
#            off (SR_EXPECT=off)
# SCENARIO (default test/xen/scenarios/grub.sh) runs in dom0 with SR_EXPECT
# and SR_CASE set; test/xen/scenarios/iommu_off.sh uses the default case.
#
# The ISO: Xen (cache/xen.gz), test/vm's kernel and initramfs as dom0, a
# grub.cfg that sources 01_sriov.cfg (timeout 0, serial console) and a
# grubenv written with grub-editenv. The machine is test/xen/run.sh's.
# Exit: 0 PASS; 77 (skip) no QEMU >= 8, no Xen or kernel, no
# grub-mkrescue/BIOS GRUB; other: failure.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
vm=$src/test/vm
export SR_VM_IOMMU=${SR_VM_IOMMU:-caching-mode=on,intremap=off}
export SR_VM_MEM=${SR_VM_MEM:-2048}
export SR_VM_TIMEOUT=${SR_VM_TIMEOUT:-600}
# shellcheck source-path=SCRIPTDIR source=../vm/common.sh
. "$vm/common.sh"

case ${1:-} in
sriov) expect=on ;;
default) expect=off ;;
*) echo "usage: $0 sriov|default [SCENARIO]" >&2; exit 2 ;;
esac
c=$1
scenario=$(realpath -e "${2:-$here/scenarios/grub.sh}") || exit 2
build=${SR_BUILD_DIR:-$src/build}
[ -d "$build" ] && build=$(cd "$build" && pwd)

sr_vm_check_qemu
for t in grub-mkrescue grub-editenv xorriso; do
	command -v "$t" >/dev/null 2>&1 || sr_vm_skip "$t not found (scripts/setup.sh: grub-common, xorriso)"
done
[ -d /usr/lib/grub/i386-pc ] || sr_vm_skip "no /usr/lib/grub/i386-pc (package grub-pc-bin)"
bash "$here/prepare.sh"
case $? in
0) ;;
77) sr_vm_skip "prepare.sh could not get Xen or the kernel" ;;
*) echo "grub_boot.sh: prepare.sh failed" >&2; exit 1 ;;
esac
sr_vm_check_cache

tmp=$(mktemp -d "$sr_vm_cache/grub-xen.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
iso=$tmp/iso
mkdir -p "$iso/boot/grub"
cp "$sr_vm_cache/xen.gz" "$iso/boot/xen.gz"
cp "$sr_vm_cache/vmlinuz" "$iso/boot/vmlinuz"
cp "$sr_vm_cache/initrd.gz" "$iso/boot/initrd.gz"
cp "$src/grub/01_sriov.cfg" "$iso/boot/grub/01_sriov.cfg"
tail="sr.scenario=$scenario sr.src=$src sr.build=$build sr.modules=$sr_vm_cache/kernel/lib/modules"
tail="$tail sr.env.SR_XEN_CACHE=$sr_vm_cache sr.env.SR_CASE=$c sr.env.SR_EXPECT=$expect"
# iommu=0 stands for what a node's Xen line may already carry
# (GRUB_CMDLINE_XEN_DEFAULT); the option's words come after it.
cat >"$iso/boot/grub/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
source "\${prefix}/01_sriov.cfg"
echo "grub: enable_sriov='\${enable_sriov}' sriov_xen_cmdline='\${sriov_xen_cmdline}' sriov_cmdline='\${sriov_cmdline}'"

menuentry 'Xen 4.17 (sriov-agent test)' {
	insmod multiboot2
	multiboot2 /boot/xen.gz console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M iommu=0 \$sriov_xen_cmdline
	module2 /boot/vmlinuz console=hvc0 panic=-1 quiet \$sriov_cmdline $tail
	module2 /boot/initrd.gz
}
CFG
env=$iso/boot/grub/grubenv
grub-editenv "$env" create
[ "$c" = sriov ] && grub-editenv "$env" set enable_sriov=true
echo "grub-xen: $c: grubenv: $(grub-editenv "$env" list | tr '\n' ' ')"
if ! grub-mkrescue -o "$tmp/$c.iso" "$iso" >"$tmp/mkrescue.log" 2>&1; then
	cat "$tmp/mkrescue.log"
	echo "grub-xen: $c: FAIL: grub-mkrescue"
	exit 1
fi
sr_vm_boot "grub_xen_${c}_$(basename "$scenario" .sh)" -cdrom "$tmp/$c.iso" -boot d
