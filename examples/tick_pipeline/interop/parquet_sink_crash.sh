#!/usr/bin/env bash
# kill -9 in the middle of a sink run: every visible part file must be complete (DuckDB, pyarrow
# and Polars read every row of it), temporaries may remain; a second run must sweep those
# temporaries, must not touch the files the first run published, and must close cleanly. And
# the check can fail: a published file cut in half, as a writer killed without the sink's
# temp-and-rename would leave it, must be refused by pyarrow and by Polars.
# Usage: parquet_sink_crash.sh <tick_parquet_sink_tool> <root> <node-dir> <verify.mjs> <python> <verify.py>
#   <python>: the interpreter of build/venv (scripts/setup.sh), which has pyarrow and Polars
set -euo pipefail
tool=$1 root=$2 node_dir=$3 verify=$4 python=$5 verify_py=$6
if [[ ! -d "$node_dir/node_modules/@duckdb/node-api" ]]; then
  echo "parquet sink crash test: DuckDB is not installed in $node_dir" >&2
  exit 1
fi
if ! "$python" -c "import pyarrow, polars" 2>/dev/null; then
  echo "parquet sink crash test: $python cannot import pyarrow and polars (scripts/setup.sh builds build/venv)" >&2
  exit 1
fi
rm -rf "$root"
# Under its own name in the shared directory (see parquet_sink_readback.sh).
verifier="$node_dir/parquet_sink_verify-crash.mjs"
cp "$verify" "$verifier"
for round in 1 2 3; do
  log=$(mktemp)
  "$tool" loop "$root" >"$log" 2>&1 &
  child=$!
  # Wait until at least one file is published, then let it run a little longer and kill it.
  for _ in $(seq 1 200); do grep -q committed "$log" && break; sleep 0.05; done
  grep -q committed "$log" || { echo "round $round: the child never committed a file"; cat "$log"; kill -9 $child; exit 1; }
  sleep 0.$((RANDOM % 9 + 1))
  kill -9 $child
  wait $child 2>/dev/null || true
  echo "round $round: killed; $(grep stale "$log")"
  rm -f "$log"
  node "$verifier" any "$root"
  "$python" "$verify_py" any "$root"
done
# Snapshot what is published, then a clean run: stale temps swept, nothing published altered.
snapshot=$(cd "$root" && find . -name 'part-*.parquet' -printf '%p %s %T@\n' | sort)
temps_before=$(find "$root" -name '.part-*.parquet.tmp' | wc -l)
out=$("$tool" loop "$root" 20000)
echo "clean run: $out" | tr '\n' ' '; echo
removed=$(echo "$out" | sed -n 's/^stale_temps_removed //p')
[[ "$removed" == "$temps_before" ]] || { echo "swept $removed stale temps, expected $temps_before"; exit 1; }
left=$(find "$root" -name '.part-*.parquet.tmp' | wc -l)
[[ "$left" == 0 ]] || { echo "$left temporary files left after a clean close"; exit 1; }
after=$(cd "$root" && find . -name 'part-*.parquet' -printf '%p %s %T@\n' | sort)
missing=$(comm -23 <(echo "$snapshot") <(echo "$after"))
[[ -z "$missing" ]] || { echo "published files changed by the second run:"; echo "$missing"; exit 1; }
node "$verifier" any "$root"
"$python" "$verify_py" any "$root"

damaged=$root.damaged
rm -rf "$damaged"
published=$(cd "$root" && find . -name 'part-*.parquet' -print -quit)
published=${published#./}
mkdir -p "$damaged/$(dirname "$published")"
head -c $(( $(stat -c %s "$root/$published") / 2 )) "$root/$published" >"$damaged/$published"
if "$python" "$verify_py" any "$damaged" >"$damaged.log" 2>&1; then
  cat "$damaged.log"; echo "a part file cut in half passed parquet_sink_verify.py"; exit 1
fi
for reader in pyarrow polars; do
  grep -qF "failed: $damaged/$published $reader raised " "$damaged.log" ||
    { cat "$damaged.log"; echo "$reader did not refuse a part file cut in half"; exit 1; }
done
echo "parquet sink crash test: ok ($temps_before stale temps swept; a file cut in half is refused)"
