#include "polarway/runtime/race.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "polarway/runtime.hpp"
#include "support/death.hpp"
#include "support/test_awaitables.hpp"
#include "support/wakeups.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int scale = 8;
#else
constexpr int scale = 1;
#endif

struct alive_counter {
  static inline std::atomic<int> alive{0};
  alive_counter() { ++alive; }
  alive_counter(const alive_counter&) = delete;
  ~alive_counter() { --alive; }
};

pw::task<int> after(std::chrono::milliseconds d, int v) {
  co_await pw::sleep(d);
  co_return v;
}

pw::task<void> forever_counted() {
  alive_counter c;
  co_await pw_test::suspend_forever{};
}

pw::task<int> waits_for(pw_test::event& e, int v) {
  co_await e.wait();
  co_return v;
}

}  // namespace

TEST_CASE("the first awaitable to complete wins; the others are cancelled before the caller resumes") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  alive_counter::alive = 0;
  auto r = rt.block_on([]() -> pw::task<pw::race_result<int, int, std::monostate>> {
    co_return co_await pw::race(after(1h, 1), after(1ms, 2), forever_counted());
  }());
  CHECK(r.index() == 1);
  CHECK(r.get<1>() == 2);
  CHECK(pw::get<1>(r) == 2);
  CHECK_FALSE(r.completed<0>());
  CHECK_FALSE(r.completed<2>());
  CHECK(alive_counter::alive.load() == 0);
}

TEST_CASE("a raced sleep is a timer of the race: a race of sleeps alone resumes with the earliest") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto r = rt.block_on([]() -> pw::task<pw::race_result<std::monostate, std::monostate>> {
    co_return co_await pw::race(pw::sleep(1h), pw::sleep(2ms));
  }());
  CHECK(r.index() == 1);
  CHECK_FALSE(r.completed<0>());
  // A sleep that is already due wins at once, and the other awaitables never run.
  alive_counter::alive = 0;
  auto due = rt.block_on([]() -> pw::task<std::size_t> {
    auto r = co_await pw::race(forever_counted(), pw::sleep(0ms), forever_counted());
    co_return r.index();
  }());
  CHECK(due == 1);
  CHECK(alive_counter::alive.load() == 0);
}

TEST_CASE("race works with channel receives, notified(), cancelled(), oneshots and join handles") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::mpsc::channel<std::string>(4);
    pw::cancellation_token stop;
    pw::notify note;

    // A channel receive against a stop token: the message wins while there is one.
    (void)co_await tx.send("tick");
    auto got = co_await pw::race(rx.recv(), stop.cancelled());
    REQUIRE(got.index() == 0);
    CHECK(*got.get<0>() == "tick");

    // The stop token wins once cancelled, and the losing receive takes nothing: the message
    // sent afterwards is still there for the next receive.
    stop.cancel();
    auto stopped = co_await pw::race(rx.recv(), stop.cancelled());
    CHECK(stopped.index() == 1);
    (void)co_await tx.send("kept");
    auto next = co_await rx.recv();
    REQUIRE(next);
    CHECK(*next == "kept");

    // notified() against a sleep, both ways round.
    note.notify_one();
    auto woke = co_await pw::race(pw::sleep(1h), note.notified());
    CHECK(woke.index() == 1);
    auto slept = co_await pw::race(note.notified(), pw::sleep(1ms));
    CHECK(slept.index() == 1);

    // A oneshot receiver and a join handle, named: awaited in place.
    auto [otx, orx] = pw::oneshot::channel<int>();
    auto h = pw::spawn(after(1h, 0));
    (void)otx.send(7);
    auto first = co_await pw::race(h, orx);
    REQUIRE(first.index() == 1);
    CHECK(first.get<1>() == pw::result<int>(7));
    // The handle lost but was not consumed: it can be raced, aborted and joined again.
    h.abort();
    auto joined = co_await pw::race(h, pw::sleep(1h));
    REQUIRE(joined.index() == 0);
    CHECK(joined.get<0>().error().is_cancelled());
  }());
}

TEST_CASE("values that cannot be copied come out of a race; get<I> on a loser aborts with a message") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto r = rt.block_on([]() -> pw::task<std::unique_ptr<int>> {
    auto r = co_await pw::race([]() -> pw::task<std::unique_ptr<int>> { co_return std::make_unique<int>(5); }(),
                               pw::sleep(1h));
    co_return std::move(r).get<0>();
  }());
  REQUIRE(r);
  CHECK(*r == 5);

  auto lost = rt.block_on([]() -> pw::task<pw::race_result<std::monostate, int>> {
    co_return co_await pw::race(pw::sleep(1ms), after(1h, 1));
  }());
  CHECK_FALSE(lost.completed<1>());
  // The death test's child starts no threads (ThreadSanitizer cannot start any after a fork):
  // a result whose awaitable 1 did not complete, as `lost` is.
  const auto d = pw_test::run_in_child([] {
    pw::race_result<std::monostate, int> r;
    (void)r.get<1>();
  });
  CHECK(d.aborted);
  CHECK(d.stderr_text.find("race_result::get") != std::string::npos);
}

