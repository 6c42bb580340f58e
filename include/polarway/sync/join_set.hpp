// pw::join_set<T>: a set of spawned tasks whose results are collected in completion order.
//
// Each task is an entry holding its join_handle. The set registers a completion callback on the
// task's cell (the join waker, as fork_group does); the callback runs on the worker that
// finishes the task, moves the entry from the pending list to the ready list under the set's
// lock and wakes the task waiting in join_next(), under the same lock that join_next's awaiter
// takes to unregister. The lists and the lock live in a reference-counted core, so a callback
// that is already running when the set is destroyed still has somewhere to go: it sees the set
// closed and frees its entry itself.
//
// A join_set is used by one task at a time (like a Tokio JoinSet behind &mut): spawn, join_next
// and the rest are not meant to be called concurrently with each other.
//
// Cancel safety: join_next() is cancel-safe: an entry leaves the ready list only when the
// joining task runs, so a result is never lost to an aborted join_next. shutdown() is
// cancel-safe too (the set stays valid; remaining tasks are aborted when it is destroyed).
#pragma once

#include <coroutine>
#include <cstddef>
#include <mutex>
#include <utility>

#include "polarway/detail/panic.hpp"
#include "polarway/detail/scheduler.hpp"
#include "polarway/option.hpp"
#include "polarway/result.hpp"
#include "polarway/runtime/join_error.hpp"
#include "polarway/runtime/join_handle.hpp"
#include "polarway/runtime/runtime.hpp"
#include "polarway/detail/spin_lock.hpp"
#include "polarway/sync/detail/wait_list.hpp"
#include "polarway/task.hpp"

namespace polarway {

namespace detail {

template <class T>
struct join_set_core;

template <class T>
struct join_set_entry : wait_link<join_set_entry<T>> {  // on the pending or ready list, under core->lock
  join_handle<T> handle;
  task_cell* cell;
  join_set_core<T>* core;
};

template <class T>
struct join_set_core {
  using entry = join_set_entry<T>;
  using list = wait_list<entry>;

  spin_lock lock;
  list pending;                 // running or waiting tasks, callback registered
  list ready;                   // finished tasks, in completion order
  task_cell* waiter = nullptr;  // the task parked in join_next
  bool closed = false;          // the set was destroyed
  std::atomic<std::size_t> refs{1};

  void unref() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // The completion callback (join waker) of every task in the set.
  static void on_complete(void* ctx) noexcept {
    auto* e = static_cast<entry*>(ctx);
    join_set_core* core = e->core;
    std::unique_lock lock(core->lock);
    core->pending.remove(e);
    if (core->closed) {
      lock.unlock();
      delete e;  // the set is gone: the handle's destructor frees the finished task
    } else {
      core->ready.push_back(e);
      if (core->waiter) wake(std::exchange(core->waiter, nullptr));
      lock.unlock();
    }
    core->unref();  // the registration's reference
  }
};

}  // namespace detail

template <class T>
class join_set {
  using core_type = detail::join_set_core<T>;
  using entry = detail::join_set_entry<T>;

 public:
  join_set() : core_(new core_type()) {}
  join_set(join_set&& other) noexcept
      : core_(std::exchange(other.core_, nullptr)), len_(std::exchange(other.len_, 0)) {}
  join_set& operator=(join_set&& other) noexcept {
    if (this != &other) {
      close();
      core_ = std::exchange(other.core_, nullptr);
      len_ = std::exchange(other.len_, 0);
    }
    return *this;
  }
  join_set(const join_set&) = delete;
  join_set& operator=(const join_set&) = delete;
  /// Aborts every task still in the set; their frames are freed by their workers.
  ~join_set() { close(); }

  /// Spawns `t` on the current runtime (call from inside a task) and adds it to the set.
  void spawn(task<T> t, spawn_site site = spawn_site::here()) { add(polarway::spawn(std::move(t), site)); }
  /// Spawns `t` on `rt` (from any thread) and adds it to the set.
  void spawn_on(runtime& rt, task<T> t, spawn_site site = spawn_site::here()) { add(rt.spawn(std::move(t), site)); }

  /// Number of tasks in the set, finished or not, that join_next has not returned yet.
  std::size_t len() const noexcept { return len_; }
  /// Whether the set holds no task.
  bool is_empty() const noexcept { return len_ == 0; }

  /// Aborts every task in the set. They stay in it: join_next reports them (cancelled, unless
  /// they finished first).
  void abort_all() noexcept {
    std::lock_guard lock(core()->lock);
    for (entry* e = core_->pending.front(); e; e = e->next) e->handle.abort();
  }

