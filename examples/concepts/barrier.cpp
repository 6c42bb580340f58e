// pw::barrier: n tasks wait for each other, round after round (Tokio's Barrier). Here four
// workers each fill their share of a buffer, then meet at the barrier; the one the barrier
// names leader sums the round's buffer while the others wait at a second barrier. No worker
// starts the next round before the leader has read the last one.
#include <polarway/runtime.hpp>

#include <atomic>
#include <cstdio>
#include <vector>

namespace pw = polarway;

constexpr int workers = 4;
constexpr int rounds = 5;

struct shared {
  pw::barrier filled{workers};
  pw::barrier summed{workers};
  std::vector<std::atomic<int>> buffer = std::vector<std::atomic<int>>(workers);
  std::atomic<int> leaders{0};
  std::vector<int> sums;  // written by each round's leader only, between the two barriers
};

pw::task<void> worker(shared& s, int id) {
  for (int round = 1; round <= rounds; ++round) {
    s.buffer[static_cast<std::size_t>(id)] = round * (id + 1);  // this round's share
    auto r = co_await s.filled.wait();                         // everyone has written
    if (r.is_leader()) {                                        // exactly one per round
      int sum = 0;
      for (auto& v : s.buffer) sum += v;
      s.sums.push_back(sum);
      s.leaders.fetch_add(1);
    }
    (void)co_await s.summed.wait();  // nobody overwrites the buffer before the leader read it
  }
}

pw::task<int> run() {
  shared s;
  std::vector<pw::task<void>> tasks;
  for (int id = 0; id < workers; ++id) tasks.push_back(worker(s, id));
  co_await pw::join_all(std::move(tasks));

  if (s.leaders.load() != rounds || s.sums.size() != rounds) co_return 1;  // one leader per round
  int failures = 0;
  for (int round = 1; round <= rounds; ++round) {
    const int sum = s.sums[static_cast<std::size_t>(round - 1)];
    std::printf("round %d: sum %d\n", round, sum);
    failures += sum != round * (1 + 2 + 3 + 4);
  }
  co_return failures == 0 ? 0 : 1;
}

int main() {
  pw::runtime rt;
  return rt.block_on(run());
}
