// runtime::metrics(): each counter moves when, and only when, the event it counts happens, read
// from outside the runtime while it runs. Work is arranged so that the event must happen (a
// child that can only run if another worker steals it, a deque filled past its capacity while
// the only other worker is held busy), never by timing.
#include "polarway/runtime/runtime_metrics.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "polarway/runtime.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {

template <class F>
std::uint64_t sum(const pw::runtime_metrics& m, F field) {
  std::uint64_t total = 0;
  for (const auto& w : m.workers) total += field(w);
  return total;
}

// Waits (outside the runtime) until `ready(rt.metrics())`; false after 20 s.
template <class Ready>
bool eventually(pw::runtime& rt, Ready ready) {
  for (int i = 0; i < 20'000; ++i) {
    if (ready(rt.metrics())) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

pw::task<void> nothing() { co_return; }

// Holds a worker until `release`: it spins, so the worker cannot run or steal anything else.
pw::task<void> hold_worker(std::atomic<bool>& started, std::atomic<bool>& release) {
  started.store(true);
  while (!release.load()) std::this_thread::yield();
  co_return;
}

}  // namespace

TEST_CASE("a fresh runtime reports its workers and nothing done") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const pw::runtime_metrics m = rt.metrics();
  REQUIRE(m.workers.size() == 2);
  CHECK(m.tasks_spawned == 0);
  CHECK(m.live_tasks == 0);
  CHECK(m.inject_queue_depth == 0);
  CHECK(sum(m, [](const auto& w) { return w.polls; }) == 0);
  CHECK(sum(m, [](const auto& w) { return w.steals; }) == 0);
  CHECK(m.blocking_queue_depth == 0);
}

TEST_CASE("spawned tasks are counted, polled and, once finished, no longer live") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    pw::join_set<void> set;
    for (int i = 0; i < 1000; ++i) set.spawn(nothing());
    while (co_await set.join_next()) {
    }
  }());
  const pw::runtime_metrics m = rt.metrics();
  CHECK(m.tasks_spawned >= 1001);  // the 1000 and the block_on task
  CHECK(sum(m, [](const auto& w) { return w.tasks_spawned; }) + 1 == m.tasks_spawned);  // block_on's came from outside
  CHECK(sum(m, [](const auto& w) { return w.polls; }) >= 1001);
  CHECK(m.live_tasks == 0);
}

TEST_CASE("a task that is still waiting is live, and its timer is pending") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  pw::join_handle<void> sleeper = rt.spawn([]() -> pw::task<void> { co_await pw::sleep(1h); }());
  CHECK(eventually(rt, [](const pw::runtime_metrics& m) {
    return m.live_tasks == 1 && sum(m, [](const auto& w) { return w.timers_pending; }) == 1;
  }));
  sleeper.abort();
  CHECK(eventually(rt, [](const pw::runtime_metrics& m) {
    return m.live_tasks == 0 && sum(m, [](const auto& w) { return w.timers_pending; }) == 0;
  }));
}

TEST_CASE("a child that only another worker can run is counted as stolen on both sides") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  std::atomic<bool> started{false}, release{false};
  rt.block_on([](std::atomic<bool>& started, std::atomic<bool>& release) -> pw::task<void> {
    // This worker spins until the child runs, so the child runs only if the other worker takes
    // it from this worker's deque.
    pw::join_handle<void> child = pw::spawn(hold_worker(started, release));
    while (!started.load()) std::this_thread::yield();
    release.store(true);
    (void)co_await child;
  }(started, release));
  const pw::runtime_metrics m = rt.metrics();
  const std::uint64_t steals = sum(m, [](const auto& w) { return w.steals; });
  CHECK(steals >= 1);
  CHECK(sum(m, [](const auto& w) { return w.stolen_from; }) == steals);
  CHECK(sum(m, [](const auto& w) { return w.steal_attempts; }) >= steals);
  for (const auto& w : m.workers) CHECK(w.stolen_from <= sum(m, [](const auto& x) { return x.steals; }));
}

