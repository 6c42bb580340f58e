#!/usr/bin/env bash
# The main job, from a fresh machine: installs what is missing, builds the examples in release
# mode and runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build/demo -G Ninja -DCMAKE_BUILD_TYPE=Release -DPOLARWAY_BUILD_TESTS=OFF >/dev/null
cmake --build build/demo --target polarway-hello
./build/demo/examples/hello/polarway-hello "$@"
