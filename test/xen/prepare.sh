#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prepare the Xen test bed, cached next to the KVM one (test/vm/cache/,
# gitignored). Idempotent: a second run only checks.
#
#   everything test/vm/prepare.sh makes (Debian's kernel, the busybox
#   initramfs); dom0 boots that same kernel and initramfs
#   cache/xen-hypervisor-4.17-amd64_*.deb   Debian's Xen (apt-get download)
#   cache/xen.gz                            its /boot/xen-4.17-amd64.gz (GRUB's multiboot2)
#   cache/xen.elf                           the same, uncompressed: a multiboot
#                                           ELF that QEMU loads with -kernel
#   cache/xen-guest.gz                      the PV guest's initramfs: busybox,
#                                           test/xen/guest-init, xen-pcifront, igbvf
#   cache/xen-guest.vmlinux                 the guest's kernel: vmlinuz's XZ
#                                           payload, an ELF xl loads as is
#
# The toolstack (xl, xenstored, xenconsoled, xen-init-dom0) is not here:
# dom0's root is this machine's /, and scripts/setup.sh installs xen-utils-4.17.
#
# Environment: SR_VM_CACHE (default test/vm/cache), SR_XEN_DEB (use this
# xen-hypervisor-*.deb instead of asking apt).
# Exit: 0 ready; 77 Xen or the kernel cannot be had (ctest SKIP); other: failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vm=$(cd "$here/../vm" && pwd)
cache=${SR_VM_CACHE:-$vm/cache}
pkg=xen-hypervisor-4.17-amd64

log() { printf 'xen-prepare: %s\n' "$*" >&2; }
skip() { printf 'SKIP: xen-prepare: %s\n' "$*" >&2; exit 77; }
die() { printf 'xen-prepare: error: %s\n' "$*" >&2; exit 1; }

# 1. The kernel and dom0's initramfs.
rc=0
bash "$vm/prepare.sh" || rc=$?
[ $rc -eq 0 ] || exit $rc

mkdir -p "$cache"
exec 9>"$cache/.xen.lock"
flock 9

# 2. The hypervisor.
if [ -n "${SR_XEN_DEB:-}" ]; then
	[ -r "$SR_XEN_DEB" ] || skip "SR_XEN_DEB=$SR_XEN_DEB is not readable"
	deb=$(realpath "$SR_XEN_DEB")
else
	deb=$(ls "$cache/${pkg}"_*_amd64.deb 2>/dev/null | tail -n1 || true)
	if [ -z "$deb" ]; then
		log "downloading $pkg"
		sandbox=()
		[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
		(cd "$cache" && apt-get download -q "${sandbox[@]}" "$pkg") >&2 ||
			skip "apt-get download $pkg failed"
		deb=$(ls "$cache/${pkg}"_*_amd64.deb 2>/dev/null | tail -n1 || true)
		[ -n "$deb" ] || skip "apt-get download $pkg left no .deb in $cache"
	fi
fi
if [ "$(cat "$cache/xen.from" 2>/dev/null)" != "$deb" ] || [ ! -r "$cache/xen.elf" ]; then
	log "extracting $(basename "$deb")"
	tmp=$(mktemp -d "$cache/xen.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	dpkg-deb -x "$deb" "$tmp"
	gz=$(ls "$tmp"/boot/xen-*-amd64.gz | head -n1)
	[ -r "$gz" ] || die "no /boot/xen-*-amd64.gz in $deb"
	cp "$gz" "$cache/xen.gz"
	zcat "$gz" >"$cache/xen.elf.tmp"
	mv "$cache/xen.elf.tmp" "$cache/xen.elf"
	echo "$deb" >"$cache/xen.from"
fi

# 3. The PV guest's kernel: the ELF inside the bzImage. Given the bzImage,
# xl's loader decompresses it (XZ) itself; in vm_xen the second of two
# guests created back to back failed there ("unable to XZ decompress
# kernel: Invalid kernel", twice in a row), the first never did.
kver=$(cat "$cache/kver")
if [ "$(cat "$cache/xen-guest.vmlinux.from" 2>/dev/null)" != "$kver" ]; then
	rm -f "$cache/xen-guest.vmlinux"
	for off in $(grep -abo $'\xfd7zXZ\x00' "$cache/vmlinuz" | cut -d: -f1); do
		tail -c +$((off + 1)) "$cache/vmlinuz" | xz -dc 2>/dev/null >"$cache/xen-guest.vmlinux.tmp" || true
		if [ "$(head -c 4 "$cache/xen-guest.vmlinux.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
			mv "$cache/xen-guest.vmlinux.tmp" "$cache/xen-guest.vmlinux"
			break
		fi
	done
	rm -f "$cache/xen-guest.vmlinux.tmp"
	[ -s "$cache/xen-guest.vmlinux" ] || die "no XZ-compressed ELF found in $cache/vmlinuz"
	echo "$kver" >"$cache/xen-guest.vmlinux.from"
fi

# 4. The PV guest's initramfs (test/vm/prepare.sh's builder, another /init).
SR_VM_CACHE=$cache SR_VM_INITRD=xen-guest SR_VM_INIT=$here/guest-init \
	SR_VM_BASE_MODULES="xen-pcifront igbvf" SR_VM_MODULES= bash "$vm/prepare.sh"
log "ready: $cache/xen.elf ($(basename "$deb")), guest $cache/xen-guest.gz"
