#!/usr/bin/env bash
# One command for the side-by-side benchmark table (see bench/compare/README.md):
#   bench/compare/run.sh                      # full table -> docs/benchmarks.{md,csv,svg}
#   bench/compare/run.sh --quick              # CI: each workload once, small scale
#   bench/compare/run.sh --runs 7 --only ping_pong_100k,fib_30 --runtimes polarway,tokio
# Installs what is missing (scripts/setup.sh), builds every implementation, runs, reports.
# Every flag except --no-install is passed to driver.py (run.sh --help lists them).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

install=1
args=()
for a in "$@"; do
  case "$a" in
    --no-install) install=0 ;;
    *) args+=("$a") ;;
  esac
done

# What the harness needs (Asio and matplotlib from Debian, Tokio's crates, the Python peers'
# environment) comes from scripts/setup.sh, which installs only what is missing.
if [[ $install == 1 ]]; then
  bash "$repo/scripts/setup.sh" >&2
fi

# Record the command as typed, for the report.
cmd="bench/compare/run.sh${args[*]:+ ${args[*]}}"
cd "$repo"
exec /usr/bin/python3 "$here/driver.py" --command "$cmd" "${args[@]}"
