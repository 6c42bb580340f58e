#include "polarway/runtime/yield_now.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "polarway/runtime.hpp"

namespace pw = polarway;

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
