# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Helpers for the scenarios that drive sriov-agent and sriovctl on the VM's
# igb PF. Not a scenario: source it after test/vm/lib.sh.
#   . "$SR_SOURCE_DIR/test/vm/lib.sh"
#   . "$SR_SOURCE_DIR/test/vm/scenarios/lib-agent.sh"
# It sets pf (netdev), pfaddr (PCI address) and dev (its sysfs directory),
# or ends the scenario with a failed check when there is no igb PF.

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	echo "lib-agent.sh is sourced by scenarios, not run" >&2
	exit 2
fi

sr_agent=$SR_BUILD_DIR/agent/sriov-agent
sr_ctl=$SR_BUILD_DIR/agent/sriovctl
sr_configs=$SR_SOURCE_DIR/test/vm/configs

for b in "$sr_agent" "$sr_ctl"; do
	if [ ! -x "$b" ]; then
		sr_not_ok "$b is built" "build the tree given as SR_BUILD_DIR ($SR_BUILD_DIR) first"
		sr_done
	fi
done
if ! read -r pf pfaddr < <(sr_find_netdev igb); then
	sr_not_ok "igb PF found" "no interface with driver igb: $(ls /sys/class/net)"
	sr_done
fi
dev=/sys/bus/pci/devices/$pfaddr

# sr_encode NAME: test/vm/configs/NAME.txtpb -> $SR_VM_WORKDIR/NAME.pb (binary
# EdgeDevConfig, what the agent reads); prints the path.
sr_encode() {
	local out=$SR_VM_WORKDIR/$1.pb
	protoc --proto_path="$SR_SOURCE_DIR/proto" --encode=org.lfedge.eve.config.EdgeDevConfig \
		eveconfig.proto <"$sr_configs/$1.txtpb" >"$out" || return 1
	echo "$out"
}

# sr_passthrough_configs: test/vm/configs/passthrough.txtpb and
# passthrough_release.txtpb encoded into cfg and cfg_release (a check); the
# apps they name in alpha (VF 1 by name) and beta (the lowest free VF);
# the agent's state dir in state, its domain configs' dir in domains.
sr_passthrough_configs() {
	alpha=a1fa0001-3c4d-4e5f-8a6b-7c8d9e0f1a01
	beta=be7a0002-3c4d-4e5f-8a6b-7c8d9e0f1a02
	state=$SR_VM_WORKDIR/state
	domains=$state/domains
	cfg=$(sr_encode passthrough) && cfg_release=$(sr_encode passthrough_release)
	sr_check "configs encode with protoc" test -s "$cfg" -a -s "$cfg_release"
}

