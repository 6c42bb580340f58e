// Every task spawned with spawn()/block_on is listed here until it completes, so that shutdown
// can find and cancel tasks that are suspended on something that will never happen. Sharded
// by the spawning worker so that spawns on different workers do not contend. Fork-join
// children are not listed: they are reachable through their parent, which is.
//
// Each spawn and each completion takes its shard's lock once, for a few pointer writes: a
// spin lock, since a std::mutex's uncontended lock and unlock calls cost chained_spawn about
// 15% (105 -> 89 ns per task). Only the shutdown path, which waits for the shards to drain,
// uses a mutex and a condition variable.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "polarway/detail/spin_lock.hpp"
#include "polarway/detail/task_cell.hpp"

namespace polarway::detail {

class task_registry {
 public:
  explicit task_registry(std::size_t shards) : shards_(shards) {}

  /// Lists the cell. False once the registry is closed (the runtime is shutting down).
  bool insert(task_cell* cell, std::size_t hint) noexcept {
    const auto index = static_cast<std::uint32_t>(hint % shards_.size());
    shard& s = shards_[index];
    std::lock_guard lock(s.lock);
    if (s.closed) return false;
    cell->reg_shard = index;
    cell->reg_prev = nullptr;
    cell->reg_next = s.head;
    if (s.head) s.head->reg_prev = cell;
    s.head = cell;
    ++s.count;
    return true;
  }

  void remove(task_cell* cell) noexcept {
    if (cell->reg_shard == task_cell::no_shard) return;
    shard& s = shards_[cell->reg_shard];
    bool last_at_shutdown;
    {
      std::lock_guard lock(s.lock);
      if (cell->reg_prev) cell->reg_prev->reg_next = cell->reg_next;
      else s.head = cell->reg_next;
      if (cell->reg_next) cell->reg_next->reg_prev = cell->reg_prev;
      cell->reg_shard = task_cell::no_shard;
      last_at_shutdown = --s.count == 0 && s.closed;
    }
    if (last_at_shutdown) {
      // Taking drain_mu orders this after the waiter's check of count (made holding it).
      std::lock_guard lock(s.drain_mu);
      s.drained.notify_all();
    }
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

  /// Blocks until every listed task has completed.
  void wait_until_empty() {
    for (shard& s : shards_) {
      std::unique_lock wait_lock(s.drain_mu);
      s.drained.wait(wait_lock, [&] {
        std::lock_guard lock(s.lock);
        return s.count == 0;
      });
    }
  }

 private:
  struct shard {
    spin_lock lock;  // the list, count and closed
    std::mutex drain_mu;
    std::condition_variable drained;
    task_cell* head = nullptr;
    std::size_t count = 0;
    bool closed = false;
  };
  std::vector<shard> shards_;
};

}  // namespace polarway::detail
