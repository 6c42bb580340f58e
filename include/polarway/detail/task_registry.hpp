// The tasks that shutdown must find: every task that is suspended (waiting on something that
// may never happen) is listed here until it completes, so that shutdown can cancel it. Sharded
// by worker so that workers do not contend.
//
// What is listed, and when:
//   spawned from outside the runtime (runtime::spawn, block_on): at spawn, so that a spawn
//     racing with shutdown is either listed before the registry closes or refused after;
//   spawned on a worker (pw::spawn): when a run of it first ends with the task suspended. A
//     task that runs to completion in its first run (most short spawned tasks) is never
//     listed: it saves two lock round trips, which were 11% of spawn_many_100k. Until then
//     the task is in a worker's hands (queued or running), and the workers account for it
//     at shutdown (scheduler.hpp, "Shutdown");
//   fork-join children: never; they are reachable through their parent.
//
// Each listing and each completion of a listed task takes its shard's lock once, for a few
// pointer writes: a spin lock, since a std::mutex's uncontended lock and unlock calls cost
// chained_spawn about 15% (105 -> 89 ns per task) when every spawn was listed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "polarway/detail/spin_lock.hpp"
#include "polarway/detail/task_cell.hpp"

namespace polarway::detail {

class task_registry {
 public:
  explicit task_registry(std::size_t shards) : shards_(shards) {}

  /// Lists the cell of a task that has not run yet. False, listing nothing, once the registry
  /// is closed (the runtime is shutting down): the task must not run.
  bool insert(task_cell* cell, std::size_t hint) noexcept { return link(cell, hint, /*even_if_closed=*/false); }

  /// Lists the cell of a task that has just suspended, closed or not (shutdown must wait for
  /// it either way). False if the registry is closed: the caller must cancel the task itself,
  /// as close_and_abort_all may have passed its shard already.
  bool insert_suspended(task_cell* cell, std::size_t hint) noexcept {
    return link(cell, hint, /*even_if_closed=*/true);
  }

  void remove(task_cell* cell) noexcept {
    if (cell->reg_shard == task_cell::no_shard) return;
    shard& s = shards_[cell->reg_shard];
    std::lock_guard lock(s.lock);
    if (cell->reg_prev)
      cell->reg_prev->reg_next = cell->reg_next;
    else
      s.head = cell->reg_next;
    if (cell->reg_next) cell->reg_next->reg_prev = cell->reg_prev;
    cell->reg_shard = task_cell::no_shard;
    --s.count;
  }

  /// Closes every shard (later inserts fail) and calls abort(cell) on each listed task, with
  /// a reference held so the cell outlives the call.
  template <class Abort>
  void close_and_abort_all(Abort&& abort) {
    for (shard& s : shards_) {
      std::vector<task_cell*> cells;
      {
        std::lock_guard lock(s.lock);
        s.closed = true;
        for (task_cell* c = s.head; c; c = c->reg_next) {
          c->ref();
          cells.push_back(c);
        }
      }
      for (task_cell* c : cells) {
        abort(c);
        c->unref();
      }
    }
  }

  /// Whether no task is listed (a snapshot: for shutdown's final check).
  bool empty() noexcept {
    for (shard& s : shards_) {
      std::lock_guard lock(s.lock);
      if (s.count != 0) return false;
    }
    return true;
  }

 private:
  struct shard {
    spin_lock lock;  // the list, count and closed
    task_cell* head = nullptr;
    std::size_t count = 0;
    bool closed = false;
  };

  bool link(task_cell* cell, std::size_t hint, bool even_if_closed) noexcept {
    const auto index = static_cast<std::uint32_t>(hint % shards_.size());
    shard& s = shards_[index];
    std::lock_guard lock(s.lock);
    if (s.closed && !even_if_closed) return false;
    cell->reg_shard = index;
    cell->reg_prev = nullptr;
    cell->reg_next = s.head;
    if (s.head) s.head->reg_prev = cell;
    s.head = cell;
    ++s.count;
    return !s.closed;
  }

  std::vector<shard> shards_;
};

}  // namespace polarway::detail
