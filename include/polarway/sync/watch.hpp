// pw::watch::channel<T>(initial): a channel that keeps only the latest value, which any number
// of receivers read and wait for changes of (Tokio's watch semantics).
//
//   send(v)             replaces the value and wakes every waiting receiver; fails, giving v
//                       back, when no receiver exists (send_replace / send_modify /
//                       send_if_modified store the value regardless).
//   borrow()            a ref<T> to the latest value.
//   co_await changed()  waits until a value this receiver has not seen is there, and marks it
//                       seen; fails once every sender is gone and the latest value was seen.
//
// Values and borrowing: the value lives in a reference-counted snapshot. borrow() takes a
// reference on the current snapshot under the channel's lock and gives it out as a ref<T>,
// so a borrow never copies and never blocks a sender, and a ref<T> stays valid and unchanged
// however long it is held, across co_await too: it is the value as of the borrow (Tokio's Ref
// holds a read lock instead, which blocks senders and must not be held across an await). A
// send writes in place when no ref<T> holds the current snapshot (the count is checked under
// the lock that borrow takes, with acquire, so every earlier reader is done with it);
// otherwise it publishes a new snapshot and the old one lives on with its refs. Writers are
// serialized by a second lock, so send_modify's function always sees the latest value.
//
// Versions: every publication bumps a version number; a receiver remembers the version it
// saw last. changed() completes when the versions differ; waiting receivers queue on the one
// waiter list of the library, through the awaiter they share with broadcast
// (sync/detail/change_channel.hpp), and every publication (and the last sender leaving) wakes
// them all. A woken receiver marks the version seen only when it runs.
//
// Cancel safety: changed() is cancel-safe: nothing is marked seen until the waiting task runs,
// so an aborted or losing changed() leaves the change for the next call.
#pragma once

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
#include "polarway/error.hpp"
#include "polarway/result.hpp"
#include "polarway/sync/detail/change_channel.hpp"
#include "polarway/task.hpp"

namespace polarway::watch {

/// The error of send(): no receiver exists. Gives the value back (it was not stored).
template <class T>
struct send_error {
  T value;
  /// The value that could not be sent.
  T into_inner() && { return std::move(value); }
  std::string message() const { return "watch channel has no receivers"; }
};

template <class T>
class sender;
template <class T>
class receiver;
template <class T>
class ref;

namespace detail {

using polarway::detail::change_waiter;
using polarway::detail::spin_lock;

// One published value, shared by the channel (while it is the current one) and every ref<T>
// borrowed from it.
template <class T>
struct snapshot {
  template <class... Args>
  explicit snapshot(Args&&... args) : value(std::forward<Args>(args)...) {}

  void acquire() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  // Only the channel holds it. The acquire pairs with the release of the last ref<T>'s
  // release(), so its reads of the value happen before a writer that sees this changes it.
  bool unshared() const noexcept { return refs.load(std::memory_order_acquire) == 1; }

  T value;
  std::atomic<std::size_t> refs{1};
};

template <class T>
class state : public polarway::detail::change_channel<state<T>> {
 public:
  explicit state(T initial) : current_(new snapshot<T>(std::move(initial))) {}
  ~state() { current_->release(); }

  // ---- reading ----

  // The current snapshot, with a reference for the caller, and its version.
  snapshot<T>* borrow(std::uint64_t& version) const noexcept {
    std::lock_guard lock(this->lock_);
    current_->acquire();
    version = version_.load(std::memory_order_relaxed);
    return current_;
  }

  std::uint64_t version() const noexcept { return version_.load(std::memory_order_acquire); }

  // Whether a receiver that saw `seen` would complete changed() now. Versions only grow and
  // the close is final, so once true it stays true.
  bool ready(std::uint64_t seen) const noexcept { return version() != seen || this->closed(); }

  // Queues a receiver that has seen the latest version; false if a change (or the close) came
  // first, and the caller should not suspend.
  bool enqueue(change_waiter* w, std::uint64_t seen) noexcept {
    return this->enqueue_unless(w, [&] { return version_.load(std::memory_order_relaxed) != seen; });
  }

