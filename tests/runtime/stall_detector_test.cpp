// The stall detector (runtime_options::slow_poll): its judgement on made-up samples, then a real
// runtime catching a task that busy-loops and one blocked in sleep(3), by spawn site or name,
// while the other worker keeps running tasks; the rate limit; and the detector turned off.
#include "polarway/detail/stall_watchdog.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "polarway/runtime.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {

using pw::detail::poll_sample;
using pw::detail::stall_tracker;

const pw::spawn_site site_a = pw::spawn_site::here("a.cpp", 10);
const pw::spawn_site site_b = pw::spawn_site::here("b.cpp", 20);

poll_sample running(std::uint64_t runs, pw::spawn_site site) { return poll_sample{runs, true, site.bits(), false}; }
poll_sample idle(std::uint64_t runs) { return poll_sample{runs, false, 0, true}; }

struct collected {
  std::vector<pw::stall_report> reports;
  void operator()(const pw::stall_report& r) { reports.push_back(r); }
};

}  // namespace

TEST_CASE("stall_tracker: a run watched for the threshold is reported once while it runs, once when it ends") {
  stall_tracker t(2, 10ms);
  collected out;
  auto emit = [&](const pw::stall_report& r) { out(r); };
  t.observe(1, running(5, site_a), 100ms, emit);
  t.observe(1, running(5, site_a), 105ms, emit);
  CHECK(out.reports.empty());  // watched 5 ms
  t.observe(1, running(5, site_a), 110ms, emit);
  REQUIRE(out.reports.size() == 1);
  CHECK(out.reports[0].still_running);
  CHECK(out.reports[0].site == site_a);
  CHECK(out.reports[0].worker == 1);
  CHECK(out.reports[0].duration == 10ms);
  t.observe(1, running(5, site_a), 140ms, emit);
  CHECK(out.reports.size() == 1);  // not again while it goes on
  t.observe(1, running(6, site_b), 145ms, emit);  // the next run: the slow one has ended
  REQUIRE(out.reports.size() == 2);
  CHECK_FALSE(out.reports[1].still_running);
  CHECK(out.reports[1].site == site_a);
  CHECK(out.reports[1].duration == 45ms);
  t.observe(1, running(6, site_b), 150ms, emit);
  CHECK(out.reports.size() == 2);  // the new run is watched from scratch
}

TEST_CASE("stall_tracker: short runs, idle workers and a run that ends into idleness") {
  stall_tracker t(1, 10ms);
  collected out;
  auto emit = [&](const pw::stall_report& r) { out(r); };
  // Many runs, each seen once: the count moves at every sample.
  for (std::uint64_t i = 0; i < 100; ++i) t.observe(0, running(i, site_a), std::chrono::milliseconds(5 * i), emit);
  CHECK(out.reports.empty());
  // A parked worker whose count does not move is not stalled.
  for (int i = 0; i < 10; ++i) t.observe(0, idle(100), 500ms + i * 5ms, emit);
  CHECK(out.reports.empty());
  // A slow run that ends with the worker parking.
  t.observe(0, running(101, site_b), 600ms, emit);
  t.observe(0, running(101, site_b), 615ms, emit);
  t.observe(0, idle(101), 620ms, emit);
  REQUIRE(out.reports.size() == 2);
  CHECK(out.reports[0].still_running);
  CHECK_FALSE(out.reports[1].still_running);
  CHECK(out.reports[1].duration == 20ms);
  CHECK(out.reports[1].site == site_b);
}

