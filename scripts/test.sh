#!/usr/bin/env bash
# Install what is missing, check the layers of resolver/ (check-layers.sh),
# then build twice and run every test each time:
#   1. -Wall -Wextra -Werror, all unit and integration tests;
#   2. AddressSanitizer + UndefinedBehaviorSanitizer, the same tests;
#   3. the libFuzzer targets for a bounded time (FUZZ_SECONDS, default 20).
# Integration tests start their own NSD and test servers on 127.53.x.y.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
jobs=$(nproc)
scripts/check-layers.sh

echo "== build (-Werror) =="
cmake -S . -B build -DCHAINDNS_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs" >/dev/null
echo "== tests =="
(cd build && ctest --output-on-failure -j"$jobs")

echo "== build (ASan+UBSan) =="
cmake -S . -B build-asan -DCHAINDNS_WERROR=ON -DCHAINDNS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null
echo "== tests under ASan+UBSan =="
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j"$jobs")

# 3. libFuzzer (clang, ASan+UBSan): the saved regressions and seeds, then a
#    bounded run per target (query, response, record, config).
echo "== fuzzing (${FUZZ_SECONDS:-20} s per target) =="
scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
