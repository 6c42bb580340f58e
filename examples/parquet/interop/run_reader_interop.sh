#!/usr/bin/env bash
# The reader interop test: pyarrow (write_table, defaults) and Polars (write_parquet, defaults)
# write the trades table of write_foreign.py, DuckDB (COPY ... TO) the same table from
# write_foreign.mjs, all into a fresh directory; then parquet_read_foreign reads each file with
# read_footer and read_row_group and fails unless every value is the table's.
# Usage: run_reader_interop.sh <parquet_read_foreign> <out-dir> <node-dir> <write_foreign.mjs> <python> <write_foreign.py>
#   <python>: the interpreter of build/venv (scripts/setup.sh), which has pyarrow and Polars
set -euo pipefail
reader=$1 out_dir=$2 node_dir=$3 write_mjs=$4 python=$5 write_py=$6

if [[ ! -d "$node_dir/node_modules/@duckdb/node-api" ]]; then
  echo "parquet reader interop: DuckDB is not installed in $node_dir (run the parquet_interop_npm_install test)" >&2
  exit 1
fi
if ! "$python" -c "import pyarrow, polars" 2>/dev/null; then
  echo "parquet reader interop: $python cannot import pyarrow and polars (scripts/setup.sh builds build/venv)" >&2
  exit 1
fi
rm -rf "$out_dir"
mkdir -p "$out_dir"
"$python" "$write_py" "$out_dir"
# ES modules resolve packages next to the script, so the script runs from the install directory.
cp "$write_mjs" "$node_dir/write_foreign.mjs"
node "$node_dir/write_foreign.mjs" "$out_dir"
"$reader" "$out_dir/pyarrow.parquet" "$out_dir/polars.parquet" "$out_dir/duckdb.parquet"