TEST_CASE("stall_report: the line names the site or the name, the duration and the worker") {
  pw::stall_report r{pw::spawn_site::here("feed.cpp", 42), 1, 52'100us, true, 0};
  CHECK(pw::to_string(r) == "slow poll: task spawned at feed.cpp:42 has been running for 52.1 ms on worker 1");
  r.still_running = false;
  r.suppressed = 3;
  r.site = pw::spawn_site::named("reader");
  CHECK(pw::to_string(r) == "slow poll: task named reader ran for 52.1 ms on worker 1 (3 earlier reports suppressed)");
}

namespace {

// What a runtime's detector reported, seen from the test. A loaded machine may preempt a
// worker in the middle of some other run for longer than the threshold, which the detector
// rightly reports too, so the tests look at the reports about the task they made slow.
struct report_log {
  struct entry {
    pw::stall_report report;
    bool while_stuck;  // whether the stuck task was still stuck when this was reported
  };
  std::mutex mu;
  std::vector<entry> entries;
  std::atomic<bool>* stuck = nullptr;

  std::function<void(const pw::stall_report&)> sink() {
    return [this](const pw::stall_report& r) {
      std::lock_guard lock(mu);
      entries.push_back(entry{r, stuck && stuck->load()});
    };
  }
  std::vector<entry> about(std::function<bool(const pw::spawn_site&)> which) {
    std::lock_guard lock(mu);
    std::vector<entry> out;
    for (const auto& e : entries)
      if (which(e.report.site)) out.push_back(e);
    return out;
  }
  std::vector<pw::stall_report> all() {
    std::lock_guard lock(mu);
    std::vector<pw::stall_report> out;
    for (const auto& e : entries) out.push_back(e.report);
    return out;
  }
};

pw::task<void> busy_loop(std::chrono::milliseconds how_long, std::atomic<bool>& stuck) {
  stuck.store(true);
  const auto until = std::chrono::steady_clock::now() + how_long;
  while (std::chrono::steady_clock::now() < until) {
  }
  stuck.store(false);
  co_return;
}

pw::task<void> blocking_sleep(unsigned seconds, std::atomic<bool>& stuck) {
  stuck.store(true);
  ::sleep(seconds);
  stuck.store(false);
  co_return;
}

pw::task<int> quick(int v) { co_return v; }

pw::task<void> join(pw::join_handle<void> h) { (void)co_await std::move(h); }

// While `stuck` holds, runs short tasks from outside the runtime one after another (each must
// be run by a worker that is not stuck); returns how many completed meanwhile.
int tasks_run_while(pw::runtime& rt, std::atomic<bool>& stuck) {
  while (!stuck.load()) std::this_thread::yield();
  int done = 0;
  while (stuck.load()) {
    if (rt.block_on(quick(done)) == done) ++done;
  }
  return done;
}

// The reports about tasks `which` names, once there are two (while running, and at the end);
// empty after 20 s.
std::vector<report_log::entry> two_reports(report_log& log, std::function<bool(const pw::spawn_site&)> which) {
  for (int i = 0; i < 2'000; ++i) {
    auto found = log.about(which);
    if (found.size() >= 2) return found;
    std::this_thread::sleep_for(10ms);
  }
  return {};
}

}  // namespace

TEST_CASE("a task that busy-loops for 50 ms is reported with its spawn site while the other worker runs tasks") {
  report_log log;
  std::atomic<bool> stuck{false};
  log.stuck = &stuck;
  pw::runtime rt(pw::runtime_options{.workers = 2, .slow_poll = 10ms, .on_stall = log.sink()});
  auto handle = rt.spawn(busy_loop(50ms, stuck));
  const unsigned spawn_line = __LINE__ - 1;
  const int ran_meanwhile = tasks_run_while(rt, stuck);
  rt.block_on(join(std::move(handle)));
  const auto reports = two_reports(log, [&](const pw::spawn_site& s) {
    return s.text().ends_with("stall_detector_test.cpp") && s.line() == spawn_line;
  });
  CHECK(ran_meanwhile > 0);
  REQUIRE(reports.size() == 2);
  CHECK(reports[0].report.still_running);
  CHECK(reports[0].while_stuck);
  CHECK(reports[0].report.duration >= 10ms);
  CHECK_FALSE(reports[1].report.still_running);
  // Sampled every 2.5 ms, the 50 ms are measured to within a sampling interval either way; a
  // loaded machine may wake the detector late for its first look, hence the slack.
  CHECK(reports[1].report.duration >= 30ms);
  CHECK(reports[1].report.duration < 10s);
  CHECK(reports[0].report.worker < 2);
  CHECK(reports[1].report.worker == reports[0].report.worker);
  CHECK(rt.metrics().slow_polls >= 1);
}

TEST_CASE("a task blocked in sleep(3) is reported while it blocks, by name") {
  report_log log;
  std::atomic<bool> stuck{false};
  log.stuck = &stuck;
  pw::runtime rt(pw::runtime_options{.workers = 2, .slow_poll = 10ms, .on_stall = log.sink()});
  auto handle = rt.spawn_named("sleeper", blocking_sleep(1, stuck));
  const int ran_meanwhile = tasks_run_while(rt, stuck);
  rt.block_on(join(std::move(handle)));
  const auto reports =
      two_reports(log, [](const pw::spawn_site& s) { return s.is_name() && s.text() == "sleeper"; });
  CHECK(ran_meanwhile > 0);
  REQUIRE(reports.size() == 2);
  CHECK(reports[0].report.still_running);
  CHECK(reports[0].while_stuck);  // named while it blocks, not after
  CHECK(reports[0].report.duration < 1s);
  CHECK_FALSE(reports[1].report.still_running);
  CHECK(reports[1].report.duration >= 900ms);
}

namespace {

pw::task<void> slow_polls(int n, std::chrono::milliseconds each) {
  std::atomic<bool> stuck{false};
  for (int i = 0; i < n; ++i) {
    co_await busy_loop(each, stuck);
    co_await pw::yield_now();  // a new run each time
  }
}

}  // namespace

TEST_CASE("reports past the rate limit are counted, not lost, and every slow poll is counted") {
  report_log log;
  pw::runtime rt(pw::runtime_options{.workers = 1, .slow_poll = 5ms, .on_stall = log.sink()});
  const auto start = std::chrono::steady_clock::now();
  // Runs of 30 ms against a 5 ms threshold sampled every 1.25 ms: each is caught even if the
  // detector's thread wakes a few milliseconds late on a loaded machine.
  rt.block_on(slow_polls(20, 30ms));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() + 0.5;
  // Every slow poll is counted once, whether its reports went out or not.
  for (int i = 0; i < 200 && rt.metrics().slow_polls < 20; ++i) std::this_thread::sleep_for(10ms);
  CHECK(rt.metrics().slow_polls == 20);
  const auto reports = log.all();
  std::uint64_t suppressed = 0;
  for (const auto& r : reports) suppressed += r.suppressed;
  CHECK(reports.size() <= pw::detail::stall_watchdog::report_burst +
                              static_cast<std::size_t>(seconds * pw::detail::stall_watchdog::reports_per_second) + 1);
  CHECK(reports.size() < 40);  // two per slow poll without the limit
  CHECK(suppressed > 0);
  CHECK(reports.size() + suppressed <= 40);
}

TEST_CASE("slow_poll zero turns the detector off") {
  report_log log;
  std::atomic<bool> stuck{false};
  {
    pw::runtime rt(pw::runtime_options{.workers = 1, .slow_poll = 0ms, .on_stall = log.sink()});
    rt.block_on(busy_loop(50ms, stuck));
    std::this_thread::sleep_for(20ms);
    CHECK(rt.metrics().slow_polls == 0);
  }
  CHECK(log.all().empty());
}

TEST_CASE("slow_poll out of range is an invalid_input error") {
  CHECK(pw::runtime_options{.slow_poll = -1ms}.resolved().error().code() == pw::errc::invalid_input);
  CHECK(pw::runtime_options{.slow_poll = pw::runtime_options::max_slow_poll + 1ms}.resolved().error().code() ==
        pw::errc::invalid_input);
  CHECK(pw::runtime_options{.slow_poll = pw::runtime_options::max_slow_poll}.resolved().has_value());
}

TEST_CASE("spawn_site packs a file and line or a name in one word") {
  const auto s = pw::spawn_site::here();
  const unsigned line = __LINE__ - 1;
  CHECK(s.known());
  CHECK(s.line() == line);
  CHECK(s.text().ends_with("stall_detector_test.cpp"));
  CHECK(s.to_string().ends_with("stall_detector_test.cpp:" + std::to_string(line)));
  CHECK(pw::spawn_site::here("big.cpp", 70'000).line() == 65'535);  // kept as the largest
  CHECK(pw::spawn_site::here("x.cpp", 0).line() == 1);              // 0 is for names
  const auto n = pw::spawn_site::named("reader");
  CHECK(n.is_name());
  CHECK(n.to_string() == "reader");
  CHECK_FALSE(pw::spawn_site().known());
  CHECK(pw::spawn_site().to_string() == "unknown");
  CHECK(pw::spawn_site::from_bits(s.bits()) == s);
}
