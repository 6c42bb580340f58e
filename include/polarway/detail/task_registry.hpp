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
//
// A shard is an array of cells, and a listed cell knows its shard and index: unlisting moves
// the shard's last cell into the gap. That costs the cell 5 bytes where the links of a list
// cost 16, which keeps it in the frame pool's 112-byte class; the array's growth (doubling,
// under the lock) is the price.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "polarway/detail/spin_lock.hpp"
#include "polarway/detail/task_cell.hpp"

namespace polarway::detail {

class task_registry {
 public:
  /// At most max_shards shards (a cell's shard number is one byte).
  static constexpr std::size_t max_shards = task_cell::no_shard;

  explicit task_registry(std::size_t shards) : shards_(std::clamp<std::size_t>(shards, 1, max_shards)) {}

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
    task_cell* last = s.cells.back();
    s.cells[cell->reg_index] = last;
    last->reg_index = cell->reg_index;
    s.cells.pop_back();
    cell->reg_shard = task_cell::no_shard;
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
        cells = s.cells;
        for (task_cell* c : cells) c->ref();
      }
      for (task_cell* c : cells) {
        abort(c);
        c->unref();
      }
    }
  }

  /// Calls f(task_cell&) on every listed task, one shard at a time under that shard's
  /// lock, which keeps each cell alive for the call (its task completes only once it is
  /// unlisted). Listing and unlisting in that shard wait meanwhile: f must be quick.
  /// The cells are scattered in memory, and so is what f reads through them: each cell is
  /// fetched 16 cells ahead of f, and ahead(cell) is called 8 ahead, to start fetching what
  /// f will read through it, so that the cache misses of several cells overlap.
  template <class F, class Ahead>
  void for_each(F&& f, Ahead&& ahead) {
    constexpr std::size_t fetch_cell = 16, call_ahead = 8;
    for (shard& s : shards_) {
      std::lock_guard lock(s.lock);
      const std::size_t n = s.cells.size();
      for (std::size_t i = 0; i < n; ++i) {
        if (i + fetch_cell < n) {
          const char* cell = reinterpret_cast<const char*>(s.cells[i + fetch_cell]);
          // Its lines: a cell spans two or three, as it falls.
          __builtin_prefetch(cell);
          __builtin_prefetch(cell + 64);
          __builtin_prefetch(cell + sizeof(task_cell) - 1);
        }
        if (i + call_ahead < n) ahead(*s.cells[i + call_ahead]);
        f(*s.cells[i]);
      }
    }
  }

  /// How many tasks are listed (a snapshot).
  std::size_t size() noexcept {
    std::size_t n = 0;
    for (shard& s : shards_) {
      std::lock_guard lock(s.lock);
      n += s.cells.size();
    }
    return n;
  }

  /// Whether no task is listed (a snapshot: for shutdown's final check).
  bool empty() noexcept {
    for (shard& s : shards_) {
      std::lock_guard lock(s.lock);
      if (!s.cells.empty()) return false;
    }
    return true;
  }

 private:
  struct shard {
    spin_lock lock;  // cells and closed
    std::vector<task_cell*> cells;
    bool closed = false;
  };

  bool link(task_cell* cell, std::size_t hint, bool even_if_closed) noexcept {
    const auto index = static_cast<std::uint8_t>(hint % shards_.size());
    shard& s = shards_[index];
    std::lock_guard lock(s.lock);
    if (s.closed && !even_if_closed) return false;
    cell->reg_shard = index;
    cell->reg_index = static_cast<std::uint32_t>(s.cells.size());
    s.cells.push_back(cell);
    return !s.closed;
  }

  std::vector<shard> shards_;
};

}  // namespace polarway::detail
