#!/bin/sh
# SPDX-License-Identifier: MIT
# grub-script-check on the GRUB fragment, and on a broken copy of it (last
# line cut off, so an "if" is left open) that must be refused: the check can
# fail. Exits 77 (skip) without grub-script-check (package grub-common).
# usage: script_check.sh FRAGMENT
set -u
frag=$1
if ! command -v grub-script-check >/dev/null 2>&1; then
	echo "SKIP: grub-script-check not found (package grub-common)"
	exit 77
fi
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
fail=0
if grub-script-check "$frag"; then
	echo "ok: $frag parses"
else
	echo "FAIL: grub-script-check refused $frag"
	fail=1
fi
grep -v '^fi$' "$frag" >"$tmp"
if grub-script-check "$tmp" 2>/dev/null; then
	echo "FAIL: a copy without its closing 'fi' lines passes grub-script-check"
	fail=1
else
	echo "ok: a copy without its closing 'fi' lines is refused"
fi
exit $fail
