#include "polarway/detail/chase_lev_deque.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "support/death.hpp"

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

TEST_CASE("growth: the ring doubles up to its maximum and keeps both orders") {
  std::vector<int> items(10);
  deque d(2, 8);
  CHECK(d.capacity() == 2);
  for (int i = 0; i < 8; ++i) CHECK(d.push(&items[i]));
  CHECK(d.capacity() == 8);
  CHECK_FALSE(d.push(&items[8]));  // full at the maximum
  CHECK(d.steal().item == &items[0]);
  CHECK(d.take() == &items[7]);
  CHECK(d.push(&items[8]));  // wraps around in the grown ring
  CHECK(d.push(&items[9]));
  std::vector<int*> oldest;
  CHECK(d.take_oldest(3, [&](int* p) { oldest.push_back(p); }) == 3);
  CHECK(oldest == std::vector<int*>{&items[1], &items[2], &items[3]});
  CHECK(d.take() == &items[9]);
  CHECK(d.take() == &items[8]);
  CHECK(d.steal().item == &items[4]);
  CHECK(d.take() == &items[6]);
  CHECK(d.take() == &items[5]);
  CHECK(d.take() == nullptr);
}

TEST_CASE("push_all: one publication for several items, in push order, or nothing when they do not fit") {
  std::vector<int> items(8);
  int* const first[] = {&items[0], &items[1], &items[2]};
  deque d(4, 8);
  CHECK(d.push_all(first, 3));
  CHECK(d.size_hint() == 3);
  CHECK(d.steal().item == &items[0]);  // thieves see the oldest first, as after three pushes
  CHECK(d.take() == &items[2]);        // and the owner the newest
  int* const next[] = {&items[3], &items[4], &items[5], &items[6]};
  // One item left and four more do not fit the 4-slot ring: push_all does not grow it, and
  // pushes nothing.
  CHECK_FALSE(d.push_all(next, 4));
  CHECK(d.size_hint() == 1);
  CHECK(d.capacity() == 4);
  CHECK(d.push_all(next, 3));  // fits, wrapping around the ring (top is at 1)
  CHECK(d.size_hint() == 4);
  CHECK(d.push_all(next, 0));  // nothing to push: still true, nothing changes
  CHECK(d.size_hint() == 4);
  CHECK(d.take() == &items[5]);
  CHECK(d.take() == &items[4]);
  CHECK(d.steal().item == &items[1]);
  CHECK(d.take() == &items[3]);
  CHECK(d.take() == nullptr);
}

TEST_CASE("capacities that are not powers of two, or a maximum below the start, are refused") {
  // The constructor panics (the runtime never passes such values).
  for (auto make : {+[] { deque d(3); }, +[] { deque d(8, 4); }, +[] { deque d(4, 12); }}) {
    const auto child = pw_test::run_in_child(make);
    CHECK(child.aborted);
    CHECK(child.stderr_text.find("powers of two") != std::string::npos);
  }
}

namespace {

// One owner pushes and takes (one push in `take_one_in` is followed by a take), thieves
// steal; every item must be seen exactly once. The ring may grow from `capacity` to
// `max_capacity`; a push that finds it full at the maximum is handled as the scheduler does,
// by moving the oldest half out at once, or else by a take from the bottom. With `group` above
// 1, items are pushed `group` at a time with push_all, one by one when they do not fit (as the
// scheduler queues a fork's children).
void stress(std::size_t capacity, int items_total, int thieves, std::size_t max_capacity = 0, unsigned take_one_in = 3,
            int group = 1) {
  std::vector<int> items(static_cast<std::size_t>(items_total));
  auto seen = std::make_unique<std::atomic<int>[]>(static_cast<std::size_t>(items_total));
  deque d(capacity, max_capacity);
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
  auto push_one = [&](int i) {
    while (!d.push(&items[static_cast<std::size_t>(i)])) {
      if (i % 2 == 0) {
        taken += static_cast<long>(d.take_oldest(d.capacity() / 2, record));
      } else if (int* p = d.take()) {
        record(p);
        ++taken;
      }
    }
  };
  std::vector<int*> batch;
  for (int i = 0; i < items_total;) {
    const int n = std::min(group, items_total - i);
    if (n == 1) {
      push_one(i);
    } else {
      batch.clear();
      for (int k = 0; k < n; ++k) batch.push_back(&items[static_cast<std::size_t>(i + k)]);
      if (!d.push_all(batch.data(), batch.size()))
        for (int k = 0; k < n; ++k) push_one(i + k);
    }
    i += n;
    rng = rng * 1103515245 + 12345;
    if ((rng >> 16) % take_one_in == 0) {
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

TEST_CASE("stress: pushes of ten at once (push_all) against three thieves, wrapping a small ring") {
  stress(16, 2'000'000 / scale, 3, 0, 2, 10);
}

TEST_CASE("stress: pushes of ten at once into a ring that grows, and overflows, while thieves steal") {
  for (int round = 0; round < 40; ++round) stress(2, 25'000 / scale, 2, 256, 4, 10);
}

TEST_CASE("stress: the ring grows while thieves steal, then overflows at its maximum") {
  // The owner takes rarely, so each fresh deque fills and doubles from 2 to 256 slots with
  // thieves reading it, then keeps hitting the maximum.
  for (int round = 0; round < 40; ++round) stress(2, 25'000 / scale, 2, 256, 16);
}
