// The sync rows of WORKLOADS.md (ping_pong_100k, mpsc_4x250k_cap1024, mpsc_1x1M_cap1024,
// semaphore_1000t_10p_x100) plus mpsc_4x2500k_cap1024 (4 producers, 10 million items), each at
// 1 and 2 workers: one warm-up run, then the median of `runs` runs (default 5). Every workload
// checks its own result and aborts on a wrong one.
//   sync_workloads [runs] [filter-substring]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "polarway/runtime.hpp"

namespace pw = polarway;
using clock_type = std::chrono::steady_clock;

namespace {

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "workload check failed: %s\n", what);
    std::abort();
  }
}

// Returns elapsed nanoseconds for the whole workload.
double ping_pong(pw::runtime& rt, long rounds) {
  return rt.block_on([](long rounds) -> pw::task<double> {
    const auto t0 = clock_type::now();
    auto [to_b, b_rx] = pw::mpsc::channel<std::uint64_t>(1);
    auto [to_a, a_rx] = pw::mpsc::channel<std::uint64_t>(1);
    auto b = pw::spawn([](pw::mpsc::receiver<std::uint64_t> rx, pw::mpsc::sender<std::uint64_t> tx) -> pw::task<void> {
      for (;;) {
        auto v = co_await rx.recv();
        if (!v) break;
        if (!(co_await tx.send(*v + 1))) break;
      }
    }(std::move(b_rx), std::move(to_a)));
    std::uint64_t v = 0;
    for (long i = 0; i < rounds; ++i) {
      require((co_await to_b.send(v)).is_ok(), "ping_pong send");
      auto r = co_await a_rx.recv();
      require(r.is_some() && *r == v + 1, "ping_pong reply");
      v = *r + 1;
    }
    require(v == static_cast<std::uint64_t>(2 * rounds), "ping_pong final value");
    { auto close = std::move(to_b); }
    (void)co_await b;
    co_return std::chrono::duration<double, std::nano>(clock_type::now() - t0).count();
  }(rounds));
}

double mpsc(pw::runtime& rt, int producers, long per_producer, std::size_t capacity) {
  return rt.block_on([](int producers, long per, std::size_t capacity) -> pw::task<double> {
    const auto t0 = clock_type::now();
    auto [tx, rx] = pw::mpsc::channel<std::uint64_t>(capacity);
    std::vector<pw::join_handle<void>> hs;
    for (int p = 0; p < producers; ++p)
      hs.push_back(pw::spawn([](pw::mpsc::sender<std::uint64_t> arg, long per) -> pw::task<void> {
        auto tx = std::move(arg);
        for (long i = 0; i < per; ++i) require((co_await tx.send(static_cast<std::uint64_t>(i))).is_ok(), "mpsc send");
      }(tx, per)));
    { auto drop = std::move(tx); }
    std::uint64_t sum = 0, n = 0;
    for (;;) {
      auto v = co_await rx.recv();
      if (!v) break;
      sum += *v;
      ++n;
    }
    const auto per_u = static_cast<std::uint64_t>(per);
    require(n == per_u * static_cast<std::uint64_t>(producers), "mpsc count");
    require(sum == static_cast<std::uint64_t>(producers) * (per_u * (per_u - 1) / 2), "mpsc sum");
    for (auto& h : hs) (void)co_await h;
    co_return std::chrono::duration<double, std::nano>(clock_type::now() - t0).count();
  }(producers, per_producer, capacity));
}

double semaphore_workload(pw::runtime& rt, int tasks, std::size_t permits, int iterations) {
  return rt.block_on([](int tasks, std::size_t permits, int iterations) -> pw::task<double> {
    const auto t0 = clock_type::now();
    pw::semaphore sem(permits);
    std::atomic<std::size_t> holding{0};
    std::atomic<bool> violated{false};
    std::vector<pw::join_handle<void>> hs;
    hs.reserve(static_cast<std::size_t>(tasks));
    for (int t = 0; t < tasks; ++t)
      hs.push_back(pw::spawn([](pw::semaphore& sem, std::atomic<std::size_t>& holding, std::atomic<bool>& violated,
                                std::size_t permits, int iterations) -> pw::task<void> {
        for (int i = 0; i < iterations; ++i) {
          auto p = co_await sem.acquire();
          require(p.is_ok(), "semaphore acquire");
          if (holding.fetch_add(1, std::memory_order_relaxed) + 1 > permits) violated.store(true);
          co_await pw::yield_now();
          holding.fetch_sub(1, std::memory_order_relaxed);
        }
      }(sem, holding, violated, permits, iterations)));
    for (auto& h : hs) (void)co_await h;
    require(!violated.load(), "semaphore bound");
    require(sem.available_permits() == permits, "semaphore permits back");
    co_return std::chrono::duration<double, std::nano>(clock_type::now() - t0).count();
  }(tasks, permits, iterations));
}

struct row {
  const char* name;
  const char* unit;  // "ns/op" or "msg/s"
  double ops;        // operations per run (round trips, messages, acquires)
  double (*run)(pw::runtime&);
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  const char* filter = argc > 2 ? argv[2] : "";
  const row rows[] = {
      {"ping_pong_100k", "ns/round trip", 100'000, [](pw::runtime& rt) { return ping_pong(rt, 100'000); }},
      {"mpsc_4x250k_cap1024", "msg/s", 1'000'000, [](pw::runtime& rt) { return mpsc(rt, 4, 250'000, 1024); }},
      {"mpsc_1x1M_cap1024", "msg/s", 1'000'000, [](pw::runtime& rt) { return mpsc(rt, 1, 1'000'000, 1024); }},
      {"mpsc_4x2500k_cap1024", "msg/s", 10'000'000, [](pw::runtime& rt) { return mpsc(rt, 4, 2'500'000, 1024); }},
      {"semaphore_1000t_10p_x100", "ns/acquire", 100'000,
       [](pw::runtime& rt) { return semaphore_workload(rt, 1000, 10, 100); }},
  };
  std::printf("%-26s %8s %16s %16s %16s  (%d runs + warm-up)\n", "workload", "workers", "median", "min", "max", runs);
  for (std::size_t workers : {1u, 2u}) {
    pw::runtime rt(pw::runtime_options{.workers = workers});
    for (const row& r : rows) {
      if (*filter && !std::strstr(r.name, filter)) continue;
      (void)r.run(rt);  // warm-up
      std::vector<double> figures;
      for (int i = 0; i < runs; ++i) {
        const double ns = r.run(rt);
        figures.push_back(std::strcmp(r.unit, "msg/s") == 0 ? r.ops / (ns * 1e-9) : ns / r.ops);
      }
      const double lo = *std::min_element(figures.begin(), figures.end());
      const double hi = *std::max_element(figures.begin(), figures.end());
      if (std::strcmp(r.unit, "msg/s") == 0)
        std::printf("%-26s %8zu %13.2f M %13.2f M %13.2f M  msg/s\n", r.name, workers, median(figures) / 1e6, lo / 1e6,
                    hi / 1e6);
      else
        std::printf("%-26s %8zu %14.1f %16.1f %16.1f  %s\n", r.name, workers, median(figures), lo, hi, r.unit);
      std::fflush(stdout);
    }
  }
}
