#!/usr/bin/env bash
# Installs what polarway's build, tests, examples and benchmarks need, and nothing that is
# there already: Debian's packages; a Python environment in build/venv with the PyPI packages of
# scripts/python-requirements.txt (Conan, the pyarrow and Polars readers, the Python peers);
# the Tokio peer's crates from the Rust crate registry (cargo fetch, so that its build then
# runs offline); DuckDB for Node.js under build/node (npm), which the demo's read-back uses.
# Safe to run again and again; needs root (or sudo) only when a Debian package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ clang libclang-rt-14-dev cmake ninja-build pkg-config git
  liburing-dev doctest-dev libfmt-dev libbenchmark-dev libssl-dev openssl
  libsimdjson-dev libwslay-dev libsnappy-dev libzstd-dev libcurl4-openssl-dev libflatbuffers-dev
  python3 python3-venv python3-websockets
  libasio-dev librust-tokio-dev python3-matplotlib prometheus nats-server libnats-dev
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

# cargo for the Tokio peer: the machine's own toolchain (rustup) when there is one.
command -v cargo >/dev/null || missing+=(cargo)

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
# stamp skips a repeated install). Not fatal: without the npm registry, the demo says its DuckDB
# read-back was skipped; the tests install their own copy and do fail without it.
if ! bash examples/parquet/interop/npm_install.sh examples/parquet/interop/package.json "$PWD/build/node"; then
  echo "setup: DuckDB for Node.js is not installed (see above): the demo will skip its DuckDB read-back" >&2
fi

# The Python environment: Debian's interpreter, PyPI's packages at the versions pinned in
# scripts/python-requirements.txt. A stamp (a copy of that file) skips a repeated install; a
# changed file rebuilds the environment from scratch, so no stale package survives. Fatal when
# it cannot be built: the tests and benchmarks that use it would otherwise fail later and less
# clearly.
venv=build/venv
requirements=scripts/python-requirements.txt
if [ -x "$venv/bin/python" ] && cmp -s "$requirements" "$venv/.installed-from" &&
   "$venv/bin/python" -c "import conan, pyarrow, polars, uvloop, websockets, orjson, pytest" 2>/dev/null; then
  echo "setup: Python environment in $venv is up to date"
else
  echo "setup: building the Python environment in $venv (PyPI: $(grep -E '^[a-z]' "$requirements" | tr '\n' ' '))"
  rm -rf "$venv"
  if ! /usr/bin/python3 -m venv "$venv" ||
     ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"; then
    echo "setup: the Python environment could not be built (is PyPI reachable?)" >&2
    rm -rf "$venv"
    exit 1
  fi
  cp "$requirements" "$venv/.installed-from"
fi

# The Tokio peer's crates, at the versions its Cargo.lock pins, into cargo's own cache, so that
# the benchmark harness builds it with --offline --locked. Offline first: nothing is downloaded
# when the cache already holds them.
tokio_manifest=bench/compare/tokio/Cargo.toml
if cargo fetch --quiet --locked --offline --manifest-path "$tokio_manifest" 2>/dev/null; then
  echo "setup: the Tokio peer's crates are in cargo's cache"
elif ! cargo fetch --quiet --locked --manifest-path "$tokio_manifest"; then
  echo "setup: the Tokio peer's crates could not be fetched (is the Rust crate registry reachable?)" >&2
  exit 1
fi
