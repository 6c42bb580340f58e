#!/usr/bin/env bash
# Proves the three ways a user can consume polarway: install + find_package, add_subdirectory,
# and pkg-config. Each builds tests/packaging/consumer and runs it.
#   run.sh <polarway source dir> <scratch dir> <c++ compiler>
set -euo pipefail
src=$1 work=$2 cxx=$3
consumer=$src/tests/packaging/consumer
rm -rf "$work"
mkdir -p "$work"

step() { printf '== %s\n' "$*"; }

step "install to a temporary prefix"
cmake -S "$src" -B "$work/lib" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_INSTALL_PREFIX="$work/prefix" \
  -DPOLARWAY_BUILD_TESTS=OFF -DPOLARWAY_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$work/lib" >/dev/null
cmake --install "$work/lib" >/dev/null
test -f "$work/prefix/include/polarway/runtime.hpp"
test -f "$work/prefix/lib/cmake/polarway/polarwayConfig.cmake"
test -f "$work/prefix/lib/cmake/polarway/polarwayConfigVersion.cmake"
test -f "$work/prefix/share/pkgconfig/polarway.pc"

step "find_package consumer"
cmake -S "$consumer" -B "$work/fp" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCONSUMER_MODE=find_package >/dev/null
cmake --build "$work/fp" >/dev/null
"$work/fp/consumer"

step "find_package refuses an incompatible version"
if cmake -S "$consumer" -B "$work/fp-bad" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
     -DCMAKE_PREFIX_PATH="$work/prefix" -DCONSUMER_MODE=find_package -DCONSUMER_WANTS_VERSION=99.0 \
     >/dev/null 2>&1; then
  echo "find_package(polarway 99.0) should have failed" >&2
  exit 1
fi

step "add_subdirectory consumer"
cmake -S "$consumer" -B "$work/sub" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCONSUMER_MODE=subdirectory \
  -DPOLARWAY_SOURCE_DIR="$src" >/dev/null
cmake --build "$work/sub" >/dev/null
"$work/sub/consumer"
# A consumer that adds polarway as a subdirectory gets the library and none of its tests.
if [ -e "$work/sub/polarway/tests" ]; then
  echo "add_subdirectory built polarway's tests" >&2
  exit 1
fi

step "pkg-config consumer"
flags=$(PKG_CONFIG_PATH="$work/prefix/share/pkgconfig" pkg-config --cflags --libs polarway)
# shellcheck disable=SC2086
"$cxx" "$consumer/main.cpp" $flags -o "$work/pc-consumer"
"$work/pc-consumer"
echo "packaging: all consumers built and ran"
