// pw::broadcast: every receiver sees every value, lag and close semantics, value lifetimes
// (copies per receiver, nothing kept after every receiver read it or went away), racing and
// aborting a waiting recv, and multi-worker stress runs in which every value sent is either
// received once, in its sender's order, or counted as missed.
#include "polarway/sync/broadcast.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "polarway/runtime.hpp"
#include "support/death.hpp"
#include "support/stress.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {

constexpr int scale = pw_test::stress_scale;
using pw_test::settle;

// Counts live instances and copies, to see what the channel keeps and copies.
struct tracked {
  static inline std::atomic<long> live{0};
  static inline std::atomic<long> copies{0};
  int v = 0;
  explicit tracked(int x) noexcept : v(x) { live.fetch_add(1); }
  tracked(const tracked& o) noexcept : v(o.v) {
    live.fetch_add(1);
    copies.fetch_add(1);
  }
  tracked(tracked&& o) noexcept : v(o.v) { live.fetch_add(1); }
  tracked& operator=(const tracked&) = default;
  tracked& operator=(tracked&&) = default;
  ~tracked() { live.fetch_sub(1); }
};

}  // namespace

TEST_CASE("every receiver gets every value sent after it subscribed, in order") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx1] = pw::broadcast::channel<int>(16);
    CHECK(tx.receiver_count() == 1);
    CHECK(*tx.send(1) == 1);
    auto rx2 = tx.subscribe();  // does not see 1
    CHECK(tx.receiver_count() == 2);
    CHECK(*tx.send(2) == 2);
    CHECK(*tx.send(3) == 2);
    CHECK(rx1.len() == 3);
    CHECK(rx2.len() == 2);
    CHECK(tx.len() == 3);
    for (int want : {1, 2, 3}) CHECK(*(co_await rx1.recv()) == want);
    CHECK(tx.len() == 2);  // 1 was seen by every receiver that existed when it was sent
    for (int want : {2, 3}) CHECK(*(co_await rx2.recv()) == want);
    CHECK(tx.is_empty());
    CHECK(rx1.try_recv().error().is_empty());
    CHECK(rx2.is_empty());
    CHECK(rx1.same_channel(rx2));

    auto rx3 = rx1.resubscribe();  // starts now, not where rx1 is
    CHECK(*tx.send(4) == 3);
    CHECK(*(co_await rx3.recv()) == 4);
    CHECK(*rx1.try_recv() == 4);
  }());
}

TEST_CASE("send with no receiver fails and gives the value back; a new subscription reopens it") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::broadcast::channel<std::string>(2);
    { auto gone = std::move(rx); }
    CHECK(tx.receiver_count() == 0);
    auto failed = tx.send("lost");
    REQUIRE(failed.is_err());
    CHECK(std::move(failed.error()).into_inner() == "lost");
    auto again = tx.subscribe();
    CHECK(*tx.send("kept") == 1);
    CHECK(*(co_await again.recv()) == "kept");
  }());
}

TEST_CASE("a receiver more than capacity behind gets lagged(n) once, then the oldest kept value") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::broadcast::channel<int>(4);
    auto other = tx.subscribe();
    for (int i = 0; i < 10; ++i) CHECK(*tx.send(i) == 2);
    CHECK(rx.len() == 10);
    auto lag = co_await rx.recv();
    REQUIRE(lag.is_err());
    CHECK(lag.error().is_lagged());
    CHECK(lag.error().missed() == 6);
    CHECK(lag.error() == pw::broadcast::recv_error::lagged(6));
    for (int want = 6; want < 10; ++want) CHECK(*(co_await rx.recv()) == want);
    CHECK(rx.try_recv().error().is_empty());

    // try_recv reports the same lag.
    auto t = other.try_recv();
    REQUIRE(t.is_err());
    CHECK(t.error() == pw::broadcast::try_recv_error::lagged(6));
    CHECK(*other.try_recv() == 6);

    // Exactly capacity behind is no lag.
    for (int i = 10; i < 14; ++i) (void)tx.send(i);
    for (int want = 10; want < 14; ++want) CHECK(*(co_await rx.recv()) == want);
  }());
}

