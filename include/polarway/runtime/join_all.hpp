// Structured fan-out: `co_await pw::join_all(std::move(tasks))` runs every task of a vector (or
// of a std::array, with no heap allocation) in parallel and gives their values in order, in a
// vector (or an array); `co_await pw::when_all(a(), b(), c())` does the same
// for tasks of different types and gives a tuple (void results become std::monostate).
//
// Children never outlive the awaiting parent: the parent resumes only when all of them have
// finished, and if the parent is aborted meanwhile, the children are aborted and the parent's
// frame is destroyed only after the last child is gone. If a child panics, the first child's
// exception is rethrown in the parent once all have finished.
#pragma once

#include <array>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "polarway/detail/panic.hpp"
#include "polarway/detail/scheduler.hpp"
#include "polarway/runtime/join_handle.hpp"
#include "polarway/task.hpp"

namespace polarway {

namespace detail {

// Counts a parent's unfinished children and wakes the parent when the last one finishes.
// Children are created first (fork, which may fail to allocate), then queued all at once
// (start), then given back (release_children) when the awaiter goes. A group may also wait for
// arrivals that are not children (pw::race's timers): they are counted at start and arrive
// through arrive() like a child.
class fork_group : public cancel_hook {
 public:
  fork_group() = default;
  fork_group(const fork_group&) = delete;
  fork_group& operator=(const fork_group&) = delete;

 protected:
  // Creates one child's cell, not yet queued; the group holds it until release_children.
  template <class T>
  task_cell* fork(task<T>& t, std::uint64_t extra_state = 0) {
    return parent_->sched()->fork_cell(t, &child_done, this, extra_state, *parent_);
  }

  // fork() with a completion callback of the caller's: `done(ctx)` runs once the child has
  // finished, on the worker that finished it, and must end by calling arrive(1).
  template <class T>
  task_cell* fork(task<T>& t, void (*done)(void*), void* ctx, std::uint64_t extra_state) {
    return parent_->sched()->fork_cell(t, done, ctx, extra_state, *parent_);
  }

  // Queues the children `cells` (all forked) and starts waiting: called by await_suspend.
  // `other_arrivals`: how many arrivals that are not children the parent also waits for.
  // `wake_peers`: whether a parked worker is woken to steal children (scheduler::start_children).
  // Returns whether the parent must suspend.
  bool start(task_cell* const* cells, std::size_t n, std::size_t other_arrivals = 0, bool wake_peers = true) noexcept {
    children_ = cells;
    count_ = n;
    // On a worker the last child runs only after the parent has suspended, so the count cannot
    // reach zero before: it needs no guard. Elsewhere a guard (+1), dropped below, keeps every
    // child from waking a parent that has not suspended yet.
    worker* const w = parent_->sched()->own_worker();
    const bool guarded = !w || n == 0;
    remaining_.store(n + other_arrivals + (guarded ? 1 : 0), std::memory_order_relaxed);
    parent_->ref();  // for whoever wakes the parent
    parent_->cancel_on = this;
    parent_->sched()->start_children(w, cells, n, wake_peers);
    if (!guarded) return true;
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      parent_->unref();
      // Once shutdown has begun a worker cancels every child it takes from a queue, so children
      // that finished this early may have no value. The parent suspends instead of reading them;
      // shutdown cancels it (it is listed, or is a child of a task that is), and request_cancel
      // then finds nothing left to wait for.
      if (parent_->sched()->is_shut_down()) [[unlikely]]
        return true;
      parent_->cancel_on = nullptr;
      return false;  // every child is done: continue without suspending
    }
    return true;
  }

  // For the awaiter's destructor: every child has finished if the group was started (the
  // parent resumed); if it was not (a fork failed, or the awaiter was never awaited), none ran.
  void release_children(task_cell* const* cells, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) {
      if (!cells[i]) continue;
      if (children_)  // set by start()
        release_join_interest(cells[i]);
      else
        cells[i]->discard_unstarted();
    }
  }

