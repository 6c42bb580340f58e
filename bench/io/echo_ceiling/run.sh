#!/usr/bin/env bash
# The loopback TCP echo ceiling (see README.md): builds the standalone epoll / io_uring echo
# programs into build/echo-ceiling/, runs every variant --runs times interleaved round-robin,
# prints each run's JSON line, then the median msg/s per variant.
#   bench/io/echo_ceiling/run.sh [--runs N] [--tokio BIN] [--polarway BIN]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
build_dir="$repo/build/echo-ceiling"
workload="tcp_echo_50c_x2000_64B"  # the peers' name for the same workload
runs=5
tokio_bin=""
polarway_bin=""

usage() {
  cat <<EOF
usage: bench/io/echo_ceiling/run.sh [options]
  --runs N          rounds; every variant runs once per round, in turn (default 5)
  --tokio BIN       also run 'BIN $workload 1' each round (bench/compare's tokio_compare),
                    reported as tokio_current_thread
  --polarway BIN    also run 'BIN $workload 1' each round (bench/compare's pw_compare),
                    reported as polarway_1_worker
  -h, --help        this text
Builds into build/echo-ceiling/ under the repository; exits non-zero if any run fails.
EOF
}

die() { echo "echo_ceiling: $*" >&2; exit 2; }

while (($#)); do
  case "$1" in
    --runs) runs="${2:?--runs needs a number}"; shift ;;
    --tokio) tokio_bin="${2:?--tokio needs a binary}"; shift ;;
    --polarway) polarway_bin="${2:?--polarway needs a binary}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
  shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs wants a positive integer, got '$runs'"
for bin in "$tokio_bin" "$polarway_bin"; do
  [[ -z $bin || -x $bin ]] || die "not an executable: $bin"
done

# Build (a few seconds): plain g++, no CMake, nothing of polarway involved.
mkdir -p "$build_dir"
for prog in epoll_echo uring_basic uring_multishot; do
  libs=()
  [[ $prog == uring_* ]] && libs=(-luring)
  g++ -O2 -std=c++20 -Wall -Wextra -o "$build_dir/$prog" "$here/$prog.cpp" "${libs[@]}" \
    || die "build of $prog failed (the io_uring variants need liburing-dev)"
done

# name|command|kind: "self" prints {"variant", "msg_per_s", "ok"}; "peer" prints {"value", "ok"}.
variants=(
  "epoll_level_triggered|$build_dir/epoll_echo level|self"
  "epoll_edge_until_eagain|$build_dir/epoll_echo edge|self"
  "uring_recv_send_poll_first|$build_dir/uring_basic|self"
  "uring_multishot_sqe_send|$build_dir/uring_multishot sqe-send|self"
  "uring_multishot_direct_send|$build_dir/uring_multishot direct-send|self"
)
[[ -n $tokio_bin ]] && variants+=("tokio_current_thread|$tokio_bin $workload 1|peer")
[[ -n $polarway_bin ]] && variants+=("polarway_1_worker|$polarway_bin $workload 1|peer")

load1="$(cut -d' ' -f1 /proc/loadavg)"
if awk -v l="$load1" 'BEGIN { exit !(l > 1.0) }'; then
  echo "echo_ceiling: warning: 1-minute load is $load1; expect low, noisy figures" >&2
fi

# One line per run, "name<TAB>ok|fail<TAB>msg/s", read back for the table.
results="$build_dir/results.tsv"
: >"$results"
failed=0
for ((round = 1; round <= runs; round++)); do
  for v in "${variants[@]}"; do
    IFS='|' read -r name cmd kind <<<"$v"
    rc=0
    # A lost echo would hang a program rather than fail it; 60 s is ~100x a normal run.
    # $cmd is unquoted on purpose: it is "binary args..." (paths with spaces are not supported).
    out="$(timeout 60 $cmd)" || rc=$?
    line="$(grep -m1 '^{' <<<"$out" || true)"
    note=""
    [[ $rc == 0 ]] || note=" (exit status $rc)"
    echo "round $round $name: ${line:-<no JSON line>}$note"
    read -r status value < <(python3 -c '
import json, sys
kind, line = sys.argv[1], sys.argv[2]
try:
    r = json.loads(line)
    value = r["msg_per_s"] if kind == "self" else r["value"]
    print("ok" if r.get("ok") is True else "fail", round(float(value)))
except Exception:
    print("fail 0")
' "$kind" "$line")
    [[ $rc == 0 ]] || status=fail
    [[ $status == ok ]] || failed=1
    printf '%s\t%s\t%s\n' "$name" "$status" "$value" >>"$results"
  done
done

echo
python3 - "$results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, status, value = line.rstrip("\n").split("\t")
    rows.setdefault(name, []).append((status, int(value)))
print("| variant | median msg/s | runs ok | every run (msg/s) |")
print("|---|---:|---:|---|")
for name, rs in rows.items():
    good = [v for s, v in rs if s == "ok"]
    median = f"{statistics.median(good):,.0f}" if good else "-"
    print(f"| {name} | {median} | {len(good)}/{len(rs)} | {', '.join(str(v) for _, v in rs)} |")
PY

((failed == 0)) || die "some runs failed (see above)"
