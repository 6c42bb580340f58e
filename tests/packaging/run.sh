#!/usr/bin/env bash
# Proves the five ways a user can consume polarway: install + find_package, add_subdirectory,
# pkg-config, a Conan 2 package and CMake's FetchContent. Each builds tests/packaging/consumer,
# whose main.cpp is the README's first program, runs it and checks what it prints.
#   run.sh <polarway source dir> <scratch dir> <c++ compiler> <python with Conan 2>
set -euo pipefail
src=$1 work=$2 cxx=$3 python=$4
consumer=$src/tests/packaging/consumer
# What the README's first program prints.
expected=338350
if ! "$python" -c 'import conans' 2>/dev/null; then
  echo "$python cannot import Conan: scripts/setup.sh builds that Python environment" >&2
  exit 1
fi
rm -rf "$work"
mkdir -p "$work"

step() { printf '== %s\n' "$*"; }

# quietly <command...>: runs the command with its output kept back, and shows that output only
# when the command fails, so that a failing build says why.
quietly() {
  local log=$work/last-command.log
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "failed: $*" >&2
    return 1
  fi
}

# run_consumer <program>: runs a consumer and checks that it prints the README's answer.
run_consumer() {
  local printed
  if ! printed=$("$1"); then
    echo "$1 failed; it printed: $printed" >&2
    exit 1
  fi
  if [ "$printed" != "$expected" ]; then
    echo "$1 printed '$printed', not '$expected'" >&2
    exit 1
  fi
  printf 'consumer: %s\n' "$printed"
}

# build_and_run <build dir> <cmake arguments...>: configures and builds the consumer project with
# the given arguments, then runs it.
build_and_run() {
  local build=$1
  shift
  quietly cmake -S "$consumer" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" "$@"
  quietly cmake --build "$build"
  run_consumer "$build/consumer"
}

# only_the_library <polarway's build dir inside a consumer>: a consumer that builds polarway
# from source gets the library target and none of polarway's tests or examples.
only_the_library() {
  local dir
  for dir in tests examples; do
    if [ -e "$1/$dir" ]; then
      echo "the consumer built polarway's $dir ($1/$dir)" >&2
      exit 1
    fi
  done
}

step "the consumer's main.cpp is the README's first program"
readme_program() {
  awk '/^## A first program/ {section = 1} section && /^```/ {if (code) exit; code = 1; next} code' \
    "$src/README.md"
}
# main.cpp opens with a comment of its own; the program follows it.
if ! diff -u <(readme_program) <(awk 'program || !/^\/\//{program = 1; print}' "$consumer/main.cpp"); then
  echo "tests/packaging/consumer/main.cpp differs from README.md's first program" >&2
  exit 1
fi

step "install to a temporary prefix"
quietly cmake -S "$src" -B "$work/lib" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_INSTALL_PREFIX="$work/prefix" \
  -DPOLARWAY_BUILD_TESTS=OFF -DPOLARWAY_BUILD_EXAMPLES=OFF
quietly cmake --build "$work/lib"
quietly cmake --install "$work/lib"
test -f "$work/prefix/include/polarway/runtime.hpp"
test -f "$work/prefix/lib/cmake/polarway/polarwayConfig.cmake"
test -f "$work/prefix/lib/cmake/polarway/polarwayConfigVersion.cmake"
test -f "$work/prefix/share/pkgconfig/polarway.pc"

step "find_package consumer"
build_and_run "$work/fp" -DCMAKE_PREFIX_PATH="$work/prefix" -DCONSUMER_MODE=find_package

step "find_package refuses an incompatible version"
if cmake -S "$consumer" -B "$work/fp-bad" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
     -DCMAKE_PREFIX_PATH="$work/prefix" -DCONSUMER_MODE=find_package -DCONSUMER_WANTS_VERSION=99.0 \
     >/dev/null 2>&1; then
  echo "find_package(polarway 99.0) should have failed" >&2
  exit 1
fi

step "add_subdirectory consumer"
build_and_run "$work/sub" -DCONSUMER_MODE=subdirectory -DPOLARWAY_SOURCE_DIR="$src"
only_the_library "$work/sub/polarway"

step "pkg-config consumer"
flags=$(PKG_CONFIG_PATH="$work/prefix/share/pkgconfig" pkg-config --cflags --libs polarway)
# shellcheck disable=SC2086
quietly "$cxx" "$consumer/main.cpp" $flags -o "$work/pc-consumer"
run_consumer "$work/pc-consumer"

step "Conan 2 package, created and consumed offline"
# A Conan home of the test's own, without remotes: the package and everything it needs must come
# from the local cache and the system, as on a machine that cannot reach ConanCenter.
export CONAN_HOME=$work/conan-home
conan() { "$python" -m conans.conan "$@"; }
CXX=$cxx quietly conan profile detect
quietly conan remote remove '*'
# No CMakeUserPresets.json in the consumer's source directory: the source tree is only read.
printf '%s\n' 'core:non_interactive=True' 'tools.cmake.cmaketoolchain:user_presets=' \
  >>"$CONAN_HOME/global.conf"
quietly conan create "$src" -s compiler.cppstd=20
quietly conan install "$consumer" -s compiler.cppstd=20 --output-folder="$work/conan-deps"
build_and_run "$work/conan" -DCONSUMER_MODE=find_package -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$work/conan-deps/conan_toolchain.cmake"
# The consumer found the package config that CMakeDeps generated, not some other polarway. It
# links the system's liburing as -luring: CMakeDeps passes a system library of the package's
# cpp_info that way, and would pass a Conan requirement's library by its path in the cache.
if ! grep -qx "polarway_DIR:PATH=$work/conan-deps" "$work/conan/CMakeCache.txt"; then
  echo "the Conan consumer did not use the package config that CMakeDeps generated" >&2
  grep '^polarway_DIR' "$work/conan/CMakeCache.txt" >&2
  exit 1
fi
link=$(ninja -C "$work/conan" -t commands consumer)
if ! grep -q -- '-luring\b' <<<"$link"; then
  printf '%s\n' "$link" >&2
  echo "the Conan consumer does not link -luring: the package's cpp_info.system_libs lacks it" >&2
  exit 1
fi

step "FetchContent consumer, from a git clone of the source tree"
# The working tree as it is, uncommitted changes included, committed to a repository of its own
# (the .gitignore files keep build trees out); the consumer clones that through a file:// URL as
# it would a hosted repository. The source tree and its own repository are only read.
snapshot=$work/snapshot.git
quietly git init --bare "$snapshot"
quietly git --git-dir="$snapshot" --work-tree="$src" add -A
tree=$(git --git-dir="$snapshot" write-tree)
commit=$(git --git-dir="$snapshot" -c user.name=polarway-packaging-test -c user.email=packaging-test@localhost \
  commit-tree --no-gpg-sign -m "polarway's source tree under test" "$tree")
git --git-dir="$snapshot" update-ref HEAD "$commit"
build_and_run "$work/fc" -DCONSUMER_MODE=fetchcontent \
  -DPOLARWAY_GIT_REPOSITORY="file://$snapshot" -DPOLARWAY_GIT_TAG="$commit"
only_the_library "$work/fc/_deps/polarway-build"

echo "packaging: all consumers built and ran"
