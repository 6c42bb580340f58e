// Micro-benchmarks of the sync primitives (Google Benchmark). The WORKLOADS.md rows, with their
// exact definitions and medians, are in sync_workloads.cpp; these isolate single costs:
//   *_uncontended   one thread, no runtime: the cost of the operation itself
//   *_runtime       inside a runtime, with suspension, at 1 and 2 workers (the argument)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "polarway/runtime.hpp"

namespace pw = polarway;

namespace {

void mpsc_try_send_try_recv_uncontended(benchmark::State& state) {
  auto [tx, rx] = pw::mpsc::channel<std::uint64_t>(1024);
  std::uint64_t v = 0;
  for (auto _ : state) {
    if (!tx.try_send(v++)) state.SkipWithError("full");
    auto r = rx.try_recv();
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(mpsc_try_send_try_recv_uncontended);

// One producer, one consumer, capacity 1024; items = messages.
void mpsc_send_recv_runtime(benchmark::State& state) {
  pw::runtime rt(pw::runtime_options{.workers = static_cast<std::size_t>(state.range(0))});
  constexpr long n = 200'000;
  for (auto _ : state) {
    const std::uint64_t sum = rt.block_on([]() -> pw::task<std::uint64_t> {
      auto [tx, rx] = pw::mpsc::channel<std::uint64_t>(1024);
      auto producer = pw::spawn([](pw::mpsc::sender<std::uint64_t> arg) -> pw::task<void> {
        auto tx = std::move(arg);
        for (long i = 0; i < n; ++i) (void)co_await tx.send(static_cast<std::uint64_t>(i));
      }(std::move(tx)));
      std::uint64_t sum = 0;
      for (;;) {
        auto v = co_await rx.recv();
        if (!v) break;
        sum += *v;
      }
      (void)co_await producer;
      co_return sum;
    }());
    if (sum != static_cast<std::uint64_t>(n) * (n - 1) / 2) state.SkipWithError("wrong sum");
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(mpsc_send_recv_runtime)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Capacity-1 round trips between two tasks; items = round trips.
void mpsc_ping_pong_runtime(benchmark::State& state) {
  pw::runtime rt(pw::runtime_options{.workers = static_cast<std::size_t>(state.range(0))});
  constexpr long rounds = 20'000;
  for (auto _ : state) {
    rt.block_on([]() -> pw::task<void> {
      auto [to_b, b_rx] = pw::mpsc::channel<std::uint64_t>(1);
      auto [to_a, a_rx] = pw::mpsc::channel<std::uint64_t>(1);
      auto b =
          pw::spawn([](pw::mpsc::receiver<std::uint64_t> rx, pw::mpsc::sender<std::uint64_t> tx) -> pw::task<void> {
            for (;;) {
              auto v = co_await rx.recv();
              if (!v || !(co_await tx.send(*v + 1))) break;
            }
          }(std::move(b_rx), std::move(to_a)));
      for (long i = 0; i < rounds; ++i) {
        (void)co_await to_b.send(static_cast<std::uint64_t>(i));
        auto r = co_await a_rx.recv();
        benchmark::DoNotOptimize(r);
      }
      { auto close = std::move(to_b); }
      (void)co_await b;
    }());
  }
  state.SetItemsProcessed(state.iterations() * rounds);
}
BENCHMARK(mpsc_ping_pong_runtime)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void semaphore_try_acquire_release_uncontended(benchmark::State& state) {
  pw::semaphore sem(10);
  for (auto _ : state) {
    auto p = sem.try_acquire();
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(semaphore_try_acquire_release_uncontended);

// 100 tasks, 4 permits, each acquires and releases 100 times with a yield while holding;
// items = acquisitions.
void semaphore_acquire_release_runtime(benchmark::State& state) {
  pw::runtime rt(pw::runtime_options{.workers = static_cast<std::size_t>(state.range(0))});
  constexpr int tasks = 100, iterations = 100;
  for (auto _ : state) {
    rt.block_on([]() -> pw::task<void> {
      pw::semaphore sem(4);
      std::vector<pw::join_handle<void>> hs;
      for (int t = 0; t < tasks; ++t)
        hs.push_back(pw::spawn([](pw::semaphore& sem) -> pw::task<void> {
          for (int i = 0; i < iterations; ++i) {
            auto p = co_await sem.acquire();
            co_await pw::yield_now();
          }
        }(sem)));
      for (auto& h : hs) (void)co_await h;
    }());
  }
  state.SetItemsProcessed(state.iterations() * tasks * iterations);
}
BENCHMARK(semaphore_acquire_release_runtime)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void notify_one_notified_uncontended(benchmark::State& state) {
  pw::notify n;
  for (auto _ : state) {
    n.notify_one();  // stores the permit; the next notified() would consume it
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(notify_one_notified_uncontended);

}  // namespace

BENCHMARK_MAIN();
