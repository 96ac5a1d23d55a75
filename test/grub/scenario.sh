#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# In-guest checks for test/grub/boot.sh: the kernel command line GRUB built
# with grub/01_sriov.cfg, and the IOMMU state it led to. SR_EXPECT (from the
# menu entry's sr.env.SR_EXPECT=) says which boot this is:
#   identity  enable_sriov=true: intel_iommu=on iommu=pt, groups "identity"
#   dma-fq    enable_sriov unset: neither word, translated groups: "DMA-FQ"
#             (Debian's kernel has VT-d on by default, lazy invalidation),
#             or "DMA" when the VT-d unit has caching mode (CM, bit 7 of
#             its cap register), as QEMU's intel-iommu,caching-mode=on does:
#             Linux then forces strict invalidation ("IOMMU batching
#             disallowed due to virtualization")
#   off       entry with intel_iommu=off: no IOMMU groups at all
. "$SR_SOURCE_DIR/test/vm/lib.sh"

cmdline=$(cat /proc/cmdline)
sr_note "SR_EXPECT=${SR_EXPECT:-} /proc/cmdline: $cmdline"
words=" $cmdline "
has() { case $words in *" $1 "*) echo yes ;; *) echo no ;; esac; }
ngroups=$(ls /sys/kernel/iommu_groups | wc -l)
types=$(cat /sys/kernel/iommu_groups/*/type 2>/dev/null | sort -u | tr '\n' ' ')
sr_note "iommu groups: $ngroups, types: ${types:-none}"
sr_note "$(dmesg | grep -E 'DMAR: (IOMMU enabled|IOMMU disabled)|iommu: Default domain type|IOMMU batching' | sed 's/^\[[ 0-9.]*\] //' | tr '\n' ';')"
# Caching mode of the first VT-d unit: yes, no, or none (no unit).
caching_mode=none
for cap in /sys/class/iommu/dmar*/intel-iommu/cap; do
	[ -r "$cap" ] || continue
	caching_mode=$(( (0x$(cat "$cap") >> 7) & 1 ))
	[ "$caching_mode" -eq 1 ] && caching_mode=yes || caching_mode=no
	break
done
sr_note "VT-d caching mode: $caching_mode"

sr_check_eq "no quote characters in /proc/cmdline" no \
	"$(case $cmdline in *'"'*) echo yes ;; *) echo no ;; esac)"

case ${SR_EXPECT:-} in
identity)
	sr_check_eq "cmdline has intel_iommu=on" yes "$(has intel_iommu=on)"
	sr_check_eq "cmdline has iommu=pt" yes "$(has iommu=pt)"
	sr_check "IOMMU groups exist" test "$ngroups" -gt 0
	sr_check_eq "every group's type is identity" "identity " "$types"
	;;
dma-fq)
	sr_check_eq "cmdline has no intel_iommu=on" no "$(has intel_iommu=on)"
	sr_check_eq "cmdline has no iommu=pt" no "$(has iommu=pt)"
	sr_check "IOMMU groups exist" test "$ngroups" -gt 0
	want="DMA-FQ "
	[ "$caching_mode" != yes ] || want="DMA "
	sr_check_eq "every group's type is ${want% } (caching mode: $caching_mode)" "$want" "$types"
	;;
off)
	sr_check_eq "cmdline has intel_iommu=off" yes "$(has intel_iommu=off)"
	sr_check_eq "cmdline has no intel_iommu=on" no "$(has intel_iommu=on)"
	sr_check_eq "cmdline has no iommu=pt" no "$(has iommu=pt)"
	sr_check_eq "no IOMMU groups" 0 "$ngroups"
	;;
*)
	sr_not_ok "SR_EXPECT is identity, dma-fq or off" "got '${SR_EXPECT:-}'"
	;;
esac
sr_done
