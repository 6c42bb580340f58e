// Waking a thread that sleeps in its io_uring ring: ring to ring (IORING_OP_MSG_RING) when the
// waker owns a ring itself, through the eventfd otherwise. A lost wake-up would leave the
// sleeper in wait() until its 10 s limit, which the checks below catch as a failure rather
// than a hang.
#include "polarway/detail/uring_driver.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

using polarway::detail::uring_driver;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t ten_seconds_ns = 10'000'000'000;

// Sleeps in `ring` until `turn` reaches `want`; returns how long the last wait() took.
std::chrono::nanoseconds wait_for_turn(uring_driver& ring, std::atomic<int>& turn, int want) {
  auto waited = std::chrono::nanoseconds::zero();
  while (turn.load(std::memory_order_acquire) < want) {
    const auto t0 = std::chrono::steady_clock::now();
    ring.wait(ten_seconds_ns);
    waited = std::chrono::steady_clock::now() - t0;
    if (waited >= 9s) break;
  }
  return waited;
}

}  // namespace

TEST_CASE("a ring owner wakes another ring's owner ring to ring, many times over") {
  auto probe = uring_driver::create();
  if (!probe) {
    MESSAGE("io_uring unavailable here (" << probe.error().message() << "); nothing to test");
    return;
  }
  if (!(*probe)->has_msg_ring()) {
    MESSAGE("this kernel has no IORING_OP_MSG_RING; wake-ups use the eventfd");
    return;
  }
  probe->reset();
  constexpr int rounds = 2000;
  std::atomic<int> turn{0};
  std::unique_ptr<uring_driver> rings[2];
  std::atomic<int> created{0};
  std::atomic<bool> stalled{false};
  // Two threads, each owning a ring, pass the turn back and forth; unpark() from a ring owner
  // takes the MSG_RING path.
  const auto player = [&](int me) {
    rings[me] = uring_driver::create().unwrap();
    created.fetch_add(1);
    while (created.load() < 2) std::this_thread::yield();
    for (int t = me; t < rounds; t += 2) {
      if (wait_for_turn(*rings[me], turn, t) >= 9s) {
        stalled = true;
        turn.store(rounds + 1);  // release the other side too
        rings[1 - me]->unpark_via_eventfd();
        return;
      }
      turn.store(t + 1, std::memory_order_release);
      rings[1 - me]->unpark();
    }
  };
  std::thread other(player, 1);
  player(0);
  other.join();
  CHECK_FALSE(stalled.load());
  CHECK(turn.load() == rounds);
}

TEST_CASE("a thread without a ring wakes a ring's owner through the eventfd") {
  auto probe = uring_driver::create();
  if (!probe) {
    MESSAGE("io_uring unavailable here (" << probe.error().message() << "); nothing to test");
    return;
  }
  probe->reset();  // this thread owns no ring from here on, so unpark() writes the eventfd
  constexpr int rounds = 200;
  std::atomic<int> turn{0};
  std::atomic<uring_driver*> ring{nullptr};
  std::atomic<bool> stalled{false}, waker_done{false};
  std::thread sleeper([&] {
    auto own = uring_driver::create().unwrap();
    ring = own.get();
    for (int t = 1; t <= rounds; ++t)
      if (wait_for_turn(*own, turn, t) >= 9s) {
        stalled = true;
        break;
      }
    while (!waker_done.load()) std::this_thread::yield();  // the ring must outlive the last unpark()
  });
  while (!ring.load()) std::this_thread::yield();
  for (int t = 1; t <= rounds && !stalled.load(); ++t) {
    if (t % 20 == 0) std::this_thread::sleep_for(1ms);  // now and then the sleeper is in wait()
    uring_driver* r = ring.load();
    turn.store(t, std::memory_order_release);
    r->unpark();
  }
  waker_done = true;
  sleeper.join();
  CHECK_FALSE(stalled.load());
  CHECK(turn.load() == rounds);
}
