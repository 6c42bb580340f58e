// pw::mpsc::channel<T>(capacity): a bounded multi-producer, single-consumer queue. A full
// channel suspends senders (back-pressure); an empty one suspends the receiver.
//
// Data path: a ring of exactly `capacity` slots, each with a 64-bit stamp saying which lap of
// the ring it is ready for. A position packs (lap, flags, index); moving to the next slot is
// an add, or a jump to the next lap, never a division, so any capacity is exact. Senders claim
// a position with a CAS on `tail_`, write the value and publish it with a release store to the
// slot's stamp; the receiver alone reads at `head_`. The `closed` flag of `tail_` stops all
// claims, so once it is set the receiver knows exactly which messages are still to come.
//
// Waiting: the receiver parks by setting a `parked` flag in `tail_` (its cell in `rx_cell_`).
// The next sender's claim, the CAS it does anyway, clears the flag and so learns that it must
// wake the receiver after publishing; a close does the same. Park and claim are both
// read-modify-writes of that one word, so no wake-up can be lost, and the common send pays for
// no extra fence or lock. Blocked senders queue (FIFO) under `lock_`
// with their value inside their awaiter; whoever frees a slot while senders are queued (the
// receiver, after each message it takes) moves the head sender's value into the ring for it
// and wakes it, so a woken sender has already sent. A sender that finds others queued queues
// behind them, so blocked senders are served in order.
//
// Cancel safety (a task aborted while suspended in the operation):
//   send()   cancel-safe: the value was either moved into the channel (the send happened) or is
//            dropped with the awaiter and was never enqueued; never half-sent. A send aborted
//            at the cooperative yield that follows an immediate success has sent its value.
//   recv()   cancel-safe: a message is taken out of the ring only when the receiving task runs,
//            so an aborted recv loses nothing; the next recv gets the message.
//   try_send / try_recv never suspend.
#pragma once

#include <atomic>
#include <bit>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "polarway/detail/panic.hpp"
#include "polarway/detail/context.hpp"
#include "polarway/option.hpp"
#include "polarway/result.hpp"
#include "polarway/detail/spin_lock.hpp"
#include "polarway/sync/detail/wait_list.hpp"

namespace polarway::mpsc {

/// The error of send(): the receiver is gone or closed. Gives the value back.
template <class T>
struct send_error {
  T value;
  /// The value that could not be sent.
  T into_inner() && { return std::move(value); }
  std::string message() const { return "channel closed"; }
};

/// The error of try_send(): the channel is full, or closed. Gives the value back.
template <class T>
struct try_send_error {
  enum class kind : std::uint8_t { full, closed };
  kind which;
  T value;
  /// The buffer was full (the receiver is still there).
  bool is_full() const noexcept { return which == kind::full; }
  /// The receiver is gone or closed the channel.
  bool is_closed() const noexcept { return which == kind::closed; }
  /// The value that could not be sent.
  T into_inner() && { return std::move(value); }
  std::string message() const { return is_full() ? "channel full" : "channel closed"; }
};

/// The error of try_recv(): nothing buffered now (empty), or never again (disconnected: every
/// sender is gone or the receiver closed the channel, and the buffer is drained).
enum class try_recv_error : std::uint8_t { empty, disconnected };

template <class T>
class sender;
template <class T>
class receiver;

namespace detail {

using polarway::detail::spin_backoff;
using polarway::detail::spin_lock;
using polarway::detail::task_cell;
using polarway::detail::wait_link;
using polarway::detail::wait_list;

inline constexpr std::size_t cache_line = 64;

enum class push_status : std::uint8_t { ok, full, closed };

template <class T>
struct send_waiter : wait_link<send_waiter<T>> {
  enum status : std::uint8_t { idle, queued, sent, closed };
  task_cell* cell = nullptr;
  T* value = nullptr;  // the awaiter's value; moved into the ring when a slot frees up
  status state = idle;
};

template <class T>
class chan {
 public:
  explicit chan(std::size_t capacity)
      : cap_(capacity),
        closed_(std::bit_ceil(static_cast<std::uint64_t>(capacity))),
        parked_(closed_ << 1),
        one_lap_(closed_ << 2),
        slots_(static_cast<slot*>(::operator new (sizeof(slot) * capacity, std::align_val_t{alignof(slot)}))) {
    for (std::size_t i = 0; i < cap_; ++i) ::new (&slots_[i]) slot{};
    for (std::size_t i = 0; i < cap_; ++i) slots_[i].stamp.store(i, std::memory_order_relaxed);
  }
  chan(const chan&) = delete;
  chan& operator=(const chan&) = delete;
  ~chan() {
    // Messages sent after the receiver's last look (a send racing the receiver's drop) die here.
    while (pop_value()) {
    }
    for (std::size_t i = 0; i < cap_; ++i) slots_[i].~slot();
    ::operator delete (slots_, std::align_val_t{alignof(slot)});
  }

