#!/usr/bin/env bash
# Installs what polarway's build, tests and examples need from Debian's packages, and nothing
# if it is all there already; then DuckDB for Node.js under build/node (npm), which the demo's
# read-back of its Parquet files uses. Safe to run again and again; needs root (or sudo) only
# when a package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

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
else
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Parquet readers (DuckDB, with parquet-wasm and apache-arrow: the parquet example's
# package.json, exact versions) in build/node, for scripts/demo.sh's read-back. Idempotent (a
# stamp skips a repeated install). Not fatal: without the npm registry, the demo says its
# read-back was skipped; the tests install their own copy and do fail without it.
if ! bash examples/parquet/interop/npm_install.sh examples/parquet/interop/package.json "$PWD/build/node"; then
  echo "setup: DuckDB for Node.js is not installed (see above): the demo will skip its read-back" >&2
fi
