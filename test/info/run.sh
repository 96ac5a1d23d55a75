#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sriovctl info and sriov-agent run --info-file on a fake sysfs: the
# ZInfoMsg (EVE's info format) in pb, json and text.
#   pb:   decoded by protoc against the project's protos; every field is
#         compared with a golden text (test/info/*.txt), atTimeStamp with
#         the clock.
#   json: protobuf's own JSON mapping (python3-protobuf's json_format on
#         classes protoc generates from the same protos) must give exactly
#         our document for the pb bytes, and parse our document back into
#         the same bytes.
#   text: the table rows.
# Usage: run.sh BUILD_DIR
set -uo pipefail
B=${1:?build dir}
S=$(cd "$(dirname "$0")/../.." && pwd)
. "$S/test/daemon/lib.sh"
PY=/usr/bin/python3
PROTO=(-I "$S/proto" -I "${SR_PROTOBUF_WKT_DIR:-/usr/include}")
GOLD=$S/test/info

decode() { protoc "${PROTO[@]}" --decode=org.lfedge.eve.info.ZInfoMsg eveinfo.proto; }
# The decoded message without its atTimeStamp block (checked on its own).
untimed() { decode <"$1" | awk '/^atTimeStamp \{/ { skip = 1; next } skip && /^\}/ { skip = 0; next } !skip'; }
stamp() { decode <"$1" | awk '/^atTimeStamp \{/ { on = 1 } on && /seconds:/ { print $2; exit }'; }

mkdir -p "$T/py"
check "protoc generates Python classes for the info protos" \
	protoc "${PROTO[@]}" --python_out="$T/py" eveinfo.proto infocommon.proto evecommon.proto
# json_same PB JSON: protobuf's JSON mapping of PB equals JSON, and JSON
# parses back to the same bytes.
json_same() {
	PYTHONPATH=$T/py "$PY" - "$1" "$2" <<'PYEOF'
import json, sys
from google.protobuf import json_format
import eveinfo_pb2
pb = open(sys.argv[1], "rb").read()
ours = json.load(open(sys.argv[2]))
m = eveinfo_pb2.ZInfoMsg()
m.ParseFromString(pb)
theirs = json_format.MessageToDict(m)
if theirs != ours:
    sys.exit("MessageToDict: %s\nours:          %s" % (json.dumps(theirs, sort_keys=True), json.dumps(ours, sort_keys=True)))
back = json_format.Parse(open(sys.argv[2]).read(), eveinfo_pb2.ZInfoMsg())
if back.SerializeToString() != pb:
    sys.exit("our JSON parses to other bytes")
PYEOF
}

fake_node "$SYS" 0 || { nok "fake node"; done_tests; }
check "apply two_pfs" apply --config "$CFG_A"

# ---- ZiDevice ----
t0=$(date +%s)
ctl info --format pb >"$T/dev.pb"; rc=$?
t1=$(date +%s)
check "info --format pb: exit 0" test "$rc" -eq 0
check "pb decodes with protoc (eveinfo.proto)" sh -c "protoc ${PROTO[*]} --decode=org.lfedge.eve.info.ZInfoMsg eveinfo.proto <'$T/dev.pb' >/dev/null"
untimed "$T/dev.pb" >"$T/dev.txt"
check "ZiDevice: every field as test/info/device.txt" diff -u "$GOLD/device.txt" "$T/dev.txt"
s=$(stamp "$T/dev.pb")
check "ZiDevice: atTimeStamp $s within the run ($t0..$t1)" test "${s:-0}" -ge "$t0" -a "${s:-0}" -le "$t1"