TEST_CASE("aborting the task that awaits a race aborts every awaitable and disarms its timers") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  alive_counter::alive = 0;
  auto r = rt.block_on([]() -> pw::task<pw::result<void, pw::join_error>> {
    pw_test::event started;
    auto h = pw::spawn([](pw_test::event& started) -> pw::task<void> {
      started.set();
      (void)co_await pw::race(forever_counted(), pw::sleep(1h), forever_counted(), pw::sleep(2h));
    }(started));
    co_await started.wait();
    co_await pw::sleep(1ms);
    h.abort();
    co_return co_await h;
  }());
  REQUIRE(r.is_err());
  CHECK(r.error().is_cancelled());
  CHECK(alive_counter::alive.load() == 0);
}

TEST_CASE("a runtime shut down while races wait ends them all") {
  alive_counter::alive = 0;
  {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    for (int i = 0; i < 50; ++i)
      (void)rt.spawn([]() -> pw::task<void> { (void)co_await pw::race(forever_counted(), pw::sleep(1h)); }());
    rt.shutdown();
  }
  CHECK(alive_counter::alive.load() == 0);
}

TEST_CASE("a runtime shut down while races are starting never resumes one without a winner") {
  // A worker cancels every child it takes from a queue once shutdown has begun; a race whose
  // children all went that way before it could suspend must end with its task, not resume.
  alive_counter::alive = 0;
  for (int round = 0; round < 2000 / scale; ++round) {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    for (int i = 0; i < 16; ++i)
      (void)rt.spawn([]() -> pw::task<void> { (void)co_await pw::race(forever_counted(), forever_counted()); }());
    rt.shutdown();
  }
  CHECK(alive_counter::alive.load() == 0);
}

TEST_CASE("children that complete together: each value is kept and the first listed wins") {
  // Both events are set before the race runs its children, so whichever child runs first
  // decides; the other may or may not finish before its abort lands. Whatever happened, the
  // winner is the first listed of those that completed, and no completed value is dropped.
  pw::runtime rt(pw::runtime_options{.workers = 2});
  int both = 0;
  for (int i = 0; i < 500 / scale; ++i) {
    auto r = rt.block_on([]() -> pw::task<pw::race_result<int, int>> {
      pw_test::event a, b;
      a.set();
      b.set();
      co_return co_await pw::race(waits_for(a, 1), waits_for(b, 2));
    }());
    REQUIRE((r.completed<0>() || r.completed<1>()));
    CHECK(r.index() == (r.completed<0>() ? 0u : 1u));
    if (r.completed<0>()) CHECK(r.get<0>() == 1);
    if (r.completed<1>()) CHECK(r.get<1>() == 2);
    both += r.completed<0>() && r.completed<1>();
  }
  MESSAGE("races where both children completed: " << both);
}

TEST_CASE("reads raced against a stop token and a timer, ten thousand times, lose no byte") {
  // Each round races an in-flight read against a sleep that is already due or about to be
  // (the read is cancelled in the kernel), and sometimes against a stop token; the bytes the
  // writer sent must all arrive, in order, through the reads that won or completed.
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const int rounds = 10'000 / scale;
  const auto got = rt.block_on([](int rounds) -> pw::task<std::size_t> {
    auto l = pw::net::tcp_listener::bind("127.0.0.1:0").unwrap();
    auto client = (co_await pw::net::tcp_stream::connect(l.local_addr().unwrap())).unwrap();
    auto server_side = (co_await l.accept()).unwrap();
    pw::cancellation_token never;
    auto writer = pw::spawn([](pw::net::tcp_stream s, int rounds) -> pw::task<bool> {
      for (int i = 0; i < rounds; ++i) {
        const std::uint8_t b = static_cast<std::uint8_t>(i);
        if (!(co_await s.write_all(std::as_bytes(std::span(&b, 1))))) co_return false;
        if (i % 7 == 0) co_await pw::sleep(std::chrono::microseconds(50));
      }
      co_return true;
    }(std::move(server_side), rounds));
    std::vector<std::byte> buf(64);
    std::size_t received = 0;
    bool in_order = true;
    const auto deadline = pw::steady_clock::now() + 60s;
    while (received < static_cast<std::size_t>(rounds) && pw::steady_clock::now() < deadline) {
      auto r = co_await pw::race(client.read(buf), never.cancelled(), pw::sleep(std::chrono::microseconds(100)));
      if (!r.completed<0>()) continue;
      auto n = r.get<0>();
      REQUIRE(n.is_ok());
      for (std::size_t k = 0; k < *n; ++k)
        in_order = in_order && buf[k] == static_cast<std::byte>(static_cast<std::uint8_t>(received + k));
      received += *n;
    }
    CHECK(in_order);
    CHECK((co_await writer).unwrap_or(false));
    co_return received;
  }(rounds));
  CHECK(got == static_cast<std::size_t>(rounds));
}