  std::size_t max_capacity() const noexcept { return cap_; }

  // ---- senders ----

  // Claims a slot and writes *value (moving from it only on success). A claim that finds the
  // receiver parked clears its flag in the same CAS and wakes it once the value is published.
  push_status try_push(T& value) noexcept(std::is_nothrow_move_constructible_v<T>) {
    std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    spin_backoff backoff;
    for (;;) {
      if (tail & closed_) return push_status::closed;
      const std::uint64_t pos = tail & ~parked_;
      const std::uint64_t index = pos & (closed_ - 1);
      slot& s = slots_[index];
      const std::uint64_t stamp = s.stamp.load(std::memory_order_seq_cst);
      if (stamp == pos) {
        const std::uint64_t next = index + 1 < cap_ ? pos + 1 : (pos & ~(one_lap_ - 1)) + one_lap_;
        if (tail_.compare_exchange_weak(tail, next, std::memory_order_acq_rel, std::memory_order_relaxed)) {
          ::new (static_cast<void*>(s.storage)) T(std::move(value));
          s.stamp.store(pos + 1, std::memory_order_release);
          if (tail & parked_) wake_parked_receiver();
          return push_status::ok;
        }
      } else if (stamp + one_lap_ == pos + 1) {
        // The slot still holds last lap's message: full, unless our view of tail is stale.
        const std::uint64_t now = tail_.load(std::memory_order_relaxed);
        if (now == tail) return push_status::full;
        tail = now;
      } else {
        backoff.pause();  // another sender is ahead of us at this slot
        tail = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  // The fast path of send/try_send: refused while other senders are queued, so that they keep
  // their turn.
  push_status try_send_fast(T& value) noexcept {
    if (send_waiters_.load(std::memory_order_relaxed) != 0) {
      return (tail_.load(std::memory_order_relaxed) & closed_) ? push_status::closed : push_status::full;
    }
    return try_push(value);
  }

  // Moves queued senders' values into free slots, oldest first, and wakes them (except `self`,
  // whose task is the caller). Called with lock_ held.
  void drain_senders_locked(send_waiter<T>* self) noexcept {
    while (send_waiter<T>* w = send_queue_.front()) {
      if (try_push(*w->value) != push_status::ok) break;  // full again, or closed (close() fails them)
      send_queue_.remove(w);
      send_waiters_.fetch_sub(1, std::memory_order_seq_cst);
      w->state = send_waiter<T>::sent;
      if (w != self) polarway::detail::wake(w->cell);
    }
  }

  // Queues a sender that found the channel full (or others queued). Returns whether the
  // caller must suspend; if not, w->state says why (sent, or closed).
  bool enqueue_sender(send_waiter<T>* w) noexcept {
    std::lock_guard lock(lock_);
    if (tail_.load(std::memory_order_relaxed) & closed_) {
      w->state = send_waiter<T>::closed;
      return false;
    }
    w->state = send_waiter<T>::queued;
    send_queue_.push_back(w);
    // seq_cst pair with the receiver: it frees a slot then reads this count; we bump the count
    // then (in drain) read the slot.
    send_waiters_.fetch_add(1, std::memory_order_seq_cst);
    drain_senders_locked(w);
    return w->state == send_waiter<T>::queued;
  }

  // An awaiter destroyed while queued (its task was aborted).
  void cancel_sender(send_waiter<T>* w) noexcept {
    std::lock_guard lock(lock_);
    if (w->linked) {
      send_queue_.remove(w);
      send_waiters_.fetch_sub(1, std::memory_order_seq_cst);
    }
  }

  void add_sender() noexcept { senders_.fetch_add(1, std::memory_order_relaxed); }

  // The last sender leaving closes the channel: the receiver drains what is buffered, then
  // gets none.
  void drop_sender() noexcept {
    if (senders_.fetch_sub(1, std::memory_order_acq_rel) == 1) set_closed();
    unref();
  }

  bool is_closed() const noexcept { return rx_closed_.load(std::memory_order_acquire); }

  // Free slots now (a snapshot).
  std::size_t capacity() const noexcept {
    // head first: it never passes tail, so the difference cannot go negative.
    const std::uint64_t head = head_.load(std::memory_order_acquire);
    const std::uint64_t tail = tail_.load(std::memory_order_acquire) & ~(closed_ | parked_);
    const std::uint64_t len = linear(tail) - linear(head);
    return len >= cap_ ? 0 : static_cast<std::size_t>(cap_ - len);
  }

  // ---- the receiver ----

  // Whether the message at head_ is published.
  bool head_ready() const noexcept {
    const std::uint64_t head = head_local_;
    return slots_[head & (closed_ - 1)].stamp.load(std::memory_order_acquire) == head + 1;
  }

  // Takes the message at head_ if it is published.
  option<T> pop_value() noexcept(std::is_nothrow_move_constructible_v<T>) {
    const std::uint64_t head = head_local_;
    const std::uint64_t index = head & (closed_ - 1);
    slot& s = slots_[index];
    if (s.stamp.load(std::memory_order_acquire) != head + 1) return none;
    T* p = std::launder(reinterpret_cast<T*>(s.storage));
    option<T> out(std::in_place, std::move(*p));
    p->~T();
    const std::uint64_t next = index + 1 < cap_ ? head + 1 : (head & ~(one_lap_ - 1)) + one_lap_;
    head_local_ = next;
    head_.store(next, std::memory_order_relaxed);
    // seq_cst: pairs with a queueing sender (bump the count, then read the slot).
    s.stamp.store(head + one_lap_, std::memory_order_seq_cst);
    if (send_waiters_.load(std::memory_order_seq_cst) != 0) {
      std::lock_guard lock(lock_);
      drain_senders_locked(nullptr);
    }
    return out;
  }

  // True when nothing will ever arrive: closed and every claimed slot consumed.
  bool closed_and_drained() const noexcept {
    const std::uint64_t tail = tail_.load(std::memory_order_acquire);
    return (tail & closed_) && (tail & ~(closed_ | parked_)) == head_local_;
  }

  // The receiver knows a message is coming (a position was claimed, or it was woken): waits
  // for it to be published, or for the channel to end. The window is a sender between its
  // claim and its publish, a few instructions unless the OS preempted it.
  option<T> pop_blocking() noexcept {
    spin_backoff backoff;
    for (;;) {
      if (option<T> v = pop_value()) return v;
      if (closed_and_drained()) return none;
      backoff.pause();
    }
  }

  // Parks the receiver's task (whose cell is `cell`): sets the parked flag in tail_, which the
  // next claim (or the close) clears and answers with a wake-up. Both sides are read-modify-
  // writes of the one word, so no wake-up can slip between them. False if a message or the
  // close came first and the receiver should continue without suspending.
  bool park_receiver(task_cell* cell) noexcept {
    wait_out_waker();
    rx_cell_.store(cell, std::memory_order_relaxed);  // published by the release of the fetch_or
    const std::uint64_t before = tail_.fetch_or(parked_, std::memory_order_acq_rel);
    if ((before & closed_) || (before & ~parked_) != head_local_) {
      if (take_back_parked()) return false;
      // A sender cleared the flag and is waking us: we are running, so that wake-up requeues
      // the task as soon as it suspends. Suspend.
    }
    return true;
  }

  // The receiver's awaiter is destroyed while parked (its task was aborted): unregister, or
  // let the sender that is waking us finish with the cell first.
  void unpark_receiver() noexcept {
    if (!take_back_parked()) wait_out_waker();
  }

  // Closes the channel for sending; queued senders fail and get their value back.
  void close() noexcept {
    rx_closed_.store(true, std::memory_order_release);
    set_closed();
    std::lock_guard lock(lock_);
    while (send_waiter<T>* w = send_queue_.pop_front()) {
      send_waiters_.fetch_sub(1, std::memory_order_seq_cst);
      w->state = send_waiter<T>::closed;
      polarway::detail::wake(w->cell);
    }
  }

  // The receiver goes away: close, then drop what is buffered (waiting for messages claimed
  // before the close to be published).
  void drop_receiver() noexcept {
    close();
    while (pop_blocking()) {
    }
    unref();
  }

  void unref() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  void ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }

 private:
  struct slot {
    std::atomic<std::uint64_t> stamp{0};
    alignas(T) unsigned char storage[sizeof(T)];
  };

  // Sets the closed flag; if the receiver was parked, clears its flag and wakes it.
  void set_closed() noexcept {
    std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    while (!tail_.compare_exchange_weak(tail, (tail | closed_) & ~parked_, std::memory_order_acq_rel,
                                        std::memory_order_relaxed)) {
    }
    if (tail & parked_) wake_parked_receiver();
  }

  // Whoever cleared the parked flag owns the wake-up. rx_cell_ stays set until wake()
  // returned; the receiver waits for it to clear before parking again or letting its cell die,
  // which is what keeps the cell alive here without a reference count.
  void wake_parked_receiver() noexcept {
    polarway::detail::wake(rx_cell_.load(std::memory_order_acquire));
    rx_cell_.store(nullptr, std::memory_order_release);
  }

  // Clears our own parked flag if no sender has yet. True if we did (rx_cell_ is ours again).
  bool take_back_parked() noexcept {
    std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    while (tail & parked_) {
      if (tail_.compare_exchange_weak(tail, tail & ~parked_, std::memory_order_acq_rel, std::memory_order_relaxed)) {
        rx_cell_.store(nullptr, std::memory_order_relaxed);
        return true;
      }
    }
    return false;
  }

  // A sender between clearing the parked flag and finishing wake(): a few instructions, unless
  // the OS preempted it.
  void wait_out_waker() noexcept {
    spin_backoff backoff;
    while (rx_cell_.load(std::memory_order_acquire) != nullptr) backoff.pause();
  }

  std::uint64_t linear(std::uint64_t pos) const noexcept { return (pos / one_lap_) * cap_ + (pos & (closed_ - 1)); }

  // Read-only after construction. A position is (lap, parked, closed, index) from high bits to
  // low; slot stamps and head_ are positions without the two flags.
  const std::uint64_t cap_;
  const std::uint64_t closed_;   // tail_ flag: no more claims; above every index
  const std::uint64_t parked_;   // tail_ flag: the receiver is parked; the next claim wakes it
  const std::uint64_t one_lap_;  // adding it to a position moves to the same index, next lap
  slot* const slots_;

  // Written by every send.
  alignas(cache_line) std::atomic<std::uint64_t> tail_{0};
  // Written by the receiver only.
  alignas(cache_line) std::atomic<std::uint64_t> head_{0};
  std::uint64_t head_local_ = 0;
  // Read by every operation, written only when a task parks or wakes.
  alignas(cache_line) std::atomic<std::size_t> send_waiters_{0};
  std::atomic<task_cell*> rx_cell_{nullptr};  // the parked receiver; cleared once woken
  std::atomic<bool> rx_closed_{false};
  // Slow paths only.
  alignas(cache_line) spin_lock lock_;
  wait_list<send_waiter<T>> send_queue_;
  std::atomic<std::size_t> senders_{1};
  std::atomic<std::size_t> refs_{2};
};

}  // namespace detail

/// The sending half. Copyable: every copy is a sender; the channel ends for the receiver when
/// the last copy is destroyed.
template <class T>
class sender {
 public:
  sender(const sender& other) noexcept : ch_(other.ch_) {
    if (ch_) {
      ch_->add_sender();
      ch_->ref();
    }
  }
  sender(sender&& other) noexcept : ch_(std::exchange(other.ch_, nullptr)) {}
  sender& operator=(sender other) noexcept {
    std::swap(ch_, other.ch_);
    return *this;
  }
  ~sender() {
    if (ch_) ch_->drop_sender();
  }