ctl info --format json >"$T/dev.json"
check "info --format json: one line" test "$(wc -l <"$T/dev.json")" -eq 1
# The same second for both (atTimeStamp): retry when the clock ticked.
for _ in 1 2 3; do
	ctl info --format json >"$T/dev2.json"
	ctl info --format pb >"$T/dev2.pb"
	[ "$(stamp "$T/dev2.pb")" = "$(sed 's/.*"atTimeStamp":"\([^"]*\)".*/\1/' "$T/dev2.json" | xargs -I{} date -u -d {} +%s)" ] && break
done
check "json = protobuf's JSON mapping of the pb (json_format both ways)" json_same "$T/dev2.pb" "$T/dev2.json"
"$CTL" --state-dir "$STATE" --sysfs-root "$SYS" --json info >"$T/dev_j.json"
check "--json info is the same document (but atTimeStamp)" json \
	"import json; o=json.load(open('$T/dev2.json')); d.pop('atTimeStamp'); o.pop('atTimeStamp'); assert d == o" "$T/dev_j.json"
check "json: keys and enum names of the mapping" json \
	"b=d['dinfo']['assignableAdapters']; assert d['ztype']=='ZiDevice' and d['devId']=='6ba7b810-9dad-11d1-80b4-00c04fd430c8' and b[0]['type']=='PhyIoNetEthPF' and b[1]['ioAddressList'][0]['vfInfo']=={'vlanId':100} and b[2]['ioAddressList'][0]['vfInfo']=={'index':1}, b[:3]" \
	"$T/dev2.json"

ctl info >"$T/dev.text"
check "text: header line with devId" grep -q '^ZInfoMsg ZiDevice devId 6ba7b810-9dad-11d1-80b4-00c04fd430c8 at 20' "$T/dev.text"
check "text: 8 adapters (2 PFs, 6 VFs)" grep -q '^assignableAdapters: 8$' "$T/dev.text"
check "text: uplink1vf0 row (router, MAC, VF 0, VLAN 100)" grep -Eq \
	'^PhyIoNetEthVF +uplink1vf0 +uplink1vf0 +11111111-1111-4111-8111-111111111111 +02:00:00:00:01:01 +0 +100 +-$' "$T/dev.text"
check "text: free uplink1vf2 row" grep -Eq '^PhyIoNetEthVF +uplink1vf2 +uplink1vf2 +- +- +2 +- +-$' "$T/dev.text"
check "text: PF row" grep -Eq '^PhyIoNetEthPF +uplink2 +uplink2 +- +- +- +- +-$' "$T/dev.text"

# ---- ZiApp ----
app=33333333-3333-4333-8333-333333333333
ctl info --app "$app" --format pb >"$T/app.pb"
check "info --app: exit 0" test $? -eq 0
untimed "$T/app.pb" >"$T/app.txt"
check "ZiApp: every field as test/info/app_sensor.txt" diff -u "$GOLD/app_sensor.txt" "$T/app.txt"
for _ in 1 2 3; do
	ctl info --app "$app" --format json >"$T/app.json"
	ctl info --app "$app" --format pb >"$T/app2.pb"
	[ "$(stamp "$T/app2.pb")" = "$(sed 's/.*"atTimeStamp":"\([^"]*\)".*/\1/' "$T/app.json" | xargs -I{} date -u -d {} +%s)" ] && break
done
check "ZiApp json = protobuf's JSON mapping" json_same "$T/app2.pb" "$T/app.json"
check "ZiApp text row" sh -c "'$CTL' --state-dir '$STATE' info --app $app | grep -Eq '^PhyIoNetEthVF +uplink1vf3 +uplink1vf3 +$app +[0-9a-f:]{17} +3 +20 +-$'"
ctl info --app 99999999-9999-4999-8999-999999999999 >/dev/null 2>"$T/e"
check "info --app of an unknown app: exit 1" test $? -eq 1
check "  ... message names the app" grep -q '99999999-9999-4999-8999-999999999999: not in the applied config' "$T/e"
ctl info --format yaml >/dev/null 2>&1
check "info --format yaml: exit 2" test $? -eq 2
"$CTL" --state-dir "$STATE" --json info --format pb >/dev/null 2>&1
check "--json with --format pb: exit 2" test $? -eq 2
ctl info extra >/dev/null 2>&1
check "info with an extra argument: exit 2" test $? -eq 2

# ---- From the running agent, and --info-file ----
INFO=$T/out/zinfo.pb
mkdir -p "$T/out"
start_agent --info-file "$INFO" --interval 1 || nok "agent started"
check "agent wrote --info-file at startup" test -s "$INFO"
untimed "$INFO" >"$T/file.txt"
check "--info-file: every field as device.txt" diff -u "$GOLD/device.txt" "$T/file.txt"
ctl info --from-agent --format pb >"$T/agent.pb"
check "info --from-agent: exit 0" test $? -eq 0
untimed "$T/agent.pb" >"$T/agent.txt"
check "info --from-agent: every field as device.txt" diff -u "$GOLD/device.txt" "$T/agent.txt"
ctl info --from-agent --app "$app" --format pb >"$T/agent_app.pb"
untimed "$T/agent_app.pb" >"$T/agent_app.txt"
check "info --from-agent --app: every field as app_sensor.txt" diff -u "$GOLD/app_sensor.txt" "$T/agent_app.txt"
ctl info --from-agent --app 99999999-9999-4999-8999-999999999999 >/dev/null 2>"$T/e"
check "info --from-agent, unknown app: exit 1" test $? -eq 1
check "  ... with the agent's reason" grep -q 'not in the applied config' "$T/e"
ino=$(stat -c %i "$INFO")
sleep 2.5
check "reconciles with nothing changed leave --info-file alone (same inode)" test "$(stat -c %i "$INFO")" = "$ino"
check "  ... and the agent did reconcile meanwhile" grep -q 'reconcile (interval)' "$LOG"
ctl push "$CFG_B" >/dev/null
untimed "$INFO" >"$T/file_b.txt"
check "push of another config rewrites --info-file (new inode)" test "$(stat -c %i "$INFO")" != "$ino"
ctl info --from-agent --format pb >"$T/agent_b.pb"
untimed "$T/agent_b.pb" >"$T/agent_b.txt"
check "  ... with what the agent answers for the new config" diff -u "$T/agent_b.txt" "$T/file_b.txt"
check "  ... which differs from device.txt" sh -c "! cmp -s '$GOLD/device.txt' '$T/file_b.txt'"
stop_agent 2>/dev/null || kill "$agent_pid"
done_tests
