#!/usr/bin/env bash
# Config validation time alone (sr_config_decode: wire pre-scan, protobuf-c,
# UTF-8 walk, every uniqueness check), no kernel: N apps with one VF
# adapter each on one PF, N PFs with no app, and the absurd inputs the wire
# pre-scan refuses. Usage: bench/validate.sh [BUILD_DIR] (default build/).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
V=$B/test/validate-bench
[ -x "$V" ] || { echo "build $V first (cmake --build $B --target validate-bench)"; exit 1; }
T=$(mktemp -d /tmp/sr-validate-XXXXXX)
trap 'rm -rf "$T"' EXIT
enc() { protoc --proto_path=proto --encode=org.lfedge.eve.config.EdgeDevConfig eveconfig.proto; }
echo "| input | bytes | apps | result | median ms | peak RSS KiB |"
echo "| --- | ---: | ---: | --- | ---: | ---: |"
row() { # NAME FILE
	local out rss
	out=$(/usr/bin/env time -f "rss=%M" "$V" "$2" 3 2>"$T/time")
	rss=$(sed -n 's/^rss=//p' "$T/time")
	python3 - "$1" "$out" "$rss" <<'PY'
import sys
name, out, rss = sys.argv[1:]
kv = dict(p.split("=", 1) for p in out.split(" result=")[0].split())
res = out.split(" result=", 1)[1]
print(f"| {name} | {kv['bytes']} | {kv['apps']} | {res[:60]} | {kv['median_ms']} | {rss} |")
PY
}
for n in 1000 10000 25000 50000 100000; do
	python3 bench/gen_config.py --pfs 1 --vfs "$n" | enc >"$T/apps$n.pb"
	row "$n apps, 1 adapter each" "$T/apps$n.pb"
done
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
# 65536 PFs (the deviceIoList limit), no app; then 70000 (over it)
for n in (65536, 70000):
    with open(f"{t}/pfs{n}.txt", "w") as f:
        for i in range(n):
            f.write('deviceIoList { ptype: PhyIoNetEthPF logicallabel: "pf%d" '
                    'phyaddrs { key: "pcilong" value: "%04x:%02x:%02x.%d" } vflist { vf_count: 1 } }\n'
                    % (i, i >> 13, (i >> 5) & 0xff, (i >> 3) & 0x1f, i & 7))
# 16 MiB of empty "apps {}" (field 4, length 0)
open(f"{t}/empty_apps.pb", "wb").write(b"\x22\x00" * (8 << 20))
PY
for n in 65536 70000; do enc <"$T/pfs$n.txt" >"$T/pfs$n.pb"; row "$n PFs, no app" "$T/pfs$n.pb"; done
row "16 MiB of empty apps {}" "$T/empty_apps.pb"
