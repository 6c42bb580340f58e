// pw::semaphore: the permit bound under load, FIFO order (including a large request at the
// head), close, try_acquire, forget, and cancellation of queued and granted waiters.
#include "polarway/sync/semaphore.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <vector>

#include "polarway/runtime.hpp"

namespace pw = polarway;

namespace {

pw::task<void> settle() {
  for (int i = 0; i < 4; ++i) co_await pw::yield_now();
}

}  // namespace

TEST_CASE("1,000 tasks never hold more than N permits at once") {
  constexpr std::size_t permits = 10;
  pw::runtime rt(pw::runtime_options{.workers = 2});
  pw::semaphore sem(permits);
  std::atomic<std::size_t> holding{0}, high_water{0};
  std::atomic<long> acquisitions{0};
  rt.block_on([](pw::semaphore& sem, std::atomic<std::size_t>& holding, std::atomic<std::size_t>& high_water,
                 std::atomic<long>& acquisitions) -> pw::task<void> {
    std::vector<pw::join_handle<void>> hs;
    for (int t = 0; t < 1000; ++t)
      hs.push_back(
          pw::spawn([](pw::semaphore& sem, std::atomic<std::size_t>& holding, std::atomic<std::size_t>& high_water,
                       std::atomic<long>& acquisitions, int t) -> pw::task<void> {
            for (int i = 0; i < 20; ++i) {
              auto acquiring = t % 7 == 0 ? sem.acquire_many(2) : sem.acquire();
              auto permit = co_await acquiring;
              REQUIRE(permit.is_ok());
              const std::size_t n = permit->num_permits();
              const std::size_t now = holding.fetch_add(n) + n;
              std::size_t seen = high_water.load();
              while (now > seen && !high_water.compare_exchange_weak(seen, now)) {
              }
              acquisitions.fetch_add(1);
              co_await pw::yield_now();
              holding.fetch_sub(n);
            }
          }(sem, holding, high_water, acquisitions, t)));
    for (auto& h : hs) CHECK((co_await h).is_ok());
  }(sem, holding, high_water, acquisitions));
  CHECK(high_water.load() <= permits);
  CHECK(acquisitions.load() == 20'000);
  CHECK(sem.available_permits() == permits);
}

TEST_CASE("waiters are served in FIFO order") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::semaphore sem(0);
    std::vector<int> order;
    std::vector<pw::join_handle<void>> hs;
    for (int i = 0; i < 8; ++i) {
      hs.push_back(pw::spawn([](pw::semaphore& sem, std::vector<int>& order, int i) -> pw::task<void> {
        auto p = co_await sem.acquire();
        REQUIRE(p.is_ok());
        order.push_back(i);
        p->forget();  // keep it: the next waiter runs only when we add a permit
      }(sem, order, i)));
      co_await settle();
    }
    for (int i = 0; i < 8; ++i) {
      sem.add_permits(1);
      co_await settle();
    }
    for (auto& h : hs) (void)co_await h;
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
    CHECK(sem.available_permits() == 0);
  }());
}

TEST_CASE("a large acquire_many at the head holds back smaller requests behind it") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::semaphore sem(0);
    std::vector<int> order;
    auto big = pw::spawn([](pw::semaphore& sem, std::vector<int>& order) -> pw::task<void> {
      auto p = co_await sem.acquire_many(3);
      REQUIRE(p.is_ok());
      CHECK(p->num_permits() == 3);
      order.push_back(3);
    }(sem, order));
    co_await settle();
    auto small = pw::spawn([](pw::semaphore& sem, std::vector<int>& order) -> pw::task<void> {
      auto p = co_await sem.acquire();
      REQUIRE(p.is_ok());
      order.push_back(1);
    }(sem, order));
    co_await settle();
    sem.add_permits(2);  // enough for `small`, but `big` is first: it collects them
    co_await settle();
    CHECK(order.empty());
    CHECK(sem.available_permits() == 0);
    CHECK(sem.try_acquire().is_none());  // nobody jumps the queue
    sem.add_permits(1);
    co_await settle();
    (void)co_await big;  // big ran and gave its 3 permits back; small took one
    (void)co_await small;
    CHECK(order == std::vector<int>{3, 1});
    CHECK(sem.available_permits() == 3);
  }());
}

