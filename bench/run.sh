#!/usr/bin/env bash
# Install what is missing, build chaindns optimised (Release, no sanitizers),
# and run the cache-hit benchmark beside Unbound. Arguments go to bench.py
# (--seconds N, --rounds N, --clients N). Needs root: the local authorities
# listen on port 53, the only port Unbound asks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh bench
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j"$(nproc)" --target chaindns >/dev/null
exec /usr/bin/python3 bench/bench.py --binary build-release/chaindns "$@"
