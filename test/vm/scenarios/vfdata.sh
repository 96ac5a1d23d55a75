#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm_vfdata (issue 9): EVE's vflist.data and VF names on the real kernel.
#   1. test/vm/configs/vfdata.txtpb: each vflist.data entry's MAC and VLAN
#      reach its VF (`ip -d link show`), the free VF 0 included; apps name
#      their VFs in every form "<X>vf<N>" (X = ifname, phylabel,
#      logicallabel, assigngrp); sriovctl list shows desired and kernel.
#   2. sriovctl info in pb (protoc --decode), json (protobuf's json_format
#      on the same bytes) and text, with the kernel's MACs.
#   3. Re-apply: zero kernel writes. A config whose labels collide with VF
#      names is refused and the kernel is unchanged.
#   4. The free VF's entry goes: VF 0 is given back as it was.
#   5. With --hypervisor kvm the apps' VFs go to vfio-pci, the free VF
#      stays on its host driver with its entry's settings.
# Run with: test/vm/run.sh test/vm/scenarios/vfdata.sh
. "$SR_SOURCE_DIR/test/vm/lib.sh"
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-agent.sh"

state=$SR_VM_WORKDIR/state
bcast="brd ff:ff:ff:ff:ff:ff"
proto=(-I "$SR_SOURCE_DIR/proto" -I /usr/include)

# The config with this VM's PF netdev name in it.
encode() {
	sed "s/@PF@/$pf/g" "$sr_configs/vfdata.txtpb" | sed "$1" |
		protoc --proto_path="$SR_SOURCE_DIR/proto" --encode=org.lfedge.eve.config.EdgeDevConfig \
			eveconfig.proto >"$2"
}
cfg=$SR_VM_WORKDIR/vfdata.pb
cfg_less=$SR_VM_WORKDIR/vfdata_less.pb
cfg_bad=$SR_VM_WORKDIR/vfdata_bad.pb
encode '' "$cfg" && encode '/data { index: 0 /d' "$cfg_less" &&
	encode 's/logicallabel: "igb"/logicallabel: "port0vf1"/' "$cfg_bad"
sr_check "configs encode with protoc (PF netdev $pf)" test -s "$cfg" -a -s "$cfg_less" -a -s "$cfg_bad"

sr_write "$dev/sriov_numvfs" 5 >/dev/null
pristine=$(sr_vf_line 0)
sr_write "$dev/sriov_numvfs" 0 >/dev/null
sr_note "a fresh VF: $pristine"

# ---- 1. Apply ----
sr_apply "apply vfdata (5 VFs, 4 apps, 3 vflist.data entries) exits 0" \
	--config "$cfg" --state-dir "$state" --hypervisor none
sr_note "ip -d link show $pf:"
ip -d link show "$pf" | sed 's/^/#   /'
d2=$(sr_derive_mac da000002-0000-4000-8000-000000000002 port0vf2)
d3=$(sr_derive_mac da000003-0000-4000-8000-000000000003 igbvf3)
d4=$(sr_derive_mac da000004-0000-4000-8000-000000000004 grp0vf4)
sr_check_eq "kernel: free VF 0 has its entry's MAC and VLAN 40" \
	"link/ether 02:da:00:00:00:00 $bcast, vlan 40, spoof checking on, link-state auto, trust off" "$(sr_vf_line 0)"
sr_check_eq "kernel: VF 1 (\"${pf}vf1\", ifname form) has its entry's MAC and VLAN 41" \
	"link/ether 02:da:00:00:00:01 $bcast, vlan 41, spoof checking on, link-state auto, trust off" "$(sr_vf_line 1)"
sr_check_eq "kernel: VF 2 (\"port0vf2\", phylabel form): VLAN 42 and trust from the entry, derived MAC" \
	"link/ether $d2 $bcast, vlan 42, spoof checking on, link-state auto, trust on" "$(sr_vf_line 2)"
sr_check_eq "kernel: VF 3 (\"igbvf3\", logicallabel form): derived MAC" \
	"link/ether $d3 $bcast, spoof checking on, link-state auto, trust off" "$(sr_vf_line 3)"
