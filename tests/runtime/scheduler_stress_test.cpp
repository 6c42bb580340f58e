// Load and races on the scheduler: many tasks, cross-thread wake-ups, abort racing completion,
// several block_on callers, a task that never yields.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "polarway/runtime.hpp"
#include "support/test_awaitables.hpp"

namespace pw = polarway;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int scale = 10;
#else
constexpr int scale = 1;
#endif

// Each level spawns `fanout` children with pw::spawn and awaits their handles.
pw::task<void> tree(int depth, int fanout, std::atomic<long>& count) {
  count.fetch_add(1, std::memory_order_relaxed);
  if (depth == 0) co_return;
  std::vector<pw::join_handle<void>> kids;
  for (int i = 0; i < fanout; ++i) kids.push_back(pw::spawn(tree(depth - 1, fanout, count)));
  for (auto& k : kids) CHECK((co_await k).is_ok());
}

pw::task<long> skynet(long num, long size) {
  if (size == 1) co_return num;
  std::vector<pw::task<long>> kids;
  kids.reserve(10);
  for (long i = 0; i < 10; ++i) kids.push_back(skynet(num + i * (size / 10), size / 10));
  long sum = 0;
  for (long v : co_await pw::join_all(std::move(kids))) sum += v;
  co_return sum;
}

pw::task<long> fib(int n) {
  if (n < 2) co_return n;
  auto [a, b] = co_await pw::when_all(fib(n - 1), fib(n - 2));
  co_return a + b;
}

}  // namespace

TEST_CASE("a million tasks spawned in nested trees all run") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  std::atomic<long> count{0};
  // 1 + 10 + 100 + ... + 10^6 = 1,111,111 tasks (or 11,111 under sanitizers)
  const int depth = scale == 1 ? 6 : 4;
  rt.block_on(tree(depth, 10, count));
  long expected = 0;
  for (long p = 1, i = 0; i <= depth; ++i, p *= 10) expected += p;
  CHECK(count.load() == expected);
}

TEST_CASE("skynet and fib give the exact sums") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const long size = scale == 1 ? 1'000'000 : 10'000;
  CHECK(rt.block_on(skynet(0, size)) == size * (size - 1) / 2);
  CHECK(rt.block_on(fib(scale == 1 ? 27 : 18)) == (scale == 1 ? 196418 : 2584));
}

TEST_CASE("wake-ups across threads: external threads set events tasks wait on") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  constexpr int n = 200;
  std::vector<pw_test::event> events(n);
  std::atomic<int> woke{0};
  std::vector<pw::join_handle<void>> handles;
  for (int i = 0; i < n; ++i)
    handles.push_back(rt.spawn([](pw_test::event& e, std::atomic<int>& woke) -> pw::task<void> {
      co_await e.wait();
      woke.fetch_add(1);
    }(events[static_cast<std::size_t>(i)], woke)));
  std::thread setter([&] {
    for (auto& e : events) e.set();
  });
  setter.join();
  rt.block_on([](std::vector<pw::join_handle<void>>& hs) -> pw::task<void> {
    for (auto& h : hs) CHECK((co_await h).is_ok());
  }(handles));
  CHECK(woke.load() == n);
}

TEST_CASE("abort racing completion: each handle reports exactly one outcome") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const int rounds = 20'000 / scale;
  std::atomic<int> ran{0};
  int finished = 0, cancelled = 0;
  std::vector<pw::join_handle<int>> handles;
  handles.reserve(static_cast<std::size_t>(rounds));
  for (int i = 0; i < rounds; ++i)
    handles.push_back(rt.spawn([](std::atomic<int>& ran, int i) -> pw::task<int> {
      if (i % 3 == 0) co_await pw::yield_now();
      ran.fetch_add(1);
      co_return i;
    }(ran, i)));
  for (auto& h : handles) h.abort();  // from this thread, while workers run them
  rt.block_on([](std::vector<pw::join_handle<int>>& hs, int& finished, int& cancelled) -> pw::task<void> {
    for (std::size_t i = 0; i < hs.size(); ++i) {
      auto r = co_await hs[i];
      if (r.is_ok()) {
        CHECK(*r == static_cast<int>(i));
        ++finished;
      } else {
        CHECK(r.error().cancelled());
        ++cancelled;
      }
    }
  }(handles, finished, cancelled));
  CHECK(finished + cancelled == rounds);
  // A task whose body ran to the end reports its value even if abort came during that run;
  // a cancelled one never got there.
  CHECK(ran.load() == finished);
}

