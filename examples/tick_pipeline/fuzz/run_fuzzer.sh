#!/bin/sh
# Runs a libFuzzer binary for a bounded time over the committed seed corpus. New inputs go to a
# scratch directory, so the committed corpus changes only when someone copies findings back.
# usage: run_fuzzer.sh FUZZER SEED_CORPUS WORK_DIR SECONDS
set -eu
fuzzer=$1 seeds=$2 work=$3 seconds=$4
mkdir -p "$work/corpus" "$work/artifacts"
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds"