TEST_CASE("closed once every sender is gone and the receiver has read everything") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::broadcast::channel<int>(8);
    auto waiting_rx = tx.subscribe();
    // Waits before anything is sent, reads what comes, and ends at the close.
    auto reader = pw::spawn([](pw::broadcast::receiver<int>& rx) -> pw::task<std::vector<int>> {
      std::vector<int> got;
      for (;;) {
        auto r = co_await rx.recv();
        if (r.is_err()) {
          CHECK(r.error().is_closed());
          break;
        }
        got.push_back(*r);
      }
      co_return got;
    }(waiting_rx));
    co_await settle();
    {
      auto tx2 = tx;  // a copy: the channel stays open while either lives
      { auto dropped = std::move(tx); }
      (void)tx2.send(1);
      (void)tx2.send(2);
    }
    CHECK(*(co_await rx.recv()) == 1);
    CHECK(*(co_await rx.recv()) == 2);
    auto end = co_await rx.recv();
    REQUIRE(end.is_err());
    CHECK(end.error() == pw::broadcast::recv_error::closed());
    CHECK(rx.try_recv().error().is_closed());
    CHECK(rx.try_recv().error().is_closed());  // and stays so
    auto got = co_await reader;
    REQUIRE(got.is_ok());
    CHECK(*got == std::vector<int>{1, 2});
  }());
}

TEST_CASE("a waiting receiver is woken by the close with closed") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::broadcast::channel<int>(8);
    auto waiter = pw::spawn([](pw::broadcast::receiver<int>& rx) -> pw::task<bool> {
      auto r = co_await rx.recv();
      co_return r.is_err() && r.error().is_closed();
    }(rx));
    co_await settle();
    CHECK(!waiter.is_finished());
    { auto dropped = std::move(tx); }
    auto closed = co_await waiter;
    REQUIRE(closed.is_ok());
    CHECK(*closed);
  }());
}

TEST_CASE("values are copied to each receiver, the last reader takes the original, nothing outlives its readers") {
  tracked::live = 0;
  tracked::copies = 0;
  {
    pw::runtime rt(pw::runtime_options{.workers = 1});
    rt.block_on([]() -> pw::task<void> {
      auto [tx, a] = pw::broadcast::channel<tracked>(4);
      auto b = tx.subscribe();
      auto c = tx.subscribe();
      (void)tx.send(tracked(7));
      CHECK(tracked::live.load() == 1);  // the one in the ring
      {
        auto va = co_await a.recv();
        auto vb = co_await b.recv();
        CHECK(va->v == 7);
        CHECK(vb->v == 7);
        CHECK(tracked::copies.load() == 2);
        auto vc = co_await c.recv();  // the last reader: moved out, not copied
        CHECK(vc->v == 7);
        CHECK(tracked::copies.load() == 2);
        CHECK(tracked::live.load() == 3);  // only the three received values: the ring let go
      }
      CHECK(tracked::live.load() == 0);

      // A receiver that goes away gives up its share: a value read by the others is freed.
      (void)tx.send(tracked(8));
      (void)tx.send(tracked(9));
      CHECK(tracked::live.load() == 2);
      (void)co_await a.recv();
      (void)co_await a.recv();
      (void)co_await b.recv();
      (void)co_await b.recv();
      CHECK(tracked::live.load() == 2);  // c has not read them
      { auto gone = std::move(c); }
      CHECK(tracked::live.load() == 0);

      // Overwritten values are destroyed when overwritten.
      for (int i = 0; i < 10; ++i) (void)tx.send(tracked(i));
      CHECK(tracked::live.load() == 4);
    }());
  }
  CHECK(tracked::live.load() == 0);  // the channel freed what it still held
}

TEST_CASE("recv races: a sleep wins while nothing is sent, and the losing recv takes nothing") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::broadcast::channel<int>(8);
    auto slept = co_await pw::race(rx.recv(), pw::sleep(2ms));
    CHECK(slept.index() == 1);
    (void)tx.send(5);
    auto got = co_await pw::race(rx.recv(), pw::sleep(1h));
    REQUIRE(got.index() == 0);
    CHECK(*got.get<0>() == 5);

    // Ready at once, a recv listed after a ready sleep loses and leaves its value.
    (void)tx.send(6);
    auto lost = co_await pw::race(pw::sleep(0ms), rx.recv());
    CHECK(lost.index() == 0);
    CHECK(*rx.try_recv() == 6);

    // Through pw::timeout: timed_out, then the value sent afterwards.
    auto timed_out = co_await pw::timeout(2ms, rx.recv());
    REQUIRE(timed_out.is_err());
    CHECK(timed_out.error() == pw::errc::timed_out);
    (void)tx.send(7);
    auto in_time = co_await pw::timeout(1h, rx.recv());
    REQUIRE(in_time.is_ok());
    CHECK(**in_time == 7);

    // A recv woken by a send, from another worker, while raced against a stop token.
    pw::cancellation_token stop;
    auto later = pw::spawn([](pw::broadcast::sender<int> tx) -> pw::task<void> {
      co_await pw::sleep(1ms);
      (void)tx.send(8);
    }(tx));
    auto woke = co_await pw::race(rx.recv(), stop.cancelled());
    REQUIRE(woke.index() == 0);
    CHECK(*woke.get<0>() == 8);
    (void)co_await later;
  }());
}

