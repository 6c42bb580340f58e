// The flight recorder (runtime_options::flight_recorder): a worker's ring keeps its most recent
// events in order, timed in steady_clock nanoseconds, and can be read while it is written; the
// trace is balanced even when the ring lost the start of a slice; a runtime's trace holds every kind of event (the file is
// also loaded as JSON by check_trace.py, registered with CTest beside this test); off, and
// with a path that cannot be written, the calls fail with a typed error.
#include "polarway/detail/flight_recorder.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "polarway/detail/trace_json.hpp"
#include "polarway/net/udp_socket.hpp"
#include "polarway/runtime.hpp"
#include "polarway/time/sleep.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;
using pw::detail::event_ring;
using pw::detail::trace_event;
using pw::detail::trace_kind;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("event_ring keeps the most recent events, oldest first") {
  event_ring ring(6);  // rounded up to 8
  CHECK(ring.capacity() == 8);
  CHECK(ring.snapshot().empty());
  for (std::uint64_t i = 0; i < 3; ++i) ring.record(trace_kind::steal, i);
  auto few = ring.snapshot();
  REQUIRE(few.size() == 3);
  CHECK(few[0].arg == 0);
  CHECK(few[2].arg == 2);
  for (std::uint64_t i = 3; i < 20; ++i) ring.record(trace_kind::spawn, i);
  const auto last = ring.snapshot();
  REQUIRE(last.size() == 8);
  for (std::size_t i = 0; i < last.size(); ++i) {
    CHECK(last[i].arg == 12 + i);
    CHECK(last[i].kind == trace_kind::spawn);
    if (i > 0) CHECK(last[i].ns >= last[i - 1].ns);
  }
}

