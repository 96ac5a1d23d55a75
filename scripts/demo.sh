#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo: install what is missing (scripts/setup.sh), build, then boot the
# test VM (Debian's kernel under QEMU, an emulated Intel 82576 SR-IOV NIC)
# and show the whole flow on it: config, sriovctl pfs, sriov-agent apply,
# sriovctl list / show, the kernel's view (ip -d link), the domain configs
# and QEMU taking one (test/vm/scenarios/demo.sh). The guest's console is
# printed here. Then the data plane: the VM boots again with QEMU capturing
# the NIC's wire (test/vm/packets.sh, the test vm_packets), and each VF's
# settings from the config are shown next to its frames on the wire.
# Exit status: 0 when every step and check passed, 77 when
# the machine cannot run the VM (no QEMU >= 8 or no kernel), else non-zero.
#
# usage: scripts/demo.sh        (from anywhere; builds into ./build of the repo)
# Environment: SR_BUILD_DIR (default REPO/build), SR_VM_TIMEOUT (default 300).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SR_BUILD_DIR:-$repo/build}
cd "$repo"

say() { printf '\ndemo: %s\n' "$*"; }
t0=$(date +%s)

say "1/4 packages (scripts/setup.sh; needs root only when something is missing)"
bash scripts/setup.sh

say "2/4 build ($build)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { cmake -S . -B "$build" && cmake --build "$build" -j "$(nproc)"; } >"$log" 2>&1; then
	cat "$log"
	say "FAIL: the build failed"
	exit 1
fi
tail -n 1 "$log"

# wire: step 4. The VFs' settings proven by packets: test/vm/packets.sh
# (its console in $logs/packets.log), then the config next to the capture.
wire() {
	local logs=$build/test/vm/demo-logs pcap cfg=test/vm/configs/packets.txtpb rc=0
	pcap=$logs/packets.pcap
	say "4/4 the wire: boot the VM again, QEMU capturing everything on the NIC's wire (test/vm/packets.sh)"
	echo "Each VF's netdev in a network namespace of its own; they ping (IPv6 link-local"
	echo "only) through the NIC; the agent repairs a drift and releases the apps."
	mkdir -p "$logs"
	SR_VM_LOGDIR=$logs SR_BUILD_DIR=$build bash test/vm/packets.sh >"$logs.out" 2>&1 || rc=$?
	grep -E '^vm: packets: (PASS|FAIL|QEMU exit)|^# (all|[0-9]+ of) [0-9]+ checks|^# wire: (all|[0-9]+ of)' "$logs.out" | tr -d '\r'
	if [ $rc -ne 0 ]; then
		tail -n 30 "$logs.out"
		return $rc
	fi
	echo
	printf '%-3s %-56s %s\n' VF "the config asked ($cfg)" "the wire showed (first echo request)"
	join -j1 -t '|' -a1 -e '(nothing on the wire)' -o 0,1.2,2.2 <(awk -f test/vm/wire/config-vfs.awk "$cfg" | sed 's/ /|/' | sort) \
		<(python3 test/vm/wire.py vfs "$pcap" apply | sed 's/ /|/' | sort) |
		awk -F'|' '{ printf "%-3s %-56s %s\n", $1, $2, $3 }' | sort -n
	echo
	echo "VF 0 after 'ip link set PF vf 0 vlan 7' behind the stopped agent, then repaired by it:"
	python3 test/vm/wire.py vfs "$pcap" drift | sed -n 's/^0 /  drift:    /p'
	python3 test/vm/wire.py vfs "$pcap" repaired | sed -n 's/^0 /  repaired: /p'
	echo "After the apps were released (sriovctl push of the config without them):"
	python3 test/vm/wire.py vfs "$pcap" release | sed 's/^/  VF /'
	echo
	echo "A few frames as captured (test/vm/wire.py show $pcap apply):"
	python3 test/vm/wire.py show "$pcap" apply | awk '/echo request/ && n++ < 6'
}

say "3/4 boot the VM and run the demo (test/vm/scenarios/demo.sh)"
rc=0
SR_BUILD_DIR=$build bash test/vm/run.sh test/vm/scenarios/demo.sh || rc=$?

[ $rc -ne 0 ] || wire || rc=$?

case $rc in
0) say "PASS: the whole flow worked ($(($(date +%s) - t0)) s)" ;;
77) say "SKIP: this machine cannot boot the test VM (see the SKIP line above)" ;;
*) say "FAIL (status $rc): see the output above" ;;
esac
exit $rc
