#!/bin/sh
# SPDX-License-Identifier: MIT
# Make the real QEMU process every golden kvm_*.cfg with -readconfig.
# This machine has no VF, so a vfio-pci device cannot be realized; a file
# that QEMU parsed completely fails exactly there, with vfio's host-device
# error naming our address and located in our file. So, per golden:
#   1. the file as it is: fails with the vfio error for its first device;
#   2. the file with only vfio-pci device k (every root port kept), for
#      each k: vfio error for the k-th address (QEMU stops at the first
#      device that fails);
#   3. the file without vfio-pci devices: QEMU starts (paused) and its
#      monitor reports the machine type, memory size and vCPU count written,
#      and one pcie-root-port (1b36:000c) per VF with the id and the pcie.0
#      slot.function the file gives it.
# Two broken copies (unknown group, misspelt property) must fail otherwise,
# so this test can fail. Exits 77 (skip) without qemu-system-x86_64.
# usage: qemu_readconfig.sh GOLDEN_DIR       (QEMU=... to pick a binary)
set -u

golden=$1
qemu=${QEMU:-qemu-system-x86_64}
if ! command -v "$qemu" >/dev/null 2>&1; then
	echo "SKIP: $qemu not found"
	exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0

bad() { echo "FAIL: $*"; fail=1; }

# Run QEMU on a config, paused, without a guest ever executing.
# Extra arguments go after ours (e.g. the monitor). stderr -> $tmp/err.
run_qemu() {
	cfg=$1
	shift
	timeout 60 "$qemu" -nodefaults -display none -accel tcg -S \
		-readconfig "$cfg" "$@" 2>"$tmp/err"
}

# True when $tmp/err holds vfio's host-device error for address $2, located
# in config file $1 ("qemu-system-x86_64:FILE:LINE: vfio ...ADDR: reason").
is_vfio_error() {
	while IFS= read -r line; do
		case "$line" in
		*"$1:"[0-9]*": vfio "*"$2: "*)
			case "$line" in
			*"no such host device"* | *"No such file or directory"* | \
			*"failed to open"* | *"error getting device"* | *"Permission denied"*)
				return 0 ;;
			esac ;;
		esac
	done <"$tmp/err"
	return 1
}

# Print the config keeping vfio-pci device k only (k = 0: none); every
# other section (machine, root ports) stays.
only_device() {
	awk -v k="$2" '
		function flush() { if (!vfio || i == k) printf "%s", buf; buf = ""; vfio = 0 }
		/^\[/ { flush() }
		/^  driver = "vfio-pci"$/ { vfio = 1; i++ }
		{ buf = buf $0 "\n" }
		END { flush() }' "$1"
}

# "id slot.function" of every device QEMU'"'"'s "info pci" lists with an id.
pci_ids() {
	tr -d '\r' | awk '
		/^  Bus +[0-9]+, device +[0-9]+, function [0-9]+:/ {
			gsub(/[,:]/, ""); dev = $4; fn = $6 }
		/^      id "/ { id = $2; gsub(/"/, "", id); if (id != "") printf "%s 0x%02x.%d\n", id, dev, fn }'
}

# Expect a run of $1 to stop at vfio for address $2.
expect_vfio() {
	if run_qemu "$1" -monitor none >/dev/null; then
		bad "$3: QEMU started, expected the vfio error for $2"
	elif is_vfio_error "$1" "$2"; then
		echo "ok: $3: parsed, stopped at vfio for $2"
	else
		bad "$3: not the vfio error for $2: $(cat "$tmp/err")"
	fi
}