TEST_CASE("a race can be moved before it is awaited, and nested in a timeout") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto r = rt.block_on([]() -> pw::task<pw::result<std::size_t>> {
    auto inner = pw::race(after(1h, 1), after(1h, 2));
    auto moved = std::move(inner);
    auto outer = co_await pw::timeout(2ms, std::move(moved));
    if (outer) co_return pw::ok(outer->index());
    co_return pw::err(outer.error());
  }());
  REQUIRE(r.is_err());
  CHECK(r.error() == pw::errc::timed_out);
}

TEST_CASE("semaphore acquires, mutex locks, sends and join_next race too, and losing takes nothing") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    pw::semaphore sem(0);
    auto lost = co_await pw::race(sem.acquire(), pw::sleep(1ms));
    CHECK(lost.index() == 1);
    sem.add_permits(1);
    auto won = co_await pw::race(sem.acquire(), pw::sleep(1h));
    REQUIRE(won.index() == 0);
    CHECK(won.get<0>().is_ok());
    CHECK(sem.available_permits() == 0);  // the permit is held by the result
    won = {};
    CHECK(sem.available_permits() == 1);

    pw::mutex m;
    {
      auto held = co_await m.lock();
      auto r = co_await pw::race(m.lock(), pw::sleep(1ms));
      CHECK(r.index() == 1);
    }
    auto free_now = co_await pw::race(m.lock(), pw::sleep(1h));
    CHECK(free_now.index() == 0);

    auto [tx, rx] = pw::mpsc::channel<int>(1);
    (void)co_await tx.send(1);
    auto full = co_await pw::race(tx.send(2), pw::sleep(1ms));  // the channel is full: the send loses
    CHECK(full.index() == 1);
    CHECK(*(co_await rx.recv()) == 1);
    CHECK(rx.try_recv().is_err());  // the lost send left nothing behind

    pw::join_set<int> set;
    set.spawn(after(1ms, 3));
    auto joined = co_await pw::race(set.join_next(), pw::sleep(1h));
    REQUIRE(joined.index() == 0);
    CHECK(joined.get<0>()->unwrap() == 3);
  }());
}

TEST_CASE("an awaitable ready at once wins with no task: the first listed of the ready ones") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    static std::atomic<int> started{0};
    started = 0;
    auto counted = []() -> pw::task<int> {
      ++started;
      co_return 0;
    };
    auto [tx, rx] = pw::mpsc::channel<int>(4);
    (void)tx.try_send(1);
    (void)tx.try_send(2);
    pw::cancellation_token stop;
    stop.cancel();
    // The task is listed first but cannot be ready before it runs; the receive is ready and
    // listed before the (also ready) token: it wins, and the task never starts.
    auto r = co_await pw::race(counted(), rx.recv(), stop.cancelled());
    REQUIRE(r.index() == 1);
    CHECK(*r.get<1>() == 1);
    CHECK_FALSE(r.completed<2>());
    CHECK(started.load() == 0);
    // The token listed first wins now, and the message stays in the channel.
    auto s = co_await pw::race(stop.cancelled(), rx.recv());
    CHECK(s.index() == 0);
    CHECK(*(co_await rx.recv()) == 2);
  }());
}

TEST_CASE("a race does not wake a parked worker to steal its arms") {
  // Its arms are waits that this worker runs as soon as the first one suspends
  // (scheduler::start_children with wake_peers false). Between two races the other worker has
  // time to park again, so a wake-up per race would count.
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const std::uint64_t before = pw_test::notified_wakeups(rt);
  rt.block_on([]() -> pw::task<void> {
    auto ready = [](int v) -> pw::task<int> { co_return v; };
    for (int i = 0; i < 300; ++i) {
      pw_test::busy_for(300us);
      auto r = co_await pw::race(ready(1), ready(2));
      CHECK((r.completed<0>() || r.completed<1>()));
    }
  }());
  CHECK(pw_test::notified_wakeups(rt) - before < 30);
}
