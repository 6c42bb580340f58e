#include "runtime_prometheus.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "process_stats.hpp"

namespace ticks::app {

namespace pw = polarway;

namespace {

struct worker_family {
  const char* name;
  const char* type;
  const char* help;
  std::uint64_t (*value)(const pw::worker_metrics&);
};

template <auto Field>
std::uint64_t field(const pw::worker_metrics& w) {
  return static_cast<std::uint64_t>(w.*Field);
}

constexpr worker_family worker_families[] = {
    {"polarway_runtime_worker_polls_total", "counter", "Task runs (resumptions) on the worker.",
     field<&pw::worker_metrics::polls>},
    {"polarway_runtime_worker_lifo_slot_hits_total", "counter", "Runs of a task taken from the LIFO slot.",
     field<&pw::worker_metrics::lifo_slot_hits>},
    {"polarway_runtime_worker_budget_forced_yields_total", "counter",
     "Runs that yielded because the cooperative budget ran out.", field<&pw::worker_metrics::budget_forced_yields>},
    {"polarway_runtime_worker_tasks_spawned_total", "counter", "Tasks and fork-join children created on the worker.",
     field<&pw::worker_metrics::tasks_spawned>},
    {"polarway_runtime_worker_steal_attempts_total", "counter", "Steals tried on other workers' deques.",
     field<&pw::worker_metrics::steal_attempts>},
    {"polarway_runtime_worker_steals_total", "counter", "Steals that took a task.",
     field<&pw::worker_metrics::steals>},
    {"polarway_runtime_worker_stolen_from_total", "counter", "Tasks other workers took from this worker's deque.",
     field<&pw::worker_metrics::stolen_from>},
    {"polarway_runtime_worker_overflowed_total", "counter", "Tasks moved from the full deque to the inject queue.",
     field<&pw::worker_metrics::overflowed>},
    {"polarway_runtime_worker_parks_total", "counter", "Times the worker went to sleep.",
     field<&pw::worker_metrics::parks>},
    {"polarway_runtime_worker_notified_wakeups_total", "counter", "Sleeps ended by a wake-up from another thread.",
     field<&pw::worker_metrics::notified_wakeups>},
    {"polarway_runtime_worker_local_queue_depth", "gauge", "Tasks in the worker's deque now.",
     field<&pw::worker_metrics::local_queue_depth>},
    {"polarway_runtime_worker_timers_pending", "gauge", "Timers registered on the worker now.",
     field<&pw::worker_metrics::timers_pending>},
    {"polarway_runtime_worker_io_submissions_total", "counter",
     "Reactor submissions (io_uring SQEs; epoll: descriptors registered).",
     field<&pw::worker_metrics::io_submissions>},
    {"polarway_runtime_worker_io_completions_total", "counter",
     "Reactor completions (io_uring CQEs; epoll: readiness events).", field<&pw::worker_metrics::io_completions>},
    {"polarway_runtime_worker_io_kernel_entries_total", "counter",
     "Reactor system calls (io_uring_enter; epoll_wait).", field<&pw::worker_metrics::io_kernel_entries>},
};

}  // namespace

void append_runtime_metrics(prometheus_text& out, const pw::runtime_metrics& m) {
  std::vector<std::string> ids;
  ids.reserve(m.workers.size());
  for (std::size_t i = 0; i < m.workers.size(); ++i) ids.push_back(std::to_string(i));
  for (const worker_family& f : worker_families) {
    out.family(f.name, f.type, f.help);
    for (std::size_t i = 0; i < m.workers.size(); ++i) out.sample(f.name, {{"worker", ids[i]}}, f.value(m.workers[i]));
  }
  out.family("polarway_runtime_worker_busy_seconds_total", "counter", "Time not parked: running, polling, searching.");
  for (std::size_t i = 0; i < m.workers.size(); ++i)
    out.sample("polarway_runtime_worker_busy_seconds_total", {{"worker", ids[i]}},
               std::chrono::duration<double>(m.workers[i].busy_time).count());
  out.single("polarway_runtime_inject_queue_depth", "gauge", "Tasks in the global queue now.", m.inject_queue_depth);
  out.single("polarway_runtime_tasks_spawned_total", "counter", "Tasks and fork-join children created.",
             m.tasks_spawned);
  out.single("polarway_runtime_live_tasks", "gauge", "Tasks created and not yet finished or cancelled.", m.live_tasks);
  out.single("polarway_runtime_blocking_threads", "gauge", "Blocking-pool threads alive.", m.blocking_threads);
  out.single("polarway_runtime_blocking_idle_threads", "gauge", "Blocking-pool threads waiting for a job.",
             m.blocking_idle_threads);
  out.single("polarway_runtime_blocking_queue_depth", "gauge", "Jobs waiting for a blocking-pool thread.",
             m.blocking_queue_depth);
  out.single("polarway_runtime_uptime_seconds", "gauge", "Time since the first worker started.",
             std::chrono::duration<double>(m.uptime).count());
  out.single("polarway_runtime_slow_polls_total", "counter",
             "Task runs the stall detector caught running past runtime_options::slow_poll.", m.slow_polls);
}

void append_process_metrics(prometheus_text& out) {
  out.single("polarway_process_resident_memory_bytes", "gauge", "Resident memory now (VmRSS).",
             current_rss_kib() * 1024);
  out.single("polarway_process_peak_resident_memory_bytes", "gauge", "Peak resident memory (VmHWM).",
             peak_rss_kib() * 1024);
}

}  // namespace ticks::app
