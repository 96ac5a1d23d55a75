#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm_packets (issue 22): the VF settings proven by packets. The guest half:
# test/vm/packets.sh boots it with QEMU capturing the PF's wire
# (filter-dump) and then checks the capture against test/vm/wire/
# packets.expect with test/vm/wire.py. Here:
#   sriov-agent run --hypervisor none on test/vm/configs/packets.txtpb
#   (6 VFs: 3 apps on VLANs 100, 100, 200; a free VF on VLAN 300 and an
#   untagged one from vflist.data; an app asking 802.1ad); each VF's netdev
#   moved into its own network namespace ns<N> as vf<N>, address
#   fe80::77:<N>; the only way between namespaces is the NIC.
# Phases (each starts with a marker frame from the PF, EtherType 0x88b5,
# "SR-WIRE <phase>"; VF N's pings carry the pattern 5eea00<N>):
#   apply      every VF pings ff02::1 (multicast: the NIC switches it to
#              its VLAN's pools and sends it out on the wire); who answers
#   isolation  unicast pings: VLAN 100 <-> 100 answered, 100 -> 200, 300,
#              untagged not; untagged <-> untagged answered
#   trust      VF 0 (trust off) may not change its MAC, VF 1 (trust on)
#              may: its frames leave with the new MAC
#   spoof      VF 0 (spoofchk on) sends a frame with a forged source MAC
#              and one it tagged VLAN 200 itself
#   drift      the agent stopped (SIGSTOP), `ip link set PF vf 0 vlan 7`
#              (made in phase "drifting", a frame may leave either way)
#   repaired   the agent continued (phase "repair") and repaired VF 0
#   release    the apps' config went (sriovctl push, in phase "releasing"):
#              their VFs untagged
. "$SR_SOURCE_DIR/test/vm/lib.sh"
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-agent.sh"

state=$SR_VM_WORKDIR/state
sock=$SR_VM_WORKDIR/agent.sock
alog=$SR_VM_WORKDIR/agent.log
nvf=6
mac() { printf '02:77:00:00:00:%02x' "$(($1 + 1))"; }
addr() { echo "fe80::77:$1"; }

encode() {
	protoc --proto_path="$SR_SOURCE_DIR/proto" --encode=org.lfedge.eve.config.EdgeDevConfig \
		eveconfig.proto >"$1"
}
cfg=$SR_VM_WORKDIR/packets.pb
cfg_release=$SR_VM_WORKDIR/packets_release.pb
encode "$cfg" <"$sr_configs/packets.txtpb" &&
	sed '/^apps {/,/^}/d' "$sr_configs/packets.txtpb" | encode "$cfg_release"
sr_check "configs encode with protoc" test -s "$cfg" -a -s "$cfg_release"

# wire_mark PHASE: the marker frame that starts PHASE on the wire
# (broadcast from the PF, EtherType 0x88b5, "SR-WIRE PHASE").
wire_mark() {
	python3 - "$pf" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
src = open("/sys/class/net/%s/address" % sys.argv[1]).read().strip()
frame = b"\xff" * 6 + bytes.fromhex(src.replace(":", "")) + b"\x88\xb5"
frame += ("SR-WIRE " + sys.argv[2]).encode().ljust(46, b"\0")
s.send(frame)
EOF
	sr_note "wire: phase $1 at $(cut -d' ' -f1 /proc/uptime)s"
}

# raw_send NS IF SRC [VID]: one broadcast frame (EtherType 0x88b5) from IF
# in NS with source MAC SRC, tagged 802.1Q VID by the sender when given.
raw_send() {
	ip netns exec "$1" python3 - "$2" "$3" "${4:-}" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
frame = b"\xff" * 6 + bytes.fromhex(sys.argv[2].replace(":", ""))
if sys.argv[3]:
    frame += struct.pack(">HH", 0x8100, int(sys.argv[3]))
frame += b"\x88\xb5" + b"raw frame from a VF".ljust(46, b"\0")
s.send(frame)
EOF
}

