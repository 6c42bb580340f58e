// Signals raised at this very process: kill(getpid()) (process-directed, the kernel picks a
// thread that does not block the signal) and, in one case, pthread_kill at a worker thread.
// (Under ThreadSanitizer a handler runs once the thread that took the signal enters one of its
// interceptors; a worker woken from its wait by the signal soon does, so every case runs there
// too.)
// Each runtime-level case runs on the default backend and on epoll, whose reactors watch the
// signal pipe differently.
#include "polarway/signal/signal.hpp"

#include <doctest/doctest.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>
#include <vector>

#include "polarway/runtime.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {

pw::signal::detail_signal::registry& registry() { return pw::signal::detail_signal::registry::get(); }

// Waits, from outside the runtime, until `n` recv() awaiters are suspended (a test that never
// gets there hangs and fails on CTest's timeout; nothing here asserts how long it takes).
void wait_for_waiters(std::size_t n) {
  while (registry().waiting() != n) std::this_thread::sleep_for(1ms);
}

void raise_at_process(int signum) { REQUIRE(::kill(::getpid(), signum) == 0); }

// Raises `signum` and waits until the handler has counted it (a second kill() while the first
// is still pending would merge with it).
void raise_and_wait_for_delivery(int signum) {
  const auto before = pw::signal::detail_signal::registry::count(signum);
  raise_at_process(signum);
  while (pw::signal::detail_signal::registry::count(signum) == before) std::this_thread::sleep_for(1ms);
}

// Each case on both backends: the default (io_uring where the kernel allows it) and epoll.
std::vector<pw::runtime_options> both_backends(std::size_t workers) {
  return {pw::runtime_options{.workers = workers}, pw::runtime_options{.workers = workers, .backend = pw::backend_kind::epoll}};
}

pw::task<pw::result<void>> receive(pw::signal::listener& l) { co_return co_await l.recv(); }

}  // namespace

TEST_CASE("a listener receives a signal raised while it waits") {
  for (const auto& options : both_backends(2)) {
    pw::runtime rt(options);
    CAPTURE(pw::to_string(rt.backend()));
    auto usr1 = pw::signal::signal(SIGUSR1);
    CHECK(usr1.signum() == SIGUSR1);
    auto waiting = rt.spawn(receive(usr1));
    wait_for_waiters(1);
    CHECK_FALSE(waiting.is_finished());
    raise_at_process(SIGUSR1);
    auto got = rt.block_on([](pw::join_handle<pw::result<void>> h) -> pw::task<pw::result<void>> {
      co_return (co_await h).value();
    }(std::move(waiting)));
    CHECK(got.is_ok());
    CHECK(registry().waiting() == 0);
  }
}

TEST_CASE("every listener of a signal gets each delivery") {
  for (const auto& options : both_backends(2)) {
    pw::runtime rt(options);
    CAPTURE(pw::to_string(rt.backend()));
    std::vector<pw::signal::listener> listeners;
    for (int i = 0; i < 3; ++i) listeners.push_back(pw::signal::signal(SIGUSR2));
    std::vector<pw::join_handle<pw::result<void>>> waiting;
    for (auto& l : listeners) waiting.push_back(rt.spawn(receive(l)));
    wait_for_waiters(3);
    raise_at_process(SIGUSR2);
    for (auto& h : waiting) {
      auto got = rt.block_on([](pw::join_handle<pw::result<void>> h) -> pw::task<bool> {
        co_return (co_await h).value().is_ok();
      }(std::move(h)));
      CHECK(got);
    }
  }
}

TEST_CASE("deliveries before recv() are kept, and coalesce") {
  for (const auto& options : both_backends(1)) {
    pw::runtime rt(options);
    CAPTURE(pw::to_string(rt.backend()));
    auto hup = pw::signal::signal(SIGHUP);
    for (int i = 0; i < 3; ++i) raise_and_wait_for_delivery(SIGHUP);  // three deliveries, not one pending
    const auto winners = rt.block_on([](pw::signal::listener& hup) -> pw::task<std::vector<std::size_t>> {
      std::vector<std::size_t> out;
      out.push_back((co_await pw::race(hup.recv(), pw::sleep(10s))).index());  // at once: kept
      // The three deliveries were one recv(): nothing more is pending, so the sleep wins.
      out.push_back((co_await pw::race(hup.recv(), pw::sleep(20ms))).index());
      co_return out;
    }(hup));
    CHECK(winners == std::vector<std::size_t>{0, 1});
    // A listener created now does not see those deliveries.
    auto late = pw::signal::signal(SIGHUP);
    const auto index = rt.block_on([](pw::signal::listener& l) -> pw::task<std::size_t> {
      co_return (co_await pw::race(l.recv(), pw::sleep(20ms))).index();
    }(late));
    CHECK(index == 1);
  }
}