  template <class Promise>
  void bind_parent(const char* what, std::coroutine_handle<Promise> caller) noexcept {
    parent_ = detail::current_task_or_panic(what, wait_kind::join, caller);
  }
  void finish_wait() noexcept {
    if (parent_) parent_->cancel_on = nullptr;
  }

  bool request_cancel() noexcept override {
    if (remaining_.load(std::memory_order_acquire) == 0) return true;
    if (!abort_sent_) {
      abort_sent_ = true;
      for (std::size_t i = 0; i < count_; ++i) parent_->sched()->abort(children_[i]);
    }
    return false;  // the last child to finish wakes the parent
  }

  // Counts `n` arrivals (children's or others'); wakes the parent if they were the last.
  // `parent` is read first, since once the count hits zero the group may be gone.
  void arrive(std::size_t n) noexcept {
    task_cell* parent = parent_;
    if (remaining_.fetch_sub(n, std::memory_order_acq_rel) == n) {
      wake(parent);
      parent->unref();
    }
  }

  // For request_cancel: one expected arrival that will never come is taken off the count. True
  // if nothing is left to wait for (the parent's frame may go now, and nobody will wake it).
  bool withdraw_arrival() noexcept {
    if (remaining_.fetch_sub(1, std::memory_order_acq_rel) != 1) return false;
    parent_->unref();  // the reference held for whoever would have woken the parent
    return true;
  }

  task_cell* parent_ = nullptr;

 private:
  // A child finished, on a worker (children run nowhere else; the check is for safety). Its
  // arrival is held back in the worker's pending_arrivals with those of the group's children
  // that the worker ran just before it, and settled with one atomic operation: a locked
  // decrement per child was a third of skynet's time on 1 worker (perf). The count is settled
  // at once when they are all that is left of the group, so that the parent resumes as soon as
  // before. A stale (higher) count only makes the settling wait for the worker's next task.
  static void child_done(void* self) noexcept {
    auto* group = static_cast<fork_group*>(self);
    worker* w = tls_context.current_worker;
    if (!w) [[unlikely]]
      return group->arrive(1);
    pending_arrivals& pending = w->arrivals;
    if (pending.group != self) {
      pending.settle();
      pending.group = self;
      pending.apply = &apply_arrivals;
    }
    if (group->remaining_.load(std::memory_order_relaxed) == ++pending.count) pending.settle();
  }

  static void apply_arrivals(void* self, std::size_t n) noexcept { static_cast<fork_group*>(self)->arrive(n); }

  task_cell* const* children_ = nullptr;
  std::size_t count_ = 0;
  std::atomic<std::size_t> remaining_{0};
  bool abort_sent_ = false;
};

template <class T>
using value_or_monostate = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// The value of a finished child (rethrowing its exception, if it panicked).
template <class T>
value_or_monostate<T> child_value(task_cell* cell) {
#if defined(__cpp_exceptions)
  if (cell->outcome() == task_outcome::panicked) std::rethrow_exception(cell->exception());
#endif
  auto r = take_outcome<T>(cell);
  if (!r) [[unlikely]]
    panic("join_all / when_all", "a child task ended without a value");
  if constexpr (std::is_void_v<T>)
    return std::monostate{};
  else
    return std::move(*r);
}

template <class T>
class join_all_awaiter : fork_group {
 public:
  explicit join_all_awaiter(std::vector<task<T>> tasks) noexcept : tasks_(std::move(tasks)) {}
  join_all_awaiter(const join_all_awaiter&) = delete;
  join_all_awaiter& operator=(const join_all_awaiter&) = delete;
  ~join_all_awaiter() { release_children(cells_, spawned_); }

