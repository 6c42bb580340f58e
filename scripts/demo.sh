#!/usr/bin/env bash
# The main job, from a fresh machine: installs what is missing, builds the tick pipeline in
# release mode, and runs the demo: the feed simulator serves 5 million Binance-format trades
# over 20 symbols on 4 WebSocket connections, flat out; ingest decodes them and pushes them
# through a bounded channel to the sink; a summary ends the run (ticks in and out, ticks/s,
# latency percentiles, peak RSS). Extra arguments go to polarway-demo (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DPOLARWAY_BUILD_TESTS=OFF >/dev/null
cmake --build build/demo --target polarway-demo
exec ./build/demo/examples/tick_pipeline/polarway-demo "$@"
