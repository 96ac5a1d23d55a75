#!/usr/bin/env bash
# Process-level test of sriov-agent apply and sriovctl on a fake sysfs whose
# PF driver is emulated by another process (fake-sysfs run): offset 128,
# stride 2, VFs created asynchronously. Usage: run.sh BUILD_DIR
set -uo pipefail
B=${1:?build dir}
AGENT=$B/agent/sriov-agent CTL=$B/agent/sriovctl FAKE=$B/test/fake-sysfs FIX=$B/test/fixtures
T=$(mktemp -d /tmp/sr-cli-XXXXXX)
drv_pid=
cleanup() { [ -n "$drv_pid" ] && kill "$drv_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
nok() { fail=$((fail + 1)); echo "not ok - $*"; }
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else nok "$d"; fi; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $1" "$2"; }

"$FAKE" create "$T/sys" --iommu \
	--pf pci=0000:03:00.0,ifname=eth1,driver=igb,totalvfs=7,offset=128,stride=2,vfdriver=igbvf \
	--pf pci=0000:04:00.0,ifname=eth2,driver=igb,totalvfs=7,offset=128,stride=2,vfdriver=igbvf || exit 1
"$FAKE" run "$T/sys" --delay-ms 30 2>"$T/driver.log" &
drv_pid=$!
for _ in $(seq 100); do [ -f "$T/sys/.fake-driver.pid" ] && break; sleep 0.05; done
apply() { "$AGENT" apply --sysfs-root "$T/sys" --state-dir "$T/state" --no-netlink "$@"; }
ctl() { "$CTL" --state-dir "$T/state" --sysfs-root "$T/sys" "$@"; }
numvfs() { cat "$T/sys/sys/bus/pci/devices/$1/sriov_numvfs"; }

# dry_then_apply NAME CONFIG: --dry-run changes nothing and prints the plan;
# the real apply then runs exactly those actions, in that order (its
# "exec:" debug lines against the dry run's "plan: would" lines), and
# writes and removes exactly the domain configs the dry run named (a config
# retired before the apply is also named as stale by the dry run, which
# does not update the manifest in between: once each in the comparison).
dry_then_apply() {
	local name=$1 cfg=$2 rc
	tar -C "$T" -cf "$T/$name.before.tar" sys/sys/bus/pci/devices state 2>/dev/null
	apply --config "$cfg" --dry-run 2>"$T/$name.dry"
	tar -C "$T" -cf "$T/$name.after.tar" sys/sys/bus/pci/devices state 2>/dev/null
	check "$name: --dry-run changed nothing" cmp "$T/$name.before.tar" "$T/$name.after.tar"
	apply --config "$cfg" --log-level debug 2>"$T/$name.real"; rc=$?
	sed -n 's/^sriov-agent: notice: plan: would //p' "$T/$name.dry" | grep -v ' domain config ' >"$T/$name.planned"
	sed -n 's/^sriov-agent: debug: exec: //p' "$T/$name.real" >"$T/$name.done"
	check "$name: apply" test "$rc" = 0
	check "$name: the apply ran the $(wc -l <"$T/$name.planned") actions --dry-run printed, in order" \
		sh -c "test -s '$T/$name.planned' && cmp '$T/$name.planned' '$T/$name.done'"
	sed -n 's/^sriov-agent: notice: plan: would write domain config \([^ ]*\) .*/write \1/p; s/^sriov-agent: notice: plan: would remove domain config \([^ :]*\).*/remove \1/p' \
		"$T/$name.dry" | sort -u >"$T/$name.dom.planned"
	sed -n 's/^sriov-agent: info: app [^ ]*: wrote \(.*\)/write \1/p; s/^sriov-agent: info: removed domain config \([^ :]*\).*/remove \1/p' \
		"$T/$name.real" | sort >"$T/$name.dom.done"
	check "$name: the apply wrote and removed the $(wc -l <"$T/$name.dom.planned") domain configs --dry-run named" \
		cmp "$T/$name.dom.planned" "$T/$name.dom.done"
}

# 1. Two PFs (4 + 2 VFs), five apps.
dry_then_apply "two_pfs" "$FIX/two_pfs.pb"
check "two_pfs plan: retire domain configs, autoprobe + VF count per PF, map, intent, 5 binds, re-read, save, domain configs, config" \
	test "$(cut -d' ' -f1-4 "$T/two_pfs.planned" | sed 's/ 0000:.*//' | uniq -c | tr -s ' ' | tr '\n' '|')" = \
	" 1 remove the domain configs| 1 set PF uplink1 sriov_drivers_autoprobe| 1 set PF uplink1 sriov_numvfs| 1 set PF uplink2 sriov_drivers_autoprobe| 1 set PF uplink2 sriov_numvfs| 1 record the PCI address| 1 save the reservations before| 5 bind PF| 1 read the VFs and| 1 save the state if| 1 write the domain configs| 1 save the config as|"
ctl list --json >"$T/list.json"
check "list: 6 VFs" json 'assert len(d) == 6' "$T/list.json"
check "list: 5 reserved" json 'assert sum(v["app"] is not None for v in d) == 5' "$T/list.json"
check "list: PCI addresses from the virtfn links (offset 128, stride 2)" json \
	'assert [v["pci"] for v in d] == ["0000:03:10.0","0000:03:10.2","0000:03:10.4","0000:03:10.6","0000:04:10.0","0000:04:10.2"], [v["pci"] for v in d]' "$T/list.json"
check "list: keys pf vf pci app mac vlan" json \
	'assert all(k in v for v in d for k in ("pf","vf","pci","app","mac","vlan"))' "$T/list.json"
check "list: router on eth1 VF 0 with its MAC and VLAN 100" json \
	'v=d[0]; assert (v["pf"],v["vf"],v["app"],v["mac"],v["vlan"]) == ("eth1",0,"11111111-1111-4111-8111-111111111111","02:00:00:00:01:01",100), v' "$T/list.json"
check "list: free VF has app, mac and vlan null" json \
	'v=d[2]; assert v["app"] is None and v["mac"] is None and v["vlan"] is None, v' "$T/list.json"
check "list: explicit uplink1vf3 holds VF 3 = 0000:03:10.6" json \
	'v=d[3]; assert v["app"].startswith("3333") and v["pci"] == "0000:03:10.6", v' "$T/list.json"
check "list: each VF's adapter identity (name, occurrence), null on the free VF" json \
	'assert [(v["adapter"], v["occurrence"]) for v in d] == [("uplink1", 0), ("uplink1", 0), (None, None), ("uplink1vf3", 0), ("eth2", 0), ("uplink2", 0)], [(v["adapter"], v["occurrence"]) for v in d]' "$T/list.json"
check "list: reserved VFs bound to vfio-pci, free ones unbound (autoprobe off)" json 'assert d[0]["driver"] == "vfio-pci" and d[2]["driver"] is None' "$T/list.json"
check "PF autoprobe turned off" test "$(cat "$T/sys/sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe")" = 0
check "list text has a header" sh -c "'$CTL' --state-dir '$T/state' list | head -1 | grep -q '^PF *VF *PCI'"

# 2. Re-apply: nothing changes.
cp "$T/state/state.pb" "$T/state.before"
apply --config "$FIX/two_pfs.pb" 2>"$T/reapply.log"
check "re-apply: state file identical" cmp "$T/state/state.pb" "$T/state.before"
check "re-apply: 0 actions, 0 sysfs writes" grep -q "applied: 0 action(s), 0 sysfs and 0 netlink writes" "$T/reapply.log"

# 3. A 7th VF request is refused, state and node unchanged.
apply --config "$FIX/seven_requests.pb" 2>"$T/seven.log"; rc=$?
check "7th request: non-zero exit" test "$rc" -ne 0
check "7th request: clear message" grep -q "PF uplink1 has 4 VFs, 5 asked" "$T/seven.log"
check "7th request: state unchanged" cmp "$T/state/state.pb" "$T/state.before"

# 4. Every bad config: own message, non-zero exit, nothing changed.
for f in "$FIX"/bad_*.pb; do
	n=$(basename "$f" .pb)
	apply --config "$f" 2>"$T/$n.log"; rc=$?
	if [ "$rc" -ne 0 ] && grep -q "rejected: " "$T/$n.log" && cmp -s "$T/state/state.pb" "$T/state.before" &&
		[ "$(numvfs 0000:03:00.0)" = 4 ] && [ "$(numvfs 0000:04:00.0)" = 2 ]; then
		ok "$n: refused ($(sed -n 's/.*rejected: //p' "$T/$n.log" | cut -c1-90))"
	else
		nok "$n: rc=$rc $(cat "$T/$n.log")"
	fi
done
head -c 50 "$FIX/two_pfs.pb" >"$T/truncated.pb"
apply --config "$T/truncated.pb" 2>"$T/trunc.log"; rc=$?
check "truncated protobuf refused" test "$rc" -ne 0
check "truncated protobuf: message" grep -q "not a valid EdgeDevConfig" "$T/trunc.log"
check "truncated protobuf: state unchanged" cmp "$T/state/state.pb" "$T/state.before"
apply --config "$T/missing.pb" 2>/dev/null; check "missing config file: exit 1" test $? -eq 1
apply 2>/dev/null; check "apply without --config: exit 2" test $? -eq 2
"$AGENT" apply --config "$FIX/two_pfs.pb" --hypervisor hyperv 2>/dev/null
check "unknown hypervisor: exit 2" test $? -eq 2
# Each command takes only its own options: run's are refused by apply
# (they were accepted and ignored), apply's by run, each named.
for opt in "--interval 5" "--socket $T/s" "--info-file $T/info.pb"; do
	# shellcheck disable=SC2086 # the option and its value are two words
	apply --config "$FIX/two_pfs.pb" $opt 2>"$T/foreign.log"
	check "apply ${opt%% *}: exit 2" test $? -eq 2
	check "apply ${opt%% *}: named as run's" grep -q "^sriov-agent: ${opt%% *} is an option of run, not of apply" "$T/foreign.log"
done
"$AGENT" run --dry-run --state-dir "$T/state" 2>"$T/foreign.log"
check "run --dry-run: exit 2" test $? -eq 2
check "run --dry-run: named as apply's" grep -q "^sriov-agent: --dry-run is an option of apply, not of run" "$T/foreign.log"
check "apply --interval: the node unchanged" cmp "$T/state/state.pb" "$T/state.before"

# 5. sriovctl commands and exit codes.
check "show router: exit 0" ctl show 11111111-1111-4111-8111-111111111111
ctl show 11111111-1111-4111-8111-111111111111 --json >"$T/show.json"
check "show --json: one VF, 0000:03:10.0" json 'assert [v["pci"] for v in d["vfs"]] == ["0000:03:10.0"]' "$T/show.json"
ctl show 99999999-9999-4999-8999-999999999999 >/dev/null 2>&1; check "show unknown app: exit 1" test $? -eq 1
ctl show >/dev/null 2>&1; check "show without UUID: exit 2" test $? -eq 2
ctl frobnicate >/dev/null 2>&1; check "unknown command: exit 2" test $? -eq 2
ctl pfs --json >"$T/pfs.json"
check "pfs --json: IOMMU on, two PFs with totalvfs 7" json \
	'assert d["iommu"] is True and [(p["pci"],p["totalvfs"],p["numvfs"]) for p in d["pfs"]] == [("0000:03:00.0",7,4),("0000:04:00.0",7,2)], d' "$T/pfs.json"
check "pfs --json: sriovctl names the PFs from pci.ids (8086:10c9)" json \
	'assert all("82576" in p["name"] for p in d["pfs"]), [p["name"] for p in d["pfs"]]' "$T/pfs.json"
check "pfs --json: igb has no order rule, totalvfs is sriov_totalvfs" json \
	'assert all(p["rule"] is None for p in d["pfs"]) and "sriov_totalvfs" in d["totalvfs_rule"], d' "$T/pfs.json"
"$FAKE" create "$T/sys_rules" --pf pci=0000:05:00.0,ifname=eth5,driver=bnxt_en,totalvfs=4 \
	--pf pci=0000:06:00.0,ifname=eth6,driver=mlx5_core,totalvfs=8 >/dev/null || exit 1
"$CTL" --sysfs-root "$T/sys_rules" --json pfs >"$T/pfs_rules.json"
check "pfs --json: bnxt_en and mlx5_core show their rule and its source" json \
	'r = {p["driver"]: p["rule"] for p in d["pfs"]}; assert "PF up before sriov_numvfs" in r["bnxt_en"]["what"] and "bnxt_sriov_configure" in r["bnxt_en"]["source"] and "eswitch mode" in r["mlx5_core"]["what"], r' "$T/pfs_rules.json"
check "pfs text: the rule under the PF" sh -c "'$CTL' --sysfs-root '$T/sys_rules' pfs | grep -q '^ *rule: PF up before sriov_numvfs'"
ctl domain-config 33333333-3333-4333-8333-333333333333 >"$T/kvm.cfg"
check "domain-config kvm: vfio-pci host 0000:03:10.6" grep -q 'host = "0000:03:10.6"' "$T/kvm.cfg"
ctl domain-config 33333333-3333-4333-8333-333333333333 --hypervisor xen >"$T/xen.cfg"
check "domain-config xen: pci = [ '0000:03:10.6' ]" grep -q "pci = \[ '0000:03:10.6' \]" "$T/xen.cfg"
check "domain-config xen: PV from VmConfig" grep -q 'type = "pv"' "$T/xen.cfg"
ctl --json domain-config 33333333-3333-4333-8333-333333333333 --hypervisor xen >"$T/xen.json"
check "domain-config --json: app, hypervisor and the same xl.cfg as text" json \
	'assert d["app"] == "33333333-3333-4333-8333-333333333333" and d["hypervisor"] == "xen" and d["config"] == open(sys.argv[1][:-5] + ".cfg").read(), d' "$T/xen.json"
ctl domain-config 66666666-6666-4666-8666-666666666666 >/dev/null 2>&1
check "domain-config for an app without VF: exit 1" test $? -eq 1
ctl --json domain-config 66666666-6666-4666-8666-666666666666 >"$T/none.json" 2>/dev/null
rc=$?
check "domain-config --json for an app without VF: exit 1" test $rc -eq 1
check "domain-config --json for an app without VF: a JSON error document on stdout" json \
	'assert d["exit"] == 1 and "66666666" in d["error"], d' "$T/none.json"
ctl --version | grep -Eq '^sriovctl [0-9]+\.[0-9]+\.[0-9]+$'
check "sriovctl --version" test $? -eq 0
check "sriovctl --json --version" sh -c "'$CTL' --json --version | python3 -c 'import json,sys; assert json.load(sys.stdin)[\"version\"]'"
check "apply wrote the KVM domain configs" test -f "$T/state/domains/11111111-1111-4111-8111-111111111111.kvm.cfg"
check "no domain config for the app without VF" test ! -e "$T/state/domains/66666666-6666-4666-8666-666666666666.kvm.cfg"

# Exit status 3: applied, but an app could not be given its VF (here: its
# VF lost its IOMMU group, so vfio-pci is refused and no domain config is
# written for it).
rm -rf "$T/sys/sys/bus/pci/devices/0000:03:10.6/iommu_group"
ctl list --json >"$T/list3.json"
app3=$(json 'print([v["app"] for v in d if v["pci"] == "0000:03:10.6"][0])' "$T/list3.json")
"$AGENT" apply --sysfs-root "$T/sys" --state-dir "$T/state3" --no-netlink --config "$FIX/two_pfs.pb" 2>"$T/exit3.log"
check "app whose VF has no IOMMU group: apply exits 3" test $? -eq 3
check "exit 3: the log names the count" grep -q "applied, but 1 app(s) could not be given their VF" "$T/exit3.log"
check "exit 3: no domain config for $app3" test ! -e "$T/state3/domains/$app3.kvm.cfg"
check "exit 3: the other apps got theirs" test -e "$T/state3/domains/11111111-1111-4111-8111-111111111111.kvm.cfg"
"$AGENT" apply --sysfs-root "$T/sys" --state-dir "$T/state3" --no-netlink --hypervisor none --config "$FIX/two_pfs.pb" 2>/dev/null
check "the same config without passthrough: exit 0" test $? -eq 0
"$AGENT" apply --sysfs-root "$T/sys" --state-dir "$T/state3" --no-netlink --hypervisor xen --config "$FIX/two_pfs.pb" 2>"$T/xen.log"
check "--hypervisor xen on a node that is not a Xen dom0: exit 1" test $? -eq 1
check "--hypervisor xen refused: the reason" grep -q "not a Xen dom0" "$T/xen.log"
# On Xen, but physinfo cannot be asked (this machine has no /dev/xen/privcmd):
# a domU, or a dom0 without xen-privcmd. pfs says so; apply is refused.
mkdir -p "$T/sys/sys/hypervisor" && echo xen >"$T/sys/sys/hypervisor/type"
ctl pfs --json >"$T/pfs_xen.json"
check "pfs --json on Xen without physinfo: xen.dom0 false, xen.iommu null" json \
	'assert d["xen"] == {"dom0": False, "iommu": None}, d' "$T/pfs_xen.json"
check "pfs text: not dom0" sh -c "'$CTL' --sysfs-root '$T/sys' pfs | grep -q '^Xen: not dom0 (physinfo: .*): passthrough to Xen is refused'"
"$AGENT" apply --sysfs-root "$T/sys" --state-dir "$T/state3" --no-netlink --hypervisor xen --config "$FIX/two_pfs.pb" 2>"$T/xen2.log"
check "--hypervisor xen without physinfo: exit 1" test $? -eq 1
check "--hypervisor xen without physinfo: the reason" grep -q "not the control domain, or xen-privcmd not loaded" "$T/xen2.log"
rm -rf "$T/sys/sys/hypervisor"

# 6. Six requests fit; the previous five keep their VFs; then back to five.
dry_then_apply "six_requests" "$FIX/six_requests.pb"
ctl list --json >"$T/list6.json"
check "six: 6 of 6 reserved, old five unmoved" json \
	'a=[v["app"][:4] if v["app"] else None for v in d]; assert a == ["1111","2222","7777","3333","4444","5555"], a' "$T/list6.json"
dry_then_apply "back to five" "$FIX/two_pfs.pb"
check "back to five: the plan releases 7777's VF" grep -q "^release PF 0000:03:00.0 VF 2 (app 77777777" "$T/back to five.planned"
check "back to five: --dry-run names 7777's domain config to remove" \
	grep -q "^remove $T/state/domains/77777777-7777-4777-8777-777777777777.kvm.cfg\$" "$T/back to five.dom.planned"
check "two_pfs: --dry-run named the 5 domain configs the first apply wrote" test "$(grep -c '^write ' "$T/two_pfs.dom.planned")" = 5
check "six_requests: --dry-run named 7777's new domain config" \
	grep -q "^write $T/state/domains/77777777-7777-4777-8777-777777777777.kvm.cfg\$" "$T/six_requests.dom.planned"
check "released app's domain config removed" test ! -e "$T/state/domains/77777777-7777-4777-8777-777777777777.kvm.cfg"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
