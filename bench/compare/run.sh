#!/usr/bin/env bash
# One command for the side-by-side benchmark table (see bench/compare/README.md):
#   bench/compare/run.sh                      # full table -> docs/benchmarks.{md,csv,svg}
#   bench/compare/run.sh --quick              # CI: each workload once, small scale
#   bench/compare/run.sh --runs 7 --only ping_pong_100k,fib_30 --runtimes polarway,tokio
# Installs the missing Debian packages (idempotent), builds every implementation, runs, reports.
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

# Debian packages the harness needs. cargo only when no cargo is on PATH (a rustup toolchain is
# fine: the Tokio build is offline against Debian's crate sources either way).
pkgs=(python3 cmake g++ make libasio-dev librust-tokio-dev python3-uvloop python3-matplotlib)
command -v cargo >/dev/null 2>&1 || pkgs+=(cargo)

if [[ $install == 1 ]]; then
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if ((${#missing[@]})); then
    sudo=()
    if [[ $(id -u) != 0 ]]; then
      if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
        echo "run.sh: missing Debian packages (${missing[*]}) and not root; install them or pass --no-install" >&2
        exit 1
      fi
    fi
    echo "== installing: ${missing[*]}" >&2
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
fi

# Record the command as typed, for the report.
cmd="bench/compare/run.sh${args[*]:+ ${args[*]}}"
cd "$repo"
exec /usr/bin/python3 "$here/driver.py" --command "$cmd" "${args[@]}"
