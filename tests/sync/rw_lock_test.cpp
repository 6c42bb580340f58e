// pw::rw_lock: shared readers, exclusive writers, FIFO fairness (a waiting writer holds back
// later readers and is not starved), try_read / try_write, downgrade, max_readers, racing and
// aborting waiting readers and writers, and a multi-worker stress run that checks exclusion
// with counters and a value whose halves only a torn write could make differ.
#include "polarway/sync/rw_lock.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
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

}  // namespace

TEST_CASE("readers share the lock; a writer excludes everyone; try_read and try_write say so") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::rw_lock<std::string> l("a");
    CHECK(l.max_readers() == pw::rw_lock<std::string>::default_max_readers);
    {
      auto r1 = co_await l.read();
      auto r2 = co_await l.read();
      auto r3 = l.try_read();
      REQUIRE(r3.is_some());
      CHECK(*r1 == "a");
      CHECK(r2->size() == 1);
      CHECK(l.try_write().is_none());
    }
    {
      auto w = co_await l.write();
      *w += "b";
      CHECK(l.try_read().is_none());
      CHECK(l.try_write().is_none());
      auto moved = std::move(w);
      CHECK(!w.owns_lock());
      CHECK(moved.owns_lock());
      moved.unlock();
      CHECK(!moved);
      auto again = l.try_write();  // unlock released it
      REQUIRE(again.is_some());
    }
    CHECK(*(co_await l.read()) == "ab");
    CHECK(l.get_mut() == "ab");
    CHECK(std::move(l).into_inner() == "ab");
  }());
}

TEST_CASE("FIFO: a waiting writer gets the lock before readers that came after it") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::rw_lock<int> l(0);
    std::vector<std::string> log;
    auto first_read = co_await l.read();
    auto writer = pw::spawn([](pw::rw_lock<int>& l, std::vector<std::string>& log) -> pw::task<void> {
      auto w = co_await l.write();
      log.push_back("write");
      *w = 1;
      co_await pw::yield_now();  // hold it across an await: the readers still wait
      log.push_back("write done");
    }(l, log));
    co_await settle();
    CHECK(!writer.is_finished());  // a reader holds the lock
    std::vector<pw::join_handle<void>> readers;
    for (int i = 0; i < 3; ++i)
      readers.push_back(pw::spawn([](pw::rw_lock<int>& l, std::vector<std::string>& log) -> pw::task<void> {
        auto r = co_await l.read();  // queued behind the writer
        log.push_back("read " + std::to_string(*r));
      }(l, log)));
    co_await settle();
    CHECK(l.try_read().is_none());  // nobody overtakes the queue, even with permits free
    CHECK(log.empty());
    first_read.unlock();
    (void)co_await writer;
    for (auto& r : readers) (void)co_await r;
    CHECK(log == std::vector<std::string>{"write", "write done", "read 1", "read 1", "read 1"});
  }());
}

TEST_CASE("downgrade keeps read access with no writer in between and lets queued readers in") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::rw_lock<int> l(0);
    auto w = co_await l.write();
    *w = 5;
    auto reader = pw::spawn([](pw::rw_lock<int>& l) -> pw::task<int> { co_return *(co_await l.read()); }(l));
    co_await settle();
    auto writer = pw::spawn([](pw::rw_lock<int>& l) -> pw::task<void> { *(co_await l.write()) = 6; }(l));
    co_await settle();
    auto r = std::move(w).downgrade();
    CHECK(!w.owns_lock());
    CHECK(*r == 5);
    CHECK(*(co_await reader) == 5);  // the reader queued first gets in beside us
    co_await settle();
    CHECK(!writer.is_finished());  // the writer waits for our read guard
    r.unlock();
    (void)co_await writer;
    CHECK(*(co_await l.read()) == 6);
  }());
}

TEST_CASE("with_max_readers caps the readers at once") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto l = pw::rw_lock<int>::with_max_readers(7, 2);
    CHECK(l.max_readers() == 2);
    auto a = co_await l.read();
    auto b = co_await l.read();
    CHECK(l.try_read().is_none());
    a.unlock();
    CHECK(l.try_read().is_some());
    (void)b;
  }());
  auto zero = pw_test::run_in_child([] { [[maybe_unused]] auto l = pw::rw_lock<int>::with_max_readers(0, 0); });
  CHECK(zero.aborted);
  CHECK(zero.stderr_text.find("max_readers") != std::string::npos);
  auto empty = pw_test::run_in_child([] {
    pw::rw_lock_read_guard<int> g;
    (void)*g;
  });
  CHECK(empty.aborted);
  CHECK(empty.stderr_text.find("moved from or unlocked") != std::string::npos);
}

TEST_CASE("read and write race against sleeps and timeouts; a losing writer leaves nothing taken") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    pw::rw_lock<int> l(0);
    auto held = co_await l.read();
    // The writer waits at the head of the queue collecting permits; the sleep wins, and the
    // permits it had collected go back.
    auto lost = co_await pw::race(l.write(), pw::sleep(2ms));
    CHECK(lost.index() == 1);
    auto r = l.try_read();  // nobody is queued any more, and the permits are back
    REQUIRE(r.is_some());
    r->unlock();
    auto timed_out = co_await pw::timeout(2ms, l.write());
    REQUIRE(timed_out.is_err());
    CHECK(timed_out.error() == pw::errc::timed_out);
    auto read_won = co_await pw::race(l.read(), pw::sleep(1h));
    REQUIRE(read_won.index() == 0);
    read_won.get<0>().unlock();
    held.unlock();
    auto write_won = co_await pw::timeout(1h, l.write());
    REQUIRE(write_won.is_ok());
    **write_won = 3;
    write_won->unlock();
    // A reader that must wait for a writer, raced against a sleep that it beats.
    auto w = co_await l.write();
    auto releaser = pw::spawn([](pw::rw_lock_write_guard<int> w) -> pw::task<void> {
      co_await pw::sleep(1ms);
      *w = 4;
    }(std::move(w)));
    auto got = co_await pw::race(l.read(), pw::sleep(1h));
    REQUIRE(got.index() == 0);
    CHECK(*got.get<0>() == 4);
    (void)co_await releaser;
  }());
}

