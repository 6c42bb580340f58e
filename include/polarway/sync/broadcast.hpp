// pw::broadcast::channel<T>(capacity): a bounded multi-producer, multi-consumer channel in which
// every receiver sees every value sent after it subscribed (Tokio's broadcast semantics).
//
//   send(v)    never waits: it writes v into a ring of `capacity` slots, overwriting the oldest
//              value once the ring is full, and tells how many receivers will see it. With no
//              receiver at all it fails and gives v back.
//   recv()     the next value this receiver has not seen, copied out of the ring. A receiver
//              that fell more than `capacity` values behind gets recv_error::lagged(n) once,
//              n being the values it missed, and continues from the oldest value still kept.
//              Once every sender is gone and the receiver has seen everything, recv_error::
//              closed.
//
// State: the channel's spin lock (change_channel's) guards the position of the next value to
// write (`tail`), the counts of senders and receivers, and the queue of waiting receivers, so
// sends, subscriptions and departures are serialised. Positions count values since the channel
// was made; the value at position p lives in slot p % capacity until position p + capacity
// overwrites it. Each slot has a spin lock of its own and records the position of the value it
// holds; a receiver takes only that lock, never the channel's, so receivers on different
// workers meet only when they read the same slot. A receiver whose slot holds its position
// reads it there; one whose slot already holds a later position has lagged. Each slot also
// counts the receivers that have yet to read it: the last one moves the value out instead of
// copying it, and a receiver that goes away gives up its share of every value it has not
// read, so a value lives until every receiver has seen it or it is overwritten. Values are
// copied to receivers under the slot's lock; for a large T, send a std::shared_ptr<const U>.
//
// Waiting: a receiver that has seen everything queues on the one waiter list of the library,
// through the awaiter it shares with watch (sync/detail/change_channel.hpp). A send, or the
// last sender leaving, wakes every queued receiver; a woken receiver takes its value when it
// runs, so the queue holds no grants and an aborted waiter simply leaves it.
//
// Cancel safety: recv() is cancel-safe: a value is taken (and the receiver's position moved)
// only when the receiving task runs, so an aborted or losing recv loses nothing.
#pragma once

#include <algorithm>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "polarway/detail/context.hpp"
#include "polarway/detail/panic.hpp"
#include "polarway/detail/spin_lock.hpp"
#include "polarway/option.hpp"
#include "polarway/result.hpp"
#include "polarway/sync/detail/change_channel.hpp"

namespace polarway::broadcast {

/// The error of send(): no receiver exists. Gives the value back.
template <class T>
struct send_error {
  T value;
  /// The value that could not be sent.
  T into_inner() && { return std::move(value); }
  std::string message() const { return "broadcast channel has no receivers"; }
};

/// The error of recv(): the receiver lagged behind (and skipped values), or the channel is
/// closed and drained.
class recv_error {
 public:
  /// The receiver fell behind: `missed` values were overwritten before it read them. The next
  /// recv gives the oldest value the channel still holds.
  static constexpr recv_error lagged(std::uint64_t missed) noexcept { return recv_error(missed); }
  /// Every sender is gone and this receiver has seen every value.
  static constexpr recv_error closed() noexcept { return recv_error(0); }

  bool is_lagged() const noexcept { return missed_ != 0; }
  bool is_closed() const noexcept { return missed_ == 0; }
  /// How many values were skipped (0 for closed).
  std::uint64_t missed() const noexcept { return missed_; }
  std::string message() const {
    return is_closed() ? "broadcast channel closed" : "receiver lagged by " + std::to_string(missed_) + " values";
  }
  friend bool operator==(const recv_error&, const recv_error&) = default;

 private:
  explicit constexpr recv_error(std::uint64_t missed) noexcept : missed_(missed) {}
  std::uint64_t missed_;  // a lag is at least one value, so 0 can stand for closed
};

/// The error of try_recv(): nothing new yet (empty), or as for recv (lagged, closed).
class try_recv_error {
 public:
  static constexpr try_recv_error empty() noexcept { return try_recv_error(kind::empty, 0); }
  static constexpr try_recv_error lagged(std::uint64_t missed) noexcept { return try_recv_error(kind::lagged, missed); }
  static constexpr try_recv_error closed() noexcept { return try_recv_error(kind::closed, 0); }

