#!/usr/bin/env bash
# Installs the interop test's readers (DuckDB, parquet-wasm, apache-arrow; exact versions in
# package.json) into <node-dir> with npm. Idempotent: skips the install when <node-dir> already
# holds an install of this very package.json. Fails, never skips, when node or npm is missing
# or the registry cannot be reached: an interop test that did not run must not look green.
# Usage: npm_install.sh <package.json> <node-dir>
set -euo pipefail
package_json=$1
node_dir=$2

for tool in node npm; do
  if ! command -v "$tool" >/dev/null; then
    echo "parquet interop: '$tool' is not installed (Node 18+ and npm are needed)" >&2
    exit 1
  fi
done

# Loads each reader (the DuckDB package carries a native binding for this platform).
readers_load() {
  (cd "$node_dir" && node --input-type=module -e "
    await import('@duckdb/node-api'); await import('parquet-wasm'); await import('apache-arrow');")
}

mkdir -p "$node_dir"
stamp="$node_dir/.installed-from"
if [[ -f "$stamp" ]] && cmp -s "$package_json" "$stamp" && readers_load 2>/dev/null; then
  echo "parquet interop: npm packages already installed in $node_dir"
  exit 0
fi

cp "$package_json" "$node_dir/package.json"
rm -f "$stamp"
echo "parquet interop: installing $(node -p "Object.entries(require('$node_dir/package.json').dependencies).map(([k, v]) => k + '@' + v).join(' ')")"
if ! (cd "$node_dir" && npm install --no-audit --no-fund --no-package-lock --loglevel=error); then
  echo "parquet interop: npm install failed (is the npm registry reachable?)" >&2
  exit 1
fi
if ! readers_load; then
  echo "parquet interop: the installed readers do not load" >&2
  exit 1
fi
echo "parquet interop: readers installed in $node_dir"
cp "$package_json" "$stamp"
