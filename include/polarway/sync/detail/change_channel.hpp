// What broadcast and watch share: channels whose receivers all wait for the same kind of event
// and are all woken by it (a value was sent / a new version was published, or the last sender
// went away), with a sender count, a receiver count and a close.
//
// change_channel<Derived> is the shared state's bookkeeping: one spin lock, the counts, the
// closed flag (set when the last sender leaves, which wakes every waiter), the queue of
// waiting receivers on the one waiter list of the library, and freeing the state when the
// last handle goes. change_awaiter is the awaiter of recv / changed.
//
// What makes one awaiter serve both: the condition a waiter waits for, once true, stays true
// (a position or version only moves on, a close is final), and every event wakes every queued
// waiter. So a waiter holds no grant: it is woken, and takes what is there when it runs. An
// aborted waiter, or one that loses a race, just leaves the queue; nothing is passed on.
//
// The awaiter's source (the receiver) provides, privately, with the awaiter as a friend:
//   bool change_ready() const noexcept            the condition holds (without the lock)
//   bool change_enqueue(change_waiter*) noexcept  under its lock: queues the waiter, or returns
//                                                 false if the condition holds already
//   void change_cancel(change_waiter*) noexcept   under its lock: unlinks the waiter if linked
//   R change_take()                               the result, once the condition holds
//   static constexpr const char* change_operation the name panics use
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <mutex>
#include <utility>

#include "polarway/detail/context.hpp"
#include "polarway/detail/panic.hpp"
#include "polarway/detail/spin_lock.hpp"
#include "polarway/sync/detail/wait_list.hpp"

namespace polarway::detail {

/// The node a change_awaiter queues; woken (and unlinked) by the source under its lock.
struct change_waiter : wait_link<change_waiter> {
  task_cell* cell = nullptr;
};

/// Wakes and unlinks every queued waiter. Called with the owner's lock held.
inline void wake_all(wait_list<change_waiter>& waiters) noexcept {
  while (change_waiter* w = waiters.pop_front()) wake(w->cell);
}

/// The state both halves of a change channel share, less what Derived stores: created with one
/// sender and one receiver, freed (as a Derived) when the last of either goes.
template <class Derived>
class change_channel {
 public:
  change_channel(const change_channel&) = delete;
  change_channel& operator=(const change_channel&) = delete;

  void add_sender() noexcept {
    std::lock_guard lock(lock_);
    ++senders_;
  }

  // The last sender leaving closes the channel and wakes every waiting receiver.
  void drop_sender() noexcept {
    std::unique_lock lock(lock_);
    if (--senders_ == 0) {
      closed_.store(true, std::memory_order_release);
      wake_all(waiters_);
    }
    leave(lock);
  }

  std::size_t receiver_count() const noexcept { return receivers_.load(std::memory_order_relaxed); }
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }

  // An awaiter destroyed while queued (its task was aborted, or it lost a race).
  void cancel(change_waiter* w) noexcept {
    std::lock_guard lock(lock_);
    if (w->linked) waiters_.remove(w);
  }

 protected:
  change_channel() noexcept = default;
  ~change_channel() = default;

  // Queues a receiver unless `ready_locked()` (Derived's condition, read under the lock) says
  // it need not wait; false then, and the caller does not suspend.
  template <class Ready>
  bool enqueue_unless(change_waiter* w, Ready ready_locked) noexcept {
    std::lock_guard lock(lock_);
    if (ready_locked() || closed_.load(std::memory_order_relaxed)) return false;
    waiters_.push_back(w);
    return true;
  }

  // Counts a receiver in or out; called with lock_ held.
  void add_receiver_locked() noexcept {
    receivers_.store(receivers_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  void remove_receiver_locked() noexcept {
    receivers_.store(receivers_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
  }

  // Called by each handle as it goes, with lock_ held: the last one frees the state, after
  // releasing the lock.
  void leave(std::unique_lock<spin_lock>& held) noexcept {
    const bool last = senders_ == 0 && receivers_.load(std::memory_order_relaxed) == 0;
    held.unlock();
    if (last) delete static_cast<Derived*>(this);
  }

  mutable spin_lock lock_;
  std::atomic<bool> closed_{false};  // written under lock_
  wait_list<change_waiter> waiters_;

 private:
  std::size_t senders_ = 1;
  std::atomic<std::size_t> receivers_{1};  // written under lock_; read without it as a snapshot
};

template <class Source>
class change_awaiter {
 public:
  explicit change_awaiter(Source& source) noexcept : source_(source) {}
  /// Movable until awaited (see check_awaiter_movable).
  change_awaiter(change_awaiter&& other) noexcept : source_(other.source_) {
    check_awaiter_movable(other.registered_ || other.yield_, Source::change_operation);
  }
  change_awaiter(const change_awaiter&) = delete;
  change_awaiter& operator=(const change_awaiter&) = delete;
  ~change_awaiter() {
    if (registered_) source_.change_cancel(&node_);  // aborted, or lost a race, while queued
  }

  bool await_ready() noexcept {
    if (!source_.change_ready()) return false;
    if (coop_consume()) return true;
    yield_ = true;  // out of budget: yield first; nothing is taken until we run
    return false;
  }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> caller) noexcept {
    task_cell* self = current_task_or_panic(Source::change_operation, wait_kind::channel, caller);
    if (!yield_) {
      node_.cell = self;
      registered_ = source_.change_enqueue(&node_);
      if (registered_) return true;
      if (coop_consume()) return false;  // the condition came true meanwhile
      yield_ = true;
    }
    self->transition_to_notified();
    return true;
  }

  decltype(auto) await_resume() noexcept(noexcept(std::declval<Source&>().change_take())) {
    registered_ = false;  // whoever woke us unlinked the node
    return source_.change_take();
  }

 private:
  Source& source_;
  change_waiter node_;
  bool registered_ = false;  // queued and suspended; only this task writes it
  bool yield_ = false;
};

}  // namespace polarway::detail
