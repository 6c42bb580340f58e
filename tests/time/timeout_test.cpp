#include "polarway/time/timeout.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>

#include "polarway/runtime.hpp"
#include "support/test_awaitables.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {
struct alive_counter {
  static inline std::atomic<int> alive{0};
  alive_counter() { ++alive; }
  alive_counter(const alive_counter&) = delete;
  ~alive_counter() { --alive; }
};
pw::task<int> slow(std::chrono::milliseconds d, int v) {
  co_await pw::sleep(d);
  co_return v;
}
}  // namespace

TEST_CASE("timeout gives the value when the operation wins, timed_out when the clock wins") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  auto [fast, late] = rt.block_on([]() -> pw::task<std::pair<pw::result<int>, pw::result<int>>> {
    auto a = co_await pw::timeout(200ms, slow(5ms, 1));
    auto b = co_await pw::timeout(5ms, slow(200ms, 2));
    co_return std::pair{a, b};
  }());
  CHECK(fast == pw::result<int>(1));
  REQUIRE(late.is_err());
  CHECK(late.error() == pw::errc::timed_out);
}

TEST_CASE("timeout around an awaitable that never completes destroys it, every time") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  alive_counter::alive = 0;
  const int timed_out = rt.block_on([]() -> pw::task<int> {
    int n = 0;
    for (int i = 0; i < 200; ++i) {
      auto r = co_await pw::timeout(0ms, []() -> pw::task<void> {
        alive_counter c;
        co_await pw_test::suspend_forever{};
      }());
      n += r.is_err() && r.error() == pw::errc::timed_out;
    }
    co_return n;
  }());
  CHECK(timed_out == 200);
  CHECK(alive_counter::alive.load() == 0);
}

TEST_CASE("timeout works on a plain awaitable, and nested timeouts order correctly") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto r = rt.block_on([]() -> pw::task<pw::result<pw::result<void>>> {
    // The inner deadline is later than the outer one: the outer fires first.
    co_return co_await pw::timeout(10ms, pw::timeout(1s, pw::sleep(2s)));
  }());
  REQUIRE(r.is_err());
  CHECK(r.error() == pw::errc::timed_out);
  auto inner = rt.block_on([]() -> pw::task<pw::result<pw::result<void>>> {
    co_return co_await pw::timeout(1s, pw::timeout(10ms, pw::sleep(2s)));
  }());
  REQUIRE(inner.is_ok());
  CHECK(inner->error() == pw::errc::timed_out);
}

TEST_CASE("aborting a task waiting in timeout cancels the child too") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  alive_counter::alive = 0;
  auto r = rt.block_on([]() -> pw::task<pw::result<void, pw::join_error>> {
    auto h = pw::spawn([]() -> pw::task<void> {
      auto r = co_await pw::timeout(1h, []() -> pw::task<void> {
        alive_counter c;
        co_await pw::sleep(1h);
      }());
      (void)r;
    }());
    co_await pw::sleep(5ms);
    h.abort();
    co_return co_await h;
  }());
  CHECK(r.is_err());
  CHECK(alive_counter::alive.load() == 0);
}