TEST_CASE("a full deque overflows to the inject queue, counted by its worker") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  std::atomic<bool> started{false}, release{false};
  rt.block_on([](std::atomic<bool>& started, std::atomic<bool>& release) -> pw::task<void> {
    // The other worker is held (it stole the holder), so nobody drains this worker's deque
    // while 6000 tasks go onto its 4096 slots.
    pw::join_handle<void> holder = pw::spawn(hold_worker(started, release));
    while (!started.load()) std::this_thread::yield();
    pw::join_set<void> set;
    for (int i = 0; i < 6000; ++i) set.spawn(nothing());
    release.store(true);
    (void)co_await holder;
    while (co_await set.join_next()) {
    }
  }(started, release));
  const pw::runtime_metrics m = rt.metrics();
  CHECK(sum(m, [](const auto& w) { return w.overflowed; }) >= 6000 - 4096);
}

TEST_CASE("a task that always finds its channel ready is made to yield by its budget") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::mpsc::channel<int>(4096);
    for (int i = 0; i < 1000; ++i) (void)co_await tx.send(i);
  }());
  const pw::runtime_metrics m = rt.metrics();
  CHECK(m.workers[0].budget_forced_yields >= 1000 / 128);
}

TEST_CASE("idle workers park, are busy for less than the runtime's age, and a wait on I/O is counted") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  CHECK(eventually(rt, [](const pw::runtime_metrics& m) {
    for (const auto& w : m.workers)
      if (w.parks == 0) return false;
    return true;
  }));
  int fds[2];
  REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  const pw::runtime_metrics before = rt.metrics();
  rt.block_on([](int r, int w) -> pw::task<void> {
    pw::io::async_fd a = pw::io::async_fd::watch(r).unwrap();
    pw::join_handle<void> writer = pw::spawn([](int w) -> pw::task<void> {
      co_await pw::sleep(2ms);
      (void)!::write(w, "x", 1);
    }(w));
    CHECK((co_await a.readable()).is_ok());
    (void)co_await writer;
  }(fds[0], fds[1]));
  ::close(fds[0]);
  ::close(fds[1]);
  const pw::runtime_metrics after = rt.metrics();
  const auto entries = [](const auto& w) { return w.io_kernel_entries; };
  const auto completions = [](const auto& w) { return w.io_completions; };
  CHECK(sum(after, entries) > sum(before, entries));
  CHECK(sum(after, completions) > sum(before, completions));
  for (const auto& w : after.workers) CHECK(w.busy_time <= after.uptime);
  CHECK(sum(after, [](const auto& w) { return w.notified_wakeups; }) <= sum(after, [](const auto& w) { return w.parks; }));
}

TEST_CASE("the blocking pool's threads and queue are visible while a job runs") {
  pw::runtime rt(pw::runtime_options{.workers = 1, .max_blocking_threads = 1});
  std::atomic<bool> release{false};
  auto first = rt.spawn_blocking([&] {
    while (!release.load()) std::this_thread::sleep_for(1ms);
  });
  auto second = rt.spawn_blocking([] {});
  CHECK(eventually(rt, [](const pw::runtime_metrics& m) { return m.blocking_threads == 1 && m.blocking_queue_depth == 1; }));
  release.store(true);
  rt.block_on([](pw::join_handle<void> a, pw::join_handle<void> b) -> pw::task<void> {
    (void)co_await a;
    (void)co_await b;
  }(std::move(first), std::move(second)));
  CHECK(rt.metrics().blocking_queue_depth == 0);
}

TEST_CASE("snapshots from another thread while the workers run: counters never go backwards") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  std::atomic<bool> done{false};
  bool monotonic = true;
  std::thread reader([&] {
    std::uint64_t last_polls = 0, last_spawned = 0;
    while (!done.load()) {
      const pw::runtime_metrics m = rt.metrics();
      const std::uint64_t polls = sum(m, [](const auto& w) { return w.polls; });
      monotonic = monotonic && polls >= last_polls && m.tasks_spawned >= last_spawned;
      last_polls = polls;
      last_spawned = m.tasks_spawned;
    }
  });
  rt.block_on([]() -> pw::task<void> {
    for (int round = 0; round < 50; ++round) {
      pw::join_set<void> set;
      for (int i = 0; i < 200; ++i) set.spawn(nothing());
      while (co_await set.join_next()) {
      }
    }
  }());
  done.store(true);
  reader.join();
  CHECK(monotonic);
  CHECK(rt.metrics().tasks_spawned >= 50 * 200);
}
