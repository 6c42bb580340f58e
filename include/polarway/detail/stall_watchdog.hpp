// The stall detector behind runtime_options::slow_poll: a thread that samples what every worker
// is running, and reports a run (a poll) that it has watched go on for the threshold.
//
// Why sampling: timing every poll on the worker would read the clock twice per task run,
// which is more than a short task costs. Instead each worker publishes the task it is running
// and counts its runs (relaxed stores, and the count it keeps anyway), and this thread looks
// every `slow_poll / 4`, at least 1 ms apart (every `slow_poll` while every worker is parked).
// A run seen with the same count at two samples `slow_poll` apart is reported while it still
// runs, so a task blocked in a system call is named while it blocks; when the worker is next
// seen elsewhere the run is reported again with its whole duration. Durations are measured
// from the first sample that saw the run to the one that saw it end, so they are right to
// within a sampling interval either way, and every run longer than slow_poll plus one interval
// is caught (shorter ones may be), as long as this thread gets to run on time.
//
// Reports are rate limited (a burst of `report_burst`, then `reports_per_second`); the ones
// dropped are counted and the count rides on the next report that goes out.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "polarway/runtime/spawn_site.hpp"
#include "polarway/runtime/stall_report.hpp"

namespace polarway::detail {

/// One look at a worker.
struct poll_sample {
  std::uint64_t runs = 0;    // runs it has begun so far
  bool in_run = false;       // whether a run is in progress
  std::uint64_t site = 0;    // that run's spawn_site::bits()
  bool parked = false;       // asleep, waiting for work
};

/// The detector's judgement, apart from its thread and clock, so that it can be tested with
/// made-up samples and times.
class stall_tracker {
 public:
  stall_tracker(std::size_t workers, std::chrono::nanoseconds threshold) : watches_(workers), threshold_(threshold) {}

  /// Takes worker `i`'s sample at `now`; calls emit(stall_report) for what is due.
  template <class Emit>
  void observe(std::size_t i, const poll_sample& s, std::chrono::nanoseconds now, Emit&& emit) {
    watch& w = watches_[i];
    if (s.in_run && w.in_run && s.runs == w.runs) {  // the run it saw last time
      if (!w.reported && now - w.first_seen >= threshold_) {
        w.reported = true;
        emit(stall_report{spawn_site::from_bits(w.site), i, now - w.first_seen, true, 0});
      }
      return;
    }
    if (w.reported) emit(stall_report{spawn_site::from_bits(w.site), i, now - w.first_seen, false, 0});
    w = watch{s.runs, s.in_run, s.site, now, false};
  }

 private:
  struct watch {
    std::uint64_t runs = 0;
    bool in_run = false;
    std::uint64_t site = 0;
    std::chrono::nanoseconds first_seen{0};
    bool reported = false;
  };
  std::vector<watch> watches_;
  const std::chrono::nanoseconds threshold_;
};

class stall_watchdog {
 public:
  static constexpr int report_burst = 10;
  static constexpr int reports_per_second = 10;

  using sampler = std::function<poll_sample(std::size_t worker)>;
  using reporter = std::function<void(const stall_report&)>;

  /// Starts the thread. `sample(i)` reads worker i from the watchdog's thread; `report` is
  /// called there too (never with a lock held).
  stall_watchdog(std::size_t workers, std::chrono::nanoseconds threshold, sampler sample, reporter report)
      : workers_(workers),
        threshold_(threshold),
        busy_interval_(std::max<std::chrono::nanoseconds>(threshold / 4, std::chrono::milliseconds(1))),
        sample_(std::move(sample)),
        report_(std::move(report)),
        thread_([this] { run(); }) {}

  stall_watchdog(const stall_watchdog&) = delete;
  stall_watchdog& operator=(const stall_watchdog&) = delete;
  ~stall_watchdog() { stop(); }

  /// Stops and joins the thread (idempotent).
  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  /// Slow polls seen so far (each counted once, reported or suppressed).
  std::uint64_t slow_polls() const noexcept { return slow_polls_.load(std::memory_order_relaxed); }

 private:
  using clock = std::chrono::steady_clock;

  void run() {
    stall_tracker tracker(workers_, threshold_);
    const clock::time_point start = clock::now();
    double tokens = report_burst;
    clock::time_point refilled = start;
    std::uint64_t suppressed = 0;
    std::vector<stall_report> due;
    std::chrono::nanoseconds interval = busy_interval_;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        if (cv_.wait_for(lock, interval, [this] { return stopping_; })) return;
      }
      const clock::time_point now = clock::now();
      bool all_parked = true;
      for (std::size_t i = 0; i < workers_; ++i) {
        const poll_sample s = sample_(i);
        all_parked = all_parked && s.parked && !s.in_run;
        tracker.observe(i, s, now - start, [&](const stall_report& r) { due.push_back(r); });
      }
      interval = all_parked ? std::max(threshold_, busy_interval_) : busy_interval_;
      tokens = std::min<double>(report_burst, tokens + std::chrono::duration<double>(now - refilled).count() *
                                                           reports_per_second);
      refilled = now;
      for (stall_report& r : due) {
        if (r.still_running) slow_polls_.fetch_add(1, std::memory_order_relaxed);
        if (tokens < 1) {
          ++suppressed;
          continue;
        }
        tokens -= 1;
        r.suppressed = std::exchange(suppressed, 0);
        report_(r);
      }
      due.clear();
    }
  }

  const std::size_t workers_;
  const std::chrono::nanoseconds threshold_;
  const std::chrono::nanoseconds busy_interval_;
  sampler sample_;
  reporter report_;
  std::atomic<std::uint64_t> slow_polls_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once everything above is ready
};

}  // namespace polarway::detail