  // ---- writing (serialized by write_lock_) ----

  // Stores `value` as the new current value and publishes it. With `old` given, the value it
  // replaces is moved there (copied if a ref<T> still holds it).
  template <bool KeepOld>
  void replace(T& value, std::optional<T>* old) {
    std::lock_guard writer(write_lock_);
    {
      std::lock_guard lock(this->lock_);
      if (current_->unshared()) {
        if constexpr (KeepOld) old->emplace(std::move(current_->value));
        current_->value = std::move(value);
        publish_locked();
        return;
      }
    }
    // A ref<T> holds the current snapshot: publish a new one. Only writers change current_,
    // and we are the only writer now, so reading it outside lock_ is safe.
    if constexpr (KeepOld) old->emplace(std::as_const(current_->value));
    swap_in(owned(new snapshot<T>(std::move(value))));
  }

  // Runs `modify` on the current value (in place if no ref<T> holds it, else on a copy) and
  // publishes the result if it returns true. Returns what it returned.
  template <class F>
  bool modify(F& modify) {
    std::lock_guard writer(write_lock_);
    {
      std::lock_guard lock(this->lock_);
      if (current_->unshared()) {
        const bool changed = modify(current_->value);
        if (changed) publish_locked();
        return changed;
      }
    }
    owned next(new snapshot<T>(std::as_const(current_->value)));
    if (!modify(next->value)) return false;
    swap_in(std::move(next));
    return true;
  }

  // ---- receivers ----

  // A new receiver (the version it has seen is the current one).
  std::uint64_t add_receiver() noexcept {
    std::lock_guard lock(this->lock_);
    this->add_receiver_locked();
    return version_.load(std::memory_order_relaxed);
  }

  void drop_receiver() noexcept {
    std::unique_lock lock(this->lock_);
    this->remove_receiver_locked();
    this->leave(lock);
  }

 private:
  void publish_locked() noexcept {
    version_.store(version_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    polarway::detail::wake_all(this->waiters_);
  }

  // A snapshot not yet published: released if a copy or the user's function throws.
  struct releaser {
    void operator()(snapshot<T>* s) const noexcept { s->release(); }
  };
  using owned = std::unique_ptr<snapshot<T>, releaser>;

  void swap_in(owned next) noexcept {
    snapshot<T>* old;
    {
      std::lock_guard lock(this->lock_);
      old = std::exchange(current_, next.release());
      publish_locked();
    }
    old->release();  // its refs keep it alive; the last one frees it
  }

  spin_lock write_lock_;  // serializes writers (current_, the counts and the waiters are under the base's lock)
  snapshot<T>* current_;
  std::atomic<std::uint64_t> version_{0};  // written under the base's lock
};

}  // namespace detail

/// A borrowed value: the channel's value as of the borrow. Holding it never blocks a sender
/// (a send meanwhile publishes a new value beside it), so it may be held across co_await.
/// Move-only.
template <class T>
class [[nodiscard]] ref {
 public:
  ref(ref&& other) noexcept : snap_(std::exchange(other.snap_, nullptr)), changed_(other.changed_) {}
  ref& operator=(ref&& other) noexcept {
    if (this != &other) {
      if (snap_) snap_->release();
      snap_ = std::exchange(other.snap_, nullptr);
      changed_ = other.changed_;
    }
    return *this;
  }
  ref(const ref&) = delete;
  ref& operator=(const ref&) = delete;
  ~ref() {
    if (snap_) snap_->release();
  }

  const T& operator*() const noexcept { return checked()->value; }
  const T* operator->() const noexcept { return &checked()->value; }
  const T& get() const noexcept { return checked()->value; }
  /// Whether the receiver had not seen this value when it borrowed it (always false for a
  /// sender's borrow).
  bool has_changed() const noexcept { return changed_; }

