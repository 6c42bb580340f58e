// A user's first program: README.md's "A first program", word for word (tests/packaging/run.sh
// checks that the two agree, and what it prints).
#include <polarway/runtime.hpp>
#include <cstdio>
#include <vector>
namespace pw = polarway;

pw::task<long> sum_squares(long n) {
  std::vector<pw::task<long>> parts;
  for (long i = 1; i <= n; ++i) parts.push_back([](long x) -> pw::task<long> { co_return x * x; }(i));
  long total = 0;
  for (long v : co_await pw::join_all(std::move(parts))) total += v;  // run in parallel
  co_return total;
}

int main() {
  pw::runtime rt;                                   // one worker per core
  auto r = rt.block_on([]() -> pw::task<pw::result<long, pw::join_error>> {
    auto handle = pw::spawn(sum_squares(100));      // a task of its own
    co_return co_await handle;                      // a value, or cancelled / panicked
  }());
  if (!r) return std::printf("failed: %s\n", r.error().message().c_str()), 1;
  std::printf("%ld\n", *r);                         // 338350
}