  bool is_empty() const noexcept { return which_ == kind::empty; }
  bool is_lagged() const noexcept { return which_ == kind::lagged; }
  bool is_closed() const noexcept { return which_ == kind::closed; }
  /// How many values were skipped (0 unless lagged).
  std::uint64_t missed() const noexcept { return missed_; }
  std::string message() const {
    if (is_empty()) return "broadcast channel empty";
    return is_closed() ? "broadcast channel closed" : "receiver lagged by " + std::to_string(missed_) + " values";
  }
  friend bool operator==(const try_recv_error&, const try_recv_error&) = default;

 private:
  enum class kind : std::uint8_t { empty, lagged, closed };
  constexpr try_recv_error(kind which, std::uint64_t missed) noexcept : which_(which), missed_(missed) {}
  kind which_;
  std::uint64_t missed_;
};

template <class T>
class sender;
template <class T>
class receiver;

namespace detail {

using polarway::detail::change_waiter;

// What a receiver finds at its next position.
enum class take_status : std::uint8_t { value, lagged, closed, empty };

template <class T>
class chan : public polarway::detail::change_channel<chan<T>> {
 public:
  explicit chan(std::size_t capacity) : cap_(capacity), slots_(std::make_unique<slot[]>(capacity)) {}
  ~chan() = default;

  std::size_t capacity() const noexcept { return cap_; }

  // ---- senders ----

  // Writes the value at tail (overwriting the oldest one if the ring is full) and wakes every
  // waiting receiver. Returns the number of receivers that will see it; 0 means none exists,
  // and then the value is left in `value`.
  std::size_t send(T& value) noexcept {
    std::lock_guard lock(this->lock_);
    const std::size_t receivers = this->receiver_count();
    if (receivers == 0) return 0;
    const std::uint64_t pos = tail_.load(std::memory_order_relaxed);
    {
      slot& s = slots_[pos % cap_];
      std::lock_guard slot_lock(s.lock);
      s.value.reset();  // the value at pos - capacity, if some receiver had not read it yet
      s.value.emplace(std::move(value));
      s.pos = pos;
      s.unread = receivers;
    }
    // Published after the slot: a receiver that sees the new tail finds the value in place.
    tail_.store(pos + 1, std::memory_order_release);
    polarway::detail::wake_all(this->waiters_);
    return receivers;
  }

  // Values some receiver has yet to see (and which are still kept). Under the channel's lock
  // no send runs, so each slot in [oldest kept, tail) holds its own position; the slot's lock
  // is for `unread`, which receivers change.
  std::size_t queued() const noexcept {
    std::lock_guard lock(this->lock_);
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    std::size_t n = 0;
    for (std::uint64_t p = oldest_kept(tail); p != tail; ++p) {
      slot& s = slots_[p % cap_];
      std::lock_guard slot_lock(s.lock);
      n += s.unread != 0;
    }
    return n;
  }

  // ---- receivers ----

  // A new receiver; its first value is the next one sent. Returns its next position.
  std::uint64_t subscribe() noexcept {
    std::lock_guard lock(this->lock_);
    this->add_receiver_locked();
    return tail_.load(std::memory_order_relaxed);
  }

  // A receiver goes away: it gives up its share of every kept value it has not read. Holding
  // the channel's lock keeps sends out, so each slot in [oldest kept, tail) holds its own
  // position (as in queued()).
  void unsubscribe(std::uint64_t next) noexcept {
    std::unique_lock lock(this->lock_);
    this->remove_receiver_locked();
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    std::uint64_t p = oldest_kept(tail);
    if (p < next) p = next;
    for (; p < tail; ++p) {
      slot& s = slots_[p % cap_];
      std::lock_guard slot_lock(s.lock);
      release_share(s);
    }
    this->leave(lock);
  }

  // Whether the receiver at `next` would find something (a value, a lag, or the end) now.
  // Both only grow, so once true it stays true for that position.
  bool ready(std::uint64_t next) const noexcept {
    return tail_.load(std::memory_order_acquire) != next || this->closed();
  }

  // Queues a receiver that found nothing; false if something arrived first (do not suspend).
  bool enqueue(change_waiter* w, std::uint64_t next) noexcept {
    return this->enqueue_unless(w, [&] { return tail_.load(std::memory_order_relaxed) != next; });
  }

