// runtime::metrics(): what the workers have done, read from any thread while they run. Here a
// fork-join tree runs on two workers while the main thread takes a snapshot every few
// milliseconds, as a metrics exporter would; at the end each worker's counters are printed.
#include <polarway/runtime.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

namespace pw = polarway;
using namespace std::chrono_literals;

pw::task<long> tree(int depth) {
  if (depth == 0) co_return 1;
  std::vector<pw::task<long>> children;
  for (int i = 0; i < 4; ++i) children.push_back(tree(depth - 1));
  long leaves = 0;
  for (long n : co_await pw::join_all(std::move(children))) leaves += n;
  co_return leaves;
}

int main() {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  std::atomic<bool> done{false};
  std::uint64_t snapshots = 0;
  std::thread exporter([&] {
    while (!done.load()) {
      const pw::runtime_metrics m = rt.metrics();
      snapshots += m.workers.size() == 2 ? 1 : 0;
      std::this_thread::sleep_for(2ms);
    }
  });
  const long leaves = rt.block_on(tree(9));
  done.store(true);
  exporter.join();

  const pw::runtime_metrics m = rt.metrics();
  std::printf("%ld leaves; %llu tasks spawned, %llu live; %llu snapshots taken while running\n", leaves,
              static_cast<unsigned long long>(m.tasks_spawned), static_cast<unsigned long long>(m.live_tasks),
              static_cast<unsigned long long>(snapshots));
  std::uint64_t polls = 0;
  for (std::size_t i = 0; i < m.workers.size(); ++i) {
    const pw::worker_metrics& w = m.workers[i];
    polls += w.polls;
    std::printf("worker %zu: %llu polls, %llu steals (%llu tried), %llu stolen from it, %llu parks, busy %.1f ms\n", i,
                static_cast<unsigned long long>(w.polls), static_cast<unsigned long long>(w.steals),
                static_cast<unsigned long long>(w.steal_attempts), static_cast<unsigned long long>(w.stolen_from),
                static_cast<unsigned long long>(w.parks), std::chrono::duration<double, std::milli>(w.busy_time).count());
  }
  // 4^9 leaves; every task of the tree was spawned and polled at least once, and none is left.
  return leaves == 262144 && m.tasks_spawned >= 349525 && polls >= 349525 && m.live_tasks == 0 ? 0 : 1;
}
