#!/usr/bin/env bash
# Install every Debian package the build, the tests and the demo need.
# Idempotent: does nothing (and touches no network) when all are present.
# QEMU >= 8 (for the emulated SR-IOV NIC "igb") comes from bookworm-backports,
# added with the same mirror URI the machine's own apt sources already use.
set -euo pipefail

log() { printf 'setup: %s\n' "$*" >&2; }

BASE_PKGS=(build-essential cmake pkg-config
	libnl-3-dev libnl-route-3-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
	libpci-dev pci.ids uuid-dev check libsubunit-dev
	valgrind clang libclang-rt-14-dev python3
	libprotobuf-dev python3-protobuf) # well-known protos (Timestamp); protobuf JSON mapping in tests
# The Debian way: sd_notify (optional at build time), the unit checked by
# systemd-analyze and booted under systemd in the VM, man page lint, bash
# completion's directory, the .deb (CPack + dpkg-shlibdeps) and lintian.
DIST_PKGS=(systemd libsystemd-dev mandoc bash-completion dpkg-dev fakeroot lintian init-system-helpers)
VM_PKGS=(busybox-static cpio iproute2 kmod xz-utils zstd jq
	iputils-ping) # test/vm/scenarios/packets.sh: ping in the guest (IPv6 link-local, patterned)
GRUB_PKGS=(grub-pc-bin grub-common xorriso mtools libxen-dev)
BENCH_PKGS=(strace) # bench/run.sh: syscall counts
# The Xen test bed (test/xen): dom0's root is this machine's /, so its
# toolstack (xl, xenstored, xenconsoled, xen-init-dom0) is installed here;
# the hypervisor itself is downloaded into the cache by test/xen/prepare.sh.
XEN_PKGS=(xen-utils-4.17)
# netdevsim for the VM tests at hundreds and thousands of VFs
# (test/vm/netdevsim-build.sh): Debian does not build it, so it is built out
# of tree from the kernel source against the headers of the kernel the VM
# boots. That kernel is what linux-image-amd64 depends on (test/vm/prepare.sh
# picks it the same way), so the headers are derived from it.
NSIM_PKGS=()
vm_kimage=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-amd64\)$/\1/p' | head -n1)
if [ -n "$vm_kimage" ]; then
	# 6.1.0-57-amd64 -> linux-source-6.1
	NSIM_PKGS=("linux-source-$(echo "$vm_kimage" | cut -d. -f1-2)" "linux-headers-$vm_kimage")
else
	log "apt-cache knows no linux-image-amd64: netdevsim's source and headers not installed (its VM tests will SKIP)"
fi


missing=()
for p in "${BASE_PKGS[@]}" "${DIST_PKGS[@]}" "${VM_PKGS[@]}" "${GRUB_PKGS[@]}" "${BENCH_PKGS[@]}" "${XEN_PKGS[@]}" "${NSIM_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

qemu_ok() {
	command -v qemu-system-x86_64 >/dev/null 2>&1 || return 1
	local v
	v=$(qemu-system-x86_64 --version | sed -n '1s/.*version \([0-9]*\).*/\1/p')
	[ "${v:-0}" -ge 8 ]
}

# The mirror URI of the machine's main Debian suite, read from its deb822 sources.
debian_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk '
			/^[[:space:]]*$/ { if (uri != "" && suites ~ /(^|[[:space:]])bookworm([[:space:]]|$)/) { print uri; exit } uri=""; suites=""; next }
			/^URIs:/   { uri=$2 }
			/^Suites:/ { $1=""; suites=$0 }
			END { if (uri != "" && suites ~ /(^|[[:space:]])bookworm([[:space:]]|$)/) print uri }
		' "$f"
	done | head -n1
}

need_update=0
[ ${#missing[@]} -eq 0 ] || need_update=1
bp=/etc/apt/sources.list.d/sriov-agent-backports.sources
if ! qemu_ok && [ ! -f "$bp" ]; then
	mirror=$(debian_mirror)
	if [ -z "$mirror" ]; then
		log "no deb822 source for suite bookworm under /etc/apt/sources.list.d; cannot add bookworm-backports"
	else
		log "adding bookworm-backports from $mirror"
		cat >"$bp" <<SRC
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
		need_update=1
	fi
fi

if [ $need_update -eq 1 ]; then
	log "apt-get update"
	apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
	log "installing: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! qemu_ok; then
	log "installing qemu-system-x86 from bookworm-backports"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-t bookworm-backports qemu-system-x86 qemu-utils >/dev/null || log "QEMU from backports could not be installed"
fi
qemu_ok && log "qemu: $(qemu-system-x86_64 --version | head -n1)" || log "qemu: not available (VM tests will SKIP)"
exit 0