TEST_CASE("recv raced against a short sleep, thousands of times, loses no value") {
  // A sender on the other worker sends at its own pace; each round races a recv against a
  // sleep that is often due first. Every value must arrive exactly once, in order.
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const int total = 3000 / scale;
  const int received = rt.block_on([](int total) -> pw::task<int> {
    auto [tx, rx] = pw::broadcast::channel<int>(static_cast<std::size_t>(total));
    auto producer = pw::spawn([](pw::broadcast::sender<int> arg, int total) -> pw::task<void> {
      auto tx = std::move(arg);
      for (int i = 0; i < total; ++i) {
        (void)tx.send(i);
        if (i % 7 == 0) co_await pw::sleep(std::chrono::microseconds(50));
        else co_await pw::yield_now();
      }
    }(std::move(tx), total));
    int next = 0, timeouts = 0;
    for (;;) {
      auto r = co_await pw::race(rx.recv(), pw::sleep(std::chrono::microseconds(30)));
      if (r.completed<0>()) {
        auto& v = r.get<0>();
        if (v.is_err()) {
          CHECK(v.error().is_closed());
          break;
        }
        CHECK(*v == next);
        ++next;
      }
      timeouts += r.index() == 1;
    }
    (void)co_await producer;
    MESSAGE("rounds lost to the sleep: " << timeouts);
    co_return next;
  }(total));
  CHECK(received == total);
}

TEST_CASE("a task aborted while waiting in recv leaves the receiver usable and loses nothing") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::broadcast::channel<int>(4);
    auto waiting = pw::spawn([](pw::broadcast::receiver<int>& rx) -> pw::task<int> {
      auto r = co_await rx.recv();
      co_return r ? *r : -1;
    }(rx));
    co_await settle();
    (void)tx.send(1);  // wakes the waiter, which cannot run before we yield (one worker)
    waiting.abort();
    CHECK((co_await waiting).error().is_cancelled());
    CHECK(*(co_await rx.recv()) == 1);  // the aborted recv took nothing

    // Aborted while still queued: it leaves the queue; later sends still work.
    auto queued = pw::spawn([](pw::broadcast::receiver<int>& rx) -> pw::task<int> {
      auto r = co_await rx.recv();
      co_return r ? *r : -1;
    }(rx));
    co_await settle();
    queued.abort();
    CHECK((co_await queued).error().is_cancelled());
    (void)tx.send(2);
    CHECK(*(co_await rx.recv()) == 2);
  }());
}

TEST_CASE("capacity 0 aborts with a message; a moved-from receiver too") {
  auto zero = pw_test::run_in_child([] { (void)pw::broadcast::channel<int>(0); });
  CHECK(zero.aborted);
  CHECK(zero.stderr_text.find("capacity must be at least 1") != std::string::npos);
  auto moved = pw_test::run_in_child([] {
    auto [tx, rx] = pw::broadcast::channel<int>(1);
    auto other = std::move(rx);
    (void)rx.try_recv();
  });
  CHECK(moved.aborted);
  CHECK(moved.stderr_text.find("moved from") != std::string::npos);
}