TEST_CASE("recv() losing a race takes nothing: the delivery is there for the next recv()") {
  for (const auto& options : both_backends(2)) {
    pw::runtime rt(options);
    CAPTURE(pw::to_string(rt.backend()));
    auto winch = pw::signal::signal(SIGWINCH);
    // Lost while waiting: the awaiter leaves the list.
    const auto index = rt.block_on([](pw::signal::listener& l) -> pw::task<std::size_t> {
      co_return (co_await pw::race(l.recv(), pw::sleep(5ms))).index();
    }(winch));
    CHECK(index == 1);
    CHECK(registry().waiting() == 0);

    // Lost while ready: an arm listed before it is ready too, and wins; recv() takes nothing.
    raise_and_wait_for_delivery(SIGWINCH);
    const auto kept = rt.block_on([](pw::signal::listener& l) -> pw::task<bool> {
      pw::cancellation_token stopped;
      stopped.cancel();
      auto r = co_await pw::race(stopped.cancelled(), l.recv());
      if (r.index() != 0) co_return false;
      co_return (co_await pw::race(l.recv(), pw::sleep(10s))).index() == 0;  // still there
    }(winch));
    CHECK(kept);

    // Woken, then cancelled or not: whichever arm wins, the delivery is received exactly once.
    pw::notify other;
    auto racing = rt.spawn([](pw::signal::listener& l, pw::notify& other) -> pw::task<std::size_t> {
      co_return (co_await pw::race(l.recv(), other.notified())).index();
    }(winch, other));
    wait_for_waiters(1);
    raise_at_process(SIGWINCH);
    other.notify_one();
    const auto outcome = rt.block_on([](pw::join_handle<std::size_t> h, pw::signal::listener& l) -> pw::task<bool> {
      const std::size_t won = (co_await h).value();
      if (won == 0) co_return true;  // recv() received it
      auto later = co_await l.recv();  // lost: the delivery waits here (a lost one would hang)
      co_return later.is_ok();
    }(std::move(racing), winch));
    CHECK(outcome);
  }
}

TEST_CASE("ctrl_c completes at the next SIGINT") {
  for (const auto& options : both_backends(1)) {
    pw::runtime rt(options);
    CAPTURE(pw::to_string(rt.backend()));
    auto waiting = rt.spawn([]() -> pw::task<pw::result<void>> { co_return co_await pw::signal::ctrl_c(); }());
    wait_for_waiters(1);
    raise_at_process(SIGINT);
    auto got = rt.block_on([](pw::join_handle<pw::result<void>> h) -> pw::task<pw::result<void>> {
      co_return (co_await h).value();
    }(std::move(waiting)));
    CHECK(got.is_ok());
    // A SIGINT between ctrl_c() and the co_await counts.
    auto early = rt.block_on([]() -> pw::task<pw::result<void>> {
      auto next = pw::signal::ctrl_c();
      raise_at_process(SIGINT);
      co_return co_await std::move(next);
    }());
    CHECK(early.is_ok());
  }
}

TEST_CASE("SIGTERM: a task racing it against its work stops cleanly") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  auto term = pw::signal::signal(SIGTERM);
  pw::cancellation_token stop;
  auto worker = rt.spawn([](pw::cancellation_token stop) -> pw::task<int> {
    int rounds = 0;
    while (!stop.is_cancelled()) {
      co_await pw::race(stop.cancelled(), pw::sleep(1ms));
      ++rounds;
    }
    co_return rounds;
  }(stop));
  auto watcher = rt.spawn([](pw::signal::listener& term, pw::cancellation_token stop) -> pw::task<void> {
    (void)co_await term.recv();
    stop.cancel();
  }(term, stop));
  wait_for_waiters(1);
  raise_at_process(SIGTERM);
  auto rounds = rt.block_on([](pw::join_handle<int> w, pw::join_handle<void> s) -> pw::task<bool> {
    auto r = co_await w;
    co_return r.is_ok() && (co_await s).is_ok();
  }(std::move(worker), std::move(watcher)));
  CHECK(rounds);
  CHECK(stop.is_cancelled());
}

TEST_CASE("listeners on two runtimes both receive one delivery") {
  pw::runtime a(pw::runtime_options{.workers = 1});
  pw::runtime b(pw::runtime_options{.workers = 1, .backend = pw::backend_kind::epoll});
  auto la = pw::signal::signal(SIGUSR1);
  auto lb = pw::signal::signal(SIGUSR1);
  auto ha = a.spawn(receive(la));
  auto hb = b.spawn(receive(lb));
  wait_for_waiters(2);
  raise_at_process(SIGUSR1);
  auto join = [](pw::join_handle<pw::result<void>> h) -> pw::task<bool> { co_return (co_await h).value().is_ok(); };
  CHECK(a.block_on(join(std::move(ha))));
  CHECK(b.block_on(join(std::move(hb))));
}

TEST_CASE("a signal directed at a worker thread is received") {
  for (const auto& options : both_backends(1)) {
    pw::runtime rt(options);
    CAPTURE(pw::to_string(rt.backend()));
    auto usr2 = pw::signal::signal(SIGUSR2);
    std::atomic<pthread_t> worker_thread{};
    auto waiting = rt.spawn([](pw::signal::listener& l, std::atomic<pthread_t>& t) -> pw::task<pw::result<void>> {
      t.store(::pthread_self());
      co_return co_await l.recv();
    }(usr2, worker_thread));
    wait_for_waiters(1);
    REQUIRE(::pthread_kill(worker_thread.load(), SIGUSR2) == 0);
    auto got = rt.block_on([](pw::join_handle<pw::result<void>> h) -> pw::task<pw::result<void>> {
      co_return (co_await h).value();
    }(std::move(waiting)));
    CHECK(got.is_ok());
  }
}

TEST_CASE("signals that cannot be listened to are refused with invalid_input") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  for (int signum : {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, 0, -1, NSIG, 1000}) {
    auto l = pw::signal::signal(signum);
    auto r = rt.block_on(receive(l));
    CHECK_MESSAGE(r.error() == pw::errc::invalid_input, signum);
  }
}

TEST_CASE("a listener's recv() is movable until awaited") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto usr1 = pw::signal::signal(SIGUSR1);
  raise_and_wait_for_delivery(SIGUSR1);
  auto got = rt.block_on([](pw::signal::listener& l) -> pw::task<pw::result<void>> {
    auto a = l.recv();
    auto b = std::move(a);
    co_return co_await std::move(b);
  }(usr1));
  CHECK(got.is_ok());
}
