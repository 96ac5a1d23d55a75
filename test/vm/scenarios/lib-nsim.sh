# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# The netdevsim bed, shared by test/vm/scenarios/netdevsim.sh and
# bench/vm_bench_nsim.sh. Not a scenario: source it after test/vm/lib.sh
# (and lib-agent.sh), then call `nsim_bed MAX`:
#   netdevsim.ko (test/vm/netdevsim-build.sh) loaded after psample, device
#   netdevsim1 with one port renamed nsim0, max_vfs MAX; a fake PCI tree
#   ($nsim_tree, PF 0000:05:00.0 = nsim0, `fake-sysfs run` in the
#   background) whose sriov_numvfs is written through to netdevsim's
#   ($nsim_dev/sriov_numvfs) before its virtfn links appear.
# Sets nsim_dump (nl-vfdump), nsim_gen (nsim_config.py), nsim_tree, nsim_dev,
# nsim_fake_pid; nsim_encode N NAME [ARG...] writes $SR_VM_WORKDIR/NAME.pb.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "lib-nsim.sh is sourced by scenarios, not run" >&2
	exit 2
fi

nsim_ko=${SR_VM_CACHE:-$SR_SOURCE_DIR/test/vm/cache}/netdevsim/netdevsim.ko
nsim_dump=$SR_BUILD_DIR/test/vm/nl-vfdump
nsim_fake=$SR_BUILD_DIR/test/fake-sysfs
nsim_gen=$SR_SOURCE_DIR/test/vm/nsim_config.py
nsim_tree=$SR_VM_WORKDIR/tree
nsim_dev=/sys/bus/netdevsim/devices/netdevsim1

nsim_bed() {
	local max=$1 b port
	for b in "$nsim_dump" "$nsim_fake" "$nsim_ko"; do
		if [ ! -r "$b" ]; then
			sr_not_ok "$b is there" "build the tree and run test/vm/netdevsim-build.sh"
			sr_done
		fi
	done
	sr_check "modprobe psample" modprobe psample
	sr_check "insmod netdevsim.ko" insmod "$nsim_ko"
	sr_check "netdevsim device 1 with one port" sr_write /sys/bus/netdevsim/new_device "1 1"
	for _ in $(seq 100); do
		[ -n "$(ls "$nsim_dev/net" 2>/dev/null)" ] && break
		sleep 0.05
	done
	port=$(ls "$nsim_dev/net" 2>/dev/null | head -n1)
	sr_check "its port netdev ($port) renamed nsim0" ip link set "$port" name nsim0
	mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
	sr_check "netdevsim max_vfs $max" sr_write /sys/kernel/debug/netdevsim/netdevsim1/max_vfs "$max"
	sr_check "fake PCI tree: PF 0000:05:00.0 = nsim0, numvfs written through to netdevsim" \
		"$nsim_fake" create "$nsim_tree" --pf "pci=0000:05:00.0,ifname=nsim0,driver=netdevsim,totalvfs=$max,offset=1,stride=1,vfifname=none,mirror=$nsim_dev/sriov_numvfs"
	"$nsim_fake" run "$nsim_tree" 2>"$SR_VM_WORKDIR/fake.log" &
	nsim_fake_pid=$!
	for _ in $(seq 100); do [ -e "$nsim_tree/.fake-driver.pid" ] && break; sleep 0.05; done
	sr_check "fake-sysfs run is up" test -e "$nsim_tree/.fake-driver.pid"
}

# nsim_encode N NAME [ARG...]: nsim_config.py config N ARG... -> $SR_VM_WORKDIR/NAME.pb
nsim_encode() {
	python3 "$nsim_gen" config "$1" "${@:3}" |
		protoc --proto_path="$SR_SOURCE_DIR/proto" --encode=org.lfedge.eve.config.EdgeDevConfig \
			eveconfig.proto >"$SR_VM_WORKDIR/$2.pb"
}

# nsim_make_vfs N: the PF given N VFs through the fake tree, before the
# agent runs (it then finds them present). For counts the emulator cannot
# make within the agent's 10 s wait for VFs to appear: fake-sysfs makes
# about 130 VF trees a second in the TCG guest (measured: 1277 of 4096 in
# 10 s). Up to 300 s; 0 when netdevsim and the tree both have N.
nsim_make_vfs() {
	local f=$nsim_tree/sys/bus/pci/devices/0000:05:00.0 end=$((SECONDS + 300))
	if [ "$(cat "$f/sriov_numvfs")" != "$1" ]; then
		sr_write "$f/sriov_numvfs" 0 >/dev/null
		while [ $SECONDS -lt $end ] && compgen -G "$f/virtfn*" >/dev/null; do sleep 0.2; done
		sr_write "$f/sriov_numvfs" "$1" >/dev/null
	fi
	while [ $SECONDS -lt $end ] && [ ! -e "$f/virtfn$(($1 - 1))" ]; do sleep 0.2; done
	[ -e "$f/virtfn$(($1 - 1))" ] && [ "$(cat "$nsim_dev/sriov_numvfs")" = "$1" ]
}
