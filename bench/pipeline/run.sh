#!/usr/bin/env bash
# The tick pipeline benchmark (see bench/pipeline/README.md):
#   bench/pipeline/run.sh            # 3 runs each -> stdout and docs/benchmarks.md (pipeline section)
#   bench/pipeline/run.sh --quick    # smoke test: 1 small run each -> stdout and build/bench-pipeline/quick/
# Builds polarway-feed, polarway-ingest, polarway-demo and polarway-replay (Release,
# build/bench-pipeline), then runs
# pipeline.py, which starts the feed on a kernel-chosen port, runs the readers, checks every run
# and writes the Markdown section. Flags other than the ones below go to pipeline.py
# (run.sh --help lists both).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

# The command as typed, for the report.
cmd="bench/pipeline/run.sh${*:+ $*}"
build_dir="$repo/build/bench-pipeline"
install=1
build=1
args=()
while (($#)); do
  case "$1" in
    --build-dir) build_dir="$(realpath -m "${2:?--build-dir needs a directory}")"; shift ;;
    --build-dir=*) build_dir="$(realpath -m "${1#*=}")" ;;
    --no-build) build=0 ;;
    --no-install) install=0 ;;
    -h|--help)
      cat <<EOF
usage: bench/pipeline/run.sh [options]
  --quick              smoke test: one run of each, small counts; docs/ untouched
  --build-dir DIR      where to build polarway-feed / polarway-ingest (default build/bench-pipeline)
  --no-build           use the binaries already in the build directory
  --no-install         do not run scripts/setup.sh (which installs what is missing)
options of pipeline.py:
EOF
      /usr/bin/python3 "$here/pipeline.py" --help | sed -n '/^options:/,$p' | tail -n +2
      exit 0 ;;
    *) args+=("$1") ;;
  esac
  shift
done

die() { echo "bench/pipeline: $*" >&2; exit 1; }

# What the build and the Python peer need (Debian's packages, the Python environment in
# build/venv) comes from scripts/setup.sh, which installs only what is missing.
if [[ $install == 1 ]]; then
  bash "$repo/scripts/setup.sh" >&2
fi

feed="$build_dir/examples/tick_pipeline/polarway-feed"
ingest="$build_dir/examples/tick_pipeline/polarway-ingest"
demo="$build_dir/examples/tick_pipeline/polarway-demo"
replay="$build_dir/examples/tick_pipeline/polarway-replay"
if [[ $build == 1 ]]; then
  mkdir -p "$build_dir"
  log="$build_dir/build.log"
  jobs=$(( $(nproc) < 2 ? $(nproc) : 2 ))
  echo "== building polarway-feed, polarway-ingest, polarway-demo and polarway-replay (Release) in ${build_dir#"$repo"/}; log: ${log#"$repo"/}" >&2
  start=$(date +%s)
  if ! { nice -n 10 cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release \
           -DPOLARWAY_BUILD_EXAMPLES=ON -DPOLARWAY_BUILD_TESTS=OFF -DPOLARWAY_INSTALL=OFF &&
         nice -n 10 cmake --build "$build_dir" --target polarway-feed polarway-ingest polarway-demo polarway-replay -j "$jobs"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "build failed (full log: $log)"
  fi
  echo "== built in $(( $(date +%s) - start )) s" >&2
fi
[[ -x $feed && -x $ingest ]] || die "polarway-feed / polarway-ingest not found in $build_dir/examples/tick_pipeline (run without --no-build)"

# pipeline.py stops the feed and the readers on every way out; should it die without doing so,
# this trap kills what it listed in the pid file (only processes still running those binaries).
pidfile="$build_dir/pipeline.pids"
feed_real="$(realpath "$feed")" ingest_real="$(realpath "$ingest")" replay_real="$(realpath -m "$replay")" peer="$(realpath "$here/../compare/python/ingest_peer.py")"
brain="$(realpath "$here/brain_reader.py")"
: >"$pidfile"
child=""
# shellcheck disable=SC2317  # reached through the trap
cleanup() {
  [[ -n $child ]] && kill -TERM "$child" 2>/dev/null && wait "$child" 2>/dev/null
  if [[ -s $pidfile ]]; then
    while read -r pid; do
      exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
      cmdl="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
      if [[ $exe == "$feed_real" || $exe == "$ingest_real" || $exe == "$replay_real" || $cmdl == *"$peer"* || $cmdl == *"$brain"* ]]; then
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done <"$pidfile"
  fi
  rm -f "$pidfile"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

/usr/bin/python3 "$here/pipeline.py" --feed "$feed" --ingest "$ingest" --demo "$demo" --replay "$replay" --state-dir "$build_dir" \
  --pidfile "$pidfile" --command "$cmd" "${args[@]}" &
child=$!
set +e
wait "$child"
rc=$?
set -e
child=""
exit "$rc"
