// The scheduler's record of one spawned task: the coroutine it runs, where to resume it, and an
// atomic state word that says whether it is queued, running, finished or cancelled, and who
// still holds it. Queues, wakers and join handles all deal in task_cell pointers.
//
// State word: nine flag bits and a reference count above them.
//   running        a worker is resuming the coroutine; nobody else may touch the frame
//   notified       the task is in a run queue, or must be requeued when the current run ends;
//                  a run begins with it still set, and clears it (for `running`) only if the
//                  task reaches an awaiter (scheduler::run_task)
//   complete       the coroutine finished (or was destroyed on cancellation); the outcome is set
//   cancelled      abort was requested
//   join_interest  a join_handle (or a fork-join group) will read the outcome
//   join_waker     join_wake/join_ctx are set and must be called once at completion
//   soft_cancel    (fixed at spawn) a cancellation that finds the task's operation already
//                  complete lets the task finish instead: pw::timeout's child, so that bytes
//                  received as the timer fired are not thrown away
//   group_child    (fixed at spawn) a fork-join child: its group's callback is installed before
//                  the task is queued, and the runtime holds no reference (below)
//   inspected      a task dump is reading the frames of the suspended task (its chain of
//                  awaiting coroutines); a worker that takes the task from a queue meanwhile
//                  waits for the dump to let go before it resumes or destroys a frame
// A reference is held by the runtime until the task completes, by the join handle while it
// lives, and by anyone that may call wake() without holding a lock that the task's destruction
// also needs (a registered join waiter, a fork-join group's last child). The cell is freed when
// the count reaches zero; the coroutine frame may be freed earlier.
// A fork-join child's cell is held by its group alone: the group outlives the child's run (the
// parent resumes only after every child's callback), so the worker that completes a child does
// not touch its cell after the callback, and skips the reference it would otherwise drop. That
// and the preinstalled callback save two atomic operations per child; its state never becomes
// `complete` (complete_and_release).
//
// Invariant that makes this safe without reference counting every waker: only the worker that
// took the task from a queue resumes or destroys the coroutine, and waiter lists (channels,
// timers) wake a task while holding the lock that the task's awaiter destructor takes to unlink
// itself.
#pragma once

#include <sched.h>

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include "polarway/detail/frame_pool.hpp"
#include "polarway/detail/owned_counter.hpp"
#include "polarway/runtime/spawn_site.hpp"
#include "polarway/runtime/task_info.hpp"
#include "polarway/task.hpp"

namespace polarway::detail {

class scheduler;
class task_cell;

/// The part of a scheduler that wakers need: how a woken task is queued. A function pointer,
/// so that wakers (the sync primitives) need not know the scheduler's type; held by the
/// scheduler, not by each cell, which has no room for it.
struct scheduler_entry {
  void (*schedule)(task_cell*) noexcept;
};

/// What a task can be suspended on that must be told when the task is aborted: an I/O
/// operation the kernel may still write to, or a group of child tasks that must finish first.
class cancel_hook {
 public:
  /// Called on the task's worker when the task was aborted while suspended here. Returns true
  /// if the frame may be destroyed now; false if the hook will wake the task once it may.
  virtual bool request_cancel() noexcept = 0;

  /// Whether the operation has already completed successfully (its result would be lost if
  /// the frame were destroyed now). Used by soft cancellation (pw::timeout).
  virtual bool completed_with_value() const noexcept { return false; }

