// pw::mpsc: ordering, back-pressure, close and drop semantics, cancellation of blocked sends
// and receives, and a stress run with random aborts of sender tasks.
#include "polarway/sync/mpsc.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "polarway/runtime.hpp"
#include "support/death.hpp"
#include "support/test_awaitables.hpp"

namespace pw = polarway;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr long scale = 10;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
constexpr long scale = 10;
#else
constexpr long scale = 1;
#endif
#else
constexpr long scale = 1;
#endif

// Lets every other runnable task on the worker run (a few rounds), so that with one worker the
// tasks spawned before have reached their suspension points.
pw::task<void> settle() {
  for (int i = 0; i < 4; ++i) co_await pw::yield_now();
}

}  // namespace

TEST_CASE("messages arrive in order; none once the senders are gone and the buffer is drained") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::mpsc::channel<int>(4);
    CHECK(tx.max_capacity() == 4);
    CHECK(tx.capacity() == 4);
    auto producer = pw::spawn([](pw::mpsc::sender<int> arg) -> pw::task<void> {
      auto tx = std::move(arg);  // parameters live as long as the frame; a local dies at co_return
      for (int i = 0; i < 1000; ++i) REQUIRE((co_await tx.send(i)).is_ok());
    }(std::move(tx)));
    for (int i = 0; i < 1000; ++i) {
      auto v = co_await rx.recv();
      REQUIRE(v.is_some());
      CHECK(*v == i);
    }
    CHECK((co_await rx.recv()).is_none());
    CHECK((co_await producer).is_ok());
  }());
}

TEST_CASE("try_send reports full and closed with the value; try_recv reports empty and disconnected") {
  auto [tx, rx] = pw::mpsc::channel<std::string>(2);
  CHECK(tx.try_send("a").is_ok());
  CHECK(tx.capacity() == 1);
  CHECK(tx.try_send("b").is_ok());
  CHECK(tx.capacity() == 0);
  auto full = tx.try_send("c");
  REQUIRE(full.is_err());
  CHECK(full.error().is_full());
  CHECK(full.error().value == "c");
  CHECK(*rx.try_recv() == "a");
  CHECK(tx.capacity() == 1);
  CHECK(*rx.try_recv() == "b");
  CHECK(rx.try_recv().error() == pw::mpsc::try_recv_error::empty);
  CHECK(!tx.is_closed());
  rx.close();
  CHECK(tx.is_closed());
  auto closed = tx.try_send("d");
  REQUIRE(closed.is_err());
  CHECK(closed.error().is_closed());
  CHECK(std::move(closed.error()).into_inner() == "d");
  CHECK(rx.try_recv().error() == pw::mpsc::try_recv_error::disconnected);
}

TEST_CASE("capacities that are not powers of two are exact") {
  for (std::size_t cap : {1u, 3u, 5u, 7u, 100u}) {
    auto [tx, rx] = pw::mpsc::channel<std::uint64_t>(cap);
    for (int round = 0; round < 5; ++round) {
      for (std::size_t i = 0; i < cap; ++i) REQUIRE(tx.try_send(i).is_ok());
      REQUIRE(tx.try_send(99).error().is_full());
      for (std::size_t i = 0; i < cap; ++i) REQUIRE(*rx.try_recv() == i);
      REQUIRE(rx.try_recv().is_err());
    }
  }
}

TEST_CASE("close: buffered messages are still received, blocked senders get their value back") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::mpsc::channel<int>(1);
    REQUIRE((co_await tx.send(1)).is_ok());
    auto blocked = pw::spawn([](pw::mpsc::sender<int> tx) -> pw::task<int> {
      auto r = co_await tx.send(2);
      co_return r.is_err() ? std::move(r.error()).into_inner() : -1;
    }(tx));
    co_await settle();
    CHECK(!blocked.is_finished());
    rx.close();
    CHECK(*(co_await blocked) == 2);  // the value came back
    CHECK(tx.is_closed());
    auto late = co_await tx.send(3);
    REQUIRE(late.is_err());
    CHECK(late.error().value == 3);
    CHECK(*(co_await rx.recv()) == 1);  // sent before the close
    CHECK((co_await rx.recv()).is_none());
  }());
}

