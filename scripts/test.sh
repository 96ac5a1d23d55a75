#!/usr/bin/env bash
# The whole test suite, from a fresh clone: install what is needed, build,
# run every ctest (unit on a fake sysfs + vm on a real kernel under QEMU),
# then the unit tests again under ASan+UBSan and under valgrind.
#   scripts/test.sh            everything
#   SR_TEST_QUICK=1 scripts/test.sh   the plain build's ctest only
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

bash scripts/setup.sh

echo "== build (Debug) and ctest: unit + vm"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j1

[ "${SR_TEST_QUICK:-0}" = 1 ] && exit 0

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
	-DSR_SANITIZE=ON -DSR_VM_TESTS=OFF >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --test-dir build-asan --output-on-failure -L unit -j"$jobs"

echo "== unit tests under valgrind"
ctest --test-dir build --output-on-failure -L unit -T memcheck \
	--overwrite MemoryCheckCommandOptions="--error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite --track-origins=yes" \
	-E '^(cli|xl_parse|qemu_readconfig|grub_script_check)$' -j"$jobs"
