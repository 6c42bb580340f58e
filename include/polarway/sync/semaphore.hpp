// pw::semaphore: an async counting semaphore with fair (FIFO) waiters, and semaphore_permit,
// the RAII token that gives its permits back when destroyed.
//
// Fairness: waiters are served strictly in arrival order. Permits released while tasks wait go
// to the head of the queue, even partially: an acquire_many(5) at the head collects permits
// until it has all five, and a smaller request behind it waits (as in Tokio). An acquire that
// arrives while others wait queues behind them instead of taking free permits.
//
// Representation: `state_` holds the free permits shifted left by one, and the closed flag in
// bit 0, so that the uncontended acquire and release are one atomic operation each. The
// waiter queue and each queued waiter's `assigned` count are guarded by `lock_`.
// Invariant: while the queue is non-empty, permits are not left in `state_` (a release or a
// new waiter moves them to the head of the queue under the lock), so a queued waiter cannot be
// overtaken. A release with tasks queued hands its permits to them under the lock; otherwise
// release and acquire meet Dekker-style on (`state_`, `waiter_count_`), both sequentially
// consistent, so a release never misses a waiter that is just queueing.
//
// Cancel safety: acquire()/acquire_many() are cancel-safe in the sense that nothing leaks: a
// task aborted while queued leaves the queue, and permits already assigned to it (partially,
// or fully but not yet delivered because it had not run) go to the next waiter or back to the
// semaphore. Aborting it loses its place in the queue.
#pragma once

#include <algorithm>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>

#include "polarway/detail/panic.hpp"
#include "polarway/detail/context.hpp"
#include "polarway/error.hpp"
#include "polarway/option.hpp"
#include "polarway/result.hpp"
#include "polarway/detail/spin_lock.hpp"
#include "polarway/sync/detail/wait_list.hpp"

namespace polarway {

class semaphore;

/// Permits taken from a semaphore; given back when the permit is destroyed (or forgotten).
/// Movable, not copyable. The semaphore must outlive its permits.
class [[nodiscard]] semaphore_permit {
 public:
  /// An empty permit that holds nothing.
  semaphore_permit() noexcept = default;
  semaphore_permit(semaphore_permit&& other) noexcept
      : sem_(std::exchange(other.sem_, nullptr)), count_(std::exchange(other.count_, 0)) {}
  semaphore_permit& operator=(semaphore_permit&& other) noexcept {
    if (this != &other) {
      reset();
      sem_ = std::exchange(other.sem_, nullptr);
      count_ = std::exchange(other.count_, 0);
    }
    return *this;
  }
  semaphore_permit(const semaphore_permit&) = delete;
  semaphore_permit& operator=(const semaphore_permit&) = delete;
  /// Gives the permits back to the semaphore.
  ~semaphore_permit() { reset(); }

  /// Keeps the permits taken for good: the semaphore's count stays reduced.
  void forget() noexcept {
    sem_ = nullptr;
    count_ = 0;
  }
  /// How many permits this object holds.
  std::size_t num_permits() const noexcept { return count_; }
  /// Moves `n` of the permits held here into a new permit; none (and nothing moves) if this
  /// one holds fewer than n.
  option<semaphore_permit> split(std::size_t n) noexcept {
    if (n > count_) return none;
    count_ -= n;
    return semaphore_permit(sem_, n);
  }
  /// Gives the permits back now (the permit becomes empty).
  inline void reset() noexcept;

 private:
  friend class semaphore;
  semaphore_permit(semaphore* sem, std::size_t count) noexcept : sem_(sem), count_(count) {}

  semaphore* sem_ = nullptr;
  std::size_t count_ = 0;
};

class semaphore {
 public:
  /// The most permits a semaphore can hold (one bit of the count is the closed flag, and some
  /// headroom keeps additions from overflowing).
  static constexpr std::size_t max_permits = SIZE_MAX >> 3;

  /// A semaphore with `permits` free permits (at most max_permits; more is a programming error
  /// and aborts with a message).
  explicit semaphore(std::size_t permits) noexcept : state_(checked(permits) << 1) {}
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;
  ~semaphore() = default;  // no task may still wait on it, and no permit may outlive it

  class acquire_awaiter;

  /// `co_await sem.acquire()` -> result<semaphore_permit, error>: waits (FIFO) for one permit;
  /// the error (code errc::closed) means the semaphore was closed.
  acquire_awaiter acquire() noexcept;
  /// Waits (FIFO) for `n` permits at once; n = 0 completes at once with an empty permit.
  acquire_awaiter acquire_many(std::size_t n) noexcept;