  // What the receiver at `next` finds: a value (into `out`; next moves past it), a lag (next
  // moves to the oldest value kept when it looked; `missed` says how far it jumped), the end,
  // or nothing yet. Takes the slot's lock only.
  take_status take(std::uint64_t& next, option<T>& out, std::uint64_t& missed) {
    for (;;) {
      slot& s = slots_[next % cap_];
      std::unique_lock slot_lock(s.lock);
      if (s.pos == next) {
        if (s.unread == 1)
          out.emplace(std::move(*s.value));  // the last reader: no copy
        else
          out.emplace(*s.value);  // may throw (a copy); nothing has changed yet
        release_share(s);
        ++next;
        return take_status::value;
      }
      if (s.pos != no_position && s.pos > next) {
        // Overwritten. The ring holds the `cap_` positions below the tail, which is past the
        // slot's position even if its store is not visible here yet.
        const std::uint64_t seen = s.pos + 1;
        slot_lock.unlock();
        const std::uint64_t tail = std::max(tail_.load(std::memory_order_acquire), seen);
        const std::uint64_t oldest = oldest_kept(tail);
        missed = oldest - next;
        next = oldest;
        return take_status::lagged;
      }
      slot_lock.unlock();
      // Not written yet. Closed and drained only if the tail, read after the close (whose
      // store follows every send), is still here; a value that came meanwhile is taken.
      const bool closed = this->closed_.load(std::memory_order_acquire);
      if (tail_.load(std::memory_order_acquire) != next) continue;
      return closed ? take_status::closed : take_status::empty;
    }
  }

  std::uint64_t tail() const noexcept { return tail_.load(std::memory_order_acquire); }

 private:
  static constexpr std::uint64_t no_position = ~std::uint64_t{0};

  struct slot {
    polarway::detail::spin_lock lock;
    std::uint64_t pos = no_position;  // the position of `value`; no_position before the first
    std::optional<T> value;
    std::size_t unread = 0;  // receivers that have yet to read the value
  };

  std::uint64_t oldest_kept(std::uint64_t tail) const noexcept { return tail > cap_ ? tail - cap_ : 0; }

  // Called with the slot's lock held.
  static void release_share(slot& s) noexcept {
    if (--s.unread == 0) s.value.reset();
  }

  const std::size_t cap_;
  const std::unique_ptr<slot[]> slots_;
  std::atomic<std::uint64_t> tail_{0};  // written under the channel's lock by send
};

}  // namespace detail

/// The sending half. Copyable: every copy is a sender; the channel closes when the last one is
/// destroyed.
template <class T>
class sender {
 public:
  sender(const sender& other) noexcept : ch_(other.ch_) {
    if (ch_) ch_->add_sender();
  }
  sender(sender&& other) noexcept : ch_(std::exchange(other.ch_, nullptr)) {}
  sender& operator=(sender other) noexcept {
    std::swap(ch_, other.ch_);
    return *this;
  }
  ~sender() {
    if (ch_) ch_->drop_sender();
  }

  /// Sends v to every receiver that exists now, overwriting the oldest value if the buffer is
  /// full. Never waits. Gives the number of receivers that will see v; fails, giving v back,
  /// if there is none.
  result<std::size_t, send_error<T>> send(T value) noexcept {
    const std::size_t receivers = checked()->send(value);
    if (receivers == 0) return err(send_error<T>{std::move(value)});
    return receivers;
  }

  /// A new receiver that sees the values sent from now on.
  receiver<T> subscribe() const noexcept;

  /// How many receivers exist now.
  std::size_t receiver_count() const noexcept { return checked()->receiver_count(); }
  /// How many values some receiver has yet to see (overwritten ones not counted).
  std::size_t len() const noexcept { return checked()->queued(); }
  bool is_empty() const noexcept { return len() == 0; }
  /// Whether both senders belong to the same channel.
  bool same_channel(const sender& other) const noexcept { return ch_ == other.ch_; }

 private:
  template <class U>
  friend std::pair<sender<U>, receiver<U>> channel(std::size_t capacity);
  explicit sender(detail::chan<T>* ch) noexcept : ch_(ch) {}
  detail::chan<T>* checked() const noexcept {
    if (!ch_) [[unlikely]]
      polarway::detail::panic("broadcast::sender", "used after it was moved from");
    return ch_;
  }
  detail::chan<T>* ch_;
};

/// A receiving half: sees every value sent after it was made. Move-only; make more with
/// sender::subscribe() or resubscribe(). Used by one task at a time.
template <class T>
class receiver {
 public:
  receiver(receiver&& other) noexcept : ch_(std::exchange(other.ch_, nullptr)), next_(other.next_) {}
  receiver& operator=(receiver&& other) noexcept {
    if (this != &other) {
      if (ch_) ch_->unsubscribe(next_);
      ch_ = std::exchange(other.ch_, nullptr);
      next_ = other.next_;
    }
    return *this;
  }
  receiver(const receiver&) = delete;
  receiver& operator=(const receiver&) = delete;
  ~receiver() {
    if (ch_) ch_->unsubscribe(next_);
  }

