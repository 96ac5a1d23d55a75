#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm_packets (issue 22): the VF settings proven by packets. Boots the VM
# with QEMU writing everything that crosses the igb PF's wire to a pcap
# (-object filter-dump on its netdev), runs scenarios/packets.sh in it
# (the agent, the VFs in namespaces, the traffic and the in-guest checks),
# then checks the capture here, on the host, against an expectation file
# with wire.py (source MAC, 802.1Q/802.1ad tags, VID and PCP per VF and
# phase). Passes only when both halves pass.
#
# usage: test/vm/packets.sh [EXPECT]    (default test/vm/wire/packets.expect)
# The capture stays in $SR_VM_LOGDIR/packets.pcap (ctest: the build tree's
# test/vm/logs/); `test/vm/wire.py show FILE` prints it frame by frame.
# Exit: 0 pass, 77 skip (no QEMU >= 8 or no kernel), else failure.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$here/common.sh"
expect=$(realpath -e "${1:-$here/wire/packets.expect}") || exit 2
sr_vm_check_qemu
# The guest runs this machine's ping (it sees the host's /).
command -v ping >/dev/null 2>&1 || {
	echo "vm: packets: FAIL: no ping on this machine (scripts/setup.sh installs iputils-ping)"
	exit 1
}
mkdir -p "$sr_vm_logdir"
pcap=$sr_vm_logdir/packets.pcap
rm -f "$pcap"

SR_VM_QEMU_ARGS="${SR_VM_QEMU_ARGS:-} -object filter-dump,id=wire,netdev=n1,file=$pcap" \
	bash "$here/run.sh" "$here/scenarios/packets.sh"
rc=$?
[ $rc -ne 77 ] || exit 77

echo "vm: packets: the wire ($pcap) against $expect:"
python3 "$here/wire.py" check "$pcap" "$expect"
wrc=$?
if [ $rc -ne 0 ] || [ $wrc -ne 0 ]; then
	echo "vm: packets: FAIL (guest: exit $rc, wire: exit $wrc)"
	exit 1
fi
echo "vm: packets: PASS (guest checks and wire rules)"
exit 0
