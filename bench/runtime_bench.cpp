// Google Benchmark micro-benchmarks of the scheduler's building blocks: the Chase-Lev deque,
// the timer wheel, and spawn / yield / join on a running runtime. The side-by-side workloads
// against Tokio, Asio and asyncio are in bench/compare/.
#include <benchmark/benchmark.h>

#include <polarway/detail/chase_lev_deque.hpp>
#include <polarway/detail/timer_wheel.hpp>
#include <polarway/runtime.hpp>

#include <vector>

namespace pw = polarway;

static void deque_push_take(benchmark::State& state) {
  pw::detail::chase_lev_deque<int*> d(1024);
  int item = 0;
  for (auto _ : state) {
    d.push(&item);
    benchmark::DoNotOptimize(d.take());
  }
}
BENCHMARK(deque_push_take);

static void deque_push_steal(benchmark::State& state) {
  pw::detail::chase_lev_deque<int*> d(1024);
  int item = 0;
  for (auto _ : state) {
    d.push(&item);
    benchmark::DoNotOptimize(d.steal());
  }
}
BENCHMARK(deque_push_steal);

static void timer_insert_remove(benchmark::State& state) {
  pw::detail::timer_wheel w;
  std::vector<pw::detail::timer_node> nodes(1024);
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto& n = nodes[i++ & 1023];
    n.deadline = 1 + (i * 7919) % 100'000;
    w.insert(&n);
    w.remove(&n);
  }
}
BENCHMARK(timer_insert_remove);

static void timer_insert_fire(benchmark::State& state) {
  std::vector<pw::detail::timer_node> nodes(100'000);
  for (auto _ : state) {
    pw::detail::timer_wheel w;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      nodes[i].deadline = 1 + i % 10;
      w.insert(&nodes[i]);
    }
    std::size_t fired = 0;
    w.advance(10, [&](pw::detail::timer_node*) { ++fired; });
    benchmark::DoNotOptimize(fired);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * nodes.size()));
}
BENCHMARK(timer_insert_fire)->Unit(benchmark::kMillisecond);

// Spawn-and-join of an empty task, measured inside one task of a running runtime.
static void spawn_join(benchmark::State& state) {
  pw::runtime rt(pw::runtime_options{.workers = static_cast<std::size_t>(state.range(0))});
  const auto n = static_cast<int>(state.range(1));
  for (auto _ : state) {
    rt.block_on([](int n) -> pw::task<void> {
      std::vector<pw::join_handle<int>> hs;
      hs.reserve(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) hs.push_back(pw::spawn([](int i) -> pw::task<int> { co_return i; }(i)));
      for (auto& h : hs) benchmark::DoNotOptimize(co_await h);
    }(n));
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(spawn_join)->Args({1, 10'000})->Args({2, 10'000})->UseRealTime()->Unit(benchmark::kMicrosecond);

static void yield_now_loop(benchmark::State& state) {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  const int n = 10'000;
  for (auto _ : state) {
    rt.block_on([](int n) -> pw::task<void> {
      for (int i = 0; i < n; ++i) co_await pw::yield_now();
    }(n));
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(yield_now_loop)->UseRealTime()->Unit(benchmark::kMicrosecond);

// runtime::dump_tasks() of 100,000 tasks waiting on a notify (taken from outside the runtime,
// as an operator's request would be), on 2 workers.
static void dump_tasks_100k(benchmark::State& state) {
  constexpr int n = 100'000;
  pw::runtime rt(pw::runtime_options{.workers = 2});
  pw::notify release;
  rt.block_on([](pw::notify& release) -> pw::task<void> {
    for (int i = 0; i < n; ++i)
      pw::spawn([](pw::notify& release) -> pw::task<void> { co_await release.notified(); }(release)).detach();
    co_return;
  }(release));
  while (rt.dump_tasks().size() < static_cast<std::size_t>(n))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (auto _ : state) {
    auto dump = rt.dump_tasks();
    if (dump.size() != static_cast<std::size_t>(n)) state.SkipWithError("the dump lost tasks");
    benchmark::DoNotOptimize(dump.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
  release.notify_waiters();
}
BENCHMARK(dump_tasks_100k)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
