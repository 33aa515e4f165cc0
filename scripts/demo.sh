#!/usr/bin/env bash
# A one-minute tour of chaindns that needs no internet access.
#
#   scripts/demo.sh          run the tour, then stop everything it started
#   scripts/demo.sh --keep   leave the hierarchy and the resolver running
#                            after the tour, until Ctrl-C
#
# Installs what is missing (scripts/deps.sh test), builds the resolver as
# scripts/run.sh does, starts the loopback DNS hierarchy of
# tests/integration/demo.py (NSD and one slow test server on
# 127.53.250.1-7, port 10053) and chaindns against it on 127.0.0.1:5300 with
# metrics on 127.0.0.1:5399, then queries it with dig, traces the slow chain
# and shows the chain metrics. It stops exactly the processes it started, by
# PID, on success, on failure and on Ctrl-C; every wait has a time limit.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '4,6s/^# \{0,1\}//p' "$0"; }
keep=0
case "${1:-}" in
  "") ;;
  --keep) keep=1 ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac
[ $# -le 1 ] || { usage >&2; exit 2; }

PY=/usr/bin/python3
BIN=build/chaindns
DNS_ADDR=127.0.0.1
DNS_PORT=5300
METRICS=127.0.0.1:5399
AUTH_NET=127.53.250
AUTH_PORT=10053
DIG=(dig "@$DNS_ADDR" -p "$DNS_PORT" +time=3 +tries=1)

tmp="" hier_pid="" res_pid="" hints=""

say() { printf '%s\n' "$*"; }
section() { printf '\n==================== %s ====================\n' "$*"; }

# --- stopping what we started ------------------------------------------------

# stop_pid PID NAME SECONDS: SIGTERM our child PID, wait at most SECONDS for
# it to exit, then SIGKILL it. bash reaps its children as they exit, so
# `kill -0` fails as soon as it is gone.
stop_pid() {
  local pid=$1 name=$2 secs=$3 i
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "demo: $name (pid $pid) did not stop within ${secs}s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

# The servers demo.py started lead process groups of their own (NSD forks
# helpers into its group). demo.py stops them itself; this only catches what
# it could not (it was killed, or hung): processes in those groups whose
# command line names our temporary directory, so nothing else is touched.
sweep_servers() {
  local ready="$tmp/ready" kind pgid rest d pg cmd
  [ -n "$tmp" ] && [ -f "$ready" ] || return 0
  while read -r kind pgid rest; do
    [ "$kind" = server ] || continue
    for d in /proc/[0-9]*; do
      read -r rest 2>/dev/null <"$d/stat" || continue
      read -r _ _ pg _ <<<"${rest##*) }"
      [ "$pg" = "$pgid" ] || continue
      cmd=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
      case "$cmd" in
        *"$tmp"*)
          say "demo: server process ${d#/proc/} ($cmd) was left; killing it" >&2
          kill -KILL "${d#/proc/}" 2>/dev/null || true ;;
      esac
    done
  done <"$ready"
}

cleanup() {
  local rc=$?
  trap '' INT TERM HUP   # a second Ctrl-C must not cut the clean-up short
  if [ "$rc" -ne 0 ] && [ -n "$tmp" ] && [ "$rc" -lt 128 ]; then
    for f in chaindns.log hierarchy.log; do
      if [ -s "$tmp/$f" ]; then
        say "--- last lines of $f ---" >&2
        tail -n 15 "$tmp/$f" >&2
      fi
    done
  fi
  if [ "$rc" -ge 128 ]; then say "" && say "demo: interrupted; stopping what it started."; fi
  if [ -n "$res_pid" ]; then
    stop_pid "$res_pid" "chaindns" 5
    say "demo: stopped chaindns (pid $res_pid)"
  fi
  if [ -n "$hier_pid" ]; then
    stop_pid "$hier_pid" "the hierarchy (demo.py)" 20
    sweep_servers
    say "demo: stopped the DNS hierarchy (demo.py pid $hier_pid and its servers)"
  fi
  [ -n "$tmp" ] && rm -rf -- "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

fail() { say "demo: $*" >&2; exit 1; }

# wait_until SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.1 s.
wait_until() {
  local secs=$1 what=$2 i
  shift 2
  for ((i = 0; i < secs * 10; i++)); do
    "$@" && return 0
    sleep 0.1
  done
  fail "$what did not happen within ${secs}s"
}

# --- 0. set up ---------------------------------------------------------------

say "chaindns demo: installing what is missing and building (as scripts/run.sh does)..."
scripts/deps.sh test
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target chaindns >/dev/null

# Refuse to start on top of something else: the demo's fixed addresses must
# be free (another demo, or scripts/run.sh on 5300).
"$PY" - "$DNS_ADDR" "$DNS_PORT" "${METRICS%:*}" "${METRICS#*:}" "$AUTH_NET" "$AUTH_PORT" <<'EOF' || exit 1
import socket, sys
dns_addr, dns_port, m_addr, m_port, net, auth_port = sys.argv[1:]
checks = [(dns_addr, int(dns_port), socket.SOCK_DGRAM, "the resolver"),
          (dns_addr, int(dns_port), socket.SOCK_STREAM, "the resolver"),
          (m_addr, int(m_port), socket.SOCK_STREAM, "the metrics endpoint")]
checks += [("%s.%d" % (net, n), int(auth_port), socket.SOCK_DGRAM, "the demo hierarchy")
           for n in range(1, 8)]
busy = []
for addr, port, kind, what in checks:
    s = socket.socket(socket.AF_INET, kind)
    if kind == socket.SOCK_STREAM:  # ignore TIME_WAIT leftovers, not listeners
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((addr, port))
    except OSError as e:
        busy.append("%s:%d (%s, %s): %s" % (addr, port, what,
                    "udp" if kind == socket.SOCK_DGRAM else "tcp", e.strerror))
    finally:
        s.close()
if busy:
    sys.stderr.write("demo: these addresses are in use (another demo, or scripts/run.sh?);"
                     " stop that first:\n  " + "\n  ".join(busy) + "\n")
    sys.exit(1)
EOF

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chaindns-demo.XXXXXX")

say "chaindns demo: starting the DNS hierarchy on $AUTH_NET.1-7 port $AUTH_PORT..."
"$PY" tests/integration/demo.py --tmpdir "$tmp/hierarchy" --ready "$tmp/ready" \
  >"$tmp/hierarchy.log" 2>&1 &
hier_pid=$!
hier_ready() {
  [ -s "$tmp/ready" ] && return 0
  kill -0 "$hier_pid" 2>/dev/null || fail "the hierarchy (demo.py) exited before it was ready"
  return 1
}
wait_until 30 "the DNS hierarchy answering" hier_ready
hints=$(sed -n 's/^hints //p' "$tmp/ready")

say "chaindns demo: starting chaindns on $DNS_ADDR:$DNS_PORT (metrics on $METRICS)..."
RES_ARGS=(--listen "$DNS_ADDR:$DNS_PORT" --root-hints "$hints" --upstream-port "$AUTH_PORT"
          --no-ipv6 --metrics "$METRICS"
          --negative-trust-anchor .)  # the demo's root is unsigned
"$BIN" "${RES_ARGS[@]}" >"$tmp/chaindns.log" 2>&1 &
res_pid=$!
res_ready() {
  kill -0 "$res_pid" 2>/dev/null || fail "chaindns exited before answering"
  "${DIG[@]}" +short . NS >/dev/null 2>&1 &&
    curl -sf --max-time 1 "http://$METRICS/metrics" >/dev/null 2>&1
}
wait_until 15 "chaindns answering" res_ready

# --- helpers for the tour ----------------------------------------------------

# ask "what this shows" DIG-ARGS...: print the command and dig's header,
# EDE, records and query time (the full output is longer).
ask() {
  local what=$1 out
  shift
  say ""
  say "-- $what"
  say "\$ dig @$DNS_ADDR -p $DNS_PORT $*"
  out=$("${DIG[@]}" +noall +comments +answer +authority +stats "$@") ||
    fail "dig $* failed: $out"
  { grep -E 'status:|^; EDE|^[^;[:space:]]|Query time' <<<"$out" || true; } | sed 's/^/   /'
}

metrics() { curl -sf --max-time 5 "http://$METRICS/metrics"; }

# snapshot: "<upstream queries> <answer seconds summed> <answers from memory>"
snapshot() {
  local m
  m=$(metrics) || fail "could not read http://$METRICS/metrics"
  awk '/^chaindns_upstream_queries_total/ { u += $2 }
                 /^chaindns_answer_duration_seconds_sum/ { s += $2 }
                 /^chaindns_answer_duration_seconds_count\{source="memory"\}/ { m = $2 }
                 END { printf "%d %.6f %d", u, s, m }' <<<"$m"
}

# timed "what" DIG-ARGS...: ask, and set took_ms (query received to answer
# sent, as the resolver measured it), took_up (queries it sent to
# authoritative servers meanwhile) and took_from (memory cache or network).
timed() {
  local before after
  before=$(snapshot)
  ask "$@"
  after=$(snapshot)
  read -r took_ms took_up took_from < <(awk -v a="$before" -v b="$after" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    printf "%.3f %d %s\n", (y[2] - x[2]) * 1000, y[1] - x[1], (y[3] > x[3]) ? "cache" : "network" }')
}

# --- the tour ----------------------------------------------------------------

section "1. CNAME chains, resolved from the root"
say "Every answer below holds the whole chain, in order, then the final records."
timed "A CDN chain across two zones: the final address is that of the CDN edge" www.example.com
www=("$took_ms" "$took_up" "$took_from")
ask "A DKIM selector delegated to the mail provider (TXT at the end of the chain)" \
  selector1._domainkey.example.com TXT
ask "An MTA-STS host delegated to the mail provider" mta-sts.example.com
ask "A dangling CNAME: the CDN name it points to was deleted -> NXDOMAIN, with the chain" \
  promo.example.com
ask "A CNAME loop across two zones -> SERVFAIL, and the Extended DNS Error says why" \
  static.example.com

section "2. The same question again: answered from the cache"
sleep 1   # so that the TTLs visibly count down
timed "www.example.com again" www.example.com
say ""
say "   (times as the resolver measured them, query received to answer sent)"
printf '   first time: %8s ms, %2d queries to authoritative servers (from the %s)\n' "${www[@]}"
printf '   again:      %8s ms, %2d queries to authoritative servers (from the %s; the TTLs counted down)\n' \
  "$took_ms" "$took_up" "$took_from"
timed "shop.example.com: a chain through a slower CDN (slowcdn.net.), first time" shop.example.com
shop=("$took_ms" "$took_up" "$took_from")
timed "shop.example.com again" shop.example.com
say ""
printf '   first time: %8s ms, %2d queries to authoritative servers (from the %s)\n' "${shop[@]}"
printf '   again:      %8s ms, %2d queries to authoritative servers (from the %s)\n' \
  "$took_ms" "$took_up" "$took_from"
say "   Where did the ${shop[0]} ms go? See 3."

section "3. chaindns trace: the slow chain, hop by hop"
say "\$ build/chaindns trace shop.example.com --root-hints $hints --upstream-port $AUTH_PORT --no-ipv6 --negative-trust-anchor ."
say "(a fresh resolution from the root hints, without the cache)"
trace=$(timeout --foreground 20 "$BIN" trace shop.example.com --root-hints "$hints" \
  --upstream-port "$AUTH_PORT" --no-ipv6 --negative-trust-anchor . 2>&1) || fail "chaindns trace failed: $trace"
sed 's/^/   /' <<<"$trace"
say ""
# The upstream table: "#  depth  zone  server  question  TYPE  rtt  result...";
# the slowest query names the slow provider.
awk '/^upstream queries:/ { t = 1; next } /^$/ { if (t && n) exit; next }
     t && $1 ~ /^[0-9]+$/ && NF >= 7 {
       n++; rtt = $7 + 0
       if (rtt > max) { rest = max; max = rtt; zone = $3; server = $4 }
       else if (rtt > rest) rest = rtt }
     END { if (n) printf "   slowest upstream query: %s at %s, %.1f ms (every other one: %.1f ms or less)\n",
                         zone, server, max, rest }' <<<"$trace"

section "4. Chain metrics (Prometheus, http://$METRICS/metrics)"
m=$(metrics) || fail "could not read http://$METRICS/metrics"
say "\$ curl -s $METRICS/metrics | grep -E 'chain_length_(sum|count)|chain_zone_duration_seconds_(sum|count)|chain_(dangling|loops)_total'"
grep -E '^chaindns_chain_length_(sum|count)|^chaindns_chain_zone_duration_seconds_(sum|count)|^chaindns_chain_(dangling|loops)_total' \
  <<<"$m" | sed 's/^/   /'
say ""
say "   chain_length: CNAMEs per chain; chain_zone_duration: time spent per zone,"
say "   summed over every chain: slowcdn.net. stands out; dangling and loop counters"
say "   count the broken chains of section 1 (/chains names them)."

section "5. Where to look next"
if [ "$keep" = 1 ]; then
  say "Everything is still running (until Ctrl-C):"
else
  say "These work while the demo runs: start it with 'scripts/demo.sh --keep' to keep it up."
fi
say "  - the chain waterfalls, in a browser:  http://$METRICS/chains"
say "    (JSON: curl -s $METRICS/chains; a fresh trace: curl -s '$METRICS/trace?name=shop.example.com&nocache=1')"
say "  - more names:  dig @$DNS_ADDR -p $DNS_PORT NAME   with NAME one of www.example.com, shop.example.com,"
say "    mta-sts.example.com, promo.example.com, static.example.com, mail.example.com, example.com MX,"
say "    selector1._domainkey.example.com TXT, edge.cdn.net AAAA"
say "  - all metrics:  curl -s $METRICS/metrics"
say "  - a trace:      build/chaindns trace NAME --root-hints $hints --upstream-port $AUTH_PORT --no-ipv6 --negative-trust-anchor ."
say "  - how to read all this: README.md, 'Finding the slow hop' and 'Metrics and chain diagnostics'"

if [ "$keep" = 1 ]; then
  say ""
  say "chaindns demo: running (resolver pid $res_pid, hierarchy pid $hier_pid); press Ctrl-C to stop."
  while kill -0 "$res_pid" 2>/dev/null && kill -0 "$hier_pid" 2>/dev/null; do
    sleep 1
  done
  fail "a demo process exited on its own"
fi
say ""
say "chaindns demo: done; stopping what it started."