# vf_ping N DEST [COUNT]: ping DEST from VF N's namespace with VF N's pattern.
vf_ping() {
	ip netns exec "ns$1" ping -6 -n -c "${3:-2}" -i 0.3 -W 2 -p "$(printf '5eea00%02x' "$1")" "$2"
}

# ---- the daemon applies the config ----
agent_pid=
ip link set "$pf" up
if sr_daemon agent_pid "$sock" --config "$cfg" --state-dir "$state" --hypervisor none \
	--log-level debug 2>"$alog"; then
	sr_ok "sriov-agent run --config packets.pb started (pid $agent_pid)"
else
	sr_not_ok "sriov-agent run started" "$(tail -5 "$alog")"
	sr_done
fi
for _ in $(seq 200); do
	[ "$(cat "$dev/sriov_numvfs")" = "$nvf" ] && [ -e "$dev/virtfn$((nvf - 1))/net" ] && break
	sleep 0.1
done
sr_check_eq "the agent made $nvf VFs" "$nvf" "$(cat "$dev/sriov_numvfs")"
sr_note "ip -d link show $pf:"
ip -d link show "$pf" | sed 's/^/#   /'
sr_note "sriovctl status: config_result $(sr_jq .config_result "$("$sr_ctl" --socket "$sock" --json status)")"

# ---- the 802.1ad request: refused by igb (igb_ndo_set_vf_vlan: only
# ETH_P_8021Q, else -EPROTONOSUPPORT), the rest of the app's settings kept ----
sr_check_match "the agent logged igb's refusal of VF 5's 802.1ad VLAN" \
	"VF 5 .*refused vlan: Protocol not supported" "$(cat "$alog")"
list=$("$sr_ctl" --state-dir "$state" list --json)
sr_check_eq "sriovctl list: VF 5 (qinq): vlan refused, MAC applied" \
	"vlan=Protocol not supported mac=ok" \
	"$(sr_jq '.[] | select(.vf == 5) | "vlan=\(.attrs.vlan) mac=\(.attrs.mac)"' "$list")"
sr_check_fails "iproute2 too: igb refuses 'vlan 400 proto 802.1ad' on VF 5" \
	ip link set "$pf" vf 5 vlan 400 proto 802.1ad

# ---- each VF's netdev into its own namespace ----
for ((n = 0; n < nvf; n++)); do
	ifc=$(basename "$(find "$dev/virtfn$n/net/" -mindepth 1 -maxdepth 1 | head -n1)")
	ip netns add "ns$n"
	ip link set dev "$ifc" netns "ns$n" &&
		ip -n "ns$n" link set dev "$ifc" name "vf$n" &&
		ip -n "ns$n" link set lo up &&
		ip -n "ns$n" link set "vf$n" addrgenmode none &&
		ip -n "ns$n" link set "vf$n" up &&
		ip -n "ns$n" addr add "$(addr "$n")/64" dev "vf$n" nodad
	sr_check "VF $n ($ifc) is vf$n in ns$n with $(addr "$n")" ip -n "ns$n" -6 addr show dev "vf$n"
done
# igbvf takes the admin MAC from the PF on its next reset, a moment after
# link up (e1000_reset_hw_vf reads it as perm_addr): wait for it. That reset
# also asks the PF for the MAC igbvf made up at probe, before the agent
# wrote the admin MAC (e1000_init_hw_vf -> e1000_rar_set_vf):
# igb_set_vf_mac_addr NACKs an untrusted VF, which then takes perm_addr,
# and ACKs a trusted one, which keeps its own. So the trusted VF 1 may come
# up with its probe-time MAC; it then sets the admin MAC itself.
for ((n = 0; n < nvf; n++)); do
	[ "$n" -ne 1 ] || continue
	for _ in $(seq 300); do
		[ "$(ip netns exec "ns$n" cat "/sys/class/net/vf$n/address")" = "$(mac "$n")" ] && break
		sleep 0.1
	done
	sr_check_eq "vf$n has its admin MAC" "$(mac "$n")" \
		"$(ip netns exec "ns$n" cat "/sys/class/net/vf$n/address")"
