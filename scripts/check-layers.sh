#!/usr/bin/env bash
# The layers of resolver/ (README "Design"), checked on every test run: a
# folder never includes one above it, and the resolution core and DNSSEC
# code own no I/O (no libuv, no sockets, no Redis, no HTTP) and no clock.
#   resolver/lib     names, wire writing, utilities, logging
#   resolver/dnssec  validation, proofs, trust walk, key and NSEC caches
#   resolver/core    the I/O-free resolution core
#   resolver/daemon  the process
# cache/ sits beside them and may use resolver/lib only; metrics/ (counters,
# tables and their exposition) may use cache/ and resolver/lib. So the
# folders stack one way: lib < dnssec, cache < metrics < core < daemon.
# Then no include cycle between modules, except inside resolver/daemon
# (include-cycles.py; the README names any such cycle).
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
# check DIR 'what is forbidden (an extended regex over the include target)' why
check() {
  local dir=$1 forbidden=$2 why=$3 hits
  hits=$(grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]('"$forbidden"')' \
           "$dir"/*.[ch] 2>/dev/null || true)
  if [ -n "$hits" ]; then
    echo "layering: $dir $why:" >&2
    echo "$hits" | sed 's/^/  /' >&2
    status=1
  fi
}

io='uv\.h|sys/socket\.h|netinet/|arpa/|netdb\.h|hiredis|microhttpd\.h'
check resolver/lib    'resolver/(dnssec|core|daemon)/|cache/|metrics/' "includes a higher layer"
check resolver/dnssec 'resolver/(core|daemon)/|cache/|metrics/' "includes a higher layer"
check resolver/dnssec "$io" "does I/O (or includes what does)"
check resolver/core   'resolver/daemon/' "includes the daemon"
check resolver/core   "$io" "does I/O (or includes what does)"
check cache           'resolver/(dnssec|core|daemon)/|metrics/' "includes more than resolver/lib"
check metrics         'resolver/(dnssec|core|daemon)/' "includes the resolver above resolver/lib"
# The core and DNSSEC code read no clock and no random source: time comes
# from the iterator's environment (iter_env.clock, defaulted in iter_priv.h
# only) or from the caller as an argument, so a test's fake clock sees all.
clock='\b(util_now_sec|util_mono_(us|ms)|util_random|clock_gettime|gettimeofday|time|rand|random|getrandom|uv_now|uv_hrtime)[[:space:]]*\('
hits=$(grep -HnE "$clock" resolver/core/*.[ch] resolver/dnssec/*.[ch] | grep -v '^resolver/core/iter_priv\.h:' |
       grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)' || true)
if [ -n "$hits" ]; then
  echo "layering: the core reads a clock or random source itself (use iter_env.clock or take it as an argument):" >&2
  echo "$hits" | sed 's/^/  /' >&2
  status=1
fi
python3 scripts/include-cycles.py >/dev/null || status=1

[ $status -eq 0 ] && echo "layering: ok (lib < dnssec, cache < metrics < core < daemon; core and" \
  "dnssec own no I/O and no clock; no include cycle outside resolver/daemon)"
exit $status
