// pw::watch: versions and what counts as seen, send / send_replace / send_modify /
// send_if_modified, close semantics, borrowed values that stay valid and unchanged across
// sends and awaits, racing and aborting a waiting changed(), and a multi-worker stress run with
// concurrent writers and readers that checks no update is lost and no value is seen torn.
#include "polarway/sync/watch.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "polarway/runtime.hpp"
#include "support/stress.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {

constexpr int scale = pw_test::stress_scale;
using pw_test::settle;

// Counts copies, to tell an in-place send from a new snapshot.
struct counted {
  static inline std::atomic<long> copies{0};
  int v = 0;
  explicit counted(int x) noexcept : v(x) {}
  counted(const counted& o) noexcept : v(o.v) { copies.fetch_add(1); }
  counted(counted&&) noexcept = default;
  counted& operator=(const counted& o) noexcept {
    v = o.v;
    copies.fetch_add(1);
    return *this;
  }
  counted& operator=(counted&&) noexcept = default;
};

}  // namespace

TEST_CASE("the initial value counts as seen; a send makes it changed until it is seen") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::watch::channel<std::string>("a");
    CHECK(*rx.borrow() == "a");
    CHECK(!rx.borrow().has_changed());
    CHECK(*rx.has_changed() == false);
    REQUIRE(tx.send("b").is_ok());
    CHECK(*rx.has_changed() == true);
    {
      auto b = rx.borrow();  // does not mark it seen
      CHECK(*b == "b");
      CHECK(b.has_changed());
    }
    CHECK(*rx.has_changed() == true);
    CHECK((co_await rx.changed()).is_ok());  // at once: b was not seen
    CHECK(*rx.has_changed() == false);
    CHECK(*rx.borrow() == "b");

    REQUIRE(tx.send("c").is_ok());
    REQUIRE(tx.send("d").is_ok());  // changes coalesce: one changed() for both
    auto latest = rx.borrow_and_update();
    CHECK(*latest == "d");
    CHECK(latest.has_changed());
    CHECK(*rx.has_changed() == false);
    CHECK(latest->size() == 1);

    rx.mark_changed();
    CHECK(*rx.has_changed() == true);
    rx.mark_unchanged();
    CHECK(*rx.has_changed() == false);
    CHECK(*tx.borrow() == "d");
  }());
}

TEST_CASE("changed() waits for the next send and wakes every waiting receiver; copies share what was seen") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::watch::channel<int>(0);
    REQUIRE(tx.send(1).is_ok());
    auto copy = rx;  // has not seen 1 either
    CHECK(*copy.has_changed());
    (void)rx.borrow_and_update();
    CHECK(*copy.has_changed());
    CHECK(!*rx.has_changed());

    std::vector<pw::watch::receiver<int>> rxs;
    for (int i = 0; i < 8; ++i) rxs.push_back(tx.subscribe());
    CHECK(tx.receiver_count() == 10);
    std::vector<pw::join_handle<int>> waiters;
    for (auto& r : rxs)
      waiters.push_back(pw::spawn([](pw::watch::receiver<int>& rx) -> pw::task<int> {
        if (!(co_await rx.changed())) co_return -1;
        co_return *rx.borrow();
      }(r)));
    co_await settle();
    for (auto& w : waiters) CHECK(!w.is_finished());
    REQUIRE(tx.send(2).is_ok());
    for (auto& w : waiters) CHECK(*(co_await w) == 2);
  }());
}

TEST_CASE("send fails with no receiver and stores nothing; send_replace and send_modify store regardless") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::watch::channel<int>(1);
    CHECK(!tx.is_closed());
    { auto gone = std::move(rx); }
    CHECK(tx.is_closed());
    auto failed = tx.send(2);
    REQUIRE(failed.is_err());
    CHECK(std::move(failed.error()).into_inner() == 2);
    CHECK(*tx.borrow() == 1);  // not stored
    CHECK(tx.send_replace(3) == 1);
    tx.send_modify([](int& v) { v *= 10; });
    CHECK(*tx.borrow() == 30);
    auto late = tx.subscribe();  // reopens: has seen 30
    CHECK(!*late.has_changed());
    REQUIRE(tx.send(4).is_ok());
    CHECK(*late.has_changed());

    // send_if_modified tells receivers only when the function says it changed the value.
    (void)late.borrow_and_update();
    CHECK(!tx.send_if_modified([](int& v) { return v == 0; }));
    CHECK(!*late.has_changed());
    CHECK(tx.send_if_modified([](int& v) {
      v = 5;
      return true;
    }));
    CHECK(*late.has_changed());
    CHECK(*late.borrow() == 5);
    co_return;
  }());
}