namespace {

struct receiver_stats {
  std::uint64_t received = 0;
  std::uint64_t missed = 0;
  std::uint64_t lags = 0;
  bool in_order = true;
  bool contiguous = true;  // each sender's values arrived without gaps
};

// A value names its sender (high bits) and its sequence number (low bits).
constexpr int seq_bits = 32;

pw::task<receiver_stats> consume(pw::broadcast::receiver<std::uint64_t> rx, int senders) {
  receiver_stats s;
  std::vector<std::int64_t> last(static_cast<std::size_t>(senders), -1);
  for (;;) {
    auto r = co_await rx.recv();
    if (r.is_err()) {
      if (r.error().is_closed()) break;
      s.missed += r.error().missed();
      ++s.lags;
      continue;
    }
    const auto from = static_cast<std::size_t>(*r >> seq_bits);
    const auto seq = static_cast<std::int64_t>(*r & ((std::uint64_t{1} << seq_bits) - 1));
    if (seq <= last[from]) s.in_order = false;
    if (seq != last[from] + 1) s.contiguous = false;
    last[from] = seq;
    ++s.received;
  }
  co_return s;
}

pw::task<bool> produce(pw::broadcast::sender<std::uint64_t> tx, int id, int count, std::size_t receivers) {
  bool all_seen = true;
  for (int i = 0; i < count; ++i) {
    auto r = tx.send((static_cast<std::uint64_t>(id) << seq_bits) | static_cast<std::uint64_t>(i));
    all_seen = all_seen && r.is_ok() && *r == receivers;
    if (i % 64 == 0) co_await pw::yield_now();
  }
  co_return all_seen;
}

void run_stress(std::size_t capacity, int senders, int receivers, int per_sender, bool expect_lossless) {
  pw::runtime rt(pw::runtime_options{.workers = 4});
  rt.block_on([](std::size_t capacity, int senders, int receivers, int per_sender,
                 bool expect_lossless) -> pw::task<void> {
    auto [tx0, rx0] = pw::broadcast::channel<std::uint64_t>(capacity);
    auto tx = std::move(tx0);
    std::vector<pw::join_handle<receiver_stats>> consumers;
    consumers.push_back(pw::spawn(consume(std::move(rx0), senders)));
    for (int i = 1; i < receivers; ++i) consumers.push_back(pw::spawn(consume(tx.subscribe(), senders)));
    std::vector<pw::join_handle<bool>> producers;
    for (int id = 0; id < senders; ++id)
      producers.push_back(pw::spawn(produce(tx, id, per_sender, static_cast<std::size_t>(receivers))));
    { auto last_copy_here = std::move(tx); }  // the producers' copies keep the channel open
    for (auto& p : producers) {
      auto ok = co_await p;
      REQUIRE(ok.is_ok());
      CHECK(*ok);  // every send reached every receiver (none leaves before the close)
    }
    const auto total = static_cast<std::uint64_t>(senders) * static_cast<std::uint64_t>(per_sender);
    std::uint64_t lagged_receivers = 0;
    for (auto& c : consumers) {
      auto s = co_await c;
      REQUIRE(s.is_ok());
      CHECK(s->in_order);
      CHECK(s->received + s->missed == total);  // each value received once or counted missed
      lagged_receivers += s->lags != 0;
      if (expect_lossless) {
        CHECK(s->missed == 0);
        CHECK(s->contiguous);
      }
    }
    MESSAGE("capacity " << capacity << ": receivers that lagged " << lagged_receivers);
  }(capacity, senders, receivers, per_sender, expect_lossless));
}

}  // namespace

TEST_CASE("stress: 4 senders, 4 receivers, 4 workers; a ring large enough for everything loses nothing") {
  const int per_sender = 20000 / scale;
  run_stress(static_cast<std::size_t>(4 * per_sender), 4, 4, per_sender, true);
}

TEST_CASE("stress: 4 senders, 4 receivers, 4 workers, a ring of 8: every value received once or counted missed") {
  run_stress(8, 4, 4, 20000 / scale, false);
}

TEST_CASE("stress: receivers subscribe and go away while senders run; nothing is leaked") {
  tracked::live = 0;
  {
    pw::runtime rt(pw::runtime_options{.workers = 4});
    rt.block_on([]() -> pw::task<void> {
      auto [tx, rx] = pw::broadcast::channel<tracked>(16);
      std::atomic<bool> done{false};
      auto producer = pw::spawn([](pw::broadcast::sender<tracked> tx, std::atomic<bool>& done) -> pw::task<void> {
        for (int i = 0; i < 20000 / scale; ++i) {
          (void)tx.send(tracked(i));
          if (i % 32 == 0) co_await pw::yield_now();
        }
        done.store(true);
      }(tx, done));
      std::vector<pw::join_handle<void>> readers;
      int round = 0;
      while (!done.load()) {
        // A reader that reads a few values and goes away, and one that is aborted mid-wait.
        readers.push_back(pw::spawn([](pw::broadcast::receiver<tracked> rx, int n) -> pw::task<void> {
          for (int i = 0; i < n; ++i) {
            auto r = co_await rx.recv();
            if (r.is_err() && r.error().is_closed()) break;
          }
        }(tx.subscribe(), round % 5)));
        auto victim = pw::spawn([](pw::broadcast::receiver<tracked> rx) -> pw::task<void> {
          for (;;) {
            auto r = co_await rx.recv();
            if (r.is_err() && r.error().is_closed()) break;
          }
        }(tx.subscribe()));
        co_await pw::yield_now();
        victim.abort();  // it cannot end by itself: the channel stays open while we hold tx
        CHECK((co_await victim).error().is_cancelled());
        ++round;
      }
      (void)co_await producer;
      { auto last = std::move(tx); }  // closes the channel: the readers still waiting end
      for (auto& r : readers) CHECK((co_await r).is_ok());
      // rx never read: it still holds its share of the last 16 values until it goes.
    }());
  }
  CHECK(tracked::live.load() == 0);
}