TEST_CASE("event_ring's times are steady_clock nanoseconds, whichever clock stamps them") {
  event_ring ring(8);
  const std::string clock = ring.stamps_with_tsc() ? "the TSC" : "steady_clock";
  MESSAGE("events stamped with " << clock);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const std::int64_t before = event_ring::now_ns();
  ring.record(trace_kind::park, 0);
  const std::int64_t after = event_ring::now_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto events = ring.snapshot();
  REQUIRE(events.size() == 1);
  // The conversion's line is drawn through two clock readings milliseconds apart: within
  // microseconds of the truth.
  CHECK(events[0].ns >= before - 20'000);
  CHECK(events[0].ns <= after + 20'000);
}

TEST_CASE("event_ring read while it is written: every event read is whole and in order") {
  event_ring ring(64);
  std::atomic<bool> done{false};
  std::atomic<std::size_t> snapshots{0};
  std::atomic<std::uint64_t> last{0};
  std::thread writer([&] {
    // At least 200,000 events, and on until the reader has taken 100 snapshots: however the two
    // threads are scheduled, those snapshots were taken while events were being written.
    std::uint64_t i = 0;
    while (i < 200'000 || snapshots.load() < 100) {
      ++i;
      ring.record(i % 2 ? trace_kind::run_begin : trace_kind::run_end, i);
    }
    last.store(i);
    done.store(true);
  });
  bool whole = true;
  while (!done.load()) {
    const auto events = ring.snapshot();
    snapshots.fetch_add(1);
    for (std::size_t i = 0; i < events.size(); ++i) {
      // The kind was written with the arg: a torn slot would pair them wrongly.
      whole = whole && (events[i].kind == (events[i].arg % 2 ? trace_kind::run_begin : trace_kind::run_end));
      if (i > 0) whole = whole && events[i].arg > events[i - 1].arg;
    }
  }
  writer.join();
  CHECK(whole);
  CHECK(snapshots.load() >= 100);
  const auto final_events = ring.snapshot();
  REQUIRE(final_events.size() == 64);
  CHECK(final_events.back().arg == last.load());
}

TEST_CASE("trace_json: a slice whose start was lost is dropped, an open one closed, names escaped") {
  const auto site = pw::spawn_site::named("say \"hi\"\n");
  std::vector<std::vector<trace_event>> workers(2);
  workers[0] = {{1'000, site.bits(), trace_kind::run_end},  // its run_begin was overwritten
                {2'000, site.bits(), trace_kind::run_begin},
                {3'000, site.bits(), trace_kind::run_end},
                {4'000, 0, trace_kind::park},
                {9'000, 1, trace_kind::unpark},
                {9'500, site.bits(), trace_kind::run_begin}};  // still running
  workers[1] = {{1'500, 0, trace_kind::steal}, {1'600, 7, trace_kind::io_collected}, {1'700, site.bits(), trace_kind::spawn}};
  const std::string json = pw::detail::trace_json(workers);
  CHECK(json.starts_with("{\"displayTimeUnit\":\"ns\",\"traceEvents\":["));
  CHECK(json.ends_with("]}\n"));
  CHECK(count(json, "\"ph\":\"B\"") == 3);  // two runs and a park
  CHECK(count(json, "\"ph\":\"E\"") == 3);
  CHECK(count(json, "\"ph\":\"i\"") == 3);
  CHECK(count(json, "\"ph\":\"M\"") == 2);
  CHECK(json.find("say \\\"hi\\\"\\u000a") != std::string::npos);
  // Times are microseconds from the earliest event of any worker (worker 0's first): worker
  // 1's steal is written relative to it.
  CHECK(json.find("\"ts\":0.500") != std::string::npos);
  CHECK(json.find("\"woken_by\":\"another thread\"") != std::string::npos);
  CHECK(json.find("\"from_worker\":0") != std::string::npos);
  CHECK(json.find("\"completions\":7") != std::string::npos);
}

namespace {

pw::task<std::uint64_t> tree(int depth) {
  if (depth == 0) co_return 1;
  std::vector<pw::task<std::uint64_t>> children;
  for (int i = 0; i < 4; ++i) children.push_back(tree(depth - 1));
  std::uint64_t leaves = 0;
  for (std::uint64_t n : co_await pw::join_all(std::move(children))) leaves += n;
  co_return leaves;
}

pw::task<void> receive_one(pw::net::udp_socket& socket) {
  std::byte buf[8]{};
  (void)co_await socket.recv_from(buf);
}

bool a_task_waits_on_io(const pw::runtime& rt) {
  for (const auto& t : rt.dump_tasks())
    if (t.state == pw::task_state::waiting && t.waiting_on == pw::wait_kind::io) return true;
  return false;
}

// An I/O completion, by construction: the datagram is sent only once the receiver is waiting
// for it in the reactor (a receive that finds its datagram already queued completes without one).
pw::task<void> io_completion(const pw::runtime& rt) {
  auto a = pw::net::udp_socket::bind("127.0.0.1:0");
  auto b = pw::net::udp_socket::bind("127.0.0.1:0");
  if (!a || !b) co_return;
  const auto to = b->local_addr();
  if (!to) co_return;
  auto receiver = pw::spawn(receive_one(*b));
  while (!a_task_waits_on_io(rt)) co_await pw::sleep(1ms);
  const std::byte one[1]{};
  (void)co_await a->send_to(std::span<const std::byte>(one, 1), *to);
  (void)co_await std::move(receiver);
}

pw::task<void> note_run(std::atomic<bool>& ran) {
  ran.store(true);
  co_return;
}

// A steal, by construction: this task's worker stays busy until the child has run, so only the
// other worker can have run it.
pw::task<void> force_a_steal() {
  std::atomic<bool> ran{false};
  auto child = pw::spawn(note_run(ran));
  while (!ran.load()) std::this_thread::yield();
  (void)co_await std::move(child);
}

pw::task<int> traced_work(const pw::runtime& rt) {
  auto leaves = pw::spawn(tree(6));
  co_await force_a_steal();
  co_await pw::sleep(20ms);  // both workers park
  co_await io_completion(rt);
  auto n = co_await std::move(leaves);
  co_return n ? static_cast<int>(*n) : -1;
}

std::string temp_path(const char* name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/" + name + "." + std::to_string(::getpid()) + ".json";
}

}  // namespace

TEST_CASE("a runtime's trace holds spawns, runs, steals, parks and I/O, and is written to a file") {
  pw::runtime rt(pw::runtime_options{.workers = 2, .flight_recorder = 1 << 16});
  CHECK(rt.block_on(traced_work(rt)) == 4096);
  auto json = rt.trace_json();
  REQUIRE(json.has_value());
  CHECK(json->find("\"name\":\"spawn\"") != std::string::npos);
  CHECK(json->find("flight_recorder_test.cpp:") != std::string::npos);  // runs named by site
  CHECK(json->find("\"name\":\"parked\"") != std::string::npos);
  CHECK(json->find("\"name\":\"io\"") != std::string::npos);
  CHECK(json->find("\"name\":\"worker 1\"") != std::string::npos);
  CHECK(count(*json, "\"ph\":\"B\"") == count(*json, "\"ph\":\"E\""));
  CHECK(json->find("\"name\":\"steal\"") != std::string::npos);

  const std::string path = std::getenv("POLARWAY_TRACE_OUT") ? std::getenv("POLARWAY_TRACE_OUT")
                                                             : temp_path("flight_recorder_test");
  REQUIRE(rt.write_trace(path).has_value());
  std::FILE* f = std::fopen(path.c_str(), "r");
  REQUIRE(f != nullptr);
  std::string back;
  char chunk[4096];
  for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;) back.append(chunk, n);
  std::fclose(f);
  CHECK(back.starts_with("{\"displayTimeUnit\":\"ns\",\"traceEvents\":["));
  CHECK(back.size() > 1000);
  if (!std::getenv("POLARWAY_TRACE_OUT")) std::remove(path.c_str());
}

TEST_CASE("the recorder off, a path that cannot be written, and too large a ring are typed errors") {
  pw::runtime off(pw::runtime_options{.workers = 1});
  CHECK(off.trace_json().error().code() == pw::errc::invalid_input);
  CHECK(off.write_trace(temp_path("never")).error().code() == pw::errc::invalid_input);
  pw::runtime on(pw::runtime_options{.workers = 1, .flight_recorder = 16});
  const auto bad = on.write_trace("/nonexistent-dir/trace.json");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code() == std::errc::no_such_file_or_directory);
  CHECK(pw::runtime_options{.flight_recorder = pw::runtime_options::max_flight_recorder + 1}.resolved().error().code() ==
        pw::errc::invalid_input);
}
