// pw::notify: a stored permit, notify_waiters, FIFO wake-ups, and a notified waiter that is
// aborted before it runs passing the notification on.
#include "polarway/sync/notify.hpp"

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

TEST_CASE("notify_one before anyone waits stores one permit (not more)") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::notify n;
    n.notify_one();
    n.notify_one();         // does not accumulate
    co_await n.notified();  // the permit: completes at once
    auto waiter = pw::spawn([](pw::notify& n) -> pw::task<void> { co_await n.notified(); }(n));
    co_await settle();
    CHECK(!waiter.is_finished());
    n.notify_one();
    CHECK((co_await waiter).is_ok());
  }());
}

TEST_CASE("notify_one wakes waiters in FIFO order") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::notify n;
    std::vector<int> order;
    std::vector<pw::join_handle<void>> hs;
    for (int i = 0; i < 5; ++i) {
      hs.push_back(pw::spawn([](pw::notify& n, std::vector<int>& order, int i) -> pw::task<void> {
        co_await n.notified();
        order.push_back(i);
      }(n, order, i)));
      co_await settle();
    }
    for (int i = 0; i < 5; ++i) {
      n.notify_one();
      co_await settle();
    }
    for (auto& h : hs) (void)co_await h;
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
  }());
}

TEST_CASE("notify_waiters wakes everyone waiting and stores no permit") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    pw::notify n;
    n.notify_waiters();  // nobody waits: no effect
    std::atomic<int> woke{0};
    std::vector<pw::join_handle<void>> hs;
    for (int i = 0; i < 100; ++i)
      hs.push_back(pw::spawn([](pw::notify& n, std::atomic<int>& woke) -> pw::task<void> {
        co_await n.notified();
        woke.fetch_add(1);
      }(n, woke)));
    // The futures must be registered before notify_waiters; make sure by having each signal.
    for (int i = 0; i < 20; ++i) co_await pw::yield_now();
    while (true) {
      bool all_waiting = true;
      for (auto& h : hs) all_waiting = all_waiting && !h.is_finished();
      if (all_waiting) break;
    }
    n.notify_waiters();
    for (auto& h : hs) (void)co_await h;
    CHECK(woke.load() == 100);
  }());
}

TEST_CASE("a future created before notify_waiters completes even if awaited after it") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::notify n;
    auto fut = n.notified();
    n.notify_waiters();
    co_await fut;  // completes at once
    auto later = pw::spawn([](pw::notify& n) -> pw::task<void> { co_await n.notified(); }(n));
    co_await settle();
    CHECK(!later.is_finished());  // no permit was stored
    n.notify_one();
    (void)co_await later;
  }());
}

TEST_CASE("a waiter chosen by notify_one but aborted before it ran passes the notification on") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::notify n;
    auto first = pw::spawn([](pw::notify& n) -> pw::task<void> { co_await n.notified(); }(n));
    co_await settle();
    auto second = pw::spawn([](pw::notify& n) -> pw::task<void> { co_await n.notified(); }(n));
    co_await settle();
    n.notify_one();  // picks `first`, which cannot run yet: we hold the only worker
    first.abort();
    CHECK((co_await first).error().cancelled());
    CHECK((co_await second).is_ok());  // the notification moved on
    // And with nobody left waiting, a passed-on notification becomes the permit.
    auto third = pw::spawn([](pw::notify& n) -> pw::task<void> { co_await n.notified(); }(n));
    co_await settle();
    n.notify_one();
    third.abort();
    (void)co_await third;
    co_await n.notified();  // the permit stored by the aborted waiter
  }());
}

TEST_CASE("a waiter aborted while queued just leaves") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    pw::notify n;
    std::vector<pw::join_handle<void>> hs;
    for (int i = 0; i < 50; ++i)
      hs.push_back(pw::spawn([](pw::notify& n) -> pw::task<void> { co_await n.notified(); }(n)));
    for (int i = 0; i < 10; ++i) co_await pw::yield_now();
    for (auto& h : hs) h.abort();
    for (auto& h : hs) (void)co_await h;
    n.notify_one();
    co_await n.notified();
  }());
}
