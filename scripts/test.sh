#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, then configures, builds
# and runs the tests in every configuration CI checks:
#   default   g++ (plus the packaging consumers and the test that every public header
#             compiles alone)
#   clang-noexcept  clang++ 14 with -fno-exceptions -fno-rtti (clang lowers coroutines
#             differently without exceptions: see "Compiler bugs" in docs/design.md), plus the
#             libFuzzer targets, each run for a bounded time. It is CI's clang build: clang with
#             exceptions (the clang preset, for local use) compiles the same code that g++ checks
#             with exceptions, and CI has no time for a second full clang build.
#   asan      AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer on)
#   tsan      ThreadSanitizer, built by g++ with -fno-exceptions -fno-rtti: it is also the
#             g++ build without exceptions (the noexcept preset is that build alone, for local use)
#   epoll     the default build's tests again with POLARWAY_BACKEND=epoll, but for the header
#             and packaging checks, which only compile and never start a runtime
#   compare   the side-by-side benchmark harness at small scale (bench/compare/run.sh --quick):
#             builds polarway's, Tokio's, Asio's and the Python implementations and runs each
#             workload once, checking results, never timings
# The checking builds compile with line tables only (-g1), enough for a failure's backtrace, at
# -O2, or lower under the sanitizers: full debug info and -O2 instrumentation would double their
# build time. TSan builds at -O1; ASan+UBSan at -Og, which compiles a third faster than -O1 there
# (UBSan's checks are most of the difference) and keeps every check. (At -O1 under TSan, g++ 12
# warns that a moved-from std::optional<unique_ptr> "may be used uninitialized"; that build turns
# the warning off, the others keep it.) Each preset prints its build and test time.
# Usage: scripts/test.sh [preset...]   (default: all of them)
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(default clang-noexcept asan tsan epoll compare)

# ThreadSanitizer in g++ 12 cannot map its shadow memory when the kernel randomizes mmap with
# more than 28 bits (Linux 6.x defaults to 32 on x86-64). Lower it if we may, else run the
# TSan tests without address randomization.
tsan_runner=()
if [ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)" -gt 28 ]; then
  if ! sysctl -q -w vm.mmap_rnd_bits=28 2>/dev/null; then tsan_runner=(setarch "$(uname -m)" -R); fi
fi

passed=0 failed=0 failed_names=()
start=$(date +%s)
for preset in "${presets[@]}"; do
  if [ "$preset" = compare ]; then
    echo "=== compare"
    preset_start=$(date +%s)
    if bash bench/compare/run.sh --quick --no-install; then passed=$((passed + 1)); else failed=$((failed + 1)); failed_names+=(compare); fi
    echo "=== compare: $(( $(date +%s) - preset_start )) s"
    continue
  fi
  configure=$preset
  [ "$preset" = epoll ] && configure=default
  echo "=== $preset"
  preset_start=$(date +%s)
  if ! cmake --preset "$configure" >/dev/null || ! cmake --build --preset "$configure"; then
    echo "=== $preset: build FAILED"
    failed=$((failed + 1)); failed_names+=("$preset(build)")
    continue
  fi
  built=$(date +%s)
  log=$(mktemp)
  if [ "$preset" = tsan ]; then
    "${tsan_runner[@]}" ctest --preset "$preset" 2>&1 | tee "$log"
  else
    ctest --preset "$preset" 2>&1 | tee "$log"
  fi
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
  rm -f "$log"
  echo "=== $preset: build $((built - preset_start)) s, tests $(( $(date +%s) - built )) s"
  if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    f=${BASH_REMATCH[1]} total=${BASH_REMATCH[2]}
    passed=$((passed + total - f)); failed=$((failed + f))
    [ "$f" -eq 0 ] || failed_names+=("$preset")
  else
    echo "=== $preset: ctest gave no summary"
    failed=$((failed + 1)); failed_names+=("$preset(ctest)")
  fi
done
echo "=== suite finished in $(( $(date +%s) - start )) s over: ${presets[*]}"
[ ${#failed_names[@]} -eq 0 ] || echo "=== failing: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
