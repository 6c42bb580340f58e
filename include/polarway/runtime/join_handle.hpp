// pw::join_handle<T>: the owner's view of a spawned task. Awaiting it gives the task's value,
// or a join_error if the task was cancelled or panicked; abort() cancels the task; detach(), or
// dropping the handle, lets the task run on and free itself when done (as in Tokio).
//
// The task's frame is destroyed as soon as it finishes (releasing whatever it held, as in
// Tokio); its value waits in the task's cell, which the handle and the runtime share.
#pragma once

#include <coroutine>
#include <utility>

#include "polarway/detail/panic.hpp"
#include "polarway/detail/scheduler.hpp"
#include "polarway/result.hpp"
#include "polarway/runtime/join_error.hpp"
#include "polarway/task.hpp"

namespace polarway {

template <class T>
class join_handle;

namespace detail {
template <class T>
join_handle<T> make_join_handle(task_cell* cell) noexcept;
struct join_handle_access;

// Gives up a join interest in `cell` (the value, if any, goes with the cell).
inline void release_join_interest(task_cell* cell) noexcept { cell->release_join(); }

// Reads the outcome of a completed cell; for a finished task moves the value out of the cell.
template <class T>
result<T, join_error> take_outcome(task_cell* cell) {
  switch (cell->outcome()) {
    case task_outcome::finished: {
      if constexpr (std::is_void_v<T>) return ok();
      else if constexpr (std::is_reference_v<T>)
        return result<T, join_error>(std::in_place, **static_cast<std::remove_reference_t<T>**>(cell->output()));
      else return result<T, join_error>(std::in_place, std::move(*static_cast<T*>(cell->output())));
    }
    case task_outcome::panicked: return err(join_error::make_panicked());
    case task_outcome::cancelled:
    case task_outcome::pending: break;
  }
  return err(join_error::make_cancelled());
}
}  // namespace detail

template <class T>
class [[nodiscard]] join_handle {
 public:
  join_handle() noexcept = default;
  join_handle(join_handle&& other) noexcept
      : cell_(std::exchange(other.cell_, nullptr)), awaited_(std::exchange(other.awaited_, false)) {}
  join_handle& operator=(join_handle&& other) noexcept {
    if (this != &other) {
      release();
      cell_ = std::exchange(other.cell_, nullptr);
      awaited_ = std::exchange(other.awaited_, false);
    }
    return *this;
  }
  join_handle(const join_handle&) = delete;
  join_handle& operator=(const join_handle&) = delete;
  /// Detaches the task: it keeps running; its value, if any, is dropped when it finishes.
  ~join_handle() { release(); }

  /// Requests cancellation. A task that is suspended is destroyed at its next scheduling
  /// (after any in-flight I/O has been cancelled); a running task is destroyed when it next
  /// suspends. A task that already finished keeps its value.
  void abort() const noexcept {
    if (cell_) cell_->sched()->abort(cell_);
  }

  /// Lets the task run on without an owner, as dropping the handle does: it frees itself when
  /// done and its value, if any, is dropped. The handle is empty afterwards.
  void detach() noexcept { release(); }

  /// Whether the task has finished (with a value, cancelled or panicked).
  bool is_finished() const noexcept { return cell_ && cell_->is_complete(); }

  class awaiter {
   public:
    awaiter(detail::task_cell* cell, bool& awaited) noexcept : cell_(cell), awaited_(awaited) {}
    /// Movable until awaited (see check_awaiter_movable); the moved-from one takes nothing.
    awaiter(awaiter&& other) noexcept : cell_(other.cell_), awaited_(other.awaited_) {
      detail::check_awaiter_movable(other.self_ != nullptr || other.taken_, "co_await join_handle");
      other.taken_ = true;  // its destruction must not give the handle back: this one has it
    }
    awaiter(const awaiter&) = delete;
    awaiter& operator=(const awaiter&) = delete;
    ~awaiter() {
      // Destroyed while suspended (the awaiting task was cancelled): take the registration back
      // unless completion already consumed it, in which case it drops the reference itself.
      if (self_ && cell_->unset_join_waker()) self_->unref();
      // Destroyed without taking the value (a lost pw::race): the handle may be awaited again.
      if (!taken_) awaited_ = false;
    }

    bool await_ready() const noexcept { return cell_->is_complete() && detail::coop_consume(); }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> caller) noexcept {
      detail::task_cell* self = detail::current_task_or_panic("co_await join_handle", wait_kind::join, caller);
      self->ref();  // held by the registration until the waker has run
      if (!cell_->set_join_waker(&detail::wake_and_unref, self)) {
        self->unref();  // already complete: resume at once
        return cell_->is_complete() ? reschedule(self) : false;
      }
      self_ = self;
      return true;
    }

    result<T, join_error> await_resume() {
      self_ = nullptr;
      taken_ = true;
      return detail::take_outcome<T>(cell_);
    }

   private:
    // Completed but out of budget: yield once before taking the value.
    static bool reschedule(detail::task_cell* self) noexcept {
      if (detail::coop_consume()) return false;
      self->transition_to_notified();
      return true;
    }

    detail::task_cell* cell_;
    bool& awaited_;  // the handle's flag; the handle outlives the co_await expression
    detail::task_cell* self_ = nullptr;
    bool taken_ = false;
  };

  /// Waits for the task and gives its value, or why there is none. Await a handle once.
  awaiter operator co_await() && noexcept { return awaiter(checked_take(), awaited_); }
  awaiter operator co_await() & noexcept { return awaiter(checked_take(), awaited_); }

 private:
  template <class U>
  friend join_handle<U> detail::make_join_handle(detail::task_cell* cell) noexcept;
  friend struct detail::join_handle_access;
  explicit join_handle(detail::task_cell* cell) noexcept : cell_(cell) {}

  // Awaiting consumes the value, so the handle must not be awaited twice: it keeps ownership
  // of the cell (to release it later) but remembers it was awaited.
  detail::task_cell* checked_take() noexcept {
    if (!cell_ || awaited_) [[unlikely]]
      detail::panic("co_await join_handle", cell_ ? "the handle was already awaited" : "the handle is empty");
    awaited_ = true;
    return cell_;
  }

  void release() noexcept {
    if (cell_) detail::release_join_interest(std::exchange(cell_, nullptr));
    awaited_ = false;
  }

  detail::task_cell* cell_ = nullptr;
  bool awaited_ = false;
};

namespace detail {
template <class T>
join_handle<T> make_join_handle(task_cell* cell) noexcept {
  return join_handle<T>(cell);
}
/// For runtime::block_on, which waits on a handle's cell from outside the runtime.
struct join_handle_access {
  template <class T>
  static task_cell* cell(const join_handle<T>& h) noexcept {
    return h.cell_;
  }
};
}  // namespace detail

}  // namespace polarway
