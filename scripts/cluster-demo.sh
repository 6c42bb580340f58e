#!/usr/bin/env bash
# The scale-out demo: installs what is missing, builds polarway-feed, polarway-ingest and
# polarway-sink in release mode, then runs examples/tick_pipeline/interop/cluster_demo.py: three
# nats-server nodes with JetStream on loopback (replicas 3), two ingests publishing a market each
# (trades, aggTrades), two sink partitions writing Parquet under build/cluster-demo/, and DuckDB
# checking that every id of both markets is there exactly once with the markets' sums
# (docs/scaling-out.md). Arguments go to the driver (--ticks N: each market's size, default
# 400000). Exit status: the driver's (0 when every check passed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DPOLARWAY_BUILD_TESTS=OFF >/dev/null
cmake --build build/demo --target polarway-feed polarway-ingest polarway-sink
bin=build/demo/examples/tick_pipeline
build/venv/bin/python examples/tick_pipeline/interop/cluster_demo.py "$bin/polarway-feed" "$bin/polarway-ingest" \
  "$bin/polarway-sink" build/cluster-demo build/node examples/tick_pipeline/interop/parquet_sink_verify.mjs "$@"