TEST_CASE("after the last sender goes, changed() gives the unseen value first, then errc::closed") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::watch::channel<int>(0);
    auto waiting = rx;
    auto waiter = pw::spawn([](pw::watch::receiver<int>& rx) -> pw::task<bool> {
      auto r = co_await rx.changed();  // nothing new: waits; the close wakes it with an error
      co_return r.is_err() && r.error() == pw::errc::closed;
    }(waiting));
    co_await settle();
    {
      auto tx2 = tx;
      { auto dropped = std::move(tx); }
      REQUIRE(tx2.send(7).is_ok());
    }
    CHECK((co_await rx.changed()).is_ok());  // 7 was not seen yet
    CHECK(*rx.borrow() == 7);               // the last value stays readable
    auto end = co_await rx.changed();
    REQUIRE(end.is_err());
    CHECK(end.error() == pw::errc::closed);
    CHECK(rx.has_changed().is_err());
    // The waiter was woken by the send (then saw it) or by the close.
    auto w = co_await waiter;
    REQUIRE(w.is_ok());
    if (!*w) CHECK((co_await waiting.changed()).is_err());  // it saw 7; the close comes next
  }());
}

TEST_CASE("a waiting changed() is woken by the close with errc::closed") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::watch::channel<int>(0);
    auto waiter = pw::spawn([](pw::watch::receiver<int>& rx) -> pw::task<bool> {
      auto r = co_await rx.changed();
      co_return r.is_err() && r.error() == pw::errc::closed;
    }(rx));
    co_await settle();
    CHECK(!waiter.is_finished());
    { auto dropped = std::move(tx); }
    CHECK(*(co_await waiter));
  }());
}

TEST_CASE("a borrowed value stays valid and unchanged across sends and awaits; sends do not wait for it") {
  counted::copies = 0;
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::watch::channel<counted>(counted(1));
    // Nobody holds a borrow: sends write in place, without a copy.
    REQUIRE(tx.send(counted(2)).is_ok());
    tx.send_modify([](counted& c) { ++c.v; });
    CHECK(counted::copies.load() == 0);
    CHECK(rx.borrow()->v == 3);

    auto held = rx.borrow_and_update();
    // A send from another worker while we hold the borrow across an await: it does not wait
    // for us, and our value does not change under us.
    auto writer = pw::spawn([](pw::watch::sender<counted> tx) -> pw::task<void> {
      for (int i = 4; i <= 10; ++i) (void)tx.send(counted(i));
      co_return;
    }(tx));
    (void)co_await writer;
    co_await pw::sleep(1ms);
    CHECK(held->v == 3);
    CHECK(rx.borrow()->v == 10);
    CHECK(counted::copies.load() == 0);  // a new snapshot, not a copy of the held one
    tx.send_modify([](counted& c) { c.v = 11; });  // the current value is free again: in place
    CHECK(counted::copies.load() == 0);
    auto second = rx.borrow();
    tx.send_modify([](counted& c) { c.v = 12; });  // `second` holds it: modifies a copy
    CHECK(counted::copies.load() == 1);
    CHECK(second->v == 11);
    CHECK(tx.send_replace(counted(13)).v == 12);
    CHECK(held->v == 3);
    CHECK(rx.borrow()->v == 13);
  }());
}

TEST_CASE("changed() races: a sleep wins while nothing changes, and the losing changed() consumes nothing") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::watch::channel<int>(0);
    auto slept = co_await pw::race(rx.changed(), pw::sleep(2ms));
    CHECK(slept.index() == 1);
    REQUIRE(tx.send(1).is_ok());
    auto lost = co_await pw::race(pw::sleep(0ms), rx.changed());  // the ready sleep is first
    CHECK(lost.index() == 0);
    CHECK(*rx.has_changed());  // the change is still unseen
    auto won = co_await pw::race(rx.changed(), pw::sleep(1h));
    REQUIRE(won.index() == 0);
    CHECK(won.get<0>().is_ok());

    auto timed_out = co_await pw::timeout(2ms, rx.changed());
    REQUIRE(timed_out.is_err());
    CHECK(timed_out.error() == pw::errc::timed_out);
    auto later = pw::spawn([](pw::watch::sender<int> tx) -> pw::task<void> {
      co_await pw::sleep(1ms);
      (void)tx.send(2);
    }(tx));
    auto in_time = co_await pw::timeout(1h, rx.changed());
    REQUIRE(in_time.is_ok());
    CHECK(in_time->is_ok());
    CHECK(*rx.borrow() == 2);
    (void)co_await later;
  }());
}

