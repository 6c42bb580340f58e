#!/usr/bin/env bash
# Installs what polarway's build, tests and examples need from Debian's packages, and nothing
# if it is all there already. Safe to run again and again; needs root (or sudo) only when
# something is missing.
set -euo pipefail

packages=(
  g++ clang libclang-rt-14-dev cmake ninja-build pkg-config git
  liburing-dev doctest-dev libfmt-dev libbenchmark-dev
  libsimdjson-dev libwslay-dev libsnappy-dev libzstd-dev
  python3 python3-websockets
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js and npm (for reading Parquet back with DuckDB and parquet-wasm): any install will
# do; some images ship a Node.js that bundles npm, and Debian's npm package conflicts with it.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
