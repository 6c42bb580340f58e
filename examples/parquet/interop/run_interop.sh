#!/usr/bin/env bash
# The interop test: the C++ writer writes every schema with every codec plus expected.json,
# then verify.mjs reads the files with DuckDB and parquet-wasm, and verify.py with pyarrow and
# Polars, and both compare with expected.json; the test fails if any reader disagrees (both
# verifiers always run, so every reader's report is printed). Then the Python verifier must
# fail on two damaged copies: a file cut in half (which both readers must refuse) and a valid
# file of another schema under a listed name (which they read, but not as listed).
# Usage: run_interop.sh <parquet_interop_writer> <out-dir> <node-dir> <verify.mjs> <python> <verify.py>
#   <python>: the interpreter of build/venv (scripts/setup.sh), which has pyarrow and Polars
set -euo pipefail
writer=$1
out_dir=$2
node_dir=$3
verify_mjs=$4
python=$5
verify_py=$6

if [[ ! -d "$node_dir/node_modules/@duckdb/node-api" || ! -d "$node_dir/node_modules/parquet-wasm" ]]; then
  echo "parquet interop: readers are not installed in $node_dir (run the parquet_interop_npm_install test)" >&2
  exit 1
fi
if ! "$python" -c "import pyarrow, polars" 2>/dev/null; then
  echo "parquet interop: $python cannot import pyarrow and polars (scripts/setup.sh builds build/venv)" >&2
  exit 1
fi
rm -rf "$out_dir"
mkdir -p "$out_dir"
"$writer" "$out_dir"
status=0
# ES modules resolve packages next to the script, so the script runs from the install directory.
cp "$verify_mjs" "$node_dir/verify.mjs"
node "$node_dir/verify.mjs" "$out_dir" || status=1
"$python" "$verify_py" "$out_dir" || status=1

damaged=$out_dir/damaged
mkdir "$damaged"
cp "$out_dir/expected.json" "$damaged/"
truncated=trades_zstd.parquet
size=$(stat -c %s "$out_dir/$truncated")
head -c $((size / 2)) "$out_dir/$truncated" >"$damaged/$truncated"
swapped=book_ticker_snappy.parquet
cp "$out_dir/mixed_snappy.parquet" "$damaged/$swapped"
log=$out_dir/damaged.log
caught=yes
if "$python" "$verify_py" "$damaged" "$truncated" "$swapped" >"$log" 2>&1; then
  echo "parquet interop: verify.py passed the damaged files" >&2
  caught=no
fi
for reader in pyarrow polars; do
  for line in "failed: $truncated $reader raised " "failed: $swapped $reader column names: got "; do
    if ! grep -qF "$line" "$log"; then
      echo "parquet interop: verify.py did not report \"$line...\" on the damaged files" >&2
      caught=no
    fi
  done
done
if [[ $caught == yes ]]; then
  echo "parquet interop: verify.py rejects a truncated file and a file of another schema ($(tail -n 1 "$log"))"
else
  cat "$log" >&2
  status=1
fi
exit $status