TEST_CASE("dropping the receiver fails sends and drops the buffered values") {
  auto counter = std::make_shared<int>(0);
  auto [tx, rx] = pw::mpsc::channel<std::shared_ptr<int>>(4);
  REQUIRE(tx.try_send(counter).is_ok());
  REQUIRE(tx.try_send(counter).is_ok());
  CHECK(counter.use_count() == 3);
  { auto gone = std::move(rx); }
  CHECK(counter.use_count() == 1);  // the receiver's drop destroyed the buffered copies
  CHECK(tx.is_closed());
  CHECK(tx.try_send(counter).error().is_closed());
}

TEST_CASE("blocked senders are served in FIFO order") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::mpsc::channel<int>(1);
    REQUIRE(tx.try_send(0).is_ok());
    std::vector<pw::join_handle<void>> hs;
    for (int i = 1; i <= 5; ++i) {
      hs.push_back(pw::spawn(
          [](pw::mpsc::sender<int> tx, int v) -> pw::task<void> { REQUIRE((co_await tx.send(v)).is_ok()); }(tx, i)));
      co_await settle();  // queue them one at a time, in order
    }
    for (int i = 0; i <= 5; ++i) CHECK(*(co_await rx.recv()) == i);
    for (auto& h : hs) CHECK((co_await h).is_ok());
  }());
}

TEST_CASE("a sender aborted while blocked never delivers its value, and the next one still gets the slot") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::mpsc::channel<int>(1);
    REQUIRE(tx.try_send(0).is_ok());
    auto victim = pw::spawn([](pw::mpsc::sender<int> tx) -> pw::task<void> { (void)co_await tx.send(1); }(tx));
    co_await settle();
    auto next =
        pw::spawn([](pw::mpsc::sender<int> tx) -> pw::task<void> { REQUIRE((co_await tx.send(2)).is_ok()); }(tx));
    co_await settle();
    victim.abort();
    CHECK((co_await victim).error().cancelled());
    CHECK(*(co_await rx.recv()) == 0);
    CHECK(*(co_await rx.recv()) == 2);  // not 1: the aborted send never happened
    CHECK((co_await next).is_ok());
    CHECK(rx.try_recv().is_err());
  }());
}

TEST_CASE("a sender aborted after its value was handed over still delivered it") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::mpsc::channel<int>(1);
    REQUIRE(tx.try_send(0).is_ok());
    auto victim = pw::spawn([](pw::mpsc::sender<int> tx) -> pw::task<void> { (void)co_await tx.send(1); }(tx));
    co_await settle();
    // Taking 0 hands the slot to the blocked sender (its value moves in) and wakes it; abort it
    // before it runs: the send has happened, and exactly once.
    CHECK(*(co_await rx.recv()) == 0);
    victim.abort();
    (void)co_await victim;
    CHECK(*(co_await rx.recv()) == 1);
    CHECK(rx.try_recv().error() == pw::mpsc::try_recv_error::empty);
  }());
}

TEST_CASE("a receiver aborted while waiting loses nothing; the next recv gets the message") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  auto [tx, rx] = pw::mpsc::channel<int>(4);
  for (int round = 0; round < 50; ++round) {
    auto waiting = rt.spawn([](pw::mpsc::receiver<int>& rx) -> pw::task<int> {
      auto v = co_await rx.recv();
      co_return v ? *v : -1;
    }(rx));
    // Race the abort against the send: either the task got the value, or the value is still
    // in the channel.
    REQUIRE(tx.try_send(round).is_ok());
    waiting.abort();
    auto r = rt.block_on(
        [](pw::join_handle<int>& h) -> pw::task<pw::result<int, pw::join_error>> { co_return co_await h; }(waiting));
    if (r.is_ok()) {
      CHECK(*r == round);
    } else {
      auto again = rt.block_on(
          [](pw::mpsc::receiver<int>& rx) -> pw::task<pw::option<int>> { co_return co_await rx.recv(); }(rx));
      CHECK(again == pw::option<int>(round));
    }
  }
}