  bool await_ready() const noexcept { return tasks_.empty(); }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> caller) {
    bind_parent("pw::join_all", caller);
    const std::size_t n = tasks_.size();
    // Small fan-outs (skynet's ten) keep their cells inline: no allocation per fork.
    if (n > inline_cells_.size()) heap_cells_ = std::make_unique<task_cell*[]>(n);
    cells_ = heap_cells_ ? heap_cells_.get() : inline_cells_.data();
    for (auto& t : tasks_) cells_[spawned_++] = fork(t);
    return start(cells_, n);
  }

  std::vector<value_or_monostate<T>> await_resume() {
    finish_wait();
    std::vector<value_or_monostate<T>> out;
    out.reserve(spawned_);
    for (std::size_t i = 0; i < spawned_; ++i) out.push_back(child_value<T>(cells_[i]));
    return out;
  }

 private:
  std::vector<task<T>> tasks_;
  std::array<task_cell*, 16> inline_cells_{};
  std::unique_ptr<task_cell*[]> heap_cells_;
  task_cell** cells_ = nullptr;
  std::size_t spawned_ = 0;
};

// A fixed number of children, held in place with their cells and values (no heap allocation
// per fan-out): `Tasks` is a std::array<task<T>, N> (join_all) or a std::tuple<task<Ts>...>
// (when_all), and `Values` the array or tuple of their values.
template <class Tasks, class Values>
class fixed_fork_awaiter : fork_group {
  static constexpr std::size_t count = std::tuple_size_v<Tasks>;

 public:
  fixed_fork_awaiter(const char* what, Tasks tasks) noexcept : what_(what), tasks_(std::move(tasks)) {}
  fixed_fork_awaiter(const fixed_fork_awaiter&) = delete;
  fixed_fork_awaiter& operator=(const fixed_fork_awaiter&) = delete;
  ~fixed_fork_awaiter() { release_children(cells_.data(), count); }

  bool await_ready() const noexcept { return count == 0; }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> caller) {
    bind_parent(what_, caller);
    fork_all(std::make_index_sequence<count>{});
    return start(cells_.data(), count);
  }

  Values await_resume() {
    finish_wait();
    return collect(std::make_index_sequence<count>{});
  }

 private:
  template <std::size_t... I>
  void fork_all(std::index_sequence<I...>) {
    ((cells_[I] = fork(std::get<I>(tasks_))), ...);
  }
  template <std::size_t... I>
  Values collect(std::index_sequence<I...>) {
    return Values{child_value<typename std::tuple_element_t<I, Tasks>::value_type>(cells_[I])...};
  }

  const char* what_;
  Tasks tasks_;
  std::array<task_cell*, count> cells_{};
};

template <class T, std::size_t N>
using join_array_awaiter = fixed_fork_awaiter<std::array<task<T>, N>, std::array<value_or_monostate<T>, N>>;

template <class... Ts>
using when_all_awaiter = fixed_fork_awaiter<std::tuple<task<Ts>...>, std::tuple<value_or_monostate<Ts>...>>;

}  // namespace detail

/// Runs every task in parallel; the awaiting task resumes with their values, in order, once
/// all have finished. Must be awaited inside a task running on a runtime.
template <class T>
detail::join_all_awaiter<T> join_all(std::vector<task<T>> tasks) {
  return detail::join_all_awaiter<T>(std::move(tasks));
}

/// join_all for a fixed number of tasks: their values in a std::array, in order. Nothing is
/// allocated on the heap for the fan-out itself (skynet's ten children per node, for one).
/// Name the array before awaiting: g++ 12 destroys a braced temporary written inside the
/// co_await expression twice (`co_await join_all(std::array{a(), b()})` double-frees there).
template <class T, std::size_t N>
detail::join_array_awaiter<T, N> join_all(std::array<task<T>, N> tasks) {
  return detail::join_array_awaiter<T, N>("pw::join_all", std::move(tasks));
}

/// Runs the tasks in parallel and gives a tuple of their values (std::monostate for void).
template <class... Ts>
detail::when_all_awaiter<Ts...> when_all(task<Ts>... tasks) {
  return detail::when_all_awaiter<Ts...>("pw::when_all", std::tuple<task<Ts>...>(std::move(tasks)...));
}

}  // namespace polarway
