#!/usr/bin/env bash
# Fuzz chaindns with libFuzzer (tests/fuzz): install clang if it is missing,
# build build-fuzz with clang, ASan and UBSan, then
#
#   scripts/fuzz.sh [SECONDS]   run every saved regression input once, then
#                               fuzz each target for SECONDS (default 30)
#   scripts/fuzz.sh regress     only run the regression inputs and the seeds once
#
# Targets: query, response, record, config; FUZZ_TARGETS="query record" picks
# some. Each target fuzzes a copy of tests/fuzz/corpus/<name> in a temporary
# directory, so the committed seeds stay as they are. A crash, leak, timeout
# (5 s) or memory blow-up (2 GB) makes the script exit non-zero and print the
# input that caused it; copy it to tests/fuzz/regressions/<name>/ and every
# later run (and ctest in build-fuzz) replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: $0 [SECONDS|regress]" >&2; exit 2; }
mode=fuzz
secs=30
case "${1:-}" in
  "") ;;
  regress) mode=regress ;;
  -h|--help) usage ;;
  *) [[ "$1" =~ ^[1-9][0-9]*$ ]] || usage; secs=$1 ;;
esac
[ $# -le 1 ] || usage
read -r -a targets <<<"${FUZZ_TARGETS:-query response record config}"

# ---- clang and libFuzzer (Debian 12: clang-14; libFuzzer is in
# libclang-rt-14-dev, which clang only recommends) --------------------------
scripts/deps.sh build
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
apt_install() {
  echo "installing: $*" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
command -v clang >/dev/null || apt_install clang
probe=$(mktemp -d /tmp/chaindns-fuzz-probe.XXXXXX)
trap 'rm -rf "$probe"' EXIT
libfuzzer_ok() {
  printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
    > "$probe/probe.c"
  clang -fsanitize=fuzzer,address,undefined "$probe/probe.c" -o "$probe/probe" 2>/dev/null
}
if ! libfuzzer_ok; then
  major=$(clang -dumpversion | cut -d. -f1)
  apt_install "libclang-rt-$major-dev"
  libfuzzer_ok || { echo "clang cannot link -fsanitize=fuzzer" >&2; exit 1; }
fi

# ---- build -------------------------------------------------------------------
echo "== build (build-fuzz: clang, libFuzzer, ASan+UBSan) =="
CC=clang cmake -S . -B build-fuzz -DCHAINDNS_FUZZ=ON -DCHAINDNS_WERROR=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-fuzz --target fuzz -j"$(nproc)" >/dev/null
bin=build-fuzz/tests/fuzz

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
limits=(-timeout=5 -rss_limit_mb=2048)
failed=0

# ---- regressions: every saved input, once -----------------------------------
echo "== regressions =="
for t in "${targets[@]}"; do
  mapfile -t inputs < <(find "tests/fuzz/regressions/$t" -type f ! -name .keep 2>/dev/null | sort)
  if [ "$mode" = regress ]; then
    # The seeds too: each must still run cleanly.
    mapfile -t -O "${#inputs[@]}" inputs < <(find "tests/fuzz/corpus/$t" -type f | sort)
  fi
  if [ ${#inputs[@]} -eq 0 ]; then
    echo "$t: no saved inputs"
    continue
  fi
  log=$(mktemp "/tmp/chaindns-fuzz-$t-regress.XXXXXX.log")
  if "$bin/fuzz_$t" "${limits[@]}" "${inputs[@]}" </dev/null >"$log" 2>&1; then
    echo "$t: ${#inputs[@]} input(s) ok"
    rm -f "$log"
  else
    failed=1
    bad=$(grep -E '^Running: ' "$log" | tail -1 | sed 's/^Running: //')
    echo "$t: FAILED on ${bad:-one of ${inputs[*]}} (full log: $log)"
    grep -E 'ERROR|SUMMARY|^ *#[0-9]+ |fuzz_' "$log" | head -40 | sed 's/^/    /'
  fi
done
[ "$mode" = regress ] && exit "$failed"

# ---- fuzzing -----------------------------------------------------------------
work=$(mktemp -d /tmp/chaindns-fuzz.XXXXXX)
echo "== fuzzing, ${secs} s per target (work: $work) =="
summary=()
for t in "${targets[@]}"; do
  mkdir -p "$work/$t/corpus" "$work/$t/crashes"
  cp tests/fuzz/corpus/"$t"/* "$work/$t/corpus/"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  log="$work/$t/fuzz.log"
  rc=0
  "$bin/fuzz_$t" "${limits[@]}" -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="$work/$t/crashes/" "${dict[@]}" "$work/$t/corpus" \
    </dev/null >"$log" 2>&1 || rc=$?
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
  line=$(printf '%-9s %10s runs %8s exec/s  cov %-5s ft %-6s corpus %-5s rss %s MB' \
         "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}")
  if [ "$rc" -eq 0 ]; then
    summary+=("$line  ok")
  else
    failed=1
    summary+=("$line  FAILED (exit $rc)")
    echo "---- $t: exit $rc, log $log"
    grep -E 'ERROR|SUMMARY|^ *#[0-9]+ 0x|fuzz_[a-z]+: ' "$log" | head -60 | sed 's/^/    /'
    for f in "$work/$t"/crashes/*; do
      [ -e "$f" ] || continue
      echo "    input: $f"
      echo "    keep it: cp '$f' tests/fuzz/regressions/$t/"
    done
  fi
done
echo "== summary =="
printf '%s\n' "${summary[@]}"
if [ "$failed" -eq 0 ] && [ -z "${FUZZ_KEEP:-}" ]; then
  rm -rf "$work"
else
  echo "work directory kept: $work (grown corpora in */corpus, logs in */fuzz.log)"
fi
exit "$failed"