  /// One permit if it is free now and nobody is queued; none otherwise (or when closed).
  option<semaphore_permit> try_acquire() noexcept { return try_acquire_many(1); }
  /// `n` permits if they are free now and nobody is queued; none otherwise (or when closed).
  option<semaphore_permit> try_acquire_many(std::size_t n) noexcept {
    if (take_fast(n) != fast::acquired) return none;
    return semaphore_permit(this, n);
  }

  /// The permits free right now (queued waiters may have a share of released ones assigned).
  std::size_t available_permits() const noexcept { return state_.load(std::memory_order_acquire) >> 1; }

  /// Adds `n` permits; queued waiters are served first. Exceeding max_permits aborts.
  void add_permits(std::size_t n) noexcept {
    if (n == 0) return;
    if (available_permits() + n > max_permits) [[unlikely]]
      detail::panic("semaphore::add_permits", "more than semaphore::max_permits permits");
    release(n);
  }

  /// Closes the semaphore: every queued acquire completes with an errc::closed error, and so
  /// does every later acquire; try_acquire gives none. Permits held stay valid and are given
  /// back as usual.
  void close() noexcept {
    state_.fetch_or(closed_bit, std::memory_order_seq_cst);
    std::lock_guard lock(lock_);
    std::size_t returned = 0;
    while (waiter* w = waiters_.pop_front()) {
      returned += w->assigned;
      w->assigned = 0;
      w->state = waiter::closed;
      detail::wake(w->cell);
    }
    waiter_count_.store(0, std::memory_order_seq_cst);
    if (returned) state_.fetch_add(returned << 1, std::memory_order_seq_cst);
  }

  /// Whether close() was called.
  bool is_closed() const noexcept { return (state_.load(std::memory_order_acquire) & closed_bit) != 0; }

 private:
  friend class semaphore_permit;
  static constexpr std::size_t closed_bit = 1;

  struct waiter : detail::wait_link<waiter> {
    enum status : std::uint8_t { idle, queued, granted, closed, delivered };
    detail::task_cell* cell = nullptr;
    std::size_t needed = 0;
    std::size_t assigned = 0;  // permits handed over so far (guarded by lock_ while queued)
    status state = idle;
  };

  enum class fast { acquired, closed, would_wait };

  static std::size_t checked(std::size_t permits) noexcept {
    if (permits > max_permits) [[unlikely]]
      detail::panic("semaphore", "more than semaphore::max_permits permits");
    return permits;
  }

  // The uncontended acquire: one CAS, and only when nobody is queued (FIFO).
  fast take_fast(std::size_t n) noexcept {
    std::size_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if (s & closed_bit) return fast::closed;
      if ((s >> 1) < n || waiter_count_.load(std::memory_order_relaxed) != 0) return fast::would_wait;
      if (state_.compare_exchange_weak(s, s - (n << 1), std::memory_order_acq_rel, std::memory_order_acquire))
        return fast::acquired;
    }
  }

  // Gives permits back. With tasks queued (the contended case) they go straight to the head
  // of the queue under the lock, without touching the permit word. Otherwise they go to the
  // word; the seq_cst pair (add, then read the waiter count) meets the queueing side's (count,
  // then take the permits), so that one of the two hands them over to a task that is just
  // queueing.
  void release(std::size_t n) noexcept {
    if (waiter_count_.load(std::memory_order_seq_cst) != 0) {
      std::lock_guard lock(lock_);
      if (!waiters_.empty()) {
        grant_locked(n, nullptr);
        return;
      }
    }
    state_.fetch_add(n << 1, std::memory_order_seq_cst);
    if (waiter_count_.load(std::memory_order_seq_cst) != 0) {
      std::lock_guard lock(lock_);
      distribute_locked(nullptr);
    }
  }

  // Moves every free permit to the queue. Called with lock_ held.
  void distribute_locked(waiter* self) noexcept {
    if (waiters_.empty()) return;
    std::size_t s = state_.load(std::memory_order_seq_cst);
    while ((s >> 1) != 0 &&
           !state_.compare_exchange_weak(s, s & closed_bit, std::memory_order_seq_cst, std::memory_order_seq_cst)) {
    }
    grant_locked(s >> 1, self);
  }