 protected:
  ~cancel_hook() = default;
};

enum class task_outcome : std::uint8_t { pending, finished, cancelled, panicked };

/// How a cell stores the value of its task once the frame is gone: the frame is destroyed as
/// soon as the task finishes (so that what it holds, such as a channel sender passed as a
/// parameter, is released then, as in Tokio), and the value waits in the cell for the join
/// handle. One static instance per value type. It also finds the promise in a task's frame,
/// which the cell would otherwise spend a field on (one that would take a task<void>'s cell
/// from a 112-byte block to a 128-byte one).
struct output_ops {
  std::size_t size;
  task_promise_base* (*promise_of)(std::coroutine_handle<> root) noexcept;
  void (*move_from)(task_promise_base* promise, void* storage) noexcept;
  void (*destroy)(void* storage) noexcept;  // null when there is nothing to destroy
};

template <class T>
inline constexpr std::size_t checked_value_size() noexcept {
  static_assert(alignof(T) <= alignof(std::max_align_t), "over-aligned task values are not supported");
  return sizeof(T);
}

template <class T>
task_promise_base* promise_in(std::coroutine_handle<> root) noexcept {
  return &std::coroutine_handle<task_promise<T>>::from_address(root.address()).promise();
}

// No call at all for a value with a trivial destructor (skynet's u64: the cell of every one of
// its tasks is freed through here).
template <class T>
constexpr void (*value_destructor() noexcept)(void*) noexcept {
  if constexpr (std::is_trivially_destructible_v<T>)
    return nullptr;
  else
    return [](void* storage) noexcept { static_cast<T*>(storage)->~T(); };
}

template <class T>
inline constexpr output_ops output_ops_for{checked_value_size<T>(), &promise_in<T>,
                                           [](task_promise_base* p, void* storage) noexcept {
                                             ::new (storage) T(std::move(static_cast<task_promise<T>*>(p)->result()));
                                           },
                                           value_destructor<T>()};
template <class T>
inline constexpr output_ops output_ops_for<T&>{sizeof(T*), &promise_in<T&>,
                                               [](task_promise_base* p, void* storage) noexcept {
                                                 ::new (storage) T*(&static_cast<task_promise<T&>*>(p)->result());
                                               },
                                               nullptr};
template <>
inline constexpr output_ops output_ops_for<void>{0, &promise_in<void>, [](task_promise_base*, void*) noexcept {},
                                                 nullptr};

class task_cell {
 public:
  static constexpr std::uint64_t running = 1, notified = 2, complete = 4, cancelled = 8, join_interest = 16,
                                 join_waker = 32, soft_cancel = 64, group_child = 128, inspected = 256,
                                 ref_one = 512;
  static constexpr int ref_shift = 9;

  /// `ops` must be output_ops_for<T> of the task<T> whose coroutine is `root`; `born_ns` is
  /// the clock reading the task's age counts from.
  [[gnu::always_inline]] static task_cell* create(scheduler_entry* sched, std::coroutine_handle<> root,
                                                  const output_ops* ops, std::uint64_t initial_state, spawn_site site,
                                                  std::int64_t born_ns) {
    const std::size_t bytes = header_bytes() + ops->size;
    return ::new (frame_pool::allocate(bytes)) task_cell(sched, root, ops, initial_state, site, born_ns);
  }

  /// Installs the join waker of a cell created with join_waker set, before it is queued (the
  /// queue publishes it), so that no atomic operation is needed: fork-join children.
  void preset_join_waker(void (*fn)(void*), void* ctx) noexcept {
    join_wake_ = fn;
    join_ctx_ = ctx;
  }

  /// Frees a cell whose task was never queued, with its coroutine frame.
  void discard_unstarted() noexcept {
    destroy_root();
    free_cell();
  }

  // ---- state transitions (each one atomic; the caller acts on the returned decision) ----

  /// Worker, on a task it popped from a queue: notified -> running. Returns the prior state.
  /// A queued task is notified and not running, so the flip is a subtraction: one locked add,
  /// where fetch_xor (whose old value is used) compiles to a load and a compare-exchange loop.
  std::uint64_t transition_to_running() noexcept {
    return state_.fetch_sub(notified - running, std::memory_order_acq_rel);
  }

  /// transition_to_running for a run that began without it (scheduler::run_task), made before
  /// the task registers anywhere it may be woken from. An abort() during the run found the
  /// task notified and so did not queue it, counting on it to run again: notified is set back
  /// for that, and the worker requeues the task when this run ends.
  void mark_running() noexcept {
    if (transition_to_running() & cancelled) state_.fetch_or(notified, std::memory_order_acq_rel);
  }