  class send_awaiter {
   public:
    send_awaiter(detail::chan<T>* ch, T value) noexcept(std::is_nothrow_move_constructible_v<T>)
        : ch_(ch), value_(std::move(value)) {}
    /// Movable until awaited (see check_awaiter_movable).
    send_awaiter(send_awaiter&& other) noexcept : ch_(other.ch_), value_(std::move(other.value_)) {
      polarway::detail::check_awaiter_movable(other.registered_ || other.yield_ || other.node_.state != node_type::idle,
                                              "mpsc::sender::send");
    }
    send_awaiter(const send_awaiter&) = delete;
    send_awaiter& operator=(const send_awaiter&) = delete;
    ~send_awaiter() {
      if (registered_) ch_->cancel_sender(&node_);  // aborted while queued: never enqueued
    }

    bool await_ready() noexcept {
      switch (ch_->try_send_fast(value_)) {
        case detail::push_status::ok:
          node_.state = node_type::sent;
          if (polarway::detail::coop_consume()) return true;
          yield_ = true;  // sent, but out of budget: let the others on this worker run first
          return false;
        case detail::push_status::closed:
          node_.state = node_type::closed;
          return true;
        case detail::push_status::full:
          break;
      }
      return false;
    }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> caller) noexcept {
      polarway::detail::task_cell* self = polarway::detail::current_task_or_panic("mpsc::sender::send", wait_kind::channel, caller);
      if (yield_) {
        self->transition_to_notified();
        return true;
      }
      node_.cell = self;
      node_.value = &value_;
      registered_ = ch_->enqueue_sender(&node_);
      return registered_;
    }

