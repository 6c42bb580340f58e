// pw::barrier: lets n tasks wait for each other. `co_await b.wait()` suspends until n tasks
// have called it; the n-th releases them all, and its result says is_leader() (exactly one per
// generation). The barrier then starts the next generation, so it can be used again and again.
//
// State, under one spin lock: how many tasks have arrived in the current generation, the
// generation number, and the waiting tasks on the one waiter list of the library. An arrival
// is counted in await_ready; the n-th arrival resets the count, moves to the next generation
// and wakes every waiter, which then knows it was released because the generation moved on.
//
// Cancel safety: a task aborted (or a wait that loses a race or a timeout) before its
// generation is complete withdraws its arrival, so the barrier still waits for n tasks that
// are really there. Tokio keeps the arrival of a dropped wait; withdrawing it is what makes
// `pw::timeout(d, b.wait())` safe to retry. Once the generation is complete the wait has
// happened: a wait released just as it lost a race or a timeout is reported as completed (the
// awaiter is the task's cancel_hook, and the race's soft cancellation asks it), so a task
// never believes it missed a generation that counted it.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "polarway/detail/context.hpp"
#include "polarway/detail/panic.hpp"
#include "polarway/detail/spin_lock.hpp"
#include "polarway/sync/detail/wait_list.hpp"

namespace polarway {

/// What `co_await b.wait()` gives: whether this task was the one that completed the generation.
class barrier_wait_result {
 public:
  explicit barrier_wait_result(bool leader) noexcept : leader_(leader) {}
  /// True for exactly one task of each generation: the last to arrive.
  bool is_leader() const noexcept { return leader_; }

 private:
  bool leader_;
};

class barrier {
  struct waiter : detail::wait_link<waiter> {
    detail::task_cell* cell = nullptr;
  };

 public:
  /// A barrier for n tasks (0 behaves as 1: every wait completes at once, as leader).
  explicit barrier(std::size_t n) noexcept : n_(n == 0 ? 1 : n) {}
  barrier(const barrier&) = delete;
  barrier& operator=(const barrier&) = delete;
  ~barrier() = default;  // no task may still wait on it

  /// The awaiter of wait(). While suspended it is its task's cancel_hook: an abort settles,
  /// under the barrier's lock, whether the wait was released (then a soft cancellation, as by
  /// pw::race or pw::timeout, lets the task finish with its result) or is withdrawn.
  class wait_awaiter final : detail::cancel_hook {
   public:
    explicit wait_awaiter(barrier& b) noexcept : b_(b) {}
    /// Movable until awaited (see check_awaiter_movable).
    wait_awaiter(wait_awaiter&& other) noexcept : b_(other.b_) {
      detail::check_awaiter_movable(other.phase_ != phase::idle, "barrier::wait");
    }
    wait_awaiter(const wait_awaiter&) = delete;
    wait_awaiter& operator=(const wait_awaiter&) = delete;
    ~wait_awaiter() {
      if (phase_ == phase::arrived) (void)b_.withdraw(&node_, generation_);  // lost a race before suspending
    }

    bool await_ready() noexcept {
      leader_ = b_.arrive(generation_);
      if (!leader_) {
        phase_ = phase::arrived;
        return false;
      }
      phase_ = phase::released;
      if (detail::coop_consume()) return true;
      yield_ = true;  // out of budget: the generation is released; yield before going on
      return false;
    }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> caller) noexcept {
      detail::task_cell* self = detail::current_task_or_panic("barrier::wait", wait_kind::lock, caller);
      if (!yield_) {
        node_.cell = self;
        self->cancel_on = this;
        if (b_.enqueue(&node_, generation_)) return true;
        self->cancel_on = nullptr;
        phase_ = phase::released;  // the generation completed meanwhile
        if (detail::coop_consume()) return false;
      }
      self->transition_to_notified();
      return true;
    }

    barrier_wait_result await_resume() noexcept {
      // Suspended with the hook set (woken, or resumed by a soft cancellation that found the
      // wait released): the task is no longer waiting here.
      if (node_.cell) node_.cell->cancel_on = nullptr;
      phase_ = phase::released;  // whoever woke us released the whole generation
      return barrier_wait_result(leader_);
    }

   private:
    enum class phase : std::uint8_t { idle, arrived, released, withdrawn };

    // The task was aborted while suspended here (on its worker, so phase_ is ours to write).
    bool request_cancel() noexcept override {
      phase_ = b_.withdraw(&node_, generation_) ? phase::withdrawn : phase::released;
      return true;
    }
    bool completed_with_value() const noexcept override { return phase_ == phase::released; }

    barrier& b_;
    waiter node_;
    std::uint64_t generation_ = 0;
    phase phase_ = phase::idle;  // only this task writes it
    bool leader_ = false;
    bool yield_ = false;
  };

  /// `co_await b.wait()` -> barrier_wait_result: waits until n tasks wait here; one of them
  /// (the last to arrive) gets is_leader() true.
  wait_awaiter wait() noexcept { return wait_awaiter(*this); }

  /// How many tasks each generation waits for.
  std::size_t participants() const noexcept { return n_; }

 private:
  // Counts an arrival in the current generation (whose number goes to `generation`). The n-th
  // completes it: releases every waiter and starts the next generation. True for that one.
  bool arrive(std::uint64_t& generation) noexcept {
    std::lock_guard lock(lock_);
    generation = generation_;
    if (++arrived_ < n_) return false;
    arrived_ = 0;
    ++generation_;
    while (waiter* w = waiters_.pop_front()) detail::wake(w->cell);
    return true;
  }

  // Queues an arrived task; false if its generation completed first (do not suspend).
  bool enqueue(waiter* w, std::uint64_t generation) noexcept {
    std::lock_guard lock(lock_);
    if (generation_ != generation) return false;
    waiters_.push_back(w);
    return true;
  }

  // An arrival goes away: if its generation is not complete, the arrival is taken back (and
  // the waiter unlinked if it was queued) and this returns true; false if it was released.
  bool withdraw(waiter* w, std::uint64_t generation) noexcept {
    std::lock_guard lock(lock_);
    if (generation_ != generation) return false;
    if (w->linked) waiters_.remove(w);
    --arrived_;
    return true;
  }

  const std::size_t n_;
  detail::spin_lock lock_;
  std::size_t arrived_ = 0;
  std::uint64_t generation_ = 0;
  detail::wait_list<waiter> waiters_;
};

}  // namespace polarway