  /// Worker, after a run that did not finish the task. True if the task was woken during the
  /// run and must be queued again (it stays `notified`).
  bool transition_to_idle() noexcept { return (state_.fetch_and(~running, std::memory_order_acq_rel) & notified) != 0; }

  /// A waker. True if the caller must now put the task in a run queue.
  bool transition_to_notified() noexcept {
    std::uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if (s & (complete | notified)) return false;
      if (state_.compare_exchange_weak(s, s | notified, std::memory_order_acq_rel, std::memory_order_acquire))
        return (s & running) == 0;
    }
  }

  /// abort(). True if the caller must now put the task in a run queue (it was idle).
  bool transition_to_cancelled() noexcept {
    std::uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if (s & (complete | cancelled)) return false;
      std::uint64_t next = s | cancelled;
      if (!(s & notified)) next |= notified;  // running or idle: make sure it runs once more
      if (state_.compare_exchange_weak(s, next, std::memory_order_acq_rel, std::memory_order_acquire))
        return (s & (running | notified)) == 0;
    }
  }

  /// Worker, when the coroutine finished or was destroyed: running -> complete, then the
  /// registered join waker is called, then the runtime's reference is dropped. `marked`: the
  /// run made the notified -> running transition; a run that did not still holds `notified`
  /// (see scheduler::run_task), and that is the bit that gives way to `complete`.
  /// Three shortcuts:
  /// - A detached task whose join handle is already gone: the runtime's reference is the last
  ///   one, and nobody can take another (references are taken by holders of one, or by the task
  ///   itself while it runs) or look at the state once it is complete, so the cell is freed
  ///   with no atomic operation at all. The acquire load pairs with the release of the handle's
  ///   drop. (chained_spawn on 1 worker, 10 alternating runs, median: 28.5 -> 27.7 ns per spawn.)
  /// - Otherwise, with no waker registered, the transition and the reference go in one
  ///   compare-exchange, not two atomic operations: a detached task still referenced elsewhere.
  /// - A fork-join child's state is not touched at all. Its group alone holds the cell and learns
  ///   of the completion through the callback, whose atomic count orders the run's writes
  ///   before the parent reads them. The state keeps `running` or `notified`, either of which
  ///   makes a late abort() or wake-up of the finished child a no-op; release_join knows the
  ///   child is done from the group.
  /// The shortcuts are tail calls and the rest is out of line, so that the call needs no stack
  /// frame (it had one, saving and restoring two registers, on every task's completion).
  void complete_and_release(task_outcome outcome, bool marked) noexcept {
    outcome_ = outcome;
    const std::uint64_t s = state_.load(std::memory_order_acquire);
    if (s & group_child)  // fixed at spawn, with join_interest and join_waker
      return call_join_waker();
    if ((s >> ref_shift) == 1)  // only the runtime's: no handle, and no waker (it holds one)
      return free_cell();
    complete_shared(s, marked);
  }

  /// Registers a callback for completion. False if the task already completed (nothing was
  /// registered). Only one waker may be registered at a time.
  bool set_join_waker(void (*fn)(void*), void* ctx) noexcept {
    join_wake_ = fn;
    join_ctx_ = ctx;
    std::uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if (s & complete) return false;
      if (state_.compare_exchange_weak(s, s | join_waker, std::memory_order_acq_rel, std::memory_order_acquire))
        return true;
    }
  }

  /// Takes back a registered waker. False if completion already consumed it (the callback has
  /// been or is being called).
  bool unset_join_waker() noexcept {
    std::uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if ((s & complete) || !(s & join_waker)) return false;
      if (state_.compare_exchange_weak(s, s & ~join_waker, std::memory_order_acq_rel, std::memory_order_acquire))
        return true;
    }
  }

  /// A task dump, on a listed task: keeps any worker from resuming or destroying its frames
  /// until end_inspection(). Only a suspended task that is neither queued nor running can be
  /// inspected (false otherwise): its frames are still and, once the worker that suspended it
  /// has released them (transition_to_idle), safe to read from another thread.
  bool begin_inspection() noexcept {
    std::uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if (s & (running | notified | complete | inspected)) return false;
      if (state_.compare_exchange_weak(s, s | inspected, std::memory_order_acq_rel, std::memory_order_acquire))
        return true;
    }
  }
  void end_inspection() noexcept { state_.fetch_and(~inspected, std::memory_order_release); }

  /// A worker that took the task from a queue and found it `inspected` or `cancelled`: waits
  /// until no dump holds the task (a walk of a few frames), and returns the state then.
  [[gnu::noinline]] std::uint64_t wait_out_inspection() const noexcept {
    for (unsigned spins = 0;; ++spins) {
      const std::uint64_t s = state_.load(std::memory_order_acquire);
      if (!(s & inspected)) return s;
      if (spins < 64)
        __builtin_ia32_pause();
      else
        sched_yield();  // the dumping thread may have been preempted
    }
  }

  /// Clears `cancelled` for a soft cancellation that found its operation already complete.
  void withdraw_cancel() noexcept { state_.fetch_and(~cancelled, std::memory_order_acq_rel); }

  /// The join handle (or a fork-join group) goes away: clears its interest and waker and drops
  /// its reference in one atomic operation, not two (every detached spawn and every fork-join
  /// child pays this once). Frees the cell if that was the last reference.
  void release_join() noexcept {
    std::uint64_t s = state_.load(std::memory_order_acquire);
    // Complete (a fork-join child is, once its group releases it, though its state does not say
    // so: see complete_and_release), and this is the last reference: nobody can take another
    // (references are taken by holders of one, or by the task itself while it runs), so
    // nothing is left to clear and the atomic operation is skipped. The common case of a
    // fork-join child, and of a handle dropped after its task finished. The acquire load
    // pairs with the release of whoever dropped the previous reference or completed the task.
    if ((s & (complete | group_child)) && (s >> ref_shift) == 1) return free_cell();
    while (!state_.compare_exchange_weak(s, (s & ~(join_interest | join_waker)) - ref_one, std::memory_order_acq_rel,
                                         std::memory_order_relaxed)) {
    }
    if ((s >> ref_shift) == 1) free_cell();
  }

  /// Whether this is a fork-join child of `group` (the context of its preset join waker). For a
  /// worker that owns the cell (it took it from a queue).
  bool is_fork_child_of(const void* group) const noexcept {
    return (state(std::memory_order_relaxed) & group_child) && join_ctx_ == group;
  }

  /// Calls the registered join waker; for the completion path only.
  void call_join_waker() noexcept { join_wake_(join_ctx_); }

  void ref() noexcept { state_.fetch_add(ref_one, std::memory_order_relaxed); }
  void unref() noexcept {
    if ((state_.fetch_sub(ref_one, std::memory_order_acq_rel) >> ref_shift) == 1) free_cell();
  }

  std::uint64_t state(std::memory_order order = std::memory_order_acquire) const noexcept { return state_.load(order); }
  bool is_complete() const noexcept { return (state() & complete) != 0; }
  task_outcome outcome() const noexcept { return outcome_; }

  /// Destroys the coroutine frame if it still exists.
  void destroy_root() noexcept {
    if (root_) root_.destroy();
    root_ = {};
  }

  /// Worker, when the coroutine has run to its end and suspended there: keeps the value (if
  /// someone may read it) or the exception in the cell, then destroys the frame. Returns the
  /// outcome.
  task_outcome capture_result() noexcept {
    keep_result(ops_->promise_of(root_));
    destroy_root();
    return outcome_;
  }

  /// The root coroutine's final suspend (root_completion in task.hpp), just before its frame
  /// is freed as the coroutine ends: keeps the value or the exception as capture_result does,
  /// records the outcome, and forgets the frame.
  static void capture_at_final(void* self, task_promise_base* promise) noexcept {
    auto* cell = static_cast<task_cell*>(self);
    cell->root_ = {};
    cell->keep_result(promise);
  }

  /// The finished task's value (valid once complete with outcome finished).
  void* output() noexcept { return reinterpret_cast<char*>(this) + header_bytes(); }
