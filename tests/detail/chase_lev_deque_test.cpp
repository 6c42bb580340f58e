#include "polarway/detail/chase_lev_deque.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using polarway::detail::chase_lev_deque;
using deque = chase_lev_deque<int*>;

TEST_CASE("single-threaded: LIFO for the owner, FIFO for thieves, full is reported") {
  std::vector<int> items(8);
  deque d(4);
  CHECK(d.take() == nullptr);
  CHECK(d.steal().status == deque::steal_status::empty);
  for (int i = 0; i < 4; ++i) CHECK(d.push(&items[i]));
  CHECK_FALSE(d.push(&items[4]));  // full
  CHECK(d.take() == &items[3]);
  auto s = d.steal();
  CHECK(s.status == deque::steal_status::success);
  CHECK(s.item == &items[0]);
  CHECK(d.push(&items[5]));  // wraps around the ring
  CHECK(d.push(&items[6]));
  CHECK(d.size_hint() == 4);
  CHECK(d.take() == &items[6]);
  CHECK(d.take() == &items[5]);
  CHECK(d.take() == &items[2]);
  CHECK(d.take() == &items[1]);
  CHECK(d.take() == nullptr);
}

TEST_CASE("take_unshared: take's results without thieves, and the top index moves past the last item") {
  std::vector<int> items(8);
  deque d(4);
  CHECK(d.take_unshared() == nullptr);
  for (int i = 0; i < 3; ++i) CHECK(d.push(&items[i]));
  CHECK(d.top_index() == 0);
  CHECK(d.take_unshared() == &items[2]);
  CHECK(d.take_unshared() == &items[1]);
  CHECK(d.size_hint() == 1);
  CHECK(d.take_unshared() == &items[0]);  // the last item: top advances, as take() does
  CHECK(d.top_index() == 1);
  CHECK(d.size_hint() == 0);
  CHECK(d.take_unshared() == nullptr);
  // Mixed with the owner's own steals (the scheduler's overflow and starvation paths) and
  // pushes that wrap around the ring.
  for (int i = 3; i < 7; ++i) CHECK(d.push(&items[i]));
  CHECK_FALSE(d.push(&items[7]));
  CHECK(d.steal().item == &items[3]);
  CHECK(d.take_unshared() == &items[6]);
  CHECK(d.push(&items[7]));
  CHECK(d.take_unshared() == &items[7]);
  CHECK(d.take_unshared() == &items[5]);
  CHECK(d.steal().item == &items[4]);
  CHECK(d.take_unshared() == nullptr);
  CHECK(d.steal().status == deque::steal_status::empty);
}

namespace {

// One owner pushes and takes, thieves steal; every item must be seen exactly once.
void stress(std::size_t capacity, int items_total, int thieves) {
  std::vector<int> items(static_cast<std::size_t>(items_total));
  auto seen = std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(items_total));
  deque d(capacity);
  std::atomic<bool> done{false};
  std::atomic<long> stolen{0};
  auto record = [&](int* p) { seen[static_cast<std::size_t>(p - items.data())].fetch_add(1, std::memory_order_relaxed); };

  std::vector<std::thread> threads;
  for (int t = 0; t < thieves; ++t)
    threads.emplace_back([&] {
      long mine = 0;
      while (!done.load(std::memory_order_acquire) || !d.looks_empty()) {
        auto [item, status] = d.steal();
        if (status == deque::steal_status::success) {
          record(item);
          ++mine;
        }
      }
      stolen += mine;
    });

  long taken = 0;
  unsigned rng = 12345;
  for (int i = 0; i < items_total; ++i) {
    while (!d.push(&items[static_cast<std::size_t>(i)])) {
      // Full: behave like the scheduler and drain some from the bottom.
      if (int* p = d.take()) {
        record(p);
        ++taken;
      }
    }
    rng = rng * 1103515245 + 12345;
    if ((rng >> 16) % 3 == 0) {
      if (int* p = d.take()) {
        record(p);
        ++taken;
      }
    }
  }
  while (int* p = d.take()) {
    record(p);
    ++taken;
  }
  done.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();

  int lost = 0, duplicated = 0;
  for (int i = 0; i < items_total; ++i) {
    const int n = seen[static_cast<std::size_t>(i)].load();
    lost += n == 0;
    duplicated += n > 1;
  }
  CHECK(lost == 0);
  CHECK(duplicated == 0);
  CHECK(taken + stolen.load() == items_total);
}

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int scale = 10;  // sanitizers run the same races, slower
#else
constexpr int scale = 1;
#endif

}  // namespace

TEST_CASE("stress: owner and three thieves, large ring") { stress(1024, 3'000'000 / scale, 3); }

TEST_CASE("stress: a tiny ring forces wrap-around and full pushes") { stress(4, 2'000'000 / scale, 3); }

TEST_CASE("stress: one thief racing the owner for the last item") { stress(2, 1'000'000 / scale, 1); }
