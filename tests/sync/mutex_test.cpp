// pw::mutex: mutual exclusion across suspension points, FIFO hand-over, try_lock, and an
// aborted waiter passing the lock on.
#include "polarway/sync/mutex.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "polarway/runtime.hpp"

namespace pw = polarway;

namespace {
pw::task<void> settle() {
  for (int i = 0; i < 4; ++i) co_await pw::yield_now();
}
}  // namespace

TEST_CASE("the lock is exclusive even across co_await") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  pw::mutex m;
  long counter = 0;  // plain: only the mutex orders the accesses (TSan checks)
  int inside = 0;
  bool overlap = false;
  rt.block_on([](pw::mutex& m, long& counter, int& inside, bool& overlap) -> pw::task<void> {
    std::vector<pw::join_handle<void>> hs;
    for (int t = 0; t < 100; ++t)
      hs.push_back(pw::spawn([](pw::mutex& m, long& counter, int& inside, bool& overlap) -> pw::task<void> {
        for (int i = 0; i < 100; ++i) {
          auto guard = co_await m.lock();
          if (++inside != 1) overlap = true;
          const long before = counter;
          if (i % 10 == 0) co_await pw::yield_now();
          counter = before + 1;
          --inside;
        }
      }(m, counter, inside, overlap)));
    for (auto& h : hs) (void)co_await h;
  }(m, counter, inside, overlap));
  CHECK(counter == 10'000);
  CHECK(!overlap);
}

TEST_CASE("try_lock and FIFO hand-over") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::mutex m;
    auto g = m.try_lock();
    REQUIRE(g.is_some());
    CHECK(m.try_lock().is_none());
    std::vector<int> order;
    std::vector<pw::join_handle<void>> hs;
    for (int i = 0; i < 5; ++i) {
      hs.push_back(pw::spawn([](pw::mutex& m, std::vector<int>& order, int i) -> pw::task<void> {
        auto guard = co_await m.lock();
        order.push_back(i);
      }(m, order, i)));
      co_await settle();
    }
    g->unlock();
    for (auto& h : hs) (void)co_await h;
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
    CHECK(m.try_lock().is_some());
  }());
}

TEST_CASE("a waiter handed the lock but aborted before it ran passes it on") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::mutex m;
    auto g = co_await m.lock();
    auto first = pw::spawn([](pw::mutex& m) -> pw::task<void> { auto guard = co_await m.lock(); }(m));
    co_await settle();
    auto second = pw::spawn([](pw::mutex& m) -> pw::task<void> { auto guard = co_await m.lock(); }(m));
    co_await settle();
    g.unlock();  // hands the lock to `first`, which cannot run yet
    first.abort();
    CHECK((co_await first).error().cancelled());
    CHECK((co_await second).is_ok());
    CHECK(m.try_lock().is_some());
  }());
}
