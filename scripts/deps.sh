#!/usr/bin/env bash
# Install what chaindns needs on Debian 12, only when something is missing.
# Usage: scripts/deps.sh build|test|bench
# Package services (nsd, unbound, redis) are kept from starting on install:
# the tests start exactly the servers they need, on loopback, and stop them.
set -euo pipefail

build_pkgs=(cmake make gcc pkg-config libuv1-dev libldns-dev libyaml-dev libcmocka-dev
            libhiredis-dev libssl-dev libmicrohttpd-dev)
test_pkgs=(nsd ldnsutils bind9-dnsutils knot-dnsutils python3 python3-dnspython
           redis-server python3-redis prometheus dnsperf systemd chromium python3-yaml
           unbound python3-cryptography)
bench_pkgs=(dnsperf unbound pdns-recursor knot-resolver valgrind util-linux)

want=("${build_pkgs[@]}")
case "${1:-build}" in
  build) ;;
  test) want+=("${test_pkgs[@]}") ;;
  bench) want+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing: ${missing[*]}" >&2
# Keep package maintainer scripts from starting system-wide daemons on :53.
policy_added=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  policy_added=1
fi
cleanup() { [ "$policy_added" = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d; true; }
trap cleanup EXIT
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