// A run starts without marking the task running (scheduler::run_task); an abort that lands
// during the run, before the task's first await, finds it looking queued and does not queue it.
// The task must still be cancelled at that await, not left waiting there for ever.
TEST_CASE("an abort during a run, before the task's first await, cancels it at that await") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  for (int round = 0; round < 20; ++round) {
    std::atomic<int> stage{0};
    pw_test::event never;
    auto h = rt.spawn([](std::atomic<int>& stage, pw_test::event& never) -> pw::task<void> {
      stage.store(1);
      while (stage.load() != 2) std::this_thread::yield();  // abort() lands here
      co_await never.wait();
    }(stage, never));
    while (stage.load() != 1) std::this_thread::yield();
    h.abort();
    stage.store(2);
    auto r = rt.block_on([](pw::join_handle<void> h) -> pw::task<pw::result<void, pw::join_error>> {
      co_return co_await h;
    }(std::move(h)));
    REQUIRE(r.is_err());
    CHECK(r.error().cancelled());
  }
}

TEST_CASE("block_on from four threads at once") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 50; ++k) {
        const long size = 1000;
        if (rt.block_on(skynet(t * 1'000'000L, size)) == t * 1'000'000L * size + size * (size - 1) / 2) ok.fetch_add(1);
      }
    });
  for (auto& th : threads) th.join();
  CHECK(ok.load() == 200);
}

TEST_CASE("a task that never yields does not stop the other worker") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  std::atomic<bool> release{false};
  std::atomic<int> others{0};
  rt.block_on([](std::atomic<bool>& release, std::atomic<int>& others) -> pw::task<void> {
    auto hog = pw::spawn([](std::atomic<bool>& release) -> pw::task<void> {
      while (!release.load()) std::this_thread::yield();  // holds its worker, never suspends
      co_return;
    }(release));
    std::vector<pw::join_handle<void>> rest;
    for (int i = 0; i < 100; ++i)
      rest.push_back(pw::spawn([](std::atomic<int>& others) -> pw::task<void> {
        others.fetch_add(1);
        co_return;
      }(others)));
    for (auto& h : rest) CHECK((co_await h).is_ok());  // only possible if the other worker runs them
    release.store(true);
    CHECK((co_await hog).is_ok());
  }(release, others));
  CHECK(others.load() == 100);
}

TEST_CASE("a task spawned by a task that then holds its worker runs on the other worker") {
  // A spawned task goes onto the spawner's deque, where the idle worker is woken to steal it,
  // not into a slot only the spawner's worker can run from (as Tokio 1.24's LIFO slot, which
  // tokio-rs/tokio#4941 describes): the child must run while its spawner still spins.
  pw::runtime rt(pw::runtime_options{.workers = 2});
  std::atomic<bool> child_ran{false};
  const bool ran_while_held = rt.block_on([](std::atomic<bool>& child_ran) -> pw::task<bool> {
    auto spawner = pw::spawn([](std::atomic<bool>& child_ran) -> pw::task<bool> {
      auto child = pw::spawn([](std::atomic<bool>& ran) -> pw::task<void> {
        ran.store(true);
        co_return;
      }(child_ran));
      // Holds this worker without suspending, for at most 10 s.
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!child_ran.load() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
      const bool ran = child_ran.load();
      CHECK((co_await child).is_ok());
      co_return ran;
    }(child_ran));
    co_return (co_await spawner).unwrap_or(false);
  }(child_ran));
  CHECK(ran_while_held);
}

