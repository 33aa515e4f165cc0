#!/usr/bin/env bash
# Install what is missing, build chaindns optimised (Release, no sanitizers)
# and run the benchmarks:
#   bench/run.sh                 every suite
#   bench/run.sh perf [ARGS]     chaindns beside Unbound, PowerDNS Recursor and
#                                Knot Resolver
#                                (perf.py; needs root: its authorities listen on
#                                port 53, the only port the peers ask)
#   bench/run.sh shared [ARGS]   the shared Redis tier (shared_cache.py)
#   bench/run.sh instr [ARGS]    what chain instrumentation costs
#                                (instrumentation.py, callgrind + dnsperf)
#   bench/run.sh instructions [--compare OLD_BINARY] [--peer unbound]
#                                instructions per cache miss and hit
#                                (instructions.py, callgrind): did a change
#                                make the query path dearer? (--peer: root)
#   bench/run.sh resolution [ARGS]
#                                QNAME minimisation and prefetch beside the
#                                same peers (resolution.py; needs root too)
#   bench/run.sh dnssec [ARGS]  CPU per validated query (cold zone, warm zone,
#                                cached), chaindns beside Unbound, both
#                                validating from one signed hierarchy
#                                (dnssec.py; needs root too)
#   bench/run.sh tcpbacklog [ARGS]
#                                resident memory while TCP clients that never
#                                read pipeline queries for a 60 KB answer
#                                (tcp_backlog.py; --compare OLD_BINARY)
#   bench/run.sh soak [SECONDS] [RATE]
#                                the soak test for longer (default 180 s at
#                                5000 q/s): RSS and descriptors over time
set -euo pipefail
cd "$(dirname "$0")/.."
suite="${1:-all}"
[ $# -gt 0 ] && shift
scripts/deps.sh bench
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j"$(nproc)" --target chaindns >/dev/null
bin=build-release/chaindns
case "$suite" in
  perf) exec /usr/bin/python3 bench/perf.py --binary "$bin" "$@" ;;
  shared) exec /usr/bin/python3 bench/shared_cache.py --binary "$bin" "$@" ;;
  instr) exec /usr/bin/python3 bench/instrumentation.py --binary "$bin" "$@" ;;
  instructions) exec /usr/bin/python3 bench/instructions.py --binary "$bin" "$@" ;;
  resolution) exec /usr/bin/python3 bench/resolution.py --binary "$bin" "$@" ;;
  dnssec) exec /usr/bin/python3 bench/dnssec.py --binary "$bin" "$@" ;;
  tcpbacklog) exec /usr/bin/python3 bench/tcp_backlog.py --binary "$bin" "$@" ;;
  soak)
    CHAINDNS_BIN="$bin" CHAINDNS_SOAK_SECONDS="${1:-180}" CHAINDNS_SOAK_RATE="${2:-5000}" \
      exec /usr/bin/python3 tests/integration/test_soak.py ;;
  all)
    /usr/bin/python3 bench/perf.py --binary "$bin"
    echo
    /usr/bin/python3 bench/shared_cache.py --binary "$bin"
    echo
    /usr/bin/python3 bench/instrumentation.py --binary "$bin"
    echo
    /usr/bin/python3 bench/resolution.py --binary "$bin"
    echo
    /usr/bin/python3 bench/dnssec.py --binary "$bin"
    echo
    /usr/bin/python3 bench/tcp_backlog.py --binary "$bin" ;;
  *) echo "usage: $0 [perf|shared|instr|instructions|resolution|dnssec|tcpbacklog|soak|all] [args]" >&2
     exit 2 ;;
esac