done
vf1_mac=$(ip netns exec ns1 cat /sys/class/net/vf1/address)
sr_note "vf1 (trusted) came up with MAC $vf1_mac; the PF has for VF 1: $(sr_vf_line 1)"
if [ "$vf1_mac" != "$(mac 1)" ]; then
	sr_check "trust on: vf1 sets the admin MAC $(mac 1) itself" \
		ip -n ns1 link set vf1 address "$(mac 1)"
fi
sr_check_eq "vf1 has its admin MAC" "$(mac 1)" "$(ip netns exec ns1 cat /sys/class/net/vf1/address)"
sr_check_match "kernel: VF 1 has the admin MAC" "^link/ether $(mac 1) " "$(sr_vf_line 1)"
for ((n = 0; n < nvf; n++)); do
	for _ in $(seq 100); do
		ip -n "ns$n" link show "vf$n" | grep -q 'state UP' && break
		sleep 0.1
	done
done

# ---- apply: every VF on the wire ----
wire_mark apply
for ((n = 0; n < nvf; n++)); do
	pings[n]=$(vf_ping "$n" "ff02::1%vf$n" 2 2>&1)
done
# Who answered a VF's multicast echo: the NIC delivered it to the pools of
# that VLAN only (VLVF filters), and to the untagged VFs among themselves.
answered() { printf '%s\n' "${pings[$1]}" | sed -n 's/.* from \([0-9a-f:]*\)%.*/\1/p' | sort -u | tr '\n' ' '; }
pf_ll=$(ip -6 -o addr show dev "$pf" scope link | sed -n 's/.* inet6 \([0-9a-f:]*\)\/.*/\1/p' | head -n1)
for ((n = 0; n < nvf; n++)); do sr_note "ff02::1 from VF $n answered by: $(answered "$n")"; done
sr_check_eq "ff02::1 from VF 0 (VLAN 100): answered by VF 0 itself and VF 1 only" \
	"fe80::77:0 fe80::77:1 " "$(answered 0)"
sr_check_eq "ff02::1 from VF 1 (VLAN 100): answered by VF 0 and VF 1 itself only" \
	"fe80::77:0 fe80::77:1 " "$(answered 1)"
sr_check_eq "ff02::1 from VF 2 (VLAN 200): answered by VF 2 itself only" "fe80::77:2 " "$(answered 2)"
sr_check_eq "ff02::1 from VF 3 (VLAN 300): answered by VF 3 itself only" "fe80::77:3 " "$(answered 3)"
sr_check_eq "ff02::1 from VF 4 (untagged): answered by VF 4, VF 5 and the PF ($pf_ll), the host's untagged segment" \
	"$(printf '%s\n' fe80::77:4 fe80::77:5 "$pf_ll" | sort -u | tr '\n' ' ')" "$(answered 4)"

# ---- isolation: only through the NIC's switch ----
wire_mark isolation
sr_check "VLAN 100: blue1 (VF 0) reaches blue2 (VF 1) through the NIC" vf_ping 0 "$(addr 1)%vf0"
sr_check "VLAN 100: blue2 (VF 1) reaches blue1 (VF 0) through the NIC" vf_ping 1 "$(addr 0)%vf1"
sr_check_fails "VLAN 100 -> 200: blue1 (VF 0) does not reach green (VF 2)" vf_ping 0 "$(addr 2)%vf0" 1
sr_check_fails "VLAN 100 -> 300: blue1 (VF 0) does not reach the free VF 3" vf_ping 0 "$(addr 3)%vf0" 1
sr_check_fails "VLAN 100 -> untagged: blue1 (VF 0) does not reach the free VF 4" vf_ping 0 "$(addr 4)%vf0" 1
sr_check_fails "VLAN 200 -> 300: green (VF 2) does not reach the free VF 3" vf_ping 2 "$(addr 3)%vf2" 1
sr_check_fails "untagged -> VLAN 100: the free VF 4 does not reach blue1 (VF 0)" vf_ping 4 "$(addr 0)%vf4" 1
sr_check "untagged: VF 4 reaches VF 5 (qinq, whose 802.1ad VLAN was refused)" vf_ping 4 "$(addr 5)%vf4"