TEST_CASE("a waiting receiver is woken when the last sender goes") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  auto [tx, rx] = pw::mpsc::channel<int>(4);
  auto h = rt.spawn(
      [](pw::mpsc::receiver<int> rx) -> pw::task<bool> { co_return (co_await rx.recv()).is_none(); }(std::move(rx)));
  auto copy = tx;
  { auto a = std::move(tx); }
  { auto b = std::move(copy); }
  CHECK(rt.block_on([](pw::join_handle<bool>& h) -> pw::task<bool> { co_return *(co_await h); }(h)));
}

TEST_CASE("ping-pong over two capacity-1 channels: every park meets its wake-up") {
  for (std::size_t workers : {1u, 2u}) {
    pw::runtime rt(pw::runtime_options{.workers = workers});
    const long rounds = 200'000 / scale;
    const std::uint64_t last = rt.block_on([](long rounds) -> pw::task<std::uint64_t> {
      auto [to_b, b_rx] = pw::mpsc::channel<std::uint64_t>(1);
      auto [to_a, a_rx] = pw::mpsc::channel<std::uint64_t>(1);
      auto b =
          pw::spawn([](pw::mpsc::receiver<std::uint64_t> rx, pw::mpsc::sender<std::uint64_t> tx) -> pw::task<void> {
            for (;;) {
              auto v = co_await rx.recv();
              if (!v || !(co_await tx.send(*v + 1))) break;
            }
          }(std::move(b_rx), std::move(to_a)));
      std::uint64_t v = 0;
      for (long i = 0; i < rounds; ++i) {
        REQUIRE((co_await to_b.send(v)).is_ok());
        auto r = co_await a_rx.recv();
        REQUIRE(r == pw::option<std::uint64_t>(v + 1));
        v = *r + 1;
      }
      { auto close = std::move(to_b); }
      CHECK((co_await b).is_ok());
      CHECK((co_await a_rx.recv()).is_none());  // b's sender died with b
      co_return v;
    }(rounds));
    CHECK(last == static_cast<std::uint64_t>(2 * rounds));
  }
}

TEST_CASE("capacity 0 is a programming error") {
  auto d = pw_test::run_in_child([] { (void)pw::mpsc::channel<int>(0); });
  CHECK(d.aborted);
  CHECK(d.stderr_text.find("capacity must be at least 1") != std::string::npos);
}