#if defined(__cpp_exceptions)
  std::exception_ptr exception() const noexcept { return exception_; }
#endif

  /// The runtime's scheduler (a template only so that this header need not see its type).
  template <class Scheduler = scheduler>
  Scheduler* sched() const noexcept {
    return static_cast<Scheduler*>(sched_);
  }
  void schedule() noexcept { sched_->schedule(this); }
  std::coroutine_handle<> root() const noexcept { return root_; }

  // What a task dump and the stall detector show. The site and the birth are fixed at spawn;
  // the polls and the wait are written by the worker running the task and read by dumps on
  // other threads, hence relaxed atomics (plain loads and stores on x86-64).
  spawn_site site() const noexcept { return spawn_site::from_bits(site_); }
  std::uint64_t site_bits() const noexcept { return site_; }
  std::int64_t born_ns() const noexcept { return born_ns_; }
  std::uint64_t polls() const noexcept { return polls_.get(); }
  /// The worker, as it starts a run (only the worker running the task writes it).
  void count_poll() noexcept { polls_.add(); }
  wait_kind waiting_on() const noexcept {
    return static_cast<wait_kind>(wait_.load(std::memory_order_relaxed) & ~foreign_resume_point);
  }

  // Set by the awaiter a task suspends in: the coroutine to resume next, and whom to tell on
  // cancellation. Only the running worker writes these.
  /// The awaiter suspending the task (through current_task_or_panic): the coroutine that
  /// awaits it, to resume next, and what the task waits on, for task dumps. Promise is that
  /// coroutine's promise type: whether it is a task's is kept beside the kind, for task
  /// dumps (see tagged_handle), so that the resume point is stored and resumed as it is.
  template <class Promise>
  void suspend_at(std::coroutine_handle<Promise> caller, wait_kind kind) noexcept {
    resume_point_.store(caller.address(), std::memory_order_relaxed);
    wait_.store(static_cast<std::uint8_t>(kind) | (is_task_promise<Promise> ? 0 : foreign_resume_point),
                std::memory_order_relaxed);
  }
  std::coroutine_handle<> resume_point() const noexcept {
    return std::coroutine_handle<>::from_address(resume_point_.load(std::memory_order_relaxed));
  }
  /// The coroutine the task is suspended in, tagged with whether it is a task's.
  tagged_handle innermost_coroutine() const noexcept {
    return tagged_handle::known(resume_point(), !(wait_.load(std::memory_order_relaxed) & foreign_resume_point));
  }
  /// A task dump, a few cells before it reads this one: starts fetching the frame the task is
  /// suspended in. Only a hint (the task may be running), hence the resume point's relaxed
  /// atomic accesses: plain moves, which a dump may read at any time.
  void prefetch_resume_point() const noexcept { __builtin_prefetch(resume_point_.load(std::memory_order_relaxed)); }
  cancel_hook* cancel_on = nullptr;

  // The run queues' intrusive link, and where the runtime's registry of live tasks lists the
  // task (task_registry.hpp): its shard, and its index in the shard, while listed.
  task_cell* next = nullptr;
  std::uint32_t reg_index;  // set when listed
  std::uint8_t reg_shard = no_shard;
  static constexpr std::uint8_t no_shard = 0xff;

  /// For the worker running the task: a task spawned on a worker that has not been listed yet
  /// (see task_registry.hpp). External spawns are listed at spawn, fork-join children never.
  bool awaits_listing() const noexcept {
    return reg_shard == no_shard && !(state(std::memory_order_relaxed) & group_child);
  }

 private:
  // The value storage follows the cell, aligned for any type the frame pool can hold.
  static constexpr std::size_t header_bytes() noexcept {
    constexpr std::size_t a = alignof(std::max_align_t);
    return (sizeof(task_cell) + a - 1) & ~(a - 1);
  }

  task_cell(scheduler_entry* sched, std::coroutine_handle<> root, const output_ops* ops, std::uint64_t initial,
            spawn_site site, std::int64_t born_ns) noexcept
      : resume_point_(root.address()),
        state_(initial),
        root_(root),
        sched_(sched),
        ops_(ops),
        site_(site.bits()),
        born_ns_(born_ns) {}
  ~task_cell() = default;

  // complete_and_release of a task that others still reference (a join handle, a waker).
  [[gnu::noinline]] void complete_shared(std::uint64_t s, bool marked) noexcept {
    const std::uint64_t held = marked ? running : notified;
    while (!(s & join_waker)) {
      if (state_.compare_exchange_weak(s, s - held + complete - ref_one, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
        if ((s >> ref_shift) == 1) free_cell();
        return;
      }
    }
    const std::uint64_t prev = state_.fetch_add(complete - held, std::memory_order_acq_rel);
    if ((prev & join_interest) && (prev & join_waker)) call_join_waker();  // unless taken back meanwhile
    unref();
  }

  // Sets the outcome, and keeps the value (if someone may read it) or the exception. The
  // value's move is a tail call and the exception's capture out of line, so that the common
  // case needs no stack frame.
  void keep_result(task_promise_base* promise) noexcept {
#if defined(__cpp_exceptions)
    if (promise->has_exception()) [[unlikely]]
      return keep_exception(promise);
#endif
    outcome_ = task_outcome::finished;
    if (state() & join_interest) {
      has_output_ = true;
      ops_->move_from(promise, output());
    }
  }

#if defined(__cpp_exceptions)
  [[gnu::noinline]] void keep_exception(task_promise_base* promise) noexcept {
    exception_ = promise->exception();
    outcome_ = task_outcome::panicked;
  }
#endif

  // The last reference is gone: destroys the value left in the cell, if any, and the cell.
  // Out of line, with the value's destruction apart, so that its callers call it last, with
  // no stack frame of their own, and it needs none either.
  [[gnu::noinline]] void free_cell() noexcept {
    if (has_output_ && ops_->destroy) [[unlikely]]
      return free_cell_and_contents();
#if defined(__cpp_exceptions)
    if (exception_) [[unlikely]]
      return free_cell_and_contents();
#endif
    free_block();  // the destructor has nothing left to do
  }

  // free_cell of a cell that holds a value to destroy or an exception.
  [[gnu::noinline]] void free_cell_and_contents() noexcept {
    if (has_output_ && ops_->destroy) ops_->destroy(output());
    free_block();
  }

  void free_block() noexcept {
    const std::size_t bytes = header_bytes() + ops_->size;
    this->~task_cell();
    frame_pool::deallocate(this, bytes);
  }

  // The one-byte fields come first, so that they share the word that reg_index and reg_shard
  // (the last public members) leave partly empty: the cell of a task<void> then fits 112
  // bytes, not 128, which a burst of spawns pays for in fresh memory.
  task_outcome outcome_ = task_outcome::pending;
  bool has_output_ = false;
  // What the task waits on (a wait_kind), and foreign_resume_point.
  std::atomic<std::uint8_t> wait_{static_cast<std::uint8_t>(wait_kind::none)};
  static constexpr std::uint8_t foreign_resume_point = 0x80;
  std::atomic<void*> resume_point_;
  std::atomic<std::uint64_t> state_;
  std::coroutine_handle<> root_;
  scheduler_entry* sched_;
  const output_ops* ops_;
  std::uint64_t site_;  // spawn_site::bits()
  std::int64_t born_ns_;
  owned_counter polls_;
#if defined(__cpp_exceptions)
  std::exception_ptr exception_;
#endif
  void (*join_wake_)(void*) = nullptr;
  void* join_ctx_ = nullptr;
};

// A task<void>'s cell is one 112-byte pool block (see the field order above); a field added
// to the cell should keep it so, or knowingly pay a bigger block per spawned task.
static_assert(sizeof(task_cell) <= 112, "task_cell outgrew the frame pool's 112-byte class");

/// Wakes a task from any thread (the common waker of polarway's awaiters).
inline void wake(task_cell* cell) noexcept {
  if (cell->transition_to_notified()) cell->schedule();
}

/// A join waker callback: wakes the task in ctx, then drops the reference the registration took.
inline void wake_and_unref(void* ctx) noexcept {
  auto* cell = static_cast<task_cell*>(ctx);
  wake(cell);
  cell->unref();
}

}  // namespace polarway::detail
