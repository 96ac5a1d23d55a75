#!/usr/bin/env bash
# The whole test suite, from a fresh clone: install what is needed, build,
# run every ctest (unit and integration on a fake sysfs + vm on a real kernel
# under QEMU), then unit and integration again under ASan+UBSan and the
# compiled ones under valgrind, and a short
# fuzzing run of the config and state decoders and the kernel event parsers.
#   scripts/test.sh            everything
#   SR_TEST_QUICK=1 scripts/test.sh   the plain build's ctest only
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

bash scripts/setup.sh

echo "== build (Debug) and ctest: unit + vm"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug -DSR_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
find build \( -name '*.qemu-crash.log' -o -name '*.boot-hang.log' \) -delete
ctest --test-dir build --output-on-failure -j1 | tee build/ctest-main.log

# ctest counts a skipped test (exit 77) in "out of N"; it is not a pass here.
ran() { echo $(( $(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$1") - $(skipped "$1") )); }
skipped() { grep -c '\*\*\*Skipped' "$1" || true; }
# A VM boot in which QEMU itself crashed, or whose guest never reached its
# scenario, is retried once (test/vm/common.sh); say how many were, so a
# flaky emulator is visible, not hidden.
qemu_retries() { find build \( -name '*.qemu-crash.log' -o -name '*.boot-hang.log' \) 2>/dev/null | wc -l; }
if [ "${SR_TEST_QUICK:-0}" = 1 ]; then
	echo "summary: $(ran build/ctest-main.log) passed, 0 failed, $(skipped build/ctest-main.log) skipped, $(qemu_retries) VM boots retried (QEMU crash or guest boot hang)"
	exit 0
fi

echo "== unit and integration tests under AddressSanitizer + UndefinedBehaviorSanitizer (clang)"
# Every unit test, the shell ones included (they run the instrumented
# binaries). Check forks a child per test: each child runs LeakSanitizer when
# it exits, and abort_on_error turns any report into SIGABRT, which Check
# reports as a failed test; UBSan aborts too (-fno-sanitize-recover=all).
# This tree is also the build without libsystemd (SR_SYSTEMD=OFF, as on EVE):
# it must build, and daemon_notify checks that it sends no notifications.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
	-DSR_SANITIZE=ON -DSR_VM_TESTS=OFF -DSR_SYSTEMD=OFF -DSR_WERROR=ON >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir build-asan --output-on-failure -L 'unit|integration' -j"$jobs" | tee build-asan/ctest-asan.log

echo "== unit tests under valgrind (memcheck)"
# The compiled unit tests (Check suites, fuzz_regress) of the Debug build,
# each under valgrind, in-process (CK_FORK=no: valgrind sees the test code and
# the leak check covers it). Not `ctest -T memcheck`: that would also run bash
# (the shell tests) under valgrind. Any error or definite/indirect leak makes
# valgrind exit 1 and the stage fail.
unit_programs() { # BUILD_DIR -> NAME, WORKDIR, ENV..., COMMAND (shell-quoted), \x1f-separated
	ctest --test-dir "$1" --show-only=json-v1 -L 'unit|integration' | python3 -c '
import json, os, shlex, sys
build = os.path.realpath(sys.argv[1])
for t in json.load(sys.stdin)["tests"]:
    cmd = t.get("command") or []
    if not cmd or not os.path.realpath(cmd[0]).startswith(build + "/"):
        continue  # a script, not one of our programs
    props = {p["name"]: p["value"] for p in t.get("properties", [])}
    env = " ".join(shlex.quote(e) for e in props.get("ENVIRONMENT", []))
    print("\x1f".join([t["name"], props.get("WORKING_DIRECTORY", build), env, shlex.join(cmd)]))
' "$1"
}
vg_failed=()
vg_n=0
while IFS=$'\x1f' read -r name dir env cmd; do
	vg_n=$((vg_n + 1))
	start=$SECONDS
	if (cd "$dir" && eval "env $env CK_FORK=no timeout 1800 valgrind -q --error-exitcode=1 \
		--leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --track-origins=yes $cmd") \
		>"build/valgrind-$name.log" 2>&1; then
		echo "valgrind: $name: clean ($((SECONDS - start)) s)"
	else
		echo "valgrind: $name: FAILED ($((SECONDS - start)) s); build/valgrind-$name.log:"
		tail -n 60 "build/valgrind-$name.log"
		vg_failed+=("$name")
	fi
done < <(unit_programs build)
[ "$vg_n" -gt 0 ] || { echo "valgrind: no unit test programs found in build/"; exit 1; }
if [ ${#vg_failed[@]} -gt 0 ]; then
	echo "valgrind: ${#vg_failed[@]} of $vg_n failed: ${vg_failed[*]}"
	exit 1
fi
echo "valgrind: all $vg_n unit test programs clean"

echo "== fuzz: config and state decoders, kernel event parsers, ${SR_TEST_FUZZ_RUNS:=200000} runs each (fixed seed)"
SR_FUZZ_FLAGS=-seed=1 bash fuzz/run.sh "$SR_TEST_FUZZ_RUNS"
# Every stage above stops the script on its first failure, so reaching here
# means all passed: ctest (unit + vm), ctest under ASan+UBSan, each unit
# program under valgrind, and the three fuzz targets.
echo "summary: $(( $(ran build/ctest-main.log) + $(ran build-asan/ctest-asan.log) + vg_n + 3 )) passed, 0 failed, $(( $(skipped build/ctest-main.log) + $(skipped build-asan/ctest-asan.log) )) skipped, $(qemu_retries) VM boots retried (QEMU crash or guest boot hang)"
