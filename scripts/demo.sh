#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo: install what is missing (scripts/setup.sh), build, then boot the
# test VM (Debian's kernel under QEMU, an emulated Intel 82576 SR-IOV NIC)
# and show the whole flow on it: config, sriovctl pfs, sriov-agent apply,
# sriovctl list / show, the kernel's view (ip -d link), the domain configs
# and QEMU taking one (test/vm/scenarios/demo.sh). The guest's console is
# printed here. Exit status: 0 when every step and check passed, 77 when
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

say "1/3 packages (scripts/setup.sh; needs root only when something is missing)"
bash scripts/setup.sh

say "2/3 build ($build)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { cmake -S . -B "$build" && cmake --build "$build" -j "$(nproc)"; } >"$log" 2>&1; then
	cat "$log"
	say "FAIL: the build failed"
	exit 1
fi
tail -n 1 "$log"

say "3/3 boot the VM and run the demo (test/vm/scenarios/demo.sh)"
rc=0
SR_BUILD_DIR=$build bash test/vm/run.sh test/vm/scenarios/demo.sh || rc=$?

case $rc in
0) say "PASS: the whole flow worked ($(($(date +%s) - t0)) s)" ;;
77) say "SKIP: this machine cannot boot the test VM (see the SKIP line above)" ;;
*) say "FAIL (status $rc): see the output above" ;;
esac
exit $rc
