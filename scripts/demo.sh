#!/usr/bin/env bash
# The main job, from a fresh machine: installs what is missing, builds the tick pipeline in
# release mode, and runs the demo: the feed simulator serves 5 million Binance-format trades
# over 20 symbols on 4 WebSocket connections, flat out; ingest decodes them and pushes them
# through a bounded channel to the sink, which writes them as Parquet under out/ (replacing an
# earlier run's files there); a summary ends the run (ticks in and out, ticks/s, latency
# percentiles, files and bytes written, peak RSS). Then DuckDB, pyarrow and Polars each read
# every part file back and check the row count and the exact sums of price and quantity against
# what the feed sent (DuckDB's read-back is skipped, saying so, if Node.js or DuckDB is missing;
# pyarrow's and Polars' if build/venv/bin/python is). Extra arguments go to polarway-demo (try
# --help; --out DIR writes elsewhere, --sink count only counts). Exit status: the demo's, else 1
# if a read-back found a difference.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DPOLARWAY_BUILD_TESTS=OFF >/dev/null
cmake --build build/demo --target polarway-demo

# stdout (the JSON summary) is kept for the read-back. tee ignores SIGINT, so that a Ctrl-C,
# which the demo answers by draining and summarising, cannot take the summary's reader away.
summary=build/demo/last-summary.json
set +e
./build/demo/examples/tick_pipeline/polarway-demo "$@" | (trap '' INT; tee "$summary")
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || exit "$status"
grep -q '"parquet":{' "$summary" || exit 0   # --help, --sink count: nothing to read back

readback=0
node_dir=build/node
if ! command -v node >/dev/null; then
  echo "read-back skipped: Node.js is not installed (scripts/setup.sh installs it)" >&2
elif [ ! -d "$node_dir/node_modules/@duckdb/node-api" ]; then
  echo "read-back skipped: DuckDB (@duckdb/node-api) is not installed in $node_dir (scripts/setup.sh installs it from the npm registry)" >&2
else
  # ES modules resolve packages next to the script, so it runs from the install directory.
  cp examples/tick_pipeline/interop/parquet_sink_verify.mjs "$node_dir/"
  node "$node_dir/parquet_sink_verify.mjs" summary "$summary" || readback=1
fi
python=build/venv/bin/python
if [ ! -x "$python" ]; then
  echo "read-back skipped: $python is missing, so pyarrow and Polars did not read the files (scripts/setup.sh builds it)" >&2
else
  "$python" examples/tick_pipeline/interop/parquet_sink_verify.py summary "$summary" || readback=1
fi
exit "$readback"
