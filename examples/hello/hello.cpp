// A first polarway program: a runtime, a fan-out of tasks, a join handle, errors as values.
//   polarway-hello [leaves]     (default 1000000: the skynet tree, 1,111,111 tasks)
#include <polarway/runtime.hpp>

#include <chrono>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <vector>

namespace pw = polarway;

// The skynet tree: a task for `size` leaves spawns ten children and sums what they return.
pw::task<long> skynet(long num, long size) {
  if (size == 1) co_return num;
  std::vector<pw::task<long>> children;
  children.reserve(10);
  for (long i = 0; i < 10; ++i) children.push_back(skynet(num + i * (size / 10), size / 10));
  long sum = 0;
  for (long v : co_await pw::join_all(std::move(children))) sum += v;
  co_return sum;
}

// Command-line input is outside input: a bad value is an error value with a reason.
pw::result<long> parse_leaves(const char* text) {
  long n = 0;
  const char* end = text + std::strlen(text);
  const auto [ptr, ec] = std::from_chars(text, end, n);
  if (ec != std::errc() || ptr != end) return pw::err(pw::error(pw::errc::invalid_input, "leaves"));
  for (long p = n; p > 1; p /= 10)
    if (p % 10 != 0) return pw::err(pw::error(std::errc::invalid_argument, "leaves: not a power of ten"));
  if (n < 1 || n > 100'000'000) return pw::err(pw::error(std::errc::result_out_of_range, "leaves"));
  return n;
}

int main(int argc, char** argv) {
  const pw::result<long> leaves = parse_leaves(argc > 1 ? argv[1] : "1000000");
  if (!leaves) {
    std::fprintf(stderr, "polarway-hello: %s (expected a power of ten from 1 to 100000000)\n",
                 leaves.error().message().c_str());
    return 2;
  }
  pw::runtime rt;
  const auto start = std::chrono::steady_clock::now();
  const long sum = rt.block_on([](long n) -> pw::task<long> {
    auto handle = pw::spawn(skynet(0, n));  // spawn, then await the handle
    auto joined = co_await handle;
    co_return joined.is_ok() ? *joined : -1;
  }(*leaves));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const long expected = *leaves * (*leaves - 1) / 2;
  long tasks = 0;
  for (long p = *leaves; p >= 1; p /= 10) tasks += p;
  std::printf("skynet(%ld leaves) = %ld (%s), %ld tasks on %zu workers in %.3f s: %.1f ns per task\n", *leaves, sum,
              sum == expected ? "correct" : "WRONG", tasks, rt.worker_count(), seconds, seconds * 1e9 / tasks);
  return sum == expected ? 0 : 1;
}