# ---- trust: what a VF may do with its own MAC ----
wire_mark trust
sr_check_fails "trust off: VF 0 may not change its MAC (igb refuses the mailbox request)" \
	ip -n ns0 link set vf0 address 02:77:00:00:00:a1
sr_check "trust on: VF 1 may change its MAC to 02:77:00:00:00:a2" \
	ip -n ns1 link set vf1 address 02:77:00:00:00:a2
sr_note "ip -d link show $pf | vf 1: $(sr_vf_line 1)"
vf_ping 1 "ff02::1%vf1" 2 >/dev/null
sr_check "VF 1 still reaches VF 0 with its new MAC" vf_ping 1 "$(addr 0)%vf1"
sr_check "trust on: VF 1 takes its admin MAC back" ip -n ns1 link set vf1 address "$(mac 1)"

# ---- spoof: frames a VF forges ----
wire_mark spoof
sr_check "VF 0 (spoofchk on) sends a frame with source 02:66:00:00:00:01" raw_send ns0 vf0 02:66:00:00:00:01
sr_check "VF 0 sends a frame it tagged VLAN 200 itself (source 02:66:00:00:00:02)" \
	raw_send ns0 vf0 02:66:00:00:00:02 200

# ---- drift behind the agent's back, and its repair ----
kill -STOP "$agent_pid"
wire_mark drifting
sr_check "drift: ip link set $pf vf 0 vlan 7 (the agent stopped)" ip link set "$pf" vf 0 vlan 7
sr_check_match "kernel: VF 0 on VLAN 7" ', vlan 7,' "$(sr_vf_line 0)"
wire_mark drift
vf_ping 0 "ff02::1%vf0" 2 >/dev/null
wire_mark repair
kill -CONT "$agent_pid"
for _ in $(seq 200); do
	sr_vf_line 0 | grep -q ', vlan 100, qos 3,' && break
	sleep 0.1
done
sr_check_match "the agent repaired VF 0: VLAN 100 QoS 3" ', vlan 100, qos 3,' "$(sr_vf_line 0)"
wire_mark repaired
vf_ping 0 "ff02::1%vf0" 2 >/dev/null

# ---- release: the apps go ----
wire_mark releasing
out=$("$sr_ctl" --socket "$sock" push "$cfg_release" 2>&1)
sr_check_match "sriovctl push of the config without apps: applied" "applied" "$out"
sr_note "ip -d link show $pf after the release:"
ip -d link show "$pf" | sed 's/^/#   /'
sr_check_eq "kernel: VF 0 released: MAC 00:00:00:00:00:00, no VLAN" \
	"link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff, spoof checking on, link-state auto, trust off" \
	"$(sr_vf_line 0)"
wire_mark release
for n in 0 1 2 3 5; do
	vf_ping "$n" "ff02::1%vf$n" 2 >/dev/null
	sr_note "after the release vf$n has MAC $(ip netns exec "ns$n" cat "/sys/class/net/vf$n/address")"
done
wire_mark end

kill "$agent_pid" && wait "$agent_pid"
sr_note "the agent's log (warnings and repairs):"
grep -E 'warning|repair|refused' "$alog" | head -20 | sed 's/^/#   /'
sr_done
