// pw::oneshot::channel<T>(): a single value sent once from one task to another.
//
// The shared state holds the value, who is still there (sender, receiver), and the parked
// receiver; all of it under one spin lock, since each side touches it once or twice. The
// receiver is woken under that lock, and its awaiter takes the lock to unregister, so an
// aborted receiver is never touched after its frame is gone. The state is freed by whichever
// half goes last.
//
// Cancel safety: `co_await rx` is cancel-safe: the value is taken out of the channel only when
// the receiving task runs, so aborting the wait loses nothing and the receiver can be awaited
// again. send() never suspends.
#pragma once

#include <coroutine>
#include <mutex>
#include <optional>
#include <utility>

#include "polarway/detail/panic.hpp"
#include "polarway/detail/context.hpp"
#include "polarway/error.hpp"
#include "polarway/option.hpp"
#include "polarway/result.hpp"
#include "polarway/detail/spin_lock.hpp"

namespace polarway::oneshot {

template <class T>
class sender;
template <class T>
class receiver;

namespace detail {

template <class T>
struct state {
  polarway::detail::spin_lock lock;
  std::optional<T> value;
  polarway::detail::task_cell* waiter = nullptr;  // the parked receiver
  bool sent = false;                              // a value was sent (it may have been taken since)
  bool tx_alive = true;
  bool rx_alive = true;

  // Called by each half as it goes; the last one frees the state. Takes the lock (held).
  void leave(std::unique_lock<polarway::detail::spin_lock>& held) noexcept {
    const bool last = !tx_alive && !rx_alive;
    held.unlock();
    if (last) delete this;
  }
};

}  // namespace detail

/// The sending half: send() once. Destroying it without sending makes the receiver's await
/// fail with errc::closed.
template <class T>
class sender {
 public:
  sender(sender&& other) noexcept : st_(std::exchange(other.st_, nullptr)) {}
  sender& operator=(sender&& other) noexcept {
    if (this != &other) {
      drop();
      st_ = std::exchange(other.st_, nullptr);
    }
    return *this;
  }
  sender(const sender&) = delete;
  sender& operator=(const sender&) = delete;
  ~sender() { drop(); }

  /// Sends the value and consumes the sender. Fails, giving the value back, if the receiver is
  /// gone (or the sender was already used).
  result<void, T> send(T value) {
    if (!st_) return err(std::move(value));
    std::unique_lock lock(st_->lock);
    if (!st_->rx_alive) {
      lock.unlock();
      drop();
      return err(std::move(value));
    }
    st_->value.emplace(std::move(value));
    st_->sent = true;
    if (st_->waiter) polarway::detail::wake(std::exchange(st_->waiter, nullptr));
    lock.unlock();
    drop();
    return ok();
  }

  /// Whether the receiver is gone (a send would fail).
  bool is_closed() const noexcept {
    if (!st_) return true;
    std::lock_guard lock(st_->lock);
    return !st_->rx_alive;
  }

 private:
  template <class U>
  friend std::pair<sender<U>, receiver<U>> channel();
  explicit sender(detail::state<T>* st) noexcept : st_(st) {}

  void drop() noexcept {
    if (!st_) return;
    detail::state<T>* st = std::exchange(st_, nullptr);
    std::unique_lock lock(st->lock);
    st->tx_alive = false;
    if (st->waiter) polarway::detail::wake(std::exchange(st->waiter, nullptr));
    st->leave(lock);
  }

  detail::state<T>* st_;
};

/// The receiving half: `co_await rx` -> result<T, error>; the error has code errc::closed when
/// the sender was dropped without sending (or the value was already taken).
template <class T>
class receiver {
 public:
  receiver(receiver&& other) noexcept : st_(std::exchange(other.st_, nullptr)) {}
  receiver& operator=(receiver&& other) noexcept {
    if (this != &other) {
      drop();
      st_ = std::exchange(other.st_, nullptr);
    }
    return *this;
  }
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;
  ~receiver() { drop(); }

  class awaiter {
   public:
    explicit awaiter(detail::state<T>* st) noexcept : st_(st) {}
    /// Movable until awaited (see check_awaiter_movable).
    awaiter(awaiter&& other) noexcept : st_(other.st_) {
      polarway::detail::check_awaiter_movable(other.parked_ || other.yield_, "oneshot::receiver");
    }
    awaiter(const awaiter&) = delete;
    awaiter& operator=(const awaiter&) = delete;
    ~awaiter() {
      if (parked_) {  // aborted while parked: unregister unless the sender already woke us
        std::lock_guard lock(st_->lock);
        if (st_->waiter == parked_) st_->waiter = nullptr;
      }
    }

    bool await_ready() noexcept {
      if (!st_) return true;
      std::lock_guard lock(st_->lock);
      if (!st_->sent && st_->tx_alive) return false;
      if (polarway::detail::coop_consume()) return true;
      yield_ = true;
      return false;
    }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> caller) noexcept {
      polarway::detail::task_cell* self = polarway::detail::current_task_or_panic("oneshot::receiver", wait_kind::channel, caller);
      if (yield_) {
        self->transition_to_notified();
        return true;
      }
      std::lock_guard lock(st_->lock);
      if (st_->sent || !st_->tx_alive) return false;
      st_->waiter = parked_ = self;
      return true;
    }

    result<T, error> await_resume() noexcept(std::is_nothrow_move_constructible_v<T>) {
      parked_ = nullptr;
      if (st_) {
        std::lock_guard lock(st_->lock);
        if (st_->value) {
          result<T, error> out(std::in_place, std::move(*st_->value));
          st_->value.reset();
          return out;
        }
      }
      return err(error(errc::closed, "oneshot::receiver"));
    }

   private:
    detail::state<T>* st_;
    polarway::detail::task_cell* parked_ = nullptr;
    bool yield_ = false;
  };

  /// Waits for the value; errc::closed if the sender went away without sending.
  awaiter operator co_await() & noexcept { return awaiter(st_); }
  awaiter operator co_await() && noexcept { return awaiter(st_); }

  /// The value if it was sent; none if not (yet), or if it was already taken.
  option<T> try_recv() {
    if (!st_) return none;
    std::lock_guard lock(st_->lock);
    if (!st_->value) return none;
    option<T> out(std::in_place, std::move(*st_->value));
    st_->value.reset();
    return out;
  }

  /// Whether the sender is gone without a value left to take.
  bool is_terminated() const noexcept {
    if (!st_) return true;
    std::lock_guard lock(st_->lock);
    return !st_->value && (st_->sent || !st_->tx_alive);
  }

 private:
  template <class U>
  friend std::pair<sender<U>, receiver<U>> channel();
  explicit receiver(detail::state<T>* st) noexcept : st_(st) {}

  void drop() noexcept {
    if (!st_) return;
    detail::state<T>* st = std::exchange(st_, nullptr);
    std::unique_lock lock(st->lock);
    st->rx_alive = false;
    [[maybe_unused]] std::optional<T> dropped = std::move(st->value);  // destroyed outside the lock
    st->value.reset();
    st->leave(lock);
  }

  detail::state<T>* st_;
};

/// A new oneshot channel: one sender, one receiver.
template <class T>
std::pair<sender<T>, receiver<T>> channel() {
  auto* st = new detail::state<T>();
  return {sender<T>(st), receiver<T>(st)};
}

}  // namespace polarway::oneshot
