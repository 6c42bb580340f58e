#include "polarway/time/sleep.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <vector>

#include "polarway/runtime.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int scale = 10;
#else
constexpr int scale = 1;
#endif
}  // namespace

TEST_CASE("sleep wakes after its deadline, never before") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const auto start = pw::steady_clock::now();
  rt.block_on([]() -> pw::task<void> { co_await pw::sleep(20ms); }());
  CHECK(pw::steady_clock::now() - start >= 20ms);
}

TEST_CASE("100,000 sleeps of random length all wake, none early") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const int n = 100'000 / scale;
  std::atomic<int> woke{0}, early{0};
  rt.block_on([](int n, std::atomic<int>& woke, std::atomic<int>& early) -> pw::task<void> {
    std::mt19937 rng(7);
    std::vector<pw::join_handle<void>> hs;
    hs.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      const auto d = std::chrono::microseconds(rng() % 60'000);
      hs.push_back(pw::spawn([](std::chrono::microseconds d, std::atomic<int>& woke,
                                std::atomic<int>& early) -> pw::task<void> {
        const auto deadline = pw::steady_clock::now() + d;
        co_await pw::sleep_until(deadline);
        if (pw::steady_clock::now() < deadline) early.fetch_add(1);
        woke.fetch_add(1);
      }(d, woke, early)));
    }
    for (auto& h : hs) CHECK((co_await h).is_ok());
  }(n, woke, early));
  CHECK(woke.load() == n);
  CHECK(early.load() == 0);
}

TEST_CASE("sleep with a deadline in the past does not suspend forever") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  const auto start = pw::steady_clock::now();
  rt.block_on([]() -> pw::task<void> {
    co_await pw::sleep(0ms);
    co_await pw::sleep_until(pw::steady_clock::now() - 1s);
    co_await pw::sleep(-5ms);
  }());
  CHECK(pw::steady_clock::now() - start < 1s);
}

TEST_CASE("aborting a sleeping task unlinks its timer") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  auto r = rt.block_on([]() -> pw::task<pw::result<void, pw::join_error>> {
    auto h = pw::spawn([]() -> pw::task<void> { co_await pw::sleep(1h); }());
    co_await pw::sleep(5ms);
    h.abort();
    co_return co_await h;
  }());
  REQUIRE(r.is_err());
  CHECK(r.error().cancelled());
}

TEST_CASE("shutdown with tasks asleep on timers destroys them") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  for (int i = 0; i < 1000; ++i)
    (void)rt.spawn([](int i) -> pw::task<void> { co_await pw::sleep(std::chrono::seconds(10 + i)); }(i));
  rt.shutdown();
  CHECK(rt.try_block_on([]() -> pw::task<int> { co_return 1; }()).is_err());
}
