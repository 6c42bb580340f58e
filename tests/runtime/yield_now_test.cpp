#include "polarway/runtime/yield_now.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "polarway/runtime.hpp"
#include "support/wakeups.hpp"

namespace pw = polarway;
using pw_test::busy_for;
using pw_test::notified_wakeups;

TEST_CASE("yield_now lets the other tasks on the worker run in turn") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  std::vector<int> order;
  rt.block_on([](std::vector<int>& order) -> pw::task<void> {
    auto worker = [](std::vector<int>& order, int id) -> pw::task<void> {
      for (int i = 0; i < 5; ++i) {
        order.push_back(id);
        co_await pw::yield_now();
      }
    };
    auto a = pw::spawn(worker(order, 1));
    auto b = pw::spawn(worker(order, 2));
    CHECK((co_await a).is_ok());
    CHECK((co_await b).is_ok());
  }(order));
  REQUIRE(order.size() == 10);
  // Interleaved, not 1,1,1,1,1,2,2,2,2,2: each yield lets the other task go.
  int switches = 0;
  for (std::size_t i = 1; i < order.size(); ++i) switches += order[i] != order[i - 1];
  CHECK(switches >= 8);
}

TEST_CASE("yield_many: 200 tasks each yield 1000 times") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  std::atomic<long> yields{0};
  rt.block_on([](std::atomic<long>& yields) -> pw::task<void> {
    std::vector<pw::join_handle<void>> hs;
    for (int t = 0; t < 200; ++t)
      hs.push_back(pw::spawn([](std::atomic<long>& yields) -> pw::task<void> {
        for (int i = 0; i < 1000; ++i) {
          co_await pw::yield_now();
          yields.fetch_add(1, std::memory_order_relaxed);
        }
      }(yields)));
    for (auto& h : hs) CHECK((co_await h).is_ok());
  }(yields));
  CHECK(yields.load() == 200'000);
}

TEST_CASE("a task that yields with nothing else to run does not wake the parked worker") {
  // The yielded task is its worker's only work and runs again at once: waking the other worker
  // to steal it would cost a wake-up each time and find nothing (scheduler::flush_deferred).
  // Between two yields the other worker has time to park again, so each wake-up would count.
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const std::uint64_t before = notified_wakeups(rt);
  rt.block_on([]() -> pw::task<void> {
    for (int i = 0; i < 300; ++i) {
      busy_for(std::chrono::microseconds(300));
      co_await pw::yield_now();
    }
  }());
  // block_on's own hand-over wakes a worker once; a few more may come from the runtime's start.
  CHECK(notified_wakeups(rt) - before < 30);
}