# sr_daemon PIDVAR SOCK ARG...: `sriov-agent run --socket SOCK ARG...` in
# the background (stdin and stdout /dev/null, stderr the caller's: redirect
# the call), its pid in the variable PIDVAR. Returns 0 once `sriovctl
# status` answers on SOCK, 1 when the agent exits first or has not answered
# after 15 s.
sr_daemon() {
	local sock=$2
	"$sr_agent" run --socket "$sock" "${@:3}" </dev/null >/dev/null &
	printf -v "$1" %s $!
	for _ in $(seq 300); do
		"$sr_ctl" --socket "$sock" status >/dev/null 2>&1 && return 0
		kill -0 "${!1}" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# sr_apply WHAT ARG...: a check that `sriov-agent apply ARG... --log-level
# debug` exits 0. Its log goes to the console as "# " lines and into sr_log,
# its exit status into sr_rc. Not through sr_check: that runs the command in
# a subshell, and sr_log must reach the scenario.
# sr_apply_fails WHAT ARG...: the same, passing when it exits non-zero.
sr_log=
sr_rc=0
sr_run_agent() {
	sr_log=$("$sr_agent" apply "$@" --log-level debug 2>&1)
	sr_rc=$?
	sr_note "sriov-agent apply $* (exit $sr_rc):"
	printf '%s\n' "$sr_log" | sed 's/^/#   /'
}
sr_apply() {
	local what=$1
	shift
	sr_run_agent "$@"
	if [ $sr_rc -eq 0 ]; then
		sr_ok "$what"
	else
		sr_not_ok "$what" "sriov-agent exited $sr_rc"
	fi
}
sr_apply_fails() {
	local what=$1
	shift
	sr_run_agent "$@"
	if [ $sr_rc -ne 0 ]; then
		sr_ok "$what"
	else
		sr_not_ok "$what" "sriov-agent exited 0"
	fi
}

# The "applied: ..." summary of the last sr_apply, e.g.
# "4 action(s), 1 sysfs and 9 netlink writes".
sr_applied() {
	printf '%s\n' "$sr_log" | sed -n 's/.*applied: \([0-9]* action(s), [0-9]* sysfs and [0-9]* netlink writes\).*/\1/p'
}

# sr_vf_line N: VF N as the kernel reports it through iproute2
# (`ip -d link show PF`), without "vf N", spaces squeezed.
sr_vf_line() {
	ip -d link show "$pf" | sed -n "s/^ *vf $1 \+//p" | tr -s ' ' | sed 's/ $//'
}

# sr_virtfn N: basename of the PF's virtfnN link target ("absent" if none).
sr_virtfn() {
	if [ -L "$dev/virtfn$1" ]; then
		basename "$(readlink "$dev/virtfn$1")"
	else
		echo absent
	fi
}

# sr_vf_driver PCI: the driver bound to a PCI device ("none" if unbound).
sr_vf_driver() {
	if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
		basename "$(readlink "/sys/bus/pci/devices/$1/driver")"
	else
		echo none
	fi
}

# sr_qemu_probe FILE: the real consumer of a KVM domain config. Starts QEMU
# (TCG) on the -readconfig FILE paused (-S): the machine and its devices are
# realized (vfio-pci opens the VF's group, resets the VF and maps the guest's
# memory), no guest code runs. QMP on stdio; prints the replies, one JSON
# line each, in this order: the greeting, qmp_capabilities, `info pci`
# (text), vf0's type, realized, host and parent_bus, then its root port
# vfport0's type, parent_bus and addr (devfn), `info qtree` (text), quit.
# (Paused before the firmware numbers the buses, `info pci` lists only bus
# 0: the root ports, not the VFs behind them; `info qtree` has the tree.) Exit status: QEMU's (0 after
# quit); 124 when it has not ended after 60 s (a normal run takes 2-4 s),
# with what it waits on in the kernel, so a hang fails the check at once
# instead of the whole VM timing out.
sr_qemu_probe() {
	local out pid i rc
	out=$(mktemp "$SR_VM_WORKDIR/qemu.XXXXXX")
	qemu-system-x86_64 -readconfig "$1" -S -display none -nodefaults \
		-accel tcg -qmp stdio >"$out" 2>&1 <<'EOF' &
{"execute": "qmp_capabilities"}
{"execute": "human-monitor-command", "arguments": {"command-line": "info pci"}}
{"execute": "qom-get", "arguments": {"path": "/machine/peripheral/vf0", "property": "type"}}
{"execute": "qom-get", "arguments": {"path": "/machine/peripheral/vf0", "property": "realized"}}
{"execute": "qom-get", "arguments": {"path": "/machine/peripheral/vf0", "property": "host"}}
{"execute": "qom-get", "arguments": {"path": "/machine/peripheral/vf0", "property": "parent_bus"}}
{"execute": "qom-get", "arguments": {"path": "/machine/peripheral/vfport0", "property": "type"}}
{"execute": "qom-get", "arguments": {"path": "/machine/peripheral/vfport0", "property": "parent_bus"}}
{"execute": "qom-get", "arguments": {"path": "/machine/peripheral/vfport0", "property": "addr"}}
{"execute": "human-monitor-command", "arguments": {"command-line": "info qtree"}}
{"execute": "quit"}
EOF
	pid=$!
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		cat "$out"
		echo "sr_qemu_probe: QEMU (pid $pid) has not ended after 60 s; its threads in the kernel:"
		for t in /proc/"$pid"/task/*; do
			echo "  task ${t##*/}: state $(awk '{print $3}' "$t/stat" 2>/dev/null), wchan $(cat "$t/wchan" 2>/dev/null)"
			sed 's/^/    /' "$t/stack" 2>/dev/null
		done
		echo "sr_qemu_probe: dmesg:"
		dmesg | tail -n 20
		kill -KILL "$pid" 2>/dev/null
		rm -f "$out"
		return 124
	fi
	wait "$pid"
	rc=$?
	cat "$out"
	rm -f "$out"
	return $rc
}

