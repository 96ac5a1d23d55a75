#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the libFuzzer targets (clang, -DSR_FUZZ=ON), make the seed corpora
# and run each target for RUNS executions (default 1,000,000).
#
#   fuzz/run.sh [RUNS] [TARGET...]      TARGET: config, state, monitor (default all)
#
# Seeds: config <- the encoded test fixtures (build/test/fixtures/*.pb);
# state <- state.pb files made by real applies on a fake sysfs (none and kvm,
# then a second config on top) and fuzz/seeds/state_full.txtpb. fuzz/regress/
# is read as a corpus too. Corpora grow in $SR_FUZZ_BUILD/fuzz/corpus/; a
# crash lands in $SR_FUZZ_BUILD/fuzz/artifacts/ (copy it into fuzz/regress/).
# Environment: SR_FUZZ_BUILD (default build-fuzz), SR_FUZZ_JOBS (parallel
# fuzzing processes per target, default 1), extra libFuzzer flags in
# SR_FUZZ_FLAGS.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${SR_FUZZ_BUILD:-$src/build-fuzz}
runs=${1:-1000000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config state monitor)

log() { printf 'fuzz: %s\n' "$*" >&2; }

log "building in $build (clang, SR_FUZZ=ON)"
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DSR_FUZZ=ON \
	-DSR_VM_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzz_config fuzz_state fuzz_monitor sriov-agent fake-sysfs \
	sr_fixtures >/dev/null

corpus=$build/fuzz/corpus
artifacts=$build/fuzz/artifacts
mkdir -p "$corpus/config" "$corpus/state" "$corpus/monitor" "$artifacts"
cp "$build"/test/fixtures/*.pb "$corpus/config/"

# State seeds from real applies.
tmp=$(mktemp -d)
fake_pid=
cleanup() {
	[ -z "$fake_pid" ] || kill "$fake_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
protoc --proto_path="$src/proto" --encode=sriov_agent.state.State state.proto \
	<"$src/fuzz/seeds/state_full.txtpb" >"$corpus/state/state_full.pb"
for hv in none kvm; do
	"$build/test/fake-sysfs" create "$tmp/sys-$hv" --iommu \
		--pf pci=0000:03:00.0,ifname=eth1,driver=igb,totalvfs=7,vfdriver=igbvf \
		--pf pci=0000:04:00.0,ifname=eth2,driver=igb,totalvfs=7,vfdriver=igbvf
	"$build/test/fake-sysfs" run "$tmp/sys-$hv" &
	fake_pid=$!
	for _ in $(seq 100); do [ -s "$tmp/sys-$hv/.fake-driver.pid" ] && break; sleep 0.05; done
	for cfg in two_pfs six_requests; do
		"$build/agent/sriov-agent" apply --config "$build/test/fixtures/$cfg.pb" --no-netlink \
			--hypervisor "$hv" --sysfs-root "$tmp/sys-$hv" --state-dir "$tmp/state-$hv" \
			--log-level error
		cp "$tmp/state-$hv/state.pb" "$corpus/state/apply_${hv}_$cfg.pb"
	done
	kill "$fake_pid"
	wait "$fake_pid" || true
	fake_pid=
done
log "seeds: $(ls "$corpus/config" | wc -l) config, $(ls "$corpus/state" | wc -l) state"

rc=0
for t in "${targets[@]}"; do
	log "fuzz_$t: $runs runs"
	set +e
	# shellcheck disable=SC2086
	"$build/fuzz/fuzz_$t" -runs="$runs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$artifacts/$t-" -use_value_profile=1 \
		-dict="$src/fuzz/$t.dict" \
		${SR_FUZZ_JOBS:+-jobs=$SR_FUZZ_JOBS -workers=$SR_FUZZ_JOBS} ${SR_FUZZ_FLAGS:-} \
		"$corpus/$t" "$src/fuzz/regress" >"$build/fuzz/$t.log" 2>&1
	frc=$?
	set -e
	grep -E '^(INFO: seed corpus|#[0-9]+ *(INITED|DONE)|stat::|==[0-9]+==ERROR|SUMMARY|Done)' \
		"$build/fuzz/$t.log" || true
	if [ $frc -ne 0 ]; then
		log "fuzz_$t FAILED (exit $frc): $build/fuzz/$t.log, inputs in $artifacts"
		rc=1
	fi
done
exit $rc
