#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The bash completions (dist/completion/) under bash-completion: commands,
# options, option values, and the app UUIDs of a real state (an apply on a
# fake sysfs) for show / domain-config.
# Usage: completion.sh SOURCE_DIR BUILD_DIR
set -uo pipefail
src=${1:?source dir} b=$(cd "${2:?build dir}" && pwd)
T=$(mktemp -d /tmp/sr-comp-XXXXXX)
drv=
trap '[ -n "$drv" ] && kill "$drv" 2>/dev/null; rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
nok() { fail=$((fail + 1)); echo "not ok - $*"; }

bc=/usr/share/bash-completion/bash_completion
[ -r "$bc" ] || { echo "not ok - $bc missing (bash-completion)"; exit 1; }
# shellcheck disable=SC1090
. "$bc"
. "$src/dist/completion/sriovctl"
. "$src/dist/completion/sriov-agent"
PATH=$b/agent:$PATH

# comp FUNC WORD...: the completions of the last WORD.
comp() {
	local fn=$1
	shift
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	"$fn" 2>/dev/null
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() { # WHAT EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then ok "$1"; else nok "$1: expected '$2', got '$3'"; fi
}

expect "sriovctl: commands" "domain-config info list pfs push show status" "$(comp _sriovctl sriovctl '')"
expect "sriovctl: options" "--help --hypervisor" "$(comp _sriovctl sriovctl --h)"
expect "sriovctl: --hypervisor values" "kvm xen" "$(comp _sriovctl sriovctl --hypervisor '')"
expect "sriovctl: commands after options" "pfs push" "$(comp _sriovctl sriovctl --json --state-dir /x p)"
expect "sriov-agent: commands" "--help --version apply recover run" "$(comp _sriov_agent sriov-agent '')"
expect "sriov-agent: recover options" "--domain-dir --dry-run" "$(comp _sriov_agent sriov-agent recover --d)"
expect "sriov-agent: run options" "--info-file --interval" "$(comp _sriov_agent sriov-agent run --in)"
expect "sriov-agent: apply has --dry-run" "--domain-dir --dry-run" "$(comp _sriov_agent sriov-agent apply --d)"
expect "sriov-agent: --hypervisor values" "kvm none xen" "$(comp _sriov_agent sriov-agent run --hypervisor '')"
expect "sriov-agent: --log-level values" "debug error info notice warning" "$(comp _sriov_agent sriov-agent run --log-level '')"

# App UUIDs from a real state.
"$b/test/fake-sysfs" create "$T/sys" --iommu \
	--pf pci=0000:03:00.0,ifname=eth1,driver=igb,totalvfs=7,offset=128,stride=2,vfdriver=igbvf \
	--pf pci=0000:04:00.0,ifname=eth2,driver=igb,totalvfs=7,offset=128,stride=2,vfdriver=igbvf || exit 1
"$b/test/fake-sysfs" run "$T/sys" </dev/null >/dev/null 2>&1 &
drv=$!
for _ in $(seq 100); do [ -f "$T/sys/.fake-driver.pid" ] && break; sleep 0.05; done
"$b/agent/sriov-agent" apply --sysfs-root "$T/sys" --state-dir "$T/state" --no-netlink \
	--hypervisor none --config "$b/test/fixtures/two_pfs.pb" >/dev/null 2>&1 || { nok "apply two_pfs"; exit 1; }
uuids=$("$b/agent/sriovctl" --state-dir "$T/state" --sysfs-root "$T/sys" --json list |
	python3 -c 'import json,sys; print(" ".join(sorted({v["app"] for v in json.load(sys.stdin) if v["app"]})))')
[ -n "$uuids" ] || nok "the state has reservations"
expect "sriovctl show: the state's app UUIDs" "$uuids" "$(comp _sriovctl sriovctl --state-dir "$T/state" show '')"
expect "sriovctl domain-config 1<TAB>: the UUIDs starting with 1" "$(tr ' ' '\n' <<<"$uuids" | grep '^1' | tr '\n' ' ' | sed 's/ $//')" \
	"$(comp _sriovctl sriovctl --state-dir "$T/state" domain-config 1)"
expect "sriovctl info: its options" "--format --from-agent" "$(comp _sriovctl sriovctl info --f)"
expect "sriovctl info --a: --app" "--app" "$(comp _sriovctl sriovctl info --a)"
expect "sriovctl info --format values" "json pb text" "$(comp _sriovctl sriovctl info --format '')"
expect "sriovctl info --app: the state's app UUIDs" "$uuids" "$(comp _sriovctl sriovctl --state-dir "$T/state" info --app '')"
expect "sriovctl show UUID <TAB>: nothing more" "" \
	"$(comp _sriovctl sriovctl --state-dir "$T/state" show "${uuids%% *}" '')"
echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