# sr_qtree_dev ID < QTREE: for the device with that id in `info qtree`
# text, its path of buses and devices from the root ("bus: pcie.0 > dev:
# pcie-root-port, id "vfport0" > bus: vfport0 > dev: vfio-pci, id "vf0""),
# then its own "class ..." and "host = ..." lines.
sr_qtree_dev() {
	tr -d '\r' | awk -v id="$1" '
		{ match($0, /^ */); ind = RLENGTH; line = substr($0, ind + 1)
		  while (n > 0 && st_ind[n] >= ind) n--
		  n++; st_ind[n] = ind; st[n] = line }
		line ~ /^dev: / && index(line, ", id \"" id "\"") == length(line) - length(id) - 6 {
			p = ""
			for (i = 1; i <= n; i++)
				if (st[i] ~ /^(bus|dev): /) p = p (p == "" ? "" : " > ") st[i]
			print p; dev = ind; next }
		dev != "" && ind == dev + 2 && line ~ /^(class |host = )/ { print line; next }
		dev != "" && ind <= dev { dev = "" }'
}

# sr_jq FILTER JSON: jq -r FILTER on JSON; "jq-error" when it is not JSON.
# sr_settle SOCKET SECONDS: until the daemon's event_reconciles stays the
# same for 1.5 s (three looks 0.5 s apart), at most SECONDS; 1 if it never
# does.
sr_settle() {
	local n last=-1 same=0 end=$((SECONDS + $2))
	while [ $SECONDS -lt "$end" ]; do
		n=$("$sr_ctl" --socket "$1" --json status | jq -r .event_reconciles)
		if [ "$n" = "$last" ]; then
			same=$((same + 1))
			[ $same -ge 3 ] && return 0
		else
			same=0
		fi
		last=$n
		sleep 0.5
	done
	return 1
}

sr_jq() {
	if ! command -v jq >/dev/null; then
		echo "(jq is not installed: apt-get install jq)"
		return 1
	fi
	printf '%s\n' "$2" | jq -r "$1" 2>/dev/null || echo jq-error
}

# sr_derive_mac UUID NAME [OCCURRENCE]: the MAC the agent derives for an
# app adapter with no configured MAC, computed independently of the C code:
# FNV-1a (64 bit) over the 16 UUID bytes, the adapter name's bytes and a
# NUL, and the occurrence (4 bytes, little endian; the adapter's count among
# the app's VF adapters with that name, default 0), low 6 bytes little
# endian, first octet made unicast and locally administered. The same
# adapter gives the same MAC on every node, so this is pinned here.
sr_derive_mac() {
	local LC_ALL=C hex=${1//-/} name=$2 occ=${3:-0} h=$((0xcbf29ce484222325)) i b out=
	for ((i = 0; i < 32; i += 2)); do
		h=$(((h ^ 16#${hex:i:2}) * 0x100000001b3))
	done
	for ((i = 0; i < ${#name}; i++)); do
		printf -v b '%d' "'${name:i:1}"
		h=$(((h ^ b) * 0x100000001b3))
	done
	h=$((h * 0x100000001b3))
	for ((i = 0; i < 4; i++)); do
		h=$(((h ^ ((occ >> (8 * i)) & 0xff)) * 0x100000001b3))
	done
	for ((i = 0; i < 6; i++)); do
		b=$(((h >> (8 * i)) & 0xff))
		[ $i -ne 0 ] || b=$(((b & 0xfc) | 0x02))
		out+=$(printf '%s%02x' "${out:+:}" "$b")
	done
	echo "$out"
}
