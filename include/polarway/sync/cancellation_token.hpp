// pw::cancellation_token: a cancellation signal shared by copyable handles, arranged in a tree.
// cancel() on a token cancels it and every token derived from it with child_token(), not its
// parent; waiting tasks (`co_await tok.cancelled()`) are woken. Cancellation is permanent.
//
// Each token's shared node has its own lock, waiter queue and list of children. A child holds
// a reference on its parent (so the parent's node outlives it) and unlinks itself from the
// parent's list when its last handle goes; the parent does not own its children, so an
// abandoned child costs nothing once dropped. cancel() collects the children under the node's
// lock, with a reference each (skipping a child that is already being destroyed), and cancels
// them after releasing it, so no two node locks are ever held at once.
//
// Cancel safety: `co_await tok.cancelled()` is cancel-safe (an aborted waiter just leaves the
// queue).
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "polarway/detail/context.hpp"
#include "polarway/detail/spin_lock.hpp"
#include "polarway/sync/detail/wait_list.hpp"

namespace polarway {

namespace detail {

class cancel_node {
 public:
  struct waiter : wait_link<waiter> {
    task_cell* cell = nullptr;
  };

  cancel_node() noexcept = default;
  cancel_node(const cancel_node&) = delete;
  cancel_node& operator=(const cancel_node&) = delete;

  void ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }

  void unref() noexcept {
    cancel_node* node = this;
    // Iterative: dropping the last child of a long chain must not recurse once per ancestor.
    while (node && node->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      cancel_node* parent = node->parent_;
      if (parent) {
        std::lock_guard lock(parent->lock_);
        parent->unlink_child(node);
      }
      delete node;
      node = parent;  // drop the reference the child held on its parent
    }
  }

  bool is_cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }

  void cancel() noexcept {
    std::vector<cancel_node*> children;
    {
      std::lock_guard lock(lock_);
      if (cancelled_.load(std::memory_order_relaxed)) return;
      cancelled_.store(true, std::memory_order_release);
      while (waiter* w = waiters_.pop_front()) wake(w->cell);
      for (cancel_node* c = first_child_; c; c = c->next_sibling_)
        if (c->try_ref()) children.push_back(c);
    }
    for (cancel_node* c : children) {
      c->cancel();
      c->unref();
    }
  }

  // A new child node (one reference, for the handle that will own it).
  cancel_node* make_child() {
    auto* child = new cancel_node();
    ref();
    child->parent_ = this;
    {
      std::lock_guard lock(lock_);
      if (!cancelled_.load(std::memory_order_relaxed)) {
        child->next_sibling_ = first_child_;
        if (first_child_) first_child_->prev_sibling_ = child;
        first_child_ = child;
        child->in_parent_ = true;
        return child;
      }
    }
    child->cancelled_.store(true, std::memory_order_release);  // born cancelled
    return child;
  }

  // Registers a waiter; false if already cancelled.
  bool park(waiter* w) noexcept {
    std::lock_guard lock(lock_);
    if (cancelled_.load(std::memory_order_relaxed)) return false;
    waiters_.push_back(w);
    return true;
  }

  void unpark(waiter* w) noexcept {
    std::lock_guard lock(lock_);
    if (w->linked) waiters_.remove(w);
  }

 private:
  ~cancel_node() = default;

  // A reference on a child found in the list, unless it is already on its way out.
  bool try_ref() noexcept {
    std::size_t n = refs_.load(std::memory_order_relaxed);
    while (n != 0)
      if (refs_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel, std::memory_order_relaxed)) return true;
    return false;
  }

  void unlink_child(cancel_node* c) noexcept {  // lock_ held
    if (!c->in_parent_) return;
    if (c->prev_sibling_)
      c->prev_sibling_->next_sibling_ = c->next_sibling_;
    else
      first_child_ = c->next_sibling_;
    if (c->next_sibling_) c->next_sibling_->prev_sibling_ = c->prev_sibling_;
    c->in_parent_ = false;
  }

  std::atomic<std::size_t> refs_{1};
  std::atomic<bool> cancelled_{false};
  spin_lock lock_;
  wait_list<waiter> waiters_;
  cancel_node* parent_ = nullptr;
  // Sibling links live in the child and are guarded by the parent's lock.
  cancel_node* first_child_ = nullptr;
  cancel_node* prev_sibling_ = nullptr;
  cancel_node* next_sibling_ = nullptr;
  bool in_parent_ = false;
};

}  // namespace detail

class cancellation_token {
 public:
  /// A new, independent, not-cancelled token.
  cancellation_token() : node_(new detail::cancel_node()) {}
  cancellation_token(const cancellation_token& other) noexcept : node_(other.node_) {
    if (node_) node_->ref();
  }
  cancellation_token(cancellation_token&& other) noexcept : node_(std::exchange(other.node_, nullptr)) {}
  cancellation_token& operator=(cancellation_token other) noexcept {
    std::swap(node_, other.node_);
    return *this;
  }
  ~cancellation_token() {
    if (node_) node_->unref();
  }

  /// Cancels this token and all its descendants, and wakes every task waiting on them.
  void cancel() const noexcept { checked()->cancel(); }
  /// Whether this token (or an ancestor) was cancelled.
  bool is_cancelled() const noexcept { return checked()->is_cancelled(); }
  /// A token that is cancelled when this one is (but cancelling it leaves this one alone).
  cancellation_token child_token() const { return cancellation_token(checked()->make_child()); }

  class cancelled_awaiter {
   public:
    explicit cancelled_awaiter(detail::cancel_node* node) noexcept : node_(node) { node_->ref(); }
    /// Movable until awaited, so that it can be handed to pw::timeout or kept in a variable; the
    /// moved-from awaiter still holds its own reference and may be awaited too.
    cancelled_awaiter(cancelled_awaiter&& other) noexcept : node_(other.node_) {
      detail::check_awaiter_movable(other.registered_, "cancellation_token::cancelled");
      node_->ref();
    }
    cancelled_awaiter(const cancelled_awaiter&) = delete;
    cancelled_awaiter& operator=(const cancelled_awaiter&) = delete;
    ~cancelled_awaiter() {
      if (registered_) node_->unpark(&w_);  // aborted while waiting
      node_->unref();
    }
    bool await_ready() const noexcept { return node_->is_cancelled(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> caller) noexcept {
      detail::task_cell* self = detail::current_task_or_panic("cancellation_token::cancelled", wait_kind::signal, caller);
      w_.cell = self;
      registered_ = node_->park(&w_);
      return registered_;
    }
    void await_resume() noexcept { registered_ = false; }

   private:
    detail::cancel_node* node_;  // referenced: the token may be a temporary
    detail::cancel_node::waiter w_;
    bool registered_ = false;
  };

  /// `co_await tok.cancelled()` completes once the token is cancelled.
  cancelled_awaiter cancelled() const noexcept { return cancelled_awaiter(checked()); }

 private:
  explicit cancellation_token(detail::cancel_node* node) noexcept : node_(node) {}
  detail::cancel_node* checked() const noexcept {
    if (!node_) [[unlikely]]
      detail::panic("cancellation_token", "used after it was moved from");
    return node_;
  }
  detail::cancel_node* node_;
};

}  // namespace polarway
