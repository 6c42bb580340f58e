// pw::runtime_metrics: a snapshot of what a runtime's workers have done, for dashboards and
// alerts (Prometheus, logs), taken with runtime::metrics() from any thread at any time. Stable:
// fields may be added, none renamed or dropped.
//
// Every counter is kept by the worker it describes, on its own thread, without a locked
// instruction or a cache line shared with another worker (detail/worker_counters.hpp), so
// leaving them on costs the hot path next to nothing. A snapshot reads them one by one while the
// workers run: each value is one the counter really had, and monotonic counters never go
// backwards from one snapshot to the next, but the fields are not a consistent cut (a task may
// be counted as spawned and not yet as polled). Gauges (queue depths, timers pending, live
// tasks) are instantaneous.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "polarway/detail/scheduler.hpp"

namespace polarway {

/// One worker's counters since the runtime started, and its gauges now.
struct worker_metrics {
  std::uint64_t polls = 0;             // task runs (each resumption of a task)
  std::uint64_t lifo_slot_hits = 0;    // runs of a task taken from the LIFO slot (woken here)
  std::uint64_t budget_forced_yields = 0;  // runs that yielded because the cooperative budget ran out
  std::uint64_t tasks_spawned = 0;     // tasks and fork-join children created on this worker
  std::uint64_t steal_attempts = 0;    // steals tried on other workers' deques
  std::uint64_t steals = 0;            // of which took a task
  std::uint64_t stolen_from = 0;       // tasks other workers took from this one's deque
  std::uint64_t overflowed = 0;        // tasks moved from its full deque to the inject queue
  std::uint64_t parks = 0;             // times it went to sleep
  std::uint64_t notified_wakeups = 0;  // sleeps ended by a wake-up from another thread
                                       // (the rest ended by its own I/O or timers)
  std::chrono::nanoseconds busy_time{0};  // time not parked: running, polling, searching
  std::size_t local_queue_depth = 0;   // tasks in its deque now
  std::size_t timers_pending = 0;      // timers registered on it now
  // Its reactor. io_uring: SQEs submitted, CQEs completed, io_uring_enter calls. epoll:
  // descriptors registered, readiness events, epoll_wait calls. Internal wake-ups count too.
  std::uint64_t io_submissions = 0;
  std::uint64_t io_completions = 0;
  std::uint64_t io_kernel_entries = 0;
};

/// The runtime's workers and its shared parts.
struct runtime_metrics {
  std::vector<worker_metrics> workers;
  std::size_t inject_queue_depth = 0;  // tasks in the global queue (spawned or woken from outside)
  std::uint64_t tasks_spawned = 0;     // every task and fork-join child created so far
  std::uint64_t live_tasks = 0;        // created and not yet finished or cancelled
  std::size_t blocking_threads = 0;       // blocking-pool threads alive
  std::size_t blocking_idle_threads = 0;  // of which waiting for a job
  std::size_t blocking_queue_depth = 0;   // jobs waiting for a blocking-pool thread
  std::chrono::nanoseconds uptime{0};     // since the first worker started
  std::uint64_t slow_polls = 0;           // task runs the stall detector caught running past
                                          // runtime_options::slow_poll (0 with it off)
};

namespace detail {

inline runtime_metrics snapshot_metrics(scheduler& s) {
  runtime_metrics m;
  const std::size_t n = s.worker_count();
  m.workers.resize(n);
  const std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count();
  std::int64_t first_start = now;
  std::uint64_t spawned = s.external_spawned();
  std::uint64_t completed = s.external_completed();
  for (std::size_t i = 0; i < n; ++i) {
    worker& w = s.worker_at(i);
    const worker_counters& c = w.counters;
    worker_metrics& out = m.workers[i];
    out.polls = c.polls.get();
    out.lifo_slot_hits = c.lifo_hits.get();
    out.budget_forced_yields = c.forced_yields.get();
    out.tasks_spawned = c.spawned.get();
    out.steal_attempts = c.steal_attempts.get();
    out.steals = c.steals.get();
    for (std::size_t thief = 0; thief < n; ++thief) out.stolen_from += s.worker_at(thief).counters.tasks_stolen_from[i].get();
    out.overflowed = c.overflowed.get();
    out.parks = c.parks.get();
    out.notified_wakeups = c.notified_wakeups.get();
    // Busy: since it started, minus finished parks, minus the park it may be in now.
    const std::int64_t started = c.started_ns.load(std::memory_order_relaxed);
    const std::int64_t parked_since = c.parked_since_ns.load(std::memory_order_relaxed);
    const auto parked = static_cast<std::int64_t>(c.parked_ns.get());
    if (started != 0) {
      first_start = std::min(first_start, started);
      const std::int64_t current_park = parked_since != 0 ? std::max<std::int64_t>(0, now - parked_since) : 0;
      out.busy_time = std::chrono::nanoseconds(std::max<std::int64_t>(0, now - started - parked - current_park));
    }
    out.local_queue_depth = static_cast<std::size_t>(w.deque.size_hint());
    out.timers_pending = w.timers.pending();
    if (w.io) {
      const io_counts io = w.io->counts();
      out.io_submissions = io.submissions;
      out.io_completions = io.completions;
      out.io_kernel_entries = io.kernel_entries;
    }
    spawned += out.tasks_spawned;
    completed += c.completed.get();
  }
  m.inject_queue_depth = s.inject_len();
  m.tasks_spawned = spawned;
  m.live_tasks = spawned > completed ? spawned - completed : 0;
  m.blocking_threads = s.pool().threads_alive();
  m.blocking_idle_threads = s.pool().threads_idle();
  m.blocking_queue_depth = s.pool().queued();
  m.uptime = std::chrono::nanoseconds(now - first_start);
  return m;
}

}  // namespace detail

}  // namespace polarway