TEST_CASE("a task aborted while waiting in changed() leaves the change for the next call") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::watch::channel<int>(0);
    auto waiting = pw::spawn([](pw::watch::receiver<int>& rx) -> pw::task<void> { (void)co_await rx.changed(); }(rx));
    co_await settle();
    REQUIRE(tx.send(1).is_ok());  // wakes the waiter, which cannot run before we yield
    waiting.abort();
    CHECK((co_await waiting).error().is_cancelled());
    CHECK(*rx.has_changed());  // not marked seen
    CHECK((co_await rx.changed()).is_ok());

    auto queued = pw::spawn([](pw::watch::receiver<int>& rx) -> pw::task<void> { (void)co_await rx.changed(); }(rx));
    co_await settle();
    queued.abort();  // aborted while queued: it leaves the queue
    CHECK((co_await queued).error().is_cancelled());
    REQUIRE(tx.send(2).is_ok());
    CHECK((co_await rx.changed()).is_ok());
  }());
}

TEST_CASE("wait_for returns the first value that satisfies the predicate, or closed") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::watch::channel<int>(0);
    auto counter = pw::spawn([](pw::watch::sender<int> tx) -> pw::task<void> {
      for (int i = 1; i <= 10; ++i) {
        tx.send_modify([](int& v) { ++v; });
        co_await pw::yield_now();
      }
    }(tx));
    auto five = co_await rx.wait_for([](int v) { return v >= 5; });
    REQUIRE(five.is_ok());
    CHECK(**five >= 5);
    (void)co_await counter;
    { auto dropped = std::move(tx); }
    auto never = co_await rx.wait_for([](int v) { return v > 100; });
    REQUIRE(never.is_err());
    CHECK(never.error() == pw::errc::closed);
    auto already = co_await rx.wait_for([](int v) { return v == 10; });  // the current value is checked first
    CHECK(already.is_ok());
  }());
}

namespace {

// Two halves that every writer keeps equal: a reader that ever sees them differ saw a torn value.
struct pair_value {
  std::uint64_t a = 0;
  std::uint64_t b = 0;
};

struct reader_stats {
  std::uint64_t wakeups = 0;
  bool monotonic = true;
  bool never_torn = true;
  bool held_value_stable = true;
  std::uint64_t last = 0;
};

pw::task<reader_stats> read_until_closed(pw::watch::receiver<pair_value> rx) {
  reader_stats s;
  for (;;) {
    auto r = co_await rx.changed();
    if (r.is_err()) break;
    ++s.wakeups;
    auto v = rx.borrow_and_update();
    const pair_value seen = *v;
    s.never_torn = s.never_torn && seen.a == seen.b;
    s.monotonic = s.monotonic && seen.a >= s.last;
    s.last = seen.a;
    if (s.wakeups % 8 == 0) {
      co_await pw::yield_now();  // hold the borrow while writers run: they must publish beside it
      s.held_value_stable = s.held_value_stable && v->a == seen.a && v->b == seen.b;
    }
  }
  s.last = rx.borrow()->a;
  co_return s;
}

pw::task<void> increment(pw::watch::sender<pair_value> tx, int times) {
  for (int i = 0; i < times; ++i) {
    tx.send_modify([](pair_value& p) {
      ++p.a;
      ++p.b;
    });
    if (i % 16 == 0) co_await pw::yield_now();
  }
}

}  // namespace

TEST_CASE("stress: 3 writers, 4 readers, 4 workers: no increment lost, no value torn, borrows stable") {
  const int per_writer = 20000 / scale;
  pw::runtime rt(pw::runtime_options{.workers = 4});
  rt.block_on([](int per_writer) -> pw::task<void> {
    auto [tx0, rx0] = pw::watch::channel<pair_value>(pair_value{});
    auto tx = std::move(tx0);
    std::vector<pw::join_handle<reader_stats>> readers;
    for (int i = 0; i < 3; ++i) readers.push_back(pw::spawn(read_until_closed(tx.subscribe())));
    readers.push_back(pw::spawn(read_until_closed(std::move(rx0))));
    std::vector<pw::join_handle<void>> writers;
    for (int i = 0; i < 3; ++i) writers.push_back(pw::spawn(increment(tx, per_writer)));
    for (auto& w : writers) CHECK((co_await w).is_ok());
    const auto total = static_cast<std::uint64_t>(3 * per_writer);
    CHECK(tx.borrow()->a == total);  // writers are serialized: no increment lost
    CHECK(tx.borrow()->b == total);
    { auto last = std::move(tx); }
    for (auto& r : readers) {
      auto s = co_await r;
      REQUIRE(s.is_ok());
      CHECK(s->never_torn);
      CHECK(s->monotonic);
      CHECK(s->held_value_stable);
      CHECK(s->last == total);  // the final value stays readable after the close
      CHECK(s->wakeups >= 1);
    }
  }(per_writer));
}
