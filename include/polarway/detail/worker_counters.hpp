// worker_counters: what one worker has done since the runtime started, counted by that worker
// alone (owned_counter: no locked instruction and no cache line shared with another worker on
// the hot path) and read by runtime::metrics() from any thread.
//
// A steal is counted by the thief: tasks_stolen_from[v] is how many tasks this worker took from
// worker v, so the tasks stolen *from* v are the sum of that entry over every thief, computed
// when a snapshot is taken. Busy time is the time the worker has not spent parked: it is
// running tasks, polling, searching or spinning otherwise.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "polarway/detail/owned_counter.hpp"

namespace polarway::detail {

struct worker_counters {
  explicit worker_counters(std::size_t workers)
      : tasks_stolen_from(std::make_unique<owned_counter[]>(workers)) {}

  owned_counter polls;          // task runs (one resumption each)
  owned_counter lifo_hits;      // runs taken from the LIFO slot
  owned_counter forced_yields;  // runs ended because the cooperative budget ran out
  owned_counter spawned;        // tasks (and fork-join children) created on this worker
  owned_counter completed;      // tasks that finished (or were cancelled) on this worker
  owned_counter steal_attempts; // steal operations on another worker's deque
  owned_counter steals;         // of which took a task
  owned_counter overflowed;     // tasks moved to the inject queue from a full deque
  owned_counter parks;          // times the worker parked
  owned_counter notified_wakeups;  // parks ended by another thread's wake-up (not I/O or a timer)
  owned_counter parked_ns;         // time parked, over finished parks
  std::atomic<std::int64_t> parked_since_ns{0};  // clock time the current park began; 0: not parked
  std::atomic<std::int64_t> started_ns{0};       // clock time the worker thread started
  std::unique_ptr<owned_counter[]> tasks_stolen_from;  // per victim worker index
};

}  // namespace polarway::detail