 private:
  friend class sender<T>;
  friend class receiver<T>;
  ref(detail::snapshot<T>* snap, bool changed) noexcept : snap_(snap), changed_(changed) {}
  detail::snapshot<T>* checked() const noexcept {
    if (!snap_) [[unlikely]]
      polarway::detail::panic("watch::ref", "used after it was moved from");
    return snap_;
  }
  detail::snapshot<T>* snap_;
  bool changed_;
};

/// The sending half. Copyable: every copy is a sender; receivers' changed() fails once the
/// last one is destroyed (and they have seen the latest value).
template <class T>
class sender {
 public:
  sender(const sender& other) noexcept : st_(other.st_) {
    if (st_) st_->add_sender();
  }
  sender(sender&& other) noexcept : st_(std::exchange(other.st_, nullptr)) {}
  sender& operator=(sender other) noexcept {
    std::swap(st_, other.st_);
    return *this;
  }
  ~sender() {
    if (st_) st_->drop_sender();
  }

  /// Stores v and wakes every waiting receiver; fails, giving v back (not stored), when no
  /// receiver exists.
  result<void, send_error<T>> send(T value) {
    if (checked()->receiver_count() == 0) return err(send_error<T>{std::move(value)});
    st_->template replace<false>(value, nullptr);
    return ok();
  }

  /// Stores v whether or not a receiver exists, wakes the waiting ones, and gives back the
  /// value it replaced (moved out, or copied if a ref<T> still holds it).
  T send_replace(T value) {
    static_assert(std::is_copy_constructible_v<T>, "watch::sender::send_replace copies the old value while it is borrowed");
    std::optional<T> old;
    checked()->template replace<true>(value, &old);
    return std::move(*old);
  }

  /// Calls f(T&) on the value (in place, or on a copy if a ref<T> holds it) and publishes it,
  /// whether or not a receiver exists. f runs under the channel's locks: keep it short, and
  /// do not touch the channel from it.
  template <class F>
  void send_modify(F&& f) {
    auto always = [&](T& v) {
      f(v);
      return true;
    };
    modify_with(always);
  }

  /// As send_modify, but f returns whether it changed the value; only then are receivers
  /// told. Returns what f returned.
  template <class F>
  bool send_if_modified(F&& f) {
    return modify_with(f);
  }

  /// The latest value.
  ref<T> borrow() const noexcept {
    std::uint64_t version = 0;
    return ref<T>(checked()->borrow(version), false);
  }

  /// A new receiver, which has seen the current value.
  receiver<T> subscribe() const noexcept;
  /// How many receivers exist now.
  std::size_t receiver_count() const noexcept { return checked()->receiver_count(); }
  /// Whether no receiver exists (send would fail).
  bool is_closed() const noexcept { return receiver_count() == 0; }
  /// Whether both senders belong to the same channel.
  bool same_channel(const sender& other) const noexcept { return st_ == other.st_; }

 private:
  template <class U>
  friend std::pair<sender<U>, receiver<U>> channel(U initial);
  explicit sender(detail::state<T>* st) noexcept : st_(st) {}

  template <class F>
  bool modify_with(F& f) {
    static_assert(std::is_copy_constructible_v<T>, "watch::sender modifies a copy while the value is borrowed");
    return checked()->modify(f);
  }

  detail::state<T>* checked() const noexcept {
    if (!st_) [[unlikely]]
      polarway::detail::panic("watch::sender", "used after it was moved from");
    return st_;
  }
  detail::state<T>* st_;
};

/// A receiving half. Copyable: a copy has seen what this one has seen. Each receiver is used
/// by one task at a time.
template <class T>
class receiver {
 public:
  receiver(const receiver& other) noexcept : st_(other.st_), seen_(other.seen_) {
    if (st_) (void)st_->add_receiver();
  }
  receiver(receiver&& other) noexcept : st_(std::exchange(other.st_, nullptr)), seen_(other.seen_) {}
  receiver& operator=(receiver other) noexcept {
    std::swap(st_, other.st_);
    std::swap(seen_, other.seen_);
    return *this;
  }
  ~receiver() {
    if (st_) st_->drop_receiver();
  }

  /// The awaiter of changed(): movable until awaited, and cancel-safe (see the header comment).
  using changed_awaiter = polarway::detail::change_awaiter<receiver>;

  /// The latest value; does not mark it seen.
  ref<T> borrow() const noexcept {
    std::uint64_t version = 0;
    detail::snapshot<T>* snap = checked()->borrow(version);
    return ref<T>(snap, version != seen_);
  }