    result<void, send_error<T>> await_resume() noexcept(std::is_nothrow_move_constructible_v<T>) {
      registered_ = false;
      if (node_.state == node_type::sent) return ok();
      return err(send_error<T>{std::move(value_)});
    }

   private:
    using node_type = detail::send_waiter<T>;
    detail::chan<T>* ch_;
    T value_;
    node_type node_;
    bool registered_ = false;  // queued and suspended; only this task writes it
    bool yield_ = false;
  };

  /// `co_await tx.send(v)` -> result<void, send_error<T>>: waits while the channel is full;
  /// fails, giving v back, if the receiver is gone or closed. Blocked senders go in FIFO order.
  send_awaiter send(T value) noexcept(std::is_nothrow_move_constructible_v<T>) {
    return send_awaiter(checked(), std::move(value));
  }

  /// Sends without waiting: fails with the value back if the channel is full (or senders are
  /// queued) or closed.
  result<void, try_send_error<T>> try_send(T value) noexcept(std::is_nothrow_move_constructible_v<T>) {
    switch (checked()->try_send_fast(value)) {
      case detail::push_status::ok:
        return ok();
      case detail::push_status::full:
        return err(try_send_error<T>{try_send_error<T>::kind::full, std::move(value)});
      case detail::push_status::closed:
        break;
    }
    return err(try_send_error<T>{try_send_error<T>::kind::closed, std::move(value)});
  }

