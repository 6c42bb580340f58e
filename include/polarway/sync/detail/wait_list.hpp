// detail::wait_list: the one intrusive FIFO of the library: every sync primitive keeps its
// suspended tasks on one (and join_set its tasks, pending and finished).
//
// Waiter nodes live inside awaiter objects, that is inside the waiting coroutine's frame, so waiting
// allocates nothing. The list is guarded by its primitive's lock, and so is each node's state
// while it is linked. The rule that makes cancellation safe (docs/design.md, "Cancellation
// protocol"): a waker unlinks a node and wakes its task while holding that lock, and an
// awaiter destroyed while still registered (its task was aborted) takes the same lock to
// unlink itself; so a node is never touched after its frame is gone.
#pragma once

#include <cstddef>

namespace polarway::detail {

/// Base of a list node: links plus a flag saying whether the node is on a list.
template <class Node>
struct wait_link {
  Node* prev = nullptr;
  Node* next = nullptr;
  bool linked = false;
};

/// Doubly-linked FIFO of Node (which derives from wait_link<Node>). Not thread-safe: the owner
/// holds its lock around every call.
template <class Node>
class wait_list {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  Node* front() const noexcept { return head_; }

  void push_back(Node* n) noexcept {
    n->prev = tail_;
    n->next = nullptr;
    if (tail_)
      tail_->next = n;
    else
      head_ = n;
    tail_ = n;
    n->linked = true;
  }

  void remove(Node* n) noexcept {
    if (n->prev)
      n->prev->next = n->next;
    else
      head_ = n->next;
    if (n->next)
      n->next->prev = n->prev;
    else
      tail_ = n->prev;
    n->prev = n->next = nullptr;
    n->linked = false;
  }

  Node* pop_front() noexcept {
    Node* n = head_;
    if (n) remove(n);
    return n;
  }

 private:
  Node* head_ = nullptr;
  Node* tail_ = nullptr;
};

}  // namespace polarway::detail
