#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prepare the VM test bed: Debian's kernel and a busybox initramfs, cached
# under test/vm/cache/ (gitignored). Idempotent: a second run only checks.
#
#   cache/<linux-image-*.deb>    the kernel package (apt-get download)
#   cache/kernel/                the package extracted, depmod run on it;
#                                the guest bind-mounts its lib/modules/KVER
#                                so `modprobe` works in scenarios
#   cache/vmlinuz, cache/kver    kernel image and its version string
#   cache/initrd.gz              busybox-static + test/vm/init + the modules
#                                in SR_VM_MODULES with their dependencies
#   cache/initrd.stamp           what initrd.gz was built from
#
# Environment:
#   SR_VM_CACHE       cache directory (default: test/vm/cache)
#   SR_VM_KERNEL_DEB  use this linux-image-*.deb instead of asking apt
#   SR_VM_MODULES     extra module names to put in the initramfs and load
#   SR_VM_INITRD      build cache/NAME.gz (+ NAME.stamp) instead of initrd.gz
#                     (test/xen/prepare.sh: the PV guest's image)
#   SR_VM_INIT        its /init (default test/vm/init)
#   SR_VM_BASE_MODULES  replaces the first module group below
#
# Exit: 0 ready; 77 the kernel cannot be had (ctest SKIP); other: failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${SR_VM_CACHE:-$here/cache}

# Loaded by /init in this order (dependencies are added in front). The first
# group is needed to reach the host; the second is what the scenarios test.
read -ra extra_modules <<<"${SR_VM_MODULES:-}"
read -ra base_modules <<<"${SR_VM_BASE_MODULES:-virtio_pci 9pnet_virtio 9p overlay igb igbvf vfio vfio_iommu_type1 vfio-pci}"
MODULES=("${base_modules[@]}" "${extra_modules[@]}")
initrd_name=${SR_VM_INITRD:-initrd}
init=${SR_VM_INIT:-$here/init}

log() { printf 'vm-prepare: %s\n' "$*" >&2; }
skip() { printf 'SKIP: vm-prepare: %s\n' "$*" >&2; exit 77; }
die() { printf 'vm-prepare: error: %s\n' "$*" >&2; exit 1; }

for t in dpkg-deb depmod modprobe cpio gzip; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found (scripts/setup.sh installs it)"
done
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || die "busybox not found (package busybox-static)"
case $(LC_ALL=C ldd "$busybox" 2>&1 || true) in
*"not a dynamic executable"*) ;;
*) die "$busybox is not static (package busybox-static)" ;;
esac

mkdir -p "$cache"
# ctest may start the VM tests in parallel; one preparer at a time.
exec 9>"$cache/.lock"
flock 9

# 1. The kernel package.
deb=
if [ -n "${SR_VM_KERNEL_DEB:-}" ]; then
	[ -r "$SR_VM_KERNEL_DEB" ] || skip "SR_VM_KERNEL_DEB=$SR_VM_KERNEL_DEB is not readable"
	deb=$(realpath "$SR_VM_KERNEL_DEB")
else
	# linux-image-amd64 is a metapackage: its Depends names the real image.
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1)
	if [ -n "$pkg" ]; then
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
	else
		# No apt lists (offline): fall back to a package fetched earlier.
		deb=$(ls "$cache"/linux-image-[0-9]*-amd64_*_amd64.deb 2>/dev/null | tail -n1 || true)
		[ -n "$deb" ] || skip "apt-cache knows no linux-image-amd64 and nothing is cached"
		log "apt-cache has no linux-image-amd64; using cached $(basename "$deb")"
	fi
fi

# 2. The package extracted, with modules.dep.
root=$cache/kernel
if [ "$(cat "$cache/kernel.from" 2>/dev/null)" != "$deb" ]; then
	log "extracting $(basename "$deb")"
	rm -rf "$root" "$cache/kernel.from"
	mkdir -p "$root"
	dpkg-deb -x "$deb" "$root"
	kver=$(ls "$root/lib/modules")
	[ "$(echo "$kver" | wc -l)" -eq 1 ] || die "expected one kernel in $deb, found: $kver"
	depmod -b "$root" "$kver"
	cp "$root/boot/vmlinuz-$kver" "$cache/vmlinuz.tmp"
	mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
	echo "$kver" >"$cache/kver"
	echo "$deb" >"$cache/kernel.from"
fi
kver=$(cat "$cache/kver")
moddir=$root/lib/modules/$kver

# 3. The initramfs, rebuilt when any of its inputs changed.
stamp=$( {
	echo "$deb" "${MODULES[*]}"
	sha256sum "$busybox" "$init" "${BASH_SOURCE[0]}"
} | sha256sum | cut -d' ' -f1)
if [ -r "$cache/$initrd_name.gz" ] && [ "$(cat "$cache/$initrd_name.stamp" 2>/dev/null)" = "$stamp" ]; then
	log "ready: kernel $kver, $cache/vmlinuz, $cache/$initrd_name.gz"
	exit 0
fi

log "building initramfs for $kver"
work=$(mktemp -d "$cache/initrd.XXXXXX")
trap 'rm -rf "$work"' EXIT
ir=$work/root
mkdir -p "$ir"/{bin,sbin,etc,proc,sys,dev,tmp,host,rw,newroot,lib/modules}
cp "$busybox" "$ir/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$ir/bin/$applet"
done
cp "$init" "$ir/init"
chmod 0755 "$ir/init"

# Dependency order from modprobe on the extracted tree; first occurrence wins.
: >"$work/order"
for m in "${MODULES[@]}"; do
	out=$(modprobe -d "$root" -S "$kver" --show-depends "$m" 2>&1) ||
		die "module $m: $out"
	echo "$out" >>"$work/order"
done
: >"$ir/etc/sr-modules"
awk '$1 == "insmod" && !seen[$2]++ { print $2 }' "$work/order" | while read -r ko; do
	rel=${ko#"$moddir"/}
	[ "$rel" != "$ko" ] || die "module outside $moddir: $ko"
	mkdir -p "$ir/lib/modules/$(dirname "$rel")"
	cp "$ko" "$ir/lib/modules/$rel"
	echo "$rel" >>"$ir/etc/sr-modules"
done
echo "$kver" >"$ir/etc/sr-kver"
log "modules: $(tr '\n' ' ' <"$ir/etc/sr-modules" | sed 's|[^ ]*/||g')"

(cd "$ir" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --quiet --owner=0:0) | gzip -9 >"$work/initrd.gz"
mv "$work/initrd.gz" "$cache/$initrd_name.gz"
echo "$stamp" >"$cache/$initrd_name.stamp"
log "ready: kernel $kver, $cache/vmlinuz, $cache/$initrd_name.gz ($(du -h "$cache/$initrd_name.gz" | cut -f1))"