  class join_next_awaiter {
   public:
    explicit join_next_awaiter(join_set& set) noexcept : set_(set) {}
    /// Movable until awaited (see check_awaiter_movable).
    join_next_awaiter(join_next_awaiter&& other) noexcept : set_(other.set_) {
      detail::check_awaiter_movable(other.parked_ || other.yield_, "join_set::join_next");
    }
    join_next_awaiter(const join_next_awaiter&) = delete;
    join_next_awaiter& operator=(const join_next_awaiter&) = delete;
    ~join_next_awaiter() {
      if (parked_) {  // aborted while parked: unregister unless a completion already woke us
        std::lock_guard lock(set_.core_->lock);
        if (set_.core_->waiter == parked_) set_.core_->waiter = nullptr;
      }
    }

    bool await_ready() noexcept {
      if (set_.len_ == 0) return true;
      std::lock_guard lock(set_.core()->lock);
      if (!set_.core_->ready.front()) return false;
      if (detail::coop_consume()) return true;
      yield_ = true;
      return false;
    }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> caller) noexcept {
      detail::task_cell* self = detail::current_task_or_panic("join_set::join_next", wait_kind::join, caller);
      if (yield_) {
        self->transition_to_notified();
        return true;
      }
      std::lock_guard lock(set_.core_->lock);
      if (set_.core_->ready.front()) return false;
      set_.core_->waiter = parked_ = self;
      return true;
    }

    option<result<T, join_error>> await_resume() {
      parked_ = nullptr;
      if (set_.len_ == 0) return none;
      return set_.take_ready();  // woken only by a completion, and only we take entries
    }

   private:
    join_set& set_;
    detail::task_cell* parked_ = nullptr;
    bool yield_ = false;
  };

  /// `co_await set.join_next()` -> option<result<T, join_error>>: the next task to finish
  /// (waiting if none has yet), or none when the set is empty.
  join_next_awaiter join_next() noexcept { return join_next_awaiter(*this); }

  /// The result of a task that already finished, without waiting; none if none has.
  option<result<T, join_error>> try_join_next() {
    if (len_ == 0) return none;
    {
      std::lock_guard lock(core()->lock);
      if (!core_->ready.front()) return none;
    }
    return take_ready();
  }

  /// `co_await set.shutdown()`: aborts every task and waits until all have finished; the set is
  /// empty afterwards.
  task<void> shutdown() {
    abort_all();
    // A named result, not `while (co_await join_next())`: g++ 12 mishandles an awaiter
    // temporary in a loop condition (the loop then never resumes).
    for (;;) {
      auto r = co_await join_next();
      if (!r) break;
    }
  }

 private:
  core_type* core() const noexcept {
    if (!core_) [[unlikely]]
      detail::panic("join_set", "used after it was moved from");
    return core_;
  }

  void add(join_handle<T> handle) {
    detail::task_cell* cell = detail::join_handle_access::cell(handle);
    auto* e = new entry{{}, std::move(handle), cell, core()};
    ++len_;
    core_->refs.fetch_add(1, std::memory_order_relaxed);  // for the registration
    {
      std::lock_guard lock(core_->lock);
      core_->pending.push_back(e);  // before registering: the callback may run at once
    }
    if (!cell->set_join_waker(&core_type::on_complete, e)) {
      // Already finished (or never started because the runtime is shutting down).
      std::lock_guard lock(core_->lock);
      core_->pending.remove(e);
      core_->ready.push_back(e);
      core_->refs.fetch_sub(1, std::memory_order_relaxed);  // the set still holds one
    }
  }

  // Takes the oldest finished entry (there is one) and reads its outcome.
  option<result<T, join_error>> take_ready() {
    entry* e;
    {
      std::lock_guard lock(core_->lock);
      e = core_->ready.front();
      if (!e) [[unlikely]]
        detail::panic("join_set", "internal: woken without a finished task");
      core_->ready.remove(e);
    }
    --len_;
    option<result<T, join_error>> out(std::in_place, detail::take_outcome<T>(e->cell));
    delete e;  // the handle frees the finished frame
    return out;
  }

  // Aborts what is left and lets go of the core: entries whose callback can no longer run are
  // freed here; a callback already running frees its own entry (it sees `closed`).
  void close() noexcept {
    if (!core_) return;
    entry* doomed = nullptr;
    std::size_t unregistered = 0;
    {
      std::lock_guard lock(core_->lock);
      core_->closed = true;
      for (entry* e = core_->pending.front(); e;) {
        entry* next = e->next;
        e->handle.abort();
        if (e->cell->unset_join_waker()) {
          core_->pending.remove(e);
          e->next = doomed;
          doomed = e;
          ++unregistered;
        }
        e = next;
      }
      while (entry* e = core_->ready.front()) {
        core_->ready.remove(e);
        e->next = doomed;
        doomed = e;
      }
    }
    // Outside the lock: dropping a handle may destroy a finished task's frame, and with it
    // whatever the task owned.
    while (doomed) {
      entry* next = doomed->next;
      delete doomed;
      doomed = next;
    }
    for (; unregistered; --unregistered) core_->unref();
    std::exchange(core_, nullptr)->unref();
    len_ = 0;
  }

  core_type* core_;
  std::size_t len_ = 0;
};

}  // namespace polarway
