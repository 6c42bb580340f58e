// pw::rw_lock<T>: an async reader-writer lock around a value of type T. Any number of tasks may
// read at once (up to max_readers), or one may write; `co_await l.read()` / `co_await
// l.write()` suspend the task, never the thread, and give RAII guards that may be held across
// co_await and released on another worker.
//
// It is a semaphore with max_readers permits (sync/semaphore.hpp), as in Tokio: a reader takes
// one permit, a writer all of them. The semaphore is fair (FIFO, and permits released while
// tasks wait go to the head of the queue), so the lock is too: a writer waiting behind readers
// collects their permits as they leave, and readers that arrive after it queue behind it, so
// writers are never starved and readers are not either. Everything about waiting and
// cancellation is the semaphore's: a task aborted while waiting leaves the queue, and permits
// already handed to it go to the next waiter.
//
// Cancel safety: read() and write() are cancel-safe in that nothing leaks; an aborted waiter
// loses its place in the queue.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "polarway/detail/panic.hpp"
#include "polarway/option.hpp"
#include "polarway/sync/semaphore.hpp"

namespace polarway {

template <class T>
class rw_lock;

namespace detail {

// What both guards hold and do: the permits taken from the lock's semaphore, and the value
// (V is const T for a read guard). Empty once moved from or unlocked.
template <class V>
class rw_lock_guard_base {
 public:
  /// Whether this guard holds the lock.
  bool owns_lock() const noexcept { return value_ != nullptr; }
  explicit operator bool() const noexcept { return owns_lock(); }
  /// Releases the lock now (the guard becomes empty).
  void unlock() noexcept {
    permit_.reset();
    value_ = nullptr;
  }

 protected:
  rw_lock_guard_base() noexcept = default;
  rw_lock_guard_base(semaphore_permit p, V* value) noexcept : permit_(std::move(p)), value_(value) {}
  rw_lock_guard_base(rw_lock_guard_base&& other) noexcept
      : permit_(std::move(other.permit_)), value_(std::exchange(other.value_, nullptr)) {}
  rw_lock_guard_base& operator=(rw_lock_guard_base&& other) noexcept {
    permit_ = std::move(other.permit_);
    value_ = std::exchange(other.value_, nullptr);
    return *this;
  }
  ~rw_lock_guard_base() = default;

  V* checked(const char* what) const noexcept {
    if (!value_) [[unlikely]]
      panic(what, "used after it was moved from or unlocked");
    return value_;
  }

  semaphore_permit permit_;
  V* value_ = nullptr;
};

}  // namespace detail

/// Shared (read) access to a pw::rw_lock's value, released when destroyed. Movable.
template <class T>
class [[nodiscard]] rw_lock_read_guard : public detail::rw_lock_guard_base<const T> {
 public:
  rw_lock_read_guard() noexcept = default;

  const T& operator*() const noexcept { return *this->checked("rw_lock_read_guard"); }
  const T* operator->() const noexcept { return this->checked("rw_lock_read_guard"); }

 private:
  friend class rw_lock<T>;
  template <class U>
  friend class rw_lock_write_guard;
  rw_lock_read_guard(semaphore_permit p, const T* value) noexcept
      : detail::rw_lock_guard_base<const T>(std::move(p), value) {}
};

/// Exclusive (write) access to a pw::rw_lock's value, released when destroyed. Movable.
template <class T>
class [[nodiscard]] rw_lock_write_guard : public detail::rw_lock_guard_base<T> {
 public:
  rw_lock_write_guard() noexcept = default;

  T& operator*() const noexcept { return *this->checked("rw_lock_write_guard"); }
  T* operator->() const noexcept { return this->checked("rw_lock_write_guard"); }

  /// Turns write access into read access without letting a writer in between: the permits
  /// beyond one go back to the lock (to the head of its queue first), and the read guard keeps
  /// the last one. This guard becomes empty.
  rw_lock_read_guard<T> downgrade() && noexcept {
    T* value = this->checked("rw_lock_write_guard");
    option<semaphore_permit> kept = this->permit_.split(1);
    this->unlock();
    return rw_lock_read_guard<T>(std::move(*kept), value);
  }