sr_check_eq "kernel: VF 4 (\"grp0vf4\", assigngrp form): derived MAC" \
	"link/ether $d4 $bcast, spoof checking on, link-state auto, trust off" "$(sr_vf_line 4)"
list=$("$sr_ctl" --state-dir "$state" list --json)
sr_note "sriovctl list:"
"$sr_ctl" --state-dir "$state" list | sed 's/^/#   /'
sr_check_eq "sriovctl list: apps per VF (VF 0 none)" \
	"null da000001-0000-4000-8000-000000000001 da000002-0000-4000-8000-000000000002 da000003-0000-4000-8000-000000000003 da000004-0000-4000-8000-000000000004" \
	"$(sr_jq '[.[] | "\(.app)"] | join(" ")' "$list")"
sr_check_eq "sriovctl list: VF 0 desired = kernel (MAC, VLAN)" \
	"02:da:00:00:00:00/40 02:da:00:00:00:00/40" \
	"$(sr_jq '.[0] | "\(.desired.mac)/\(.desired.vlan) \(.kernel.mac)/\(.kernel.vlan)"' "$list")"

# ---- 2. sriovctl info in the three formats ----
"$sr_ctl" --state-dir "$state" info --format pb >"$SR_VM_WORKDIR/info.pb"
dec=$(protoc "${proto[@]}" --decode=org.lfedge.eve.info.ZInfoMsg eveinfo.proto <"$SR_VM_WORKDIR/info.pb")
sr_check "info pb: protoc decodes it" test -n "$dec"
sr_note "info pb, decoded:"
printf '%s\n' "$dec" | sed 's/^/#   /' | head -40
flat=$(printf '%s\n' "$dec" | tr '\n' ' ' | tr -s ' ')
sr_check_match "info pb: ZiDevice with devId of the config" '^ztype: ZiDevice devId: "0e6c2d3a-5f41-4b7e-9c1d-2a3b4c5d6e09"' "$flat"
sr_check_match "info pb: PF bundle \"igb\"" 'assignableAdapters \{ type: PhyIoNetEthPF name: "igb" members: "igb" \}' "$flat"
sr_check_match "info pb: free igbvf0 with the kernel's MAC and VLAN 40, no app" \
	'assignableAdapters \{ type: PhyIoNetEthVF name: "igbvf0" members: "igbvf0" ioAddressList \{ macAddress: "02:da:00:00:00:00" vf_info \{ vlan_id: 40 \} \} \}' "$flat"
sr_check_match "info pb: igbvf1 used by app da000001 with MAC and VLAN 41" \
	'name: "igbvf1" members: "igbvf1" usedByAppUUID: "da000001-0000-4000-8000-000000000001" ioAddressList \{ macAddress: "02:da:00:00:00:01" vf_info \{ index: 1 vlan_id: 41 \} \}' "$flat"
sr_check_match "info pb: igbvf3 with the derived MAC the kernel has" \
	"name: \"igbvf3\" members: \"igbvf3\" usedByAppUUID: \"da000003-0000-4000-8000-000000000003\" ioAddressList \\{ macAddress: \"$d3\" vf_info \\{ index: 3 \\} \\}" "$flat"