for f in "$golden"/kvm_*.cfg; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	name=$(basename "$f")
	sed -n 's/^  host = "\(.*\)"$/\1/p' "$f" >"$tmp/hosts"
	n_dev=$(grep -c '^  driver = "vfio-pci"$' "$f")
	n_host=$(wc -l <"$tmp/hosts")
	if [ "$n_dev" -lt 1 ] || [ "$n_dev" -ne "$n_host" ]; then
		bad "$name: $n_dev vfio-pci devices, $n_host host lines"
		continue
	fi

	cp "$f" "$tmp/$name"
	expect_vfio "$tmp/$name" "$(head -n 1 "$tmp/hosts")" "$name"

	k=0
	while IFS= read -r addr; do
		k=$((k + 1))
		only_device "$f" "$k" >"$tmp/dev$k.cfg"
		expect_vfio "$tmp/dev$k.cfg" "$addr" "$name device $k"
	done <"$tmp/hosts"

	only_device "$f" 0 >"$tmp/nodev.cfg"
	type=$(sed -n 's/^  type = "\(.*\)"$/\1/p' "$f")
	mib=$(sed -n 's/^  size = "\([0-9]*\)M"$/\1/p' "$f")
	cpus=$(sed -n 's/^  cpus = "\([0-9]*\)"$/\1/p' "$f")
	printf 'qom-get /machine type\ninfo memory_size_summary\ninfo cpus\ninfo pci\nquit\n' |
		run_qemu "$tmp/nodev.cfg" -monitor stdio >"$tmp/mon"
	got_cpus=$(grep -c 'CPU #[0-9]*: thread_id' "$tmp/mon")
	if [ -z "$type" ] || [ -z "$mib" ] || [ -z "$cpus" ]; then
		bad "$name: type/size/cpus line missing"
	elif ! grep -q "\"pc-$type-" "$tmp/mon"; then
		bad "$name: machine is not $type: $(grep -a pc- "$tmp/mon") $(cat "$tmp/err")"
	elif ! grep -q "^base memory: $((mib * 1048576))" "$tmp/mon"; then
		bad "$name: memory is not ${mib}M: $(grep -a 'base memory' "$tmp/mon") $(cat "$tmp/err")"
	elif [ "$got_cpus" -ne "$cpus" ]; then
		bad "$name: $got_cpus vCPUs, file says $cpus"
	else
		echo "ok: $name: QEMU runs machine $type, ${mib}M, $cpus vCPUs"
	fi
	# root ports: the file's id -> addr, as QEMU placed them on pcie.0
	awk '/^\[device "/ { id = $2; gsub(/[]"]/, "", id) } /^  driver = "pcie-root-port"$/ { rp[id] = 1 }
		/^  addr = / && (id in rp) { a = $3; gsub(/"/, "", a); print id, a }' "$f" | sort >"$tmp/rp_want"
	pci_ids <"$tmp/mon" | grep '^vfport' | sort >"$tmp/rp_got"
	if [ "$(wc -l <"$tmp/rp_want")" -ne "$n_host" ]; then
		bad "$name: $(wc -l <"$tmp/rp_want") root ports for $n_host VFs"
	elif ! cmp -s "$tmp/rp_want" "$tmp/rp_got"; then
		bad "$name: root ports in the file: $(tr '\n' ' ' <"$tmp/rp_want"); QEMU has: $(tr '\n' ' ' <"$tmp/rp_got")"
	else
		echo "ok: $name: QEMU realized $n_host pcie-root-ports at $(cut -d' ' -f2 "$tmp/rp_got" | tr '\n' ' ')"
	fi
done
[ $n -gt 0 ] || bad "no kvm_*.cfg under $golden"

# Negative controls on the first golden: QEMU must refuse before vfio.
first=$(ls "$golden"/kvm_*.cfg 2>/dev/null | head -n 1)
if [ -n "$first" ]; then
	addr=$(sed -n 's/^  host = "\(.*\)"$/\1/p' "$first" | head -n 1)
	sed 's/^\[memory\]$/[memroy]/' "$first" >"$tmp/bad_group.cfg"
	sed 's/^  host = /  hots = /' "$first" >"$tmp/bad_key.cfg"
	for b in bad_group bad_key; do
		if run_qemu "$tmp/$b.cfg" -monitor none >/dev/null; then
			bad "$b: QEMU accepted a broken copy of $(basename "$first")"
		elif is_vfio_error "$tmp/$b.cfg" "$addr"; then
			bad "$b: broken copy reached vfio: the check cannot tell parse errors apart"
		else
			echo "ok: $b rejected: $(head -n 1 "$tmp/err")"
		fi
	done
fi
exit $fail