TEST_CASE("a waiting writer that is aborted lets the readers queued behind it in") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::rw_lock<int> l(0);
    auto held = co_await l.read();
    auto writer = pw::spawn([](pw::rw_lock<int>& l) -> pw::task<void> { *(co_await l.write()) = 1; }(l));
    co_await settle();
    auto reader = pw::spawn([](pw::rw_lock<int>& l) -> pw::task<int> { co_return *(co_await l.read()); }(l));
    co_await settle();
    CHECK(!reader.is_finished());  // behind the writer
    writer.abort();
    CHECK((co_await writer).error().is_cancelled());
    CHECK(*(co_await reader) == 0);  // the writer's collected permits went on to the reader
    held.unlock();
    CHECK(l.try_write().is_some());  // every permit is back

    // A writer granted the lock but aborted before it ran passes the lock on.
    auto w = co_await l.write();
    auto granted = pw::spawn([](pw::rw_lock<int>& l) -> pw::task<void> { *(co_await l.write()) = 2; }(l));
    co_await settle();
    w.unlock();  // hands every permit to `granted`, which cannot run before we yield
    granted.abort();
    CHECK((co_await granted).error().is_cancelled());
    CHECK(*(co_await l.read()) == 0);
    CHECK(l.try_write().is_some());
  }());
}

namespace {

struct shared_state {
  std::atomic<int> readers{0};
  std::atomic<int> writers{0};
  std::atomic<int> max_readers_seen{0};
  std::atomic<bool> exclusion_held{true};
};

struct halves {
  long a = 0;
  long b = 0;
};

pw::task<long> reader_task(pw::rw_lock<halves>& l, shared_state& s, int rounds) {
  long torn = 0;
  for (int i = 0; i < rounds; ++i) {
    auto g = co_await l.read();
    const int now = s.readers.fetch_add(1) + 1;
    if (s.writers.load() != 0) s.exclusion_held = false;
    int seen = s.max_readers_seen.load();
    while (now > seen && !s.max_readers_seen.compare_exchange_weak(seen, now)) {
    }
    torn += g->a != g->b;
    if (i % 4 == 0) co_await pw::yield_now();  // hold the read lock across an await
    torn += g->a != g->b;
    s.readers.fetch_sub(1);
  }
  co_return torn;
}

pw::task<void> writer_task(pw::rw_lock<halves>& l, shared_state& s, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    auto g = co_await l.write();
    if (s.writers.fetch_add(1) != 0 || s.readers.load() != 0) s.exclusion_held = false;
    ++g->a;
    if (i % 4 == 0) co_await pw::yield_now();  // a half-written value, across an await
    ++g->b;
    s.writers.fetch_sub(1);
  }
}

}  // namespace

TEST_CASE("stress: 6 readers and 3 writers on 4 workers: exclusion holds, nothing torn, no write lost") {
  const int rounds = 4000 / scale;
  pw::runtime rt(pw::runtime_options{.workers = 4});
  rt.block_on([](int rounds) -> pw::task<void> {
    pw::rw_lock<halves> l(halves{});
    shared_state s;
    std::vector<pw::join_handle<long>> readers;
    std::vector<pw::join_handle<void>> writers;
    for (int i = 0; i < 6; ++i) readers.push_back(pw::spawn(reader_task(l, s, rounds)));
    for (int i = 0; i < 3; ++i) writers.push_back(pw::spawn(writer_task(l, s, rounds)));
    for (auto& r : readers) CHECK(*(co_await r) == 0);
    for (auto& w : writers) CHECK((co_await w).is_ok());
    CHECK(s.exclusion_held.load());
    auto g = co_await l.read();
    CHECK(g->a == 3L * rounds);
    CHECK(g->b == 3L * rounds);
    MESSAGE("most readers at once: " << s.max_readers_seen.load());
  }(rounds));
}

TEST_CASE("stress: aborting tasks that wait for the lock leaks no permit") {
  pw::runtime rt(pw::runtime_options{.workers = 4});
  rt.block_on([]() -> pw::task<void> {
    pw::rw_lock<int> l(0);
    for (int round = 0; round < 200 / scale + 20; ++round) {
      std::vector<pw::join_handle<void>> hs;
      for (int i = 0; i < 8; ++i) {
        if (i % 3 == 0)
          hs.push_back(pw::spawn([](pw::rw_lock<int>& l) -> pw::task<void> {
            auto w = co_await l.write();
            ++*w;
            co_await pw::yield_now();
          }(l)));
        else
          hs.push_back(pw::spawn([](pw::rw_lock<int>& l) -> pw::task<void> {
            auto r = co_await l.read();
            co_await pw::yield_now();
          }(l)));
      }
      co_await pw::yield_now();
      for (std::size_t i = 0; i < hs.size(); i += 2) hs[i].abort();
      for (auto& h : hs) (void)co_await h;
      // Everything is released: a writer gets in at once.
      REQUIRE(l.try_write().is_some());
    }
  }());
}