json=$("$sr_ctl" --state-dir "$state" info --format json)
"$sr_ctl" --state-dir "$state" info --format pb >"$SR_VM_WORKDIR/info2.pb"
mkdir -p "$SR_VM_WORKDIR/py"
protoc "${proto[@]}" --python_out="$SR_VM_WORKDIR/py" eveinfo.proto infocommon.proto evecommon.proto
same=$(PYTHONPATH=$SR_VM_WORKDIR/py /usr/bin/python3 -c '
import json, sys
from google.protobuf import json_format
import eveinfo_pb2
m = eveinfo_pb2.ZInfoMsg(); m.ParseFromString(open(sys.argv[1], "rb").read())
a = json_format.MessageToDict(m); b = json.loads(sys.argv[2])
a.pop("atTimeStamp", None); b.pop("atTimeStamp", None)
print("same" if a == b else "differ: %s vs %s" % (a, b))' "$SR_VM_WORKDIR/info2.pb" "$json" 2>&1)
sr_check_eq "info json = protobuf's JSON mapping of the pb (but atTimeStamp)" same "$same"
text=$("$sr_ctl" --state-dir "$state" info)
sr_note "info text:"
printf '%s\n' "$text" | sed 's/^/#   /'
sr_check_match "info text: igbvf0 row (free, MAC, VF 0, VLAN 40)" \
	'PhyIoNetEthVF +igbvf0 +igbvf0 +- +02:da:00:00:00:00 +0 +40 +-' "$text"
app=$("$sr_ctl" --state-dir "$state" info --app da000002-0000-4000-8000-000000000002 --format pb |
	protoc "${proto[@]}" --decode=org.lfedge.eve.info.ZInfoMsg eveinfo.proto | tr '\n' ' ' | tr -s ' ')
sr_check_match "info --app: ZiApp with its VF igbvf2 (VLAN 42, derived MAC)" \
	"^ztype: ZiApp .*AppID: \"da000002-0000-4000-8000-000000000002\" AppName: \"phylabel\" assignedAdapters \\{ type: PhyIoNetEthVF name: \"igbvf2\" .*macAddress: \"$d2\" vf_info \\{ index: 2 vlan_id: 42 \\}" "$app"

# ---- 3. Re-apply; a colliding config ----
sr_apply "re-apply exits 0" --config "$cfg" --state-dir "$state" --hypervisor none
sr_check_eq "re-apply: zero kernel writes" "0 action(s), 0 sysfs and 0 netlink writes" "$(sr_applied)"
before=$(ip -d link show "$pf")
sr_apply_fails "a config whose logicallabel \"port0vf1\" is VF 1 of port0 is refused" \
	--config "$cfg_bad" --state-dir "$state" --hypervisor none
sr_check_match "  ... naming the label and the PF it collides with" \
	'logicallabel "port0vf1": reads as VF 1 of the PF labelled "port0"' "$sr_log"
sr_check_eq "  ... and the kernel is unchanged" "$before" "$(ip -d link show "$pf")"

# ---- 4. The free VF's entry goes ----
sr_apply "apply without VF 0's entry exits 0" --config "$cfg_less" --state-dir "$state" --hypervisor none
sr_check_eq "kernel: VF 0 is as before the agent" "$pristine" "$(sr_vf_line 0)"
sr_check_eq "kernel: VF 1 keeps its entry's MAC and VLAN" \
	"link/ether 02:da:00:00:00:01 $bcast, vlan 41, spoof checking on, link-state auto, trust off" "$(sr_vf_line 1)"

# ---- 5. Passthrough: the apps' VFs go to vfio-pci, a free VF does not ----
sr_apply "apply vfdata with --hypervisor kvm exits 0" --config "$cfg" --state-dir "$state" --hypervisor kvm
drv() { basename "$(readlink "/sys/bus/pci/devices/$(sr_virtfn "$1")/driver" 2>/dev/null)" 2>/dev/null || echo none; }
sr_check_eq "VFs 1..4 (held by apps) are on vfio-pci" "vfio-pci vfio-pci vfio-pci vfio-pci" \
	"$(drv 1) $(drv 2) $(drv 3) $(drv 4)"
sr_check_eq "free VF 0 is not passed through (stays on igbvf)" igbvf "$(drv 0)"
sr_check_eq "kernel: free VF 0 has its entry's MAC and VLAN again" \
	"link/ether 02:da:00:00:00:00 $bcast, vlan 40, spoof checking on, link-state auto, trust off" "$(sr_vf_line 0)"
sr_check_eq "kernel: VF 1 keeps its entry's MAC and VLAN on vfio-pci" \
	"link/ether 02:da:00:00:00:01 $bcast, vlan 41, spoof checking on, link-state auto, trust off" "$(sr_vf_line 1)"
sr_check_eq "domain configs for the 4 apps only" 4 "$(ls "$state/domains" | grep -c '\.kvm\.cfg$')"
sr_done
