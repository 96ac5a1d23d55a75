#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vflist.data on a fake sysfs (no netlink: the settings are recorded, the
# VM test vm_vf_config checks the kernel takes them): each entry's MAC and
# VLAN go to its VF whether an app holds it or not (free VF 3 included),
# are kept across re-applies and a restart of the agent, shown by sriovctl
# list and info, and released when the entry goes; bad entries are refused
# with a named error and nothing changed.
# Usage: run.sh BUILD_DIR
set -uo pipefail
B=${1:?build dir}
S=$(cd "$(dirname "$0")/../.." && pwd)
. "$S/test/daemon/lib.sh"
PROTO=(-I "$S/proto" -I "${SR_PROTOBUF_WKT_DIR:-/usr/include}")
CFG=$FIX/vfdata.pb

fake_node "$SYS" 0 || { nok "fake node"; done_tests; }
check "apply vfdata" apply --config "$CFG"
ctl list --json >"$T/list.json"
# VF -> "app mac vlan" as list --json shows it (desired settings)
row() { json "v=[x for x in d if x['pf']=='eth1' and x['vf']==$1][0]; s=v['desired'] or {}; print(v['app'], s.get('mac'), s.get('vlan'), s.get('spoofchk'))" "$T/list.json"; }
check "VF 1 (app1 names it): the entry's MAC and VLAN" test "$(row 1)" = "d0000001-0000-4000-8000-000000000001 02:11:22:33:44:01 11 None"
check "VF 0 (app2, no entry): a derived MAC, no VLAN" test "$(row 0 | cut -d' ' -f1,3)" = "d0000002-0000-4000-8000-000000000002 None"
check "VF 0's derived MAC is locally administered unicast" test "$(row 0 | cut -d' ' -f2 | cut -c2)" = 6 -o "$(row 0 | cut -d' ' -f2 | cut -c2)" = 2 -o "$(row 0 | cut -d' ' -f2 | cut -c2)" = a -o "$(row 0 | cut -d' ' -f2 | cut -c2)" = e
check "VF 2 (app3 asks VLAN 22, the entry says the same)" test "$(row 2 | cut -d' ' -f1,3)" = "d0000003-0000-4000-8000-000000000003 22"
check "VF 3 (free): no app, the entry's MAC, VLAN 33, spoofchk off" test "$(row 3)" = "None 02:11:22:33:44:03 33 False"
check "uplink2's VFs: free, nothing desired" json \
	"v=[x for x in d if x['pf_pci']=='0000:04:00.0']; assert len(v) == 2 and all(x['app'] is None and x['desired'] is None for x in v), v" "$T/list.json"
check "free VF 3 is not bound for passthrough (no app)" json \
	"v=[x for x in d if x['pf']=='eth1' and x['vf']==3][0]; assert v['driver'] is None and v['bound_driver'] is None, v" "$T/list.json"
check "list (text): VF 3 row shows its MAC and VLAN, no app" sh -c \
	"'$CTL' --state-dir '$STATE' --sysfs-root '$SYS' list | grep -Eq '^eth1 +3 +0000:03:10.6 .* - +02:11:22:33:44:03 +33 +\\|'"
check "no domain config for the VF config" sh -c "! ls '$STATE/domains' | grep -qv -e d0000001 -e d0000002 -e d0000003"

ctl info --format pb | protoc "${PROTO[@]}" --decode=org.lfedge.eve.info.ZInfoMsg eveinfo.proto >"$T/info.txt"
check "info: free uplink1vf3 reports the entry's MAC and VLAN, no app" sh -c \
	"grep -A10 'name: \"uplink1vf3\"' '$T/info.txt' | tr -d '\\n ' | grep -q 'members:\"uplink1vf3\"ioAddressList{macAddress:\"02:11:22:33:44:03\"vf_info{index:3vlan_id:33}}'"

# Kept across re-applies and a restart.
cp "$STATE/state.pb" "$T/state.before"
apply --config "$CFG" 2>"$T/re.log"
check "re-apply: 0 actions, state identical" sh -c "grep -q 'applied: 0 action(s), 0 sysfs and 0 netlink writes' '$T/re.log' && cmp '$STATE/state.pb' '$T/state.before'"
start_agent --config "$CFG" || nok "agent started"
check "agent restart on the same config: state identical" cmp "$STATE/state.pb" "$T/state.before"
check "agent: VF 3's settings still shown" sh -c \
	"'$CTL' --state-dir '$STATE' --sysfs-root '$SYS' list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); v=[x for x in d if x[\"pf\"]==\"eth1\" and x[\"vf\"]==3][0]; assert v[\"desired\"][\"mac\"]==\"02:11:22:33:44:03\", v'"
stop_agent

# Bad entries: refused, named, nothing changed.
for n in bad_vfdata_index bad_vfdata_dup bad_vfdata_too_many bad_vfdata_mac_multicast \
	bad_vfdata_mac_zero bad_vfdata_mac_malformed bad_vfdata_vlan bad_vfdata_conflict \
	bad_vfdata_conflict_auto bad_vfdata_dup_mac; do
	apply --config "$FIX/$n.pb" 2>"$T/$n.log"; rc=$?
	if [ "$rc" -ne 0 ] && grep -q 'rejected: .*vflist\.data' "$T/$n.log" && cmp -s "$STATE/state.pb" "$T/state.before"; then
		ok "$n: refused ($(sed -n 's/.*rejected: //p' "$T/$n.log" | cut -c1-120))"
	else
		nok "$n: rc=$rc $(cat "$T/$n.log")"
	fi
done

# The entry goes: VF 3 is released (no reservation left on it).
sed '/data { index: 3/d' "$S/test/fixtures/vfdata.txtpb" |
	protoc -I "$S/proto" --encode=org.lfedge.eve.config.EdgeDevConfig eveconfig.proto >"$T/less.pb"
apply --config "$T/less.pb" 2>"$T/less.log"
check "without VF 3's entry: applied" grep -q 'applied:' "$T/less.log"
ctl list --json >"$T/list.json"
check "VF 3 free with nothing desired" test "$(row 3)" = "None None None None"
check "VF 1 as before" test "$(row 1)" = "d0000001-0000-4000-8000-000000000001 02:11:22:33:44:01 11 None"
done_tests