TEST_CASE("stress: 8 producers, 1 consumer, random aborts of senders; nothing lost, nothing invented") {
  constexpr long total = 10'000'000 / scale;
  constexpr long job_size = 10'000 / (scale > 1 ? 10 : 1);
  constexpr long jobs = total / job_size;
  constexpr std::size_t slots = 8;

  struct job_record {
    std::atomic<long> attempted{0};  // sends started (the value of the one in flight, + 1)
    std::atomic<long> acked{0};      // sends reported ok
    bool aborted = false;
    long received = 0;  // consumer only: values of this job received so far (a prefix)
  };
  std::vector<job_record> rec(static_cast<std::size_t>(jobs));

  pw::runtime rt(pw::runtime_options{.workers = 2});
  auto [tx, rx] = pw::mpsc::channel<std::uint64_t>(128);

  std::uint64_t sum_received = 0;
  auto consumer = rt.spawn([](pw::mpsc::receiver<std::uint64_t> rx, std::vector<job_record>& rec, long job_size,
                              std::uint64_t& sum) -> pw::task<long> {
    long count = 0;
    bool ok = true;
    while (auto v = co_await rx.recv()) {
      const auto job = static_cast<std::size_t>(*v / static_cast<std::uint64_t>(job_size));
      const long index = static_cast<long>(*v % static_cast<std::uint64_t>(job_size));
      // Per job the values are sent in order: each must be exactly the next one (unique, and
      // never a value that was not attempted).
      if (job >= rec.size() || index != rec[job].received)
        ok = false;
      else
        ++rec[job].received;
      ++count;
      sum += *v;
    }
    co_return ok ? count : -1;
  }(std::move(rx), rec, job_size, sum_received));

  auto driver = rt.spawn([](pw::mpsc::sender<std::uint64_t> arg, std::vector<job_record>& rec, long jobs,
                            long job_size) -> pw::task<void> {
    auto tx = std::move(arg);
    std::mt19937_64 rng(12345);
    std::vector<std::optional<pw::join_handle<void>>> running;
    for (long j = 0; j < jobs; ++j) {
      const std::size_t slot_index = static_cast<std::size_t>(j) % slots;
      if (running.size() == slots)
        (void)co_await *running[slot_index];  // a slot frees up
      else
        running.emplace_back();
      // emplace, not assign: a moved-into join_handle keeps the target's "awaited" mark
      auto& slot = running[slot_index].emplace(pw::join_handle<void>());
      job_record& me = rec[static_cast<std::size_t>(j)];
      slot = pw::spawn(
          [](pw::mpsc::sender<std::uint64_t> tx, job_record& me, std::uint64_t base, long n) -> pw::task<void> {
            for (long i = 0; i < n; ++i) {
              me.attempted.store(i + 1, std::memory_order_relaxed);
              auto r = co_await tx.send(base + static_cast<std::uint64_t>(i));
              if (!r) co_return;  // cannot happen: the receiver outlives the producers
              me.acked.store(i + 1, std::memory_order_relaxed);
            }
          }(tx, me, static_cast<std::uint64_t>(j * job_size), job_size));
      if (rng() % 4 == 0) {  // abort a quarter of the jobs at a random point
        me.aborted = true;
        const auto delay = rng() % 64;
        for (std::uint64_t k = 0; k < delay; ++k) co_await pw::yield_now();
        slot.abort();
      }
    }
    for (auto& h : running) (void)co_await *h;
  }(tx, rec, jobs, job_size));
  { auto drop = std::move(tx); }

  rt.block_on([](pw::join_handle<void>& d) -> pw::task<void> { (void)co_await d; }(driver));
  const long received =
      rt.block_on([](pw::join_handle<long>& c) -> pw::task<long> { co_return *(co_await c); }(consumer));
  REQUIRE(received >= 0);  // -1: a duplicate, a gap or an unknown value

  long expected_count = 0, aborted_jobs = 0, cut_short = 0;
  std::uint64_t sum_expected = 0;
  for (std::size_t j = 0; j < rec.size(); ++j) {
    const job_record& r = rec[j];
    const long k = r.received;
    // Everything reported sent was delivered; nothing beyond the send in flight was.
    CHECK(k >= r.acked.load());
    CHECK(k <= r.attempted.load());
    if (!r.aborted) CHECK(k == job_size);
    aborted_jobs += r.aborted;
    cut_short += k < job_size;
    expected_count += k;
    const auto base = static_cast<std::uint64_t>(j) * static_cast<std::uint64_t>(job_size);
    sum_expected +=
        base * static_cast<std::uint64_t>(k) + static_cast<std::uint64_t>(k) * static_cast<std::uint64_t>(k - 1) / 2;
  }
  CHECK(received == expected_count);
  CHECK(sum_received == sum_expected);
  MESSAGE("jobs " << jobs << ", aborted " << aborted_jobs << " (cut short " << cut_short << "), received " << received
                  << " of " << total << ", checksum " << sum_expected);
  CHECK(aborted_jobs > 0);
}
