// runtime::dump_tasks(): 10,500 tasks waiting on channels, timers, sockets, a semaphore and
// join handles, each listed with its spawn site, the right state and what it waits on; a task
// a worker is running and one waiting in a run queue; a named task.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "polarway/net/udp_socket.hpp"
#include "polarway/runtime.hpp"
#include "polarway/sync/mpsc.hpp"
#include "polarway/sync/semaphore.hpp"
#include "polarway/time/sleep.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {

pw::task<void> wait_on_channel(pw::mpsc::receiver<int> rx) { (void)co_await rx.recv(); }
pw::task<void> wait_on_timer() { co_await pw::sleep(1h); }
pw::task<void> wait_on_socket(pw::net::udp_socket socket) {
  std::byte buf[16];
  (void)co_await socket.recv_from(buf);
}
pw::task<void> wait_on_semaphore(pw::semaphore& sem) { auto permit = co_await sem.acquire(); }
pw::task<void> wait_on_join(pw::join_handle<void> handle) { (void)co_await std::move(handle); }

// The dump once it lists `n` waiting tasks and nothing else; the last dump taken after 20 s.
// (Until a worker that ran the spawning task finds no more work, its record of that run may
// still list the task as running: see scheduler::dump_tasks.)
std::vector<pw::task_info> dump_when_waiting(pw::runtime& rt, std::size_t n) {
  std::vector<pw::task_info> dump;
  for (int i = 0; i < 2'000; ++i) {
    dump = rt.dump_tasks();
    std::size_t waiting = 0;
    for (const auto& t : dump) waiting += t.state == pw::task_state::waiting;
    if (waiting >= n && waiting == dump.size()) break;
    std::this_thread::sleep_for(10ms);
  }
  return dump;
}

}  // namespace

TEST_CASE("a dump lists 10,500 waiting tasks with their sites, states and what they wait on") {
  constexpr int channels = 4'000, timers = 4'000, sockets = 1'000, locks = 1'000, joins = 500;
  pw::runtime rt(pw::runtime_options{.workers = 2});
  pw::semaphore sem(0);
  std::vector<pw::mpsc::sender<int>> senders;
  std::map<unsigned, pw::wait_kind> kind_at_line;
  std::map<unsigned, int> spawned_at_line;

  // Spawned from a task, so that they are worker spawns: listed when they first suspend.
  auto spawn_all = [&]() -> pw::task<void> {
    for (int i = 0; i < channels; ++i) {
      auto [tx, rx] = pw::mpsc::channel<int>(1);
      senders.push_back(std::move(tx));
      pw::spawn(wait_on_channel(std::move(rx))).detach();
    }
    const unsigned channel_line = __LINE__ - 2;
    for (int i = 0; i < timers; ++i) pw::spawn(wait_on_timer()).detach();
    const unsigned timer_line = __LINE__ - 1;
    for (int i = 0; i < sockets; ++i) {
      auto socket = pw::net::udp_socket::bind("127.0.0.1:0");
      if (!socket) co_return;
      pw::spawn(wait_on_socket(std::move(*socket))).detach();
    }
    const unsigned socket_line = __LINE__ - 2;
    for (int i = 0; i < locks - joins; ++i) pw::spawn(wait_on_semaphore(sem)).detach();
    const unsigned lock_line = __LINE__ - 1;
    for (int i = 0; i < joins; ++i) pw::spawn(wait_on_join(pw::spawn(wait_on_semaphore(sem)))).detach();
    const unsigned join_line = __LINE__ - 1;  // the joiner and the joined task share the line
    kind_at_line = {{channel_line, pw::wait_kind::channel},
                    {timer_line, pw::wait_kind::timer},
                    {socket_line, pw::wait_kind::io},
                    {lock_line, pw::wait_kind::lock}};
    spawned_at_line = {{channel_line, channels}, {timer_line, timers}, {socket_line, sockets},
                       {lock_line, locks - joins}, {join_line, 2 * joins}};
    (void)join_line;
  };
  rt.block_on(spawn_all());
  REQUIRE(spawned_at_line.size() == 5);  // every socket was bound

  const std::size_t total = channels + timers + sockets + locks + joins;
  const auto dump = dump_when_waiting(rt, total);
  REQUIRE(dump.size() == total);
  std::map<unsigned, int> seen_at_line;
  std::map<pw::wait_kind, int> seen_kind;
  for (const auto& t : dump) {
    CHECK(t.state == pw::task_state::waiting);
    CHECK(t.site.text().ends_with("task_dump_test.cpp"));
    CHECK(t.polls >= 1);
    CHECK(t.age > 0ns);
    CHECK(t.age < 1h);
    CHECK_FALSE(t.worker.has_value());
    ++seen_at_line[t.site.line()];
    ++seen_kind[t.waiting_on];
    if (auto k = kind_at_line.find(t.site.line()); k != kind_at_line.end()) CHECK(t.waiting_on == k->second);
  }
  CHECK(seen_at_line == spawned_at_line);
  CHECK(seen_kind[pw::wait_kind::channel] == channels);
  CHECK(seen_kind[pw::wait_kind::timer] == timers);
  CHECK(seen_kind[pw::wait_kind::io] == sockets);
  CHECK(seen_kind[pw::wait_kind::lock] == locks);
  CHECK(seen_kind[pw::wait_kind::join] == joins);

  // Released tasks leave the dump.
  senders.clear();  // every channel closes: its receiver's task finishes
  std::size_t still_channel = 0;
  for (int i = 0; i < 2'000; ++i) {
    still_channel = 0;
    for (const auto& t : rt.dump_tasks()) still_channel += t.waiting_on == pw::wait_kind::channel;
    if (still_channel == 0) break;
    std::this_thread::sleep_for(10ms);
  }
  CHECK(still_channel == 0);
  CHECK(rt.dump_tasks().size() == total - channels);
}