  /// The latest value, marked seen: changed() then waits for the next one.
  ref<T> borrow_and_update() noexcept {
    std::uint64_t version = 0;
    detail::snapshot<T>* snap = checked()->borrow(version);
    const bool changed = version != seen_;
    seen_ = version;
    return ref<T>(snap, changed);
  }

  /// `co_await rx.changed()` -> result<void>: completes when a value this receiver has not
  /// seen is there (at once if one already is) and marks it seen; errc::closed once every
  /// sender is gone and the latest value was seen.
  changed_awaiter changed() noexcept {
    (void)checked();
    return changed_awaiter(*this);
  }

  /// Whether a value this receiver has not seen is there; errc::closed if not and every
  /// sender is gone.
  result<bool> has_changed() const noexcept {
    if (checked()->version() != seen_) return true;
    if (st_->closed()) return err(error(errc::closed, "watch::receiver::has_changed"));
    return false;
  }

  /// Marks the latest value seen.
  void mark_unchanged() noexcept { seen_ = checked()->version(); }
  /// Makes the latest value count as unseen: changed() completes at once.
  void mark_changed() noexcept { seen_ = checked()->version() - 1; }

  /// Waits until pred(value) holds for the latest value (checking the current one first),
  /// marking what it looks at seen, and gives that value; errc::closed if every sender goes
  /// away first. The receiver must outlive the task.
  template <class Pred>
  task<result<ref<T>>> wait_for(Pred pred) {
    for (;;) {
      ref<T> v = borrow_and_update();
      if (pred(*v)) co_return std::move(v);
      auto changed_now = co_await changed();
      if (!changed_now) co_return err(changed_now.error());
    }
  }

  /// Whether both receivers belong to the same channel.
  bool same_channel(const receiver& other) const noexcept { return st_ == other.st_; }

 private:
  friend class sender<T>;
  friend class polarway::detail::change_awaiter<receiver>;
  template <class U>
  friend std::pair<sender<U>, receiver<U>> channel(U initial);
  explicit receiver(detail::state<T>* st) noexcept : st_(st), seen_(st->add_receiver()) {}
  receiver(detail::state<T>* st, std::uint64_t seen) noexcept : st_(st), seen_(seen) {}

  // What changed's awaiter needs (sync/detail/change_channel.hpp).
  static constexpr const char* change_operation = "watch::receiver::changed";
  bool change_ready() const noexcept { return st_->ready(seen_); }
  bool change_enqueue(detail::change_waiter* w) noexcept { return st_->enqueue(w, seen_); }
  void change_cancel(detail::change_waiter* w) noexcept { st_->cancel(w); }
  // Marks the latest version seen; errc::closed if it already was (then the channel is closed).
  result<void> change_take() noexcept {
    const std::uint64_t version = st_->version();
    if (version == seen_) {
      // Only a publication or the close wakes a queued receiver, and a yield happens only
      // once one of them was there, which stays.
      if (!st_->closed()) [[unlikely]]
        polarway::detail::panic(change_operation, "resumed with no change and no close");
      return err(error(errc::closed, change_operation));
    }
    seen_ = version;
    return ok();
  }

  detail::state<T>* checked() const noexcept {
    if (!st_) [[unlikely]]
      polarway::detail::panic("watch::receiver", "used after it was moved from");
    return st_;
  }
  detail::state<T>* st_;
  std::uint64_t seen_;  // the version this receiver saw last
};

template <class T>
receiver<T> sender<T>::subscribe() const noexcept {
  return receiver<T>(checked());
}

/// A channel holding `initial`, with one sender and one receiver (which has seen `initial`);
/// more come from copying either and from subscribe().
template <class T>
std::pair<sender<T>, receiver<T>> channel(T initial) {
  static_assert(std::is_move_constructible_v<T> && std::is_move_assignable_v<T>,
                "watch::channel<T> moves values in");
  auto* st = new detail::state<T>(std::move(initial));
  return {sender<T>(st), receiver<T>(st, 0)};
}

}  // namespace polarway::watch
