#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build netdevsim.ko (the kernel's software NIC with SR-IOV VF settings) for
# the VM test bed's kernel, cached in test/vm/cache/netdevsim/. Debian does
# not ship it; it builds out of tree from the linux-source package's
# drivers/net/netdevsim (its Makefile, with CONFIG_NETDEVSIM=m, is the
# Kbuild) against the linux-headers package of the kernel prepare.sh picked
# (cache/kver). scripts/setup.sh installs both. Idempotent: a second run
# only checks the stamp.
#
#   cache/netdevsim/netdevsim.ko   the module (needs psample.ko of the same
#                                  kernel package: `modprobe psample` first)
#   cache/netdevsim.stamp          what it was built from
#
# Environment: SR_VM_CACHE (default test/vm/cache).
# Exit: 0 ready; 77 the kernel, its source or its headers are missing (ctest
# SKIP, naming what to install); other: failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${SR_VM_CACHE:-$here/cache}

log() { printf 'netdevsim-build: %s\n' "$*" >&2; }
skip() { printf 'SKIP: netdevsim-build: %s\n' "$*" >&2; exit 77; }
die() { printf 'netdevsim-build: error: %s\n' "$*" >&2; exit 1; }

[ -r "$cache/kver" ] || skip "no $cache/kver (test/vm/prepare.sh has not run or skipped)"
kver=$(cat "$cache/kver")
# 6.1.0-57-amd64 -> 6.1: the linux-source-6.1 package
series=$(echo "$kver" | cut -d. -f1-2)
tarball=/usr/src/linux-source-$series.tar.xz
headers=/usr/src/linux-headers-$kver
[ -r "$tarball" ] || skip "no $tarball (scripts/setup.sh installs linux-source-$series)"
[ -r "$headers/Makefile" ] || skip "no $headers (scripts/setup.sh installs linux-headers-$kver)"

mkdir -p "$cache"
exec 9>"$cache/.netdevsim.lock"
flock 9

out=$cache/netdevsim/netdevsim.ko
stamp=$( {
	echo "$kver"
	stat -c '%n %s %Y' "$tarball" "$headers/Makefile"
	sha256sum "${BASH_SOURCE[0]}"
} | sha256sum | cut -d' ' -f1)
if [ -r "$out" ] && [ "$(cat "$cache/netdevsim.stamp" 2>/dev/null)" = "$stamp" ]; then
	log "ready: $out ($kver)"
	exit 0
fi

log "building netdevsim for $kver from $tarball"
work=$(mktemp -d "$cache/netdevsim.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xJf "$tarball" -C "$work" --strip-components=4 "linux-source-$series/drivers/net/netdevsim" ||
	die "drivers/net/netdevsim not found in $tarball"
make -s -C "$headers" M="$work" CONFIG_NETDEVSIM=m modules >&2 || die "make netdevsim.ko failed"
magic=$(modinfo -F vermagic "$work/netdevsim.ko" | cut -d' ' -f1)
[ "$magic" = "$kver" ] || die "netdevsim.ko is for $magic, the VM boots $kver"
mkdir -p "$cache/netdevsim"
cp "$work/netdevsim.ko" "$out.tmp"
mv "$out.tmp" "$out"
echo "$stamp" >"$cache/netdevsim.stamp"
log "ready: $out ($kver, $(du -k "$out" | cut -f1) KiB)"
