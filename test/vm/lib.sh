# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Helpers for VM scenarios (bash). Source it first:
#   . "$SR_SOURCE_DIR/test/vm/lib.sh"
# then make checks and end with `sr_done`, whose exit status is the number
# of failed checks (0: PASS). Output is TAP-like: "ok N - what" /
# "not ok N - what", with details on "# " lines.

sr_n=0
sr_failed=0

sr_note() { echo "# $*"; }

sr_ok() {
	sr_n=$((sr_n + 1))
	echo "ok $sr_n - $1"
}

# sr_not_ok WHAT [DETAIL...]
sr_not_ok() {
	sr_n=$((sr_n + 1))
	sr_failed=$((sr_failed + 1))
	echo "not ok $sr_n - $1"
	shift
	[ $# -eq 0 ] || echo "#   $*"
}

# sr_check WHAT CMD [ARG...]: the check passes when CMD exits 0; its output
# is shown only when it fails.
sr_check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		sr_ok "$what"
	else
		sr_not_ok "$what" "\`$*\` exited $?: $out"
	fi
}

# sr_check_fails WHAT CMD [ARG...]: passes when CMD exits non-zero.
sr_check_fails() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		sr_not_ok "$what" "\`$*\` succeeded: $out"
	else
		sr_ok "$what"
		sr_note "  \`$*\`: $out"
	fi
}

# sr_check_eq WHAT EXPECTED ACTUAL
sr_check_eq() {
	if [ "$2" = "$3" ]; then
		sr_ok "$1"
	else
		sr_not_ok "$1" "expected '$2', got '$3'"
	fi
}

# sr_check_match WHAT EXTENDED_REGEX TEXT
sr_check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		sr_ok "$1"
	else
		sr_not_ok "$1" "no match for /$2/ in: $3"
	fi
}

# sr_write FILE VALUE: write like `echo VALUE > FILE`, one write(2);
# on failure prints the errno text (e.g. "Device or resource busy").
sr_write() {
	local err
	if err=$( { printf '%s\n' "$2" >"$1"; } 2>&1); then
		return 0
	fi
	printf '%s\n' "${err##*: }"
	return 1
}

# The first network interface bound to driver $1; prints "IFNAME PCI_ADDR".
sr_find_netdev() {
	local d drv
	for d in /sys/class/net/*; do
		[ -e "$d/device/driver" ] || continue
		drv=$(basename "$(readlink -f "$d/device/driver")")
		if [ "$drv" = "$1" ]; then
			echo "$(basename "$d") $(basename "$(readlink -f "$d/device")")"
			return 0
		fi
	done
	return 1
}

sr_done() {
	echo "1..$sr_n"
	if [ $sr_failed -eq 0 ]; then
		echo "# all $sr_n checks passed"
	else
		echo "# $sr_failed of $sr_n checks failed"
	fi
	[ $sr_failed -lt 125 ] || sr_failed=125
	exit $sr_failed
}