  /// The awaiter of recv(): movable until awaited, and cancel-safe (see the header comment).
  using recv_awaiter = polarway::detail::change_awaiter<receiver>;

  /// `co_await rx.recv()` -> result<T, recv_error>: the next value this receiver has not seen
  /// (a copy), waiting for one; recv_error::lagged(n) if it fell behind by n values (the next
  /// recv then gives the oldest value kept); recv_error::closed() once every sender is gone
  /// and everything was received.
  recv_awaiter recv() noexcept {
    (void)checked();
    return recv_awaiter(*this);
  }

  /// As recv(), without waiting: try_recv_error::empty() if nothing new was sent yet.
  result<T, try_recv_error> try_recv() {
    (void)checked();
    return take<try_recv_error>();
  }

  /// A new receiver of the same channel that sees the values sent from now on (not those
  /// this one has yet to read).
  receiver resubscribe() const noexcept { return receiver(checked()); }

  /// How many values were sent that this receiver has not read (more than the capacity means
  /// the next recv reports a lag).
  std::uint64_t len() const noexcept { return checked()->tail() - next_; }
  bool is_empty() const noexcept { return len() == 0; }
  /// Whether both receivers belong to the same channel.
  bool same_channel(const receiver& other) const noexcept { return ch_ == other.ch_; }

 private:
  friend class sender<T>;
  friend class polarway::detail::change_awaiter<receiver>;
  template <class U>
  friend std::pair<sender<U>, receiver<U>> channel(std::size_t capacity);

  // What recv's awaiter needs (sync/detail/change_channel.hpp).
  static constexpr const char* change_operation = "broadcast::receiver::recv";
  bool change_ready() const noexcept { return ch_->ready(next_); }
  bool change_enqueue(detail::change_waiter* w) noexcept { return ch_->enqueue(w, next_); }
  void change_cancel(detail::change_waiter* w) noexcept { ch_->cancel(w); }
  result<T, recv_error> change_take() { return take<recv_error>(); }

  // What is at this receiver's position: a value, or the error E for a lag, the end, or (for
  // try_recv) nothing yet.
  template <class E>
  result<T, E> take() {
    option<T> value;
    std::uint64_t missed = 0;
    switch (ch_->take(next_, value, missed)) {
      case detail::take_status::value:
        return std::move(*value);
      case detail::take_status::lagged:
        return err(E::lagged(missed));
      case detail::take_status::closed:
        return err(E::closed());
      case detail::take_status::empty:
        break;
    }
    if constexpr (requires { E::empty(); }) {
      return err(E::empty());
    } else {
      // recv: only a send or the close wakes a queued receiver, and either makes take() find
      // something; a yield happens only once something was there, which stays.
      polarway::detail::panic(change_operation, "resumed with nothing to receive");
    }
  }

  // A fresh subscription to ch.
  explicit receiver(detail::chan<T>* ch) noexcept : ch_(ch), next_(ch->subscribe()) {}
  // The channel's first receiver, already counted.
  receiver(detail::chan<T>* ch, std::uint64_t next) noexcept : ch_(ch), next_(next) {}
  detail::chan<T>* checked() const noexcept {
    if (!ch_) [[unlikely]]
      polarway::detail::panic("broadcast::receiver", "used after it was moved from");
    return ch_;
  }
  detail::chan<T>* ch_;
  std::uint64_t next_;  // position of the next value to read
};

template <class T>
receiver<T> sender<T>::subscribe() const noexcept {
  return receiver<T>(checked());
}

/// A channel whose ring keeps the last `capacity` values (capacity >= 1; 0 aborts with a
/// message), with one sender and one receiver; more come from copying the sender and from
/// subscribe(). T is copied to each receiver, so it must be copyable.
template <class T>
std::pair<sender<T>, receiver<T>> channel(std::size_t capacity) {
  static_assert(std::is_copy_constructible_v<T>, "broadcast::channel<T> copies each value to every receiver");
  static_assert(std::is_nothrow_move_constructible_v<T>, "broadcast::channel<T> needs a noexcept move constructor");
  if (capacity == 0) [[unlikely]]
    polarway::detail::panic("broadcast::channel", "capacity must be at least 1");
  auto* ch = new detail::chan<T>(capacity);
  return {sender<T>(ch), receiver<T>(ch, 0)};
}

}  // namespace polarway::broadcast
