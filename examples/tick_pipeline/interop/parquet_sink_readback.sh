#!/usr/bin/env bash
# The sink's read-back test: the tool writes three roots (one per codec) and expected.json,
# then parquet_sink_verify.mjs reads every partition back with DuckDB and parquet_sink_verify.py
# with pyarrow and Polars. Both always run; the test fails if either finds a difference.
# Usage: parquet_sink_readback.sh <tick_parquet_sink_tool> <out-dir> <node-dir> <verify.mjs> <python> <verify.py>
#   <python>: the interpreter of build/venv (scripts/setup.sh), which has pyarrow and Polars
set -euo pipefail
tool=$1 out_dir=$2 node_dir=$3 verify_mjs=$4 python=$5 verify_py=$6
if [[ ! -d "$node_dir/node_modules/@duckdb/node-api" ]]; then
  echo "parquet sink read-back: DuckDB is not installed in $node_dir (the npm fixture failed)" >&2
  exit 1
fi
if ! "$python" -c "import pyarrow, polars" 2>/dev/null; then
  echo "parquet sink read-back: $python cannot import pyarrow and polars (scripts/setup.sh builds build/venv)" >&2
  exit 1
fi
rm -rf "$out_dir"
"$tool" readback "$out_dir"
status=0
# ES modules resolve packages next to the script, so it runs from the install directory. Each
# test that shares the directory copies it under its own name: cp truncates before it writes,
# and node runs an empty module as a success.
cp "$verify_mjs" "$node_dir/parquet_sink_verify-readback.mjs"
node "$node_dir/parquet_sink_verify-readback.mjs" expected "$out_dir" || status=1
"$python" "$verify_py" expected "$out_dir" || status=1
exit $status
