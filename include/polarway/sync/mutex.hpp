// pw::mutex: an async mutual-exclusion lock for tasks. `co_await m.lock()` suspends the task
// (never the thread) until the lock is free and gives a mutex_guard that unlocks when
// destroyed; waiters get the lock in FIFO order. Unlike std::mutex it may be held across a
// co_await, and the guard may be released on another worker thread.
//
// It is a semaphore with one permit (sync/semaphore.hpp), so it inherits the semaphore's
// fairness and cancellation rules: a task aborted while waiting leaves the queue, and a lock
// handed to it before it ran goes to the next waiter. Like Tokio's Mutex it guards no data of
// its own; keep the data next to it.
//
// Cancel safety: lock() is cancel-safe in that nothing leaks, but an aborted waiter loses its
// place in the queue.
#pragma once

#include <coroutine>
#include <utility>

#include "polarway/detail/panic.hpp"
#include "polarway/option.hpp"
#include "polarway/sync/semaphore.hpp"

namespace polarway {

/// Holds a pw::mutex locked; unlocks it when destroyed. Movable.
class [[nodiscard]] mutex_guard {
 public:
  mutex_guard() noexcept = default;
  mutex_guard(mutex_guard&&) noexcept = default;
  mutex_guard& operator=(mutex_guard&&) noexcept = default;
  ~mutex_guard() = default;

  /// Whether this guard holds a lock.
  bool owns_lock() const noexcept { return permit_.num_permits() != 0; }
  explicit operator bool() const noexcept { return owns_lock(); }
  /// Unlocks now (the guard becomes empty).
  void unlock() noexcept { permit_.reset(); }

 private:
  friend class mutex;
  explicit mutex_guard(semaphore_permit p) noexcept : permit_(std::move(p)) {}
  semaphore_permit permit_;
};

class mutex {
 public:
  mutex() noexcept : sem_(1) {}
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;
  ~mutex() = default;  // must not be locked or awaited

  class lock_awaiter {
   public:
    explicit lock_awaiter(semaphore& sem) noexcept : inner_(sem.acquire()) {}
    bool await_ready() noexcept { return inner_.await_ready(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> caller) noexcept { return inner_.await_suspend(caller); }
    mutex_guard await_resume() noexcept {
      auto permit = inner_.await_resume();
      if (!permit) [[unlikely]]
        detail::panic("mutex::lock", "the mutex's semaphore was closed");  // never closed
      return mutex_guard(std::move(*permit));
    }

   private:
    semaphore::acquire_awaiter inner_;
  };

  /// `co_await m.lock()` -> mutex_guard: waits (FIFO) until the mutex is free.
  lock_awaiter lock() noexcept { return lock_awaiter(sem_); }

  /// A guard if the mutex is free now and nobody waits for it; none otherwise.
  option<mutex_guard> try_lock() noexcept {
    auto p = sem_.try_acquire();
    if (!p) return none;
    return mutex_guard(std::move(*p));
  }

 private:
  semaphore sem_;
};

}  // namespace polarway
