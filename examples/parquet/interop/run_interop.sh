#!/usr/bin/env bash
# The interop test: the C++ writer writes every schema with every codec plus expected.json,
# then verify.mjs reads the files with DuckDB and parquet-wasm and compares.
# Usage: run_interop.sh <parquet_interop_writer> <out-dir> <node-dir> <verify.mjs>
set -euo pipefail
writer=$1
out_dir=$2
node_dir=$3
verify=$4

if [[ ! -d "$node_dir/node_modules/@duckdb/node-api" || ! -d "$node_dir/node_modules/parquet-wasm" ]]; then
  echo "parquet interop: readers are not installed in $node_dir (run the parquet_interop_npm_install test)" >&2
  exit 1
fi
rm -rf "$out_dir"
mkdir -p "$out_dir"
"$writer" "$out_dir"
# ES modules resolve packages next to the script, so the script runs from the install directory.
cp "$verify" "$node_dir/verify.mjs"
node "$node_dir/verify.mjs" "$out_dir"