TEST_CASE("close wakes every waiter with errc::closed; later acquires fail too") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    pw::semaphore sem(1);
    auto held = sem.try_acquire();
    REQUIRE(held.is_some());
    std::atomic<int> closed_errors{0};
    std::vector<pw::join_handle<void>> hs;
    for (int i = 0; i < 50; ++i)
      hs.push_back(pw::spawn([](pw::semaphore& sem, std::atomic<int>& closed_errors, int i) -> pw::task<void> {
        auto p = co_await sem.acquire_many(static_cast<std::size_t>(1 + i % 3));
        if (p.is_err() && p.error() == pw::errc::closed) closed_errors.fetch_add(1);
      }(sem, closed_errors, i)));
    for (int i = 0; i < 8; ++i) co_await pw::yield_now();
    sem.close();
    for (auto& h : hs) CHECK((co_await h).is_ok());
    CHECK(closed_errors.load() == 50);
    CHECK(sem.is_closed());
    CHECK(sem.try_acquire().is_none());
    auto late = co_await sem.acquire();
    CHECK(late.is_err());
    held.reset();  // a permit held across the close still goes back
    CHECK(sem.available_permits() == 1);
  }());
}

TEST_CASE("try_acquire, forget, add_permits, moves") {
  pw::semaphore sem(3);
  auto a = sem.try_acquire_many(2);
  REQUIRE(a.is_some());
  CHECK(sem.available_permits() == 1);
  CHECK(sem.try_acquire_many(2).is_none());
  {
    auto b = sem.try_acquire();
    REQUIRE(b.is_some());
    pw::semaphore_permit moved = std::move(*b);
    CHECK(moved.num_permits() == 1);
    CHECK(sem.available_permits() == 0);
  }
  CHECK(sem.available_permits() == 1);
  a->forget();
  a.reset();
  CHECK(sem.available_permits() == 1);
  sem.add_permits(4);
  CHECK(sem.available_permits() == 5);
}

TEST_CASE("split moves permits into a new permit; each gives its own back") {
  pw::semaphore sem(5);
  auto all = sem.try_acquire_many(5);
  REQUIRE(all.is_some());
  CHECK(all->split(6).is_none());  // more than it holds: nothing moves
  CHECK(all->num_permits() == 5);
  auto part = all->split(2);
  REQUIRE(part.is_some());
  CHECK(part->num_permits() == 2);
  CHECK(all->num_permits() == 3);
  CHECK(sem.available_permits() == 0);
  all.reset();
  CHECK(sem.available_permits() == 3);
  part.reset();
  CHECK(sem.available_permits() == 5);
}

TEST_CASE("a waiter aborted while queued with a partial share passes it on") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::semaphore sem(0);
    auto big = pw::spawn([](pw::semaphore& sem) -> pw::task<void> { (void)co_await sem.acquire_many(5); }(sem));
    co_await settle();
    auto next = pw::spawn([](pw::semaphore& sem) -> pw::task<int> {
      auto p = co_await sem.acquire_many(2);
      co_return p.is_ok() ? static_cast<int>(p->num_permits()) : -1;
    }(sem));
    co_await settle();
    sem.add_permits(3);  // all three go to `big` (head of the queue)
    CHECK(sem.available_permits() == 0);
    big.abort();
    CHECK((co_await big).error().cancelled());
    CHECK(*(co_await next) == 2);  // big's three moved on: next took two, one is left
    CHECK(sem.available_permits() == 3);
  }());
}

TEST_CASE("a waiter granted its permit but aborted before it ran gives the permit to the next") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::semaphore sem(0);
    auto first = pw::spawn([](pw::semaphore& sem) -> pw::task<void> { (void)co_await sem.acquire(); }(sem));
    co_await settle();
    auto second =
        pw::spawn([](pw::semaphore& sem) -> pw::task<bool> { co_return (co_await sem.acquire()).is_ok(); }(sem));
    co_await settle();
    sem.add_permits(1);  // granted to `first`, which is woken but cannot run: we hold the worker
    first.abort();
    CHECK((co_await first).error().cancelled());
    CHECK(*(co_await second));  // no lost wake-up: the permit moved on
    CHECK(sem.available_permits() == 1);
  }());
}

TEST_CASE("aborting many queued waiters at random leaves the count intact") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  pw::semaphore sem(4);
  rt.block_on([](pw::semaphore& sem) -> pw::task<void> {
    std::vector<pw::join_handle<void>> hs;
    for (int i = 0; i < 400; ++i)
      hs.push_back(pw::spawn([](pw::semaphore& sem, int i) -> pw::task<void> {
        for (int k = 0; k < 10; ++k) {
          auto p = co_await sem.acquire_many(static_cast<std::size_t>(1 + (i + k) % 3));
          co_await pw::yield_now();
        }
      }(sem, i)));
    for (std::size_t i = 0; i < hs.size(); i += 3) hs[i].abort();
    for (auto& h : hs) (void)co_await h;
  }(sem));
  CHECK(sem.available_permits() == 4);
}
