#!/usr/bin/env bash
# Peak RSS must not grow with the volume sunk: runs the tool's rss mode at two volumes (each a
# fresh process, so VmHWM is that run's peak) and fails if the larger peak exceeds the smaller
# by more than 10%.
# Usage: parquet_sink_rss.sh <tick_parquet_sink_tool> <scratch-dir> <small> <large> [rows_per_group]
set -euo pipefail
tool=$1 scratch=$2 small=$3 large=$4 rpg=${5:-65536}
a=$("$tool" rss "$scratch/small" "$small" "$rpg")
b=$("$tool" rss "$scratch/large" "$large" "$rpg")
echo "$a"; echo "$b"
ha=$(echo "$a" | sed 's/.*"vm_hwm_kb":\([0-9]*\).*/\1/')
hb=$(echo "$b" | sed 's/.*"vm_hwm_kb":\([0-9]*\).*/\1/')
echo "peak RSS: $small ticks ${ha} kB, $large ticks ${hb} kB ($(( (hb * 100) / ha ))%)"
(( hb * 100 <= ha * 110 )) || { echo "peak RSS grew more than 10% with the volume"; exit 1; }