namespace {

pw::task<void> spin_until(std::atomic<bool>& started, std::atomic<bool>& release) {
  started.store(true);
  while (!release.load()) std::this_thread::yield();
  co_return;
}

pw::task<void> nothing() { co_return; }

pw::task<void> join(pw::join_handle<void> h) { (void)co_await std::move(h); }

}  // namespace

TEST_CASE("a running task is listed as running on its worker, a queued one as scheduled, a name as its name") {
  std::atomic<bool> started{false}, release{false};
  pw::runtime rt(pw::runtime_options{.workers = 1, .slow_poll = 0ms});
  auto spinner = rt.spawn_named("spinner", spin_until(started, release));
  while (!started.load()) std::this_thread::yield();
  auto queued = rt.spawn(nothing());  // the only worker is busy: it waits in the inject queue
  const unsigned queued_line = __LINE__ - 1;
  const auto dump = rt.dump_tasks();
  release.store(true);
  REQUIRE(dump.size() == 2);
  const auto& first = dump[0].site.is_name() ? dump[0] : dump[1];
  const auto& second = dump[0].site.is_name() ? dump[1] : dump[0];
  CHECK(first.site.text() == "spinner");
  CHECK(first.state == pw::task_state::running);
  CHECK(first.worker == std::optional<std::size_t>(0));
  CHECK(first.polls == 1);
  CHECK(second.site.line() == queued_line);
  CHECK(second.state == pw::task_state::scheduled);
  CHECK(second.polls == 0);
  CHECK(second.waiting_on == pw::wait_kind::none);
  rt.block_on(join(std::move(spinner)));
  rt.block_on(join(std::move(queued)));
  // block_on returns as the task completes, while its worker is still ending the run, which a
  // dump taken at that moment shows as running: wait for the worker to finish.
  bool empty = false;
  for (int i = 0; i < 2'000 && !empty; ++i) {
    empty = rt.dump_tasks().empty();
    if (!empty) std::this_thread::sleep_for(1ms);
  }
  CHECK(empty);
}