  /// Whether the receiver is gone or closed the channel (sends will fail).
  bool is_closed() const noexcept { return checked()->is_closed(); }
  /// Free slots now (a snapshot).
  std::size_t capacity() const noexcept { return checked()->capacity(); }
  /// The capacity the channel was created with.
  std::size_t max_capacity() const noexcept { return checked()->max_capacity(); }
  /// Whether both senders belong to the same channel.
  bool same_channel(const sender& other) const noexcept { return ch_ == other.ch_; }

 private:
  template <class U>
  friend std::pair<sender<U>, receiver<U>> channel(std::size_t capacity);
  explicit sender(detail::chan<T>* ch) noexcept : ch_(ch) {}
  detail::chan<T>* checked() const noexcept {
    if (!ch_) [[unlikely]]
      polarway::detail::panic("mpsc::sender", "used after it was moved from");
    return ch_;
  }
  detail::chan<T>* ch_;
};

/// The receiving half. Move-only; destroying it closes the channel and drops what is buffered.
template <class T>
class receiver {
 public:
  receiver(receiver&& other) noexcept : ch_(std::exchange(other.ch_, nullptr)) {}
  receiver& operator=(receiver&& other) noexcept {
    if (this != &other) {
      if (ch_) ch_->drop_receiver();
      ch_ = std::exchange(other.ch_, nullptr);
    }
    return *this;
  }
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;
  ~receiver() {
    if (ch_) ch_->drop_receiver();
  }