 private:
  friend class rw_lock<T>;
  rw_lock_write_guard(semaphore_permit p, T* value) noexcept : detail::rw_lock_guard_base<T>(std::move(p), value) {}
};

template <class T>
class rw_lock {
 public:
  /// Readers allowed at once by default (Tokio's limit).
  static constexpr std::size_t default_max_readers = std::size_t{UINT32_MAX} >> 3;

  /// A lock around `value` that lets default_max_readers read at once.
  explicit rw_lock(T value) : rw_lock(std::move(value), default_max_readers) {}
  /// A lock around `value` that lets at most `max_readers` read at once (1 to
  /// semaphore::max_permits; anything else aborts with a message).
  static rw_lock with_max_readers(T value, std::size_t max_readers) { return rw_lock(std::move(value), max_readers); }

  rw_lock(const rw_lock&) = delete;
  rw_lock& operator=(const rw_lock&) = delete;
  ~rw_lock() = default;  // must not be locked or awaited

  /// The awaiter of read() and write(): the semaphore's acquire, which makes the guard.
  template <class Guard>
  class lock_awaiter {
   public:
    bool await_ready() noexcept { return inner_.await_ready(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> caller) noexcept { return inner_.await_suspend(caller); }
    Guard await_resume() noexcept {
      auto permit = inner_.await_resume();
      if (!permit) [[unlikely]]
        detail::panic("rw_lock", "the lock's semaphore was closed");  // never closed
      return Guard(std::move(*permit), value_);
    }

   private:
    friend class rw_lock;
    lock_awaiter(semaphore::acquire_awaiter inner, T* value) noexcept : inner_(std::move(inner)), value_(value) {}
    semaphore::acquire_awaiter inner_;  // movable until awaited, so this is too
    T* value_;
  };

  /// `co_await l.read()` -> rw_lock_read_guard<T>: waits (FIFO) until no writer holds the lock
  /// or waits ahead of this reader.
  lock_awaiter<rw_lock_read_guard<T>> read() noexcept { return {sem_.acquire(), &value_}; }
  /// `co_await l.write()` -> rw_lock_write_guard<T>: waits (FIFO) until nobody else holds the
  /// lock.
  lock_awaiter<rw_lock_write_guard<T>> write() noexcept { return {sem_.acquire_many(max_readers_), &value_}; }

  /// A read guard if no writer holds the lock and nobody waits; none otherwise.
  option<rw_lock_read_guard<T>> try_read() noexcept {
    auto p = sem_.try_acquire();
    if (!p) return none;
    return rw_lock_read_guard<T>(std::move(*p), &value_);
  }
  /// A write guard if nobody holds the lock and nobody waits; none otherwise.
  option<rw_lock_write_guard<T>> try_write() noexcept {
    auto p = sem_.try_acquire_many(max_readers_);
    if (!p) return none;
    return rw_lock_write_guard<T>(std::move(*p), &value_);
  }

  /// The value, without locking: for a caller that knows no task can hold or await the lock
  /// (Tokio's get_mut through an exclusive reference).
  T& get_mut() noexcept { return value_; }
  /// The value, taken out of a lock that nobody holds or awaits.
  T into_inner() && { return std::move(value_); }
  /// How many readers may hold the lock at once.
  std::size_t max_readers() const noexcept { return max_readers_; }

 private:
  rw_lock(T value, std::size_t max_readers) : sem_(checked(max_readers)), max_readers_(max_readers), value_(std::move(value)) {}

  static std::size_t checked(std::size_t max_readers) noexcept {
    if (max_readers == 0 || max_readers > semaphore::max_permits) [[unlikely]]
      detail::panic("rw_lock", "max_readers must be between 1 and semaphore::max_permits");
    return max_readers;
  }

  semaphore sem_;
  const std::size_t max_readers_;
  T value_;
};

}  // namespace polarway
