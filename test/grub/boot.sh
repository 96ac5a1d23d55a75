#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Boot Debian's kernel through real GRUB (BIOS, from a grub-mkrescue ISO)
# with grub/01_sriov.cfg, and check in the guest what it did to the kernel
# command line and the IOMMU (test/grub/scenario.sh).
#
# usage: boot.sh [CASE...]      CASE: sriov default off (default: all three)
#   sriov    grubenv enable_sriov=true   -> intel_iommu=on iommu=pt, "identity"
#   default  grubenv without enable_sriov -> neither word, "DMA-FQ"
#   off      grubenv picks the menu entry with intel_iommu=off -> no groups
#
# Each case is its own ISO: kernel and initramfs from test/vm/prepare.sh's
# cache, a grub.cfg that sources 01_sriov.cfg (GRUB timeout 0, serial
# console), and a grubenv written with grub-editenv. The machine is test/vm's
# (q35, VT-d, igb), but VT-d without caching mode unless SR_VM_IOMMU says
# otherwise: like hardware, so the default domains are "DMA-FQ" (with
# caching mode Linux makes them strict "DMA"; scenario.sh accepts that
# then). No vfio here, so caching mode is not needed. Exit: 0 all cases passed; 77 (skip) no QEMU >= 8, no
# kernel, or no grub-mkrescue/BIOS GRUB; other: failure.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
vm=$src/test/vm
# shellcheck source-path=SCRIPTDIR source=../vm/common.sh
. "$vm/common.sh"
export SR_VM_IOMMU=${SR_VM_IOMMU:-intremap=on}

cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(sriov default off)
for c in "${cases[@]}"; do
	case $c in
	sriov | default | off) ;;
	*) echo "usage: $0 [sriov|default|off]..." >&2; exit 2 ;;
	esac
done

sr_vm_check_qemu
for t in grub-mkrescue grub-editenv xorriso; do
	command -v "$t" >/dev/null 2>&1 || sr_vm_skip "$t not found (scripts/setup.sh: grub-common, xorriso)"
done
[ -d /usr/lib/grub/i386-pc ] || sr_vm_skip "no /usr/lib/grub/i386-pc (package grub-pc-bin)"
bash "$vm/prepare.sh"
case $? in
0) ;;
77) sr_vm_skip "prepare.sh could not get the kernel" ;;
*) echo "boot.sh: prepare.sh failed" >&2; exit 1 ;;
esac
sr_vm_check_cache

mkdir -p "$sr_vm_cache"
tmp=$(mktemp -d "$sr_vm_cache/grub.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# The menu entries. $sriov_cmdline comes from 01_sriov.cfg; sr_entry and
# sr_expect are this test's own grubenv variables (which entry to boot,
# what the guest should find).
write_grub_cfg() {
	local tail="sr.scenario=$here/scenario.sh sr.src=$src sr.modules=$sr_vm_cache/kernel/lib/modules"
	cat <<CFG
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
set timeout_style=menu
load_env --file "\${prefix}/grubenv" sr_entry sr_expect
if [ -n "\${sr_entry}" ]; then
	set default="\${sr_entry}"
fi

source "\${prefix}/01_sriov.cfg"
echo "grub: enable_sriov='\${enable_sriov}' sriov_cmdline='\${sriov_cmdline}' default='\${default}'"

menuentry 'Debian (sriov-agent test)' --id normal {
	linux /boot/vmlinuz console=ttyS0 panic=-1 quiet no_timer_check \$sriov_cmdline $tail sr.env.SR_EXPECT=\$sr_expect
	initrd /boot/initrd.gz
}
menuentry 'Debian, IOMMU off (sriov-agent test)' --id iommu-off {
	linux /boot/vmlinuz console=ttyS0 panic=-1 quiet no_timer_check intel_iommu=off \$sriov_cmdline $tail sr.env.SR_EXPECT=\$sr_expect
	initrd /boot/initrd.gz
}
CFG
}

fail=0
for c in "${cases[@]}"; do
	iso=$tmp/$c
	mkdir -p "$iso/boot/grub"
	cp "$sr_vm_cache/vmlinuz" "$iso/boot/vmlinuz"
	cp "$sr_vm_cache/initrd.gz" "$iso/boot/initrd.gz"
	cp "$src/grub/01_sriov.cfg" "$iso/boot/grub/01_sriov.cfg"
	write_grub_cfg >"$iso/boot/grub/grub.cfg"
	env=$iso/boot/grub/grubenv
	grub-editenv "$env" create
	case $c in
	sriov) grub-editenv "$env" set enable_sriov=true sr_expect=identity ;;
	default) grub-editenv "$env" set sr_expect=dma-fq ;;
	off) grub-editenv "$env" set sr_entry=iommu-off sr_expect=off ;;
	esac
	echo "grub: $c: grubenv: $(grub-editenv "$env" list | tr '\n' ' ')"
	if ! grub-mkrescue -o "$tmp/$c.iso" "$iso" >"$tmp/$c.mkrescue.log" 2>&1; then
		cat "$tmp/$c.mkrescue.log"
		echo "grub: $c: FAIL: grub-mkrescue"
		fail=1
		continue
	fi
	if sr_vm_boot "grub_$c" -cdrom "$tmp/$c.iso" -boot d; then
		echo "grub: $c: PASS"
	else
		echo "grub: $c: FAIL"
		fail=1
	fi
done
exit $fail
