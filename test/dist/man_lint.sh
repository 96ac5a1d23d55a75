#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The man pages lint clean (mandoc -T lint -W style, groff -ww -z) and name
# every option and command the binaries' --help shows.
# Usage: man_lint.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=${1:?source dir} b=${2:?build dir}
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
nok() { fail=$((fail + 1)); echo "not ok - $*"; }

for page in "$src"/dist/man/*.8; do
	name=$(basename "$page")
	if out=$(mandoc -T lint -W style "$page" 2>&1) && [ -z "$out" ]; then
		ok "$name: mandoc -T lint -W style clean"
	else
		nok "$name: mandoc: $out"
	fi
	if out=$(groff -ww -z -man "$page" 2>&1) && [ -z "$out" ]; then
		ok "$name: groff -ww -z clean"
	else
		nok "$name: groff: $out"
	fi
done
# The pages' .TH names the version the binaries report.
version=$("$b/agent/sriov-agent" --version | sed -n '1s/^sriov-agent //p')
for page in "$src"/dist/man/*.8; do
	grep -q "^\.TH .* \"sriov-agent $version\"" "$page" ||
		nok "$(basename "$page"): .TH does not name sriov-agent $version"
done
# Every --option in a binary's --help is in its page (as \-\-option).
for bin in sriov-agent sriovctl; do
	page=$src/dist/man/$bin.8
	for opt in $("$b/agent/$bin" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		grep -qF -- "$(sed 's/-/\\-/g' <<<"$opt")" "$page" && continue
		nok "$bin.8 does not describe $opt (from $bin --help)"
	done
done
# Every sriovctl command in --help is in sriovctl.8's COMMANDS.
for cmd in $("$b/agent/sriovctl" --help | awk '/^Commands:/ { on = 1; next } on && !NF { exit } on && /^  [a-z]/ { print $1 }'); do
	grep -qE "^\.B(I)? $(sed 's/-/\\\\-/g' <<<"$cmd")( |$)" "$src/dist/man/sriovctl.8" ||
		nok "sriovctl.8 does not describe the command $cmd"
done
[ "$fail" -eq 0 ] && ok "both pages describe every option and command of --help"
echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
