#!/usr/bin/env bash
# The I/O benchmarks that the side-by-side table does not cover (see
# bench/io/README.md):
#   bench/io/run.sh            # full sizes -> stdout and docs/benchmarks.md (its "io" section)
#   bench/io/run.sh --quick    # smoke test, small sizes -> stdout and build/bench-io/quick.md
# 1. file_write_bench: 1 GiB in 1 MiB writes through pw::fs against a plain write(2) loop, on
#    io_uring and on the epoll backend (blocking pool);
# 2. wake_bench: waking a worker asleep in its ring, eventfd against IORING_OP_MSG_RING;
# 3. echo_ceiling/run.sh: the loopback TCP echo written by hand on epoll and io_uring, with
#    Tokio and polarway run in the same rounds when their harness binaries are built;
# 4. udp_recv_many: udp_socket::recv_many against a hand-written recvmmsg loop and multishot
#    recvmsg (datagrams queued, batches of 1, 32 and 256), and the designs of the wait for a
#    burst; Google Benchmark repeats each one once per round, in random order, into
#    build/bench-io/udp_recv_many.json.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cmd="bench/io/run.sh${*:+ $*}"
quick=0 build=1 docs="$repo/docs/benchmarks.md" runs=""
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --no-build) build=0 ;;
    --no-docs) docs="" ;;
    --docs) docs="$(realpath -m "${2:?--docs needs a file}")"; shift ;;
    --runs) runs="${2:?--runs needs a number}"; shift ;;
    -h|--help)
      sed -n '2,/^[^#]/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'
      echo "options: --quick, --runs N (rounds of each measurement), --no-build, --no-docs, --docs FILE"
      exit 0 ;;
    *) echo "bench/io/run.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -n "$runs" ] && ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "bench/io/run.sh: --runs needs a positive integer, got '$runs'" >&2
  exit 2
fi

if ((quick)); then
  mib=64 wakes=20000 runs=${runs:-1} udp_min_time=0.05 out="$repo/build/bench-io/quick.md"
  [ "$docs" = "$repo/docs/benchmarks.md" ] && docs=""
else
  mib=1024 wakes=100000 runs=${runs:-7} udp_min_time=0.5 out="$repo/build/bench-io/full.md"
fi
bin="$repo/build/bench/bench"
if ((build)); then
  (cd "$repo" && cmake --preset bench >/dev/null && nice -n 10 cmake --build --preset bench --target file_write_bench wake_bench udp_recv_many >/dev/null)
fi
mkdir -p "$repo/build/bench-io"
raw="$repo/build/bench-io/raw.jsonl"
: >"$raw"
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)

echo "== file writes: ${mib} MiB in 1 MiB writes, $runs round(s) per backend" >&2
scratch="$(mktemp -d "${TMPDIR:-/tmp}/polarway-io-bench.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
"$bin/file_write_bench" "$scratch" "$mib" "$runs" | tee -a "$raw"
POLARWAY_BACKEND=epoll "$bin/file_write_bench" "$scratch" "$mib" "$runs" | tee -a "$raw"

echo "== wake-ups: $wakes per round, $runs round(s)" >&2
"$bin/wake_bench" "$wakes" "$runs" | tee -a "$raw"

echo "== TCP echo floor" >&2
peers=()
tokio="$repo/build/bench-compare/tokio/release/tokio_compare"
pw="$repo/build/bench-compare/polarway/pw_compare"
[ -x "$tokio" ] && peers+=(--tokio "$tokio")
[ -x "$pw" ] && peers+=(--polarway "$pw")
echo_log="$repo/build/bench-io/echo.log"
bash "$here/echo_ceiling/run.sh" --runs "$runs" "${peers[@]}" | tee "$echo_log"

echo "== UDP batched receive: $runs round(s), ${udp_min_time} s of receiving per benchmark and round" >&2
udp_json="$repo/build/bench-io/udp_recv_many.json"
rm -f "$udp_json"
"$bin/udp_recv_many" --benchmark_repetitions="$runs" --benchmark_enable_random_interleaving=true \
  --benchmark_min_time="$udp_min_time" --benchmark_display_aggregates_only=true \
  --benchmark_out="$udp_json" --benchmark_out_format=json

/usr/bin/python3 "$here/report.py" --raw "$raw" --echo-log "$echo_log" --udp-json "$udp_json" --out "$out" ${docs:+--docs "$docs"} \
  --command "$cmd" --load-start "$load_start" --seconds $(($(date +%s) - start)) --file-mib "$mib"