TEST_CASE("two tasks waking each other cannot starve a third (LIFO cap and fairness)") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  pw_test::event ping, pong;
  std::atomic<bool> stop{false};
  std::atomic<long> exchanges{0};
  rt.block_on([](pw_test::event& ping, pw_test::event& pong, std::atomic<bool>& stop,
                 std::atomic<long>& exchanges) -> pw::task<void> {
    auto a = pw::spawn([](pw_test::event& ping, pw_test::event& pong, std::atomic<bool>& stop,
                          std::atomic<long>& n) -> pw::task<void> {
      while (!stop.load()) {
        co_await ping.wait();
        ping.reset();
        n.fetch_add(1);
        pong.set();
      }
    }(ping, pong, stop, exchanges));
    auto b = pw::spawn([](pw_test::event& ping, pw_test::event& pong, std::atomic<bool>& stop,
                          std::atomic<long>& n) -> pw::task<void> {
      ping.set();
      while (!stop.load()) {
        co_await pong.wait();
        pong.reset();
        n.fetch_add(1);
        ping.set();
      }
    }(ping, pong, stop, exchanges));
    // The third task: it needs a turn on the single worker while a and b keep waking each other.
    auto c = pw::spawn([](std::atomic<bool>& stop, std::atomic<long>& n) -> pw::task<void> {
      while (n.load() < 1000) co_await pw::yield_now();
      stop.store(true);
      co_return;
    }(stop, exchanges));
    CHECK((co_await c).is_ok());
    a.abort();
    b.abort();
    // Each either saw `stop` and finished, or was cancelled while waiting: both are fine.
    (void)(co_await a);
    (void)(co_await b);
  }(ping, pong, stop, exchanges));
  CHECK(stop.load());
}

// A chain of tasks that each spawn the next keeps the bottom of the worker's LIFO deque full;
// the task spawned before the chain sits at the top and must still get its turn.
pw::task<void> chain_link(std::atomic<bool>& old_ran, long& links) {
  if (old_ran.load() || ++links == 100'000'000) co_return;  // the cap only ends a failing run
  (void)pw::spawn(chain_link(old_ran, links));
}

TEST_CASE("a chain of spawns on one worker cannot starve an older task (fairness tick)") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  std::atomic<bool> old_ran{false};
  long links = 0;
  rt.block_on([](std::atomic<bool>& old_ran, long& links) -> pw::task<void> {
    auto old = pw::spawn([](std::atomic<bool>& ran) -> pw::task<void> {
      ran.store(true);
      co_return;
    }(old_ran));
    (void)pw::spawn(chain_link(old_ran, links));
    CHECK((co_await old).is_ok());
  }(old_ran, links));
  CHECK(old_ran.load());
  CHECK(links < 100'000'000);
  MESSAGE("chain links before the older task ran: ", links);
}

// Started and not yet finished, and the most of those at once.
struct live_count {
  long now = 0, peak = 0;
};

pw::task<long> fork_join_tree(int depth, live_count& live) {
  live.peak = std::max(live.peak, ++live.now);
  long leaves = 1;
  if (depth > 0) {
    std::vector<pw::task<long>> kids;
    for (int i = 0; i < 10; ++i) kids.push_back(fork_join_tree(depth - 1, live));
    leaves = 0;
    for (long n : co_await pw::join_all(std::move(kids))) leaves += n;
  }
  --live.now;
  co_return leaves;
}

TEST_CASE("one worker walks a fork-join tree depth-first, so few of its tasks are open at once") {
  // Depth-first, only the path from the root to the running task is open: depth + 1 tasks. The
  // fairness tick may start the oldest waiting subtree after 10 ms, which opens one more path
  // each time (a slow sanitizer run may see a few); taking the oldest entry every 61 ticks
  // opened hundreds of paths at once here.
  pw::runtime rt(pw::runtime_options{.workers = 1});
  live_count live;
  const long leaves = rt.block_on(fork_join_tree(4, live));
  CHECK(leaves == 10'000);
  CHECK(live.now == 0);
  CHECK(live.peak <= 5 * 10);
  MESSAGE("peak open tasks: ", live.peak);
}

TEST_CASE("the cooperative budget makes a task that always finds ready work yield") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  std::atomic<bool> flag{false};
  long spins = 0;
  rt.block_on([](std::atomic<bool>& flag, long& spins) -> pw::task<void> {
    auto setter = pw::spawn([](std::atomic<bool>& flag) -> pw::task<void> {
      flag.store(true);
      co_return;
    }(flag));
    // Without the budget this loop would never give the single worker to `setter`.
    while (!flag.load()) {
      co_await pw_test::ready_op{};
      ++spins;
    }
    CHECK((co_await setter).is_ok());
  }(flag, spins));
  CHECK(flag.load());
  CHECK(spins >= pw::detail::coop_budget - 1);
}
