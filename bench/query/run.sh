#!/usr/bin/env bash
# The batch-read benchmark (bench/query/run.py): polarway-query against DuckDB, Polars and a
# sequential pyarrow loop over part files written by polarway-demo.
#   bench/query/run.sh                      # 10, 50 and 100 files of 1,000,000 rows, 3 rounds;
#                                           # the report goes to docs/benchmarks.md (its section)
#   bench/query/run.sh --sizes 10,100 --rows-per-file 4000000 --label large
#                                           # about 1 GB and 10 GB of files: peak RSS against size
#   bench/query/run.sh --quick              # 2 and 4 small files, 1 round: every engine's answer
#                                           # checked, docs/ untouched
# Builds polarway-demo and polarway-query (Release, build/bench-query), installs what is missing
# (scripts/setup.sh: DuckDB under build/node, pyarrow and Polars in build/venv), then runs
# run.py with the other flags (--sizes, --rows-per-file, --rounds, --work).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="$repo/build/bench-query"
cmd="bench/query/run.sh${*:+ $*}"
args=(--sizes 10,50,100 --rows-per-file 1000000 --rounds 3 --docs "$repo/docs/benchmarks.md" --command "$cmd")
if [ "${1:-}" = --quick ]; then
  args=(--sizes 2,4 --rows-per-file 20000 --rounds 1)
  shift
fi
bash "$repo/scripts/setup.sh" >/dev/null
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPOLARWAY_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target polarway-demo polarway-query >/dev/null
echo "bench/query/run.sh $*: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, commit $(git -C "$repo" rev-parse --short HEAD)"
exec "$repo/build/venv/bin/python" "$here/run.py" --demo "$build/examples/tick_pipeline/polarway-demo" \
  --query "$build/examples/tick_pipeline/polarway-query" --node-dir "$repo/build/node" \
  --python "$repo/build/venv/bin/python" --work "$build/data" "${args[@]}" "$@"