  class recv_awaiter {
   public:
    explicit recv_awaiter(detail::chan<T>* ch) noexcept : ch_(ch) {}
    /// Movable until awaited (see check_awaiter_movable).
    recv_awaiter(recv_awaiter&& other) noexcept : ch_(other.ch_) {
      polarway::detail::check_awaiter_movable(other.parked_ || other.done_ || other.yield_, "mpsc::receiver::recv");
    }
    recv_awaiter(const recv_awaiter&) = delete;
    recv_awaiter& operator=(const recv_awaiter&) = delete;
    ~recv_awaiter() {
      if (parked_) ch_->unpark_receiver();  // aborted while parked: take the registration back
    }

    bool await_ready() noexcept {
      if (ch_->head_ready()) {
        if (!polarway::detail::coop_consume()) {
          yield_ = true;  // out of budget: yield first; the message stays (only we take it)
          return false;
        }
        value_ = ch_->pop_value();
        done_ = true;
        return true;
      }
      if (ch_->closed_and_drained()) {
        done_ = true;
        return true;
      }
      return false;
    }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> caller) noexcept {
      polarway::detail::task_cell* self = polarway::detail::current_task_or_panic("mpsc::receiver::recv", wait_kind::channel, caller);
      if (yield_) {
        self->transition_to_notified();
        return true;
      }
      if (!ch_->park_receiver(self)) return false;
      parked_ = self;
      return true;
    }

    option<T> await_resume() noexcept {
      parked_ = nullptr;  // whoever woke us took the registration
      if (done_) return std::move(value_);
      return ch_->pop_blocking();
    }

   private:
    detail::chan<T>* ch_;
    option<T> value_;
    polarway::detail::task_cell* parked_ = nullptr;  // only this task writes it
    bool done_ = false;
    bool yield_ = false;
  };

  /// `co_await rx.recv()` -> option<T>: the next message, waiting for one; none once every
  /// sender is gone (or the channel was closed) and the buffer is drained.
  recv_awaiter recv() noexcept { return recv_awaiter(checked()); }

  /// The next message if one is buffered; try_recv_error::empty if not yet,
  /// try_recv_error::disconnected if never again.
  result<T, try_recv_error> try_recv() noexcept {
    detail::chan<T>* ch = checked();
    if (option<T> v = ch->pop_value()) return std::move(*v);
    if (ch->closed_and_drained()) return err(try_recv_error::disconnected);
    return err(try_recv_error::empty);
  }

  /// Closes the channel: sends fail from now on (queued senders get their value back), while
  /// recv still delivers what was sent before, then none.
  void close() noexcept { checked()->close(); }

 private:
  template <class U>
  friend std::pair<sender<U>, receiver<U>> channel(std::size_t capacity);
  explicit receiver(detail::chan<T>* ch) noexcept : ch_(ch) {}
  detail::chan<T>* checked() const noexcept {
    if (!ch_) [[unlikely]]
      polarway::detail::panic("mpsc::receiver", "used after it was moved from");
    return ch_;
  }
  detail::chan<T>* ch_;
};

/// A bounded channel holding at most `capacity` messages (capacity >= 1; 0 aborts with a
/// message). The buffer is allocated up front.
template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity) {
  static_assert(std::is_nothrow_move_constructible_v<T>, "mpsc::channel<T> needs a noexcept move constructor");
  if (capacity == 0) [[unlikely]]
    polarway::detail::panic("mpsc::channel", "capacity must be at least 1");
  auto* ch = new detail::chan<T>(capacity);
  return {sender<T>(ch), receiver<T>(ch)};
}

}  // namespace polarway::mpsc
