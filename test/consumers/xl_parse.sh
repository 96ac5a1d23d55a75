#!/bin/sh
# SPDX-License-Identifier: MIT
# Run Xen's own xl.cfg parser (libxlutil, through xlcfg_check) on every
# golden xen_*.cfg and check it reads back what the file says: each pci
# entry parses to the same BDF, in order, and name/uuid/type/memory/vcpus
# have the values written. Two broken copies must be rejected, so the check
# can fail.
# usage: xl_parse.sh XLCFG_CHECK GOLDEN_DIR
set -u

check=$1
golden=$2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0

bad() { echo "FAIL: $*"; fail=1; }

# value of "key = value" in an xl.cfg, quotes stripped
value_of() { sed -n "s/^$2 = \"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" "$1"; }

for f in "$golden"/xen_*.cfg; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	name=$(basename "$f")
	if ! "$check" "$f" >"$tmp/out" 2>"$tmp/err"; then
		bad "$name: rejected by libxlutil: $(cat "$tmp/err")"
		continue
	fi
	for key in name uuid type memory vcpus; do
		want=$(value_of "$f" "$key")
		got=$(sed -n "s/^$key=//p" "$tmp/out")
		[ -n "$want" ] && [ "$want" = "$got" ] ||
			bad "$name: $key: file says '$want', libxlutil read '$got'"
	done
	grep '^pci = ' "$f" |
		grep -o '[0-9a-fA-F]\{4\}:[0-9a-fA-F]\{2\}:[0-9a-fA-F]\{2\}\.[0-7]' |
		tr 'A-F' 'a-f' >"$tmp/want"
	sed -n 's/^pci=//p' "$tmp/out" >"$tmp/got"
	[ -s "$tmp/want" ] || bad "$name: no PCI address in a pci = [ ... ] line"
	cmp -s "$tmp/want" "$tmp/got" ||
		bad "$name: BDFs in file: $(echo $(cat "$tmp/want")); parsed: $(echo $(cat "$tmp/got"))"
	[ $fail -eq 0 ] && echo "ok: $name: $(echo $(cat "$tmp/got"))"
done
[ $n -gt 0 ] || bad "no xen_*.cfg under $golden"

# Negative controls on the first golden: the parser must say no.
first=$(ls "$golden"/xen_*.cfg 2>/dev/null | head -n 1)
if [ -n "$first" ]; then
	sed "/^pci = /s/'[0-9a-f]\{4\}:/'zzzz:/" "$first" >"$tmp/bad_bdf.cfg"
	sed '/^pci = /s/ ]$//' "$first" >"$tmp/bad_syntax.cfg"
	for b in bad_bdf bad_syntax; do
		if "$check" "$tmp/$b.cfg" >/dev/null 2>&1; then
			bad "$b: broken copy of $(basename "$first") was accepted"
		else
			echo "ok: $b rejected"
		fi
	done
fi
exit $fail
