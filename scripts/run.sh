#!/usr/bin/env bash
# Install what is missing, build, and run chaindns in the foreground.
# Extra arguments go to chaindns; the default listens on 127.0.0.1:5300 with
# the in-memory cache and the built-in root hints.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target chaindns >/dev/null
if [ $# -eq 0 ]; then set -- --listen 127.0.0.1:5300; fi
exec build/chaindns "$@"
