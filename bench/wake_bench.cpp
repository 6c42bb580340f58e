// The cost of waking a worker that sleeps in its io_uring ring, by the two mechanisms worth
// comparing: an eventfd whose read is kept armed in the sleeper's ring (what any
// thread can use), and IORING_OP_MSG_RING sent from the waker's own ring (only a worker has
// one). Two threads, each owning a ring, take turns: one sets the turn counter and wakes the
// other, which sleeps in its ring until it sees its turn, then does the same back. The figure
// is ns per wake (half a round trip), the median of the rounds, alternating the mechanisms so
// that drift hits both.
//   wake_bench [wakes per round] [rounds]
#include <polarway/runtime.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace pw = polarway;
using pw::detail::uring_driver;
using clock_type = std::chrono::steady_clock;

enum class mechanism { eventfd, msg_ring };

struct side {
  std::unique_ptr<uring_driver> ring;
};

// One thread's half of the ping-pong: waits for turns `first`, `first + 2`, ... and passes
// each on to the peer.
static void play(side& me, side& peer, std::atomic<std::uint64_t>& turn, std::uint64_t first, std::uint64_t total,
                 mechanism how) {
  for (std::uint64_t t = first; t < total; t += 2) {
    while (turn.load(std::memory_order_acquire) != t) me.ring->wait(-1);
    turn.store(t + 1, std::memory_order_release);
    if (how == mechanism::eventfd) peer.ring->unpark_via_eventfd();
    else me.ring->unpark_via_msg_ring(*peer.ring);
  }
}

static double ns_per_wake(mechanism how, std::uint64_t wakes) {
  side a, b;
  std::atomic<std::uint64_t> turn{0};
  std::atomic<int> rings_ready{0};
  std::atomic<bool> failed{false};
  const auto run = [&](side& me, side& peer, std::uint64_t first) {
    auto r = uring_driver::create();
    if (!r) {
      std::fprintf(stderr, "wake_bench: %s\n", r.error().message().c_str());
      failed = true;
    } else {
      me.ring = std::move(*r);
    }
    rings_ready.fetch_add(1);
    while (rings_ready.load() < 2) std::this_thread::yield();
    if (failed) return;
    play(me, peer, turn, first, wakes, how);
  };
  const auto t0 = clock_type::now();
  std::thread tb([&] { run(b, a, 1); });
  run(a, b, 0);
  tb.join();
  if (failed) std::exit(1);
  return std::chrono::duration<double, std::nano>(clock_type::now() - t0).count() / static_cast<double>(wakes);
}

int main(int argc, char** argv) {
  const long wakes = argc > 1 ? std::atol(argv[1]) : 200000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  if (wakes <= 0 || rounds <= 0) {
    std::fprintf(stderr, "usage: wake_bench [wakes per round > 0] [rounds > 0]\n");
    return 2;
  }
  std::vector<double> efd, msg;
  for (int r = 0; r < rounds; ++r) {
    efd.push_back(ns_per_wake(mechanism::eventfd, static_cast<std::uint64_t>(wakes)));
    msg.push_back(ns_per_wake(mechanism::msg_ring, static_cast<std::uint64_t>(wakes)));
  }
  const auto runs = [](std::vector<double> v) {
    std::string text;
    for (double x : v) text += (text.empty() ? "" : ", ") + std::to_string(static_cast<long>(x));
    std::sort(v.begin(), v.end());
    return std::make_pair(v[v.size() / 2], "[" + text + "]");
  };
  const auto [e, e_runs] = runs(efd);
  const auto [m, m_runs] = runs(msg);
  std::printf("{\"bench\": \"wake_%ld\", \"eventfd_ns_per_wake\": %.0f, \"msg_ring_ns_per_wake\": %.0f, "
              "\"msg_ring_vs_eventfd\": %.3f, \"rounds\": %d, \"eventfd_runs\": %s, \"msg_ring_runs\": %s}\n",
              wakes, e, m, e / m, rounds, e_runs.c_str(), m_runs.c_str());
  return 0;
}