  // Hands `avail` permits to the queue, head first; a waiter that has all it needs leaves the
  // queue and is woken (except `self`, the caller's own waiter, which is running). What is left
  // once the queue is empty goes back to the free count. Called with lock_ held.
  void grant_locked(std::size_t avail, waiter* self) noexcept {
    while (avail != 0) {
      waiter* w = waiters_.front();
      if (!w) break;
      const std::size_t give = std::min(w->needed - w->assigned, avail);
      w->assigned += give;
      avail -= give;
      if (w->assigned == w->needed) {
        waiters_.remove(w);
        // Every change of the count happens under lock_, so a plain store cannot lose one;
        // readers outside the lock only use it as a hint to take the lock.
        waiter_count_.store(waiter_count_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
        w->state = waiter::granted;
        if (w != self) detail::wake(w->cell);
      }
    }
    if (avail) state_.fetch_add(avail << 1, std::memory_order_seq_cst);
  }

  std::atomic<std::size_t> state_;
  std::atomic<std::size_t> waiter_count_{0};
  detail::spin_lock lock_;
  detail::wait_list<waiter> waiters_;
};

/// The awaiter of acquire()/acquire_many(). Lives in the awaiting coroutine's frame and holds
/// that task's place in the queue.
class semaphore::acquire_awaiter {
 public:
  acquire_awaiter(semaphore& sem, std::size_t n) noexcept : sem_(sem) { node_.needed = n; }
  /// Movable until awaited (see check_awaiter_movable).
  acquire_awaiter(acquire_awaiter&& other) noexcept : sem_(other.sem_) {
    detail::check_awaiter_movable(other.registered_ || other.node_.state != waiter::idle, "semaphore::acquire");
    node_.needed = other.node_.needed;
  }
  acquire_awaiter(const acquire_awaiter&) = delete;
  acquire_awaiter& operator=(const acquire_awaiter&) = delete;

  ~acquire_awaiter() {
    if (registered_) {
      // Destroyed while suspended: the task was aborted. Leave the queue; whatever was
      // assigned to us (part of the permits, or all of them if we were granted but had not run
      // yet) goes to the next waiter or back to the semaphore.
      std::lock_guard lock(sem_.lock_);
      if (node_.linked) {
        sem_.waiters_.remove(&node_);
        sem_.waiter_count_.fetch_sub(1, std::memory_order_seq_cst);
      }
      const std::size_t back = node_.state == waiter::granted ? node_.needed : node_.assigned;
      if (back) sem_.grant_locked(back, nullptr);
    } else if (node_.state == waiter::granted && node_.needed != 0) {
      // Acquired, then aborted in the cooperative yield before the permit was handed out.
      sem_.release(node_.needed);
    }
  }

  bool await_ready() noexcept {
    if (node_.needed == 0) {
      node_.state = waiter::granted;
      return true;
    }
    switch (sem_.take_fast(node_.needed)) {
      case fast::acquired:
        node_.state = waiter::granted;
        if (detail::coop_consume()) return true;
        yield_ = true;  // out of budget: keep the permits, let the others on this worker run
        return false;
      case fast::closed:
        node_.state = waiter::closed;
        return true;
      case fast::would_wait:
        break;
    }
    return false;
  }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> caller) noexcept {
    detail::task_cell* self = detail::current_task_or_panic("semaphore::acquire", wait_kind::lock, caller);
    if (yield_) {
      self->transition_to_notified();
      return true;
    }
    std::lock_guard lock(sem_.lock_);
    if (sem_.state_.load(std::memory_order_relaxed) & closed_bit) {
      node_.state = waiter::closed;
      return false;
    }
    node_.cell = self;
    node_.state = waiter::queued;
    sem_.waiters_.push_back(&node_);
    sem_.waiter_count_.fetch_add(1, std::memory_order_seq_cst);
    sem_.distribute_locked(&node_);  // permits may have been released just before we queued
    registered_ = node_.state == waiter::queued;
    return registered_;
  }

  result<semaphore_permit, error> await_resume() noexcept {
    registered_ = false;
    if (node_.state == waiter::granted) {
      node_.state = waiter::delivered;
      return semaphore_permit(&sem_, node_.needed);
    }
    return err(error(errc::closed, "semaphore::acquire"));
  }

 private:
  semaphore& sem_;
  waiter node_;
  bool registered_ = false;  // queued and suspended; only this task writes it
  bool yield_ = false;
};

inline semaphore::acquire_awaiter semaphore::acquire() noexcept { return acquire_awaiter(*this, 1); }
inline semaphore::acquire_awaiter semaphore::acquire_many(std::size_t n) noexcept { return acquire_awaiter(*this, n); }

inline void semaphore_permit::reset() noexcept {
  if (sem_ && count_) sem_->release(count_);
  sem_ = nullptr;
  count_ = 0;
}

}  // namespace polarway
