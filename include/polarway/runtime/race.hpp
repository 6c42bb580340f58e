// pw::race(a, b, ...): awaits several awaitables at once and resumes with the first to complete
// (Tokio's select!); the others are cancelled, and the caller resumes only once they are gone.
//
// Each awaitable runs as a child task of a structured fan-out (join_all's fork_group), except a
// pw::sleep / pw::sleep_until, which is a timer of the race itself and costs no task. The first
// awaitable to complete decides the race: every other child is aborted through the normal
// cancellation protocol, so an I/O operation in flight is cancelled in the kernel, its buffers
// stay alive until the kernel has answered, and its frame goes only then (DESIGN.md rule 5).
// The children are cancelled softly, as pw::timeout's child always was: one whose operation had
// already completed (bytes received, a connection accepted) when the abort reached it finishes
// with its value instead of losing it. So more than one awaitable may complete; each value is
// kept, and index() names the first listed of them. Listing the operation whose result must not
// be lost first (a read before a sleep or a stop token) makes it win every such tie.
#pragma once

#include <array>
#include <atomic>
#include <coroutine>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "polarway/detail/panic.hpp"
#include "polarway/detail/scheduler.hpp"
#include "polarway/detail/timer_queue.hpp"
#include "polarway/option.hpp"
#include "polarway/runtime/join_all.hpp"
#include "polarway/task.hpp"
#include "polarway/time/sleep.hpp"

namespace polarway {

namespace detail {
template <class... Arms>
class race_awaiter;
}

/// What `co_await pw::race(a, b, ...)` gives: which awaitable won, and its value (a void one
/// gives std::monostate). Usually only the winner completed; see completed().
template <class... Ts>
class race_result {
 public:
  /// The winner: the first listed of the awaitables that completed.
  std::size_t index() const noexcept { return index_; }

  /// Whether awaitable I completed. The winner did; another one did too only if its operation
  /// had completed before its cancellation reached it, and then its value is here as well.
  template <std::size_t I>
  bool completed() const noexcept {
    return static_cast<bool>(std::get<I>(values_));
  }

  /// The value of awaitable I; aborts with a message if it did not complete.
  template <std::size_t I>
  auto& get() & {
    return *checked<I>();
  }
  template <std::size_t I>
  const auto& get() const& {
    return *checked<I>();
  }
  template <std::size_t I>
  auto&& get() && {
    return std::move(*checked<I>());
  }

 private:
  template <class... Arms>
  friend class detail::race_awaiter;

  template <std::size_t I>
  auto& checked() const {
    auto& v = std::get<I>(values_);
    if (!v) [[unlikely]]
      detail::panic("race_result::get", "that awaitable did not complete (check index() or completed<I>())");
    return const_cast<std::remove_cvref_t<decltype(v)>&>(v);
  }

  std::tuple<option<Ts>...> values_;
  std::size_t index_ = 0;
};

/// The value of awaitable I in a race's result, as std::get does for a variant.
template <std::size_t I, class... Ts>
auto& get(race_result<Ts...>& r) {
  return r.template get<I>();
}
template <std::size_t I, class... Ts>
const auto& get(const race_result<Ts...>& r) {
  return r.template get<I>();
}
template <std::size_t I, class... Ts>
auto&& get(race_result<Ts...>&& r) {
  return std::move(r).template get<I>();
}

namespace detail {

// The awaiter an awaitable turns into (its operator co_await, or itself).
template <class A>
auto awaiter_of() {
  if constexpr (requires { std::declval<A>().operator co_await(); })
    return std::type_identity<decltype(std::declval<A>().operator co_await())>{};
  else
    return std::type_identity<std::remove_cvref_t<A>>{};
}

// What `co_await a` yields, as a value type: T for T or T&& (the value is moved out), T& for T&.
template <class A>
using awaitable_result_t = std::conditional_t<
    std::is_rvalue_reference_v<decltype(std::declval<typename decltype(awaiter_of<A>())::type&>().await_resume())>,
    std::remove_cvref_t<decltype(std::declval<typename decltype(awaiter_of<A>())::type&>().await_resume())>,
    decltype(std::declval<typename decltype(awaiter_of<A>())::type&>().await_resume())>;

// Runs an awaitable inside a task of its own, so that it can be aborted as a unit. A temporary
// awaitable is moved into the task's frame (awaiters are movable until awaited); a named one
// (a join handle, a oneshot receiver) is awaited where it is, since it outlives the race.
template <class A>
task<awaitable_result_t<A>> run_as_task(A awaitable) {
  co_return co_await std::move(awaitable);
}
template <class A>
task<awaitable_result_t<A&>> run_in_place(A& awaitable) {
  co_return co_await awaitable;
}

class race_state;

// One raced awaitable that runs as a child task.
template <class T>
struct race_task_arm {
  static_assert(!std::is_reference_v<T>, "pw::race: an awaitable that gives a reference is not supported");
  using value_type = value_or_monostate<T>;
  static constexpr bool is_timer = false;

  explicit race_task_arm(task<T> t) noexcept : child(std::move(t)) {}
  race_task_arm(race_task_arm&& other) noexcept : child(std::move(other.child)) {}

  task<T> child;
  race_state* race = nullptr;  // for the completion callback
  task_cell* cell = nullptr;
};

// A raced pw::sleep: a timer entry of the race, firing into it.
struct race_timer_arm : timer_entry {
  using value_type = std::monostate;
  static constexpr bool is_timer = true;

  explicit race_timer_arm(clock::time_point d) noexcept : until(d) {}
  race_timer_arm(race_timer_arm&& other) noexcept : until(other.until) {}

  clock::time_point until;
  race_state* race = nullptr;
  timer_queue* queue = nullptr;  // set while the timer is armed; only the awaiting task writes it
  bool fired = false;            // this timer decided the race (written under the timer lock)
};

// The part of a race that does not depend on the awaitables' types: the decision, and the
// abort of every child but the winner.
class race_state : protected fork_group {
 protected:
  // The first completion decides the race; true for exactly one caller.
  bool decide() noexcept { return !decided_.exchange(true, std::memory_order_acq_rel); }

  void abort_children() noexcept {
    for (std::size_t i = 0; i < task_count_; ++i) parent_->sched()->abort(cells_[i]);
  }

  // A child finished (on a worker). One that finished with a value (or panicked) decides the
  // race unless another completion already did; then it arrives, last, since the parent may
  // resume and destroy the race from then on.
  template <class T>
  static void child_done(void* ctx) noexcept {
    auto* arm = static_cast<race_task_arm<T>*>(ctx);
    race_state* race = arm->race;
    if (arm->cell->outcome() != task_outcome::cancelled && race->decide()) race->decided_by_completion();
    race->arrive(1);
  }

  // A timer fired (on the worker that armed it, under its timer lock, which the race takes to
  // disarm it before it reads `fired` or goes away).
  static void timer_fired(timer_entry* e) noexcept {
    auto* arm = static_cast<race_timer_arm*>(e);
    race_state* race = arm->race;
    if (!race->decide()) return;
    arm->fired = true;
    race->decided_by_completion();
  }

  // The parent was aborted: the children are aborted too, and the parent's frame goes once
  // they have all finished.
  bool request_cancel() noexcept override {
    if (decide()) {
      abort_children();
      if (timers_pending_ && withdraw_arrival()) return true;
    }
    return fork_group::request_cancel();
  }

  task_cell** cells_ = nullptr;  // the task arms' cells, in order
  std::size_t task_count_ = 0;
  bool timers_pending_ = false;  // the timers, all together, count as one arrival until decided

 private:
  void decided_by_completion() noexcept {
    abort_children();  // the winner's own abort is a no-op: it has finished
    if (timers_pending_) arrive(1);
  }

  std::atomic<bool> decided_{false};
};

template <class... Arms>
class race_awaiter : race_state {
  static constexpr std::size_t count = sizeof...(Arms);
  static constexpr std::size_t tasks = ((Arms::is_timer ? 0 : 1) + ... + 0);
  static constexpr std::size_t timers = count - tasks;

  // The position of arm I among the task arms (its cell's index).
  template <std::size_t I>
  static constexpr std::size_t task_slot() {
    constexpr bool is_timer[] = {Arms::is_timer...};
    std::size_t n = 0;
    for (std::size_t i = 0; i < I; ++i) n += is_timer[i] ? 0 : 1;
    return n;
  }

 public:
  using result_type = race_result<typename Arms::value_type...>;

  explicit race_awaiter(Arms... arms) noexcept : arms_(std::move(arms)...) {}
  /// Movable until awaited (so that pw::timeout can wrap a race); nothing runs before.
  race_awaiter(race_awaiter&& other) noexcept : arms_(std::move(other.arms_)) {}
  race_awaiter& operator=(race_awaiter&&) = delete;
  ~race_awaiter() {
    disarm_timers(std::make_index_sequence<count>{});
    release_children(cell_storage_.data(), tasks);
  }

  bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> caller) {
    bind_parent("pw::race");
    cells_ = cell_storage_.data();
    task_count_ = tasks;
    fork_all(std::make_index_sequence<count>{});
    arm_timers(std::make_index_sequence<count>{});
    return start(caller, cell_storage_.data(), tasks, timers_pending_ ? 1 : 0);
  }

  result_type await_resume() {
    finish_wait();
    disarm_timers(std::make_index_sequence<count>{});
    result_type out;
    collect(out, std::make_index_sequence<count>{});
    if (out.index_ == count) [[unlikely]]
      panic("pw::race", "resumed with no awaitable completed");
    return out;
  }

 private:
  template <std::size_t... I>
  void fork_all(std::index_sequence<I...>) {
    (fork_arm<I>(), ...);
  }
  template <std::size_t I>
  void fork_arm() {
    auto& arm = std::get<I>(arms_);
    if constexpr (!std::tuple_element_t<I, std::tuple<Arms...>>::is_timer) {
      using T = typename decltype(arm.child)::value_type;
      arm.race = this;
      arm.cell = fork(arm.child, &race_state::child_done<T>, &arm, task_cell::soft_cancel);
      cell_storage_[task_slot<I>()] = arm.cell;
    }
  }

  // Arms the timers once the children exist (a timer that is already due decides the race at
  // once, aborting them before they are queued). Only this worker fires its timers, and it is
  // busy here, so none fires before start().
  template <std::size_t... I>
  void arm_timers(std::index_sequence<I...>) {
    if constexpr (timers > 0) {
      timers_pending_ = true;
      (arm_timer<I>(), ...);
    }
  }
  template <std::size_t I>
  void arm_timer() {
    auto& arm = std::get<I>(arms_);
    if constexpr (std::tuple_element_t<I, std::tuple<Arms...>>::is_timer) {
      if (!timers_pending_) return;  // an earlier timer was already due
      arm.race = this;
      arm.cell = parent_;
      arm.fire = &race_state::timer_fired;
      arm.deadline = wheel_ms_ceil(arm.until);
      timer_queue& q = tls_context.current_worker->timers;
      if (q.insert(&arm)) {
        arm.queue = &q;
      } else if (decide()) {  // already due: it wins, and counts as arrived
        arm.fired = true;
        abort_children();
        timers_pending_ = false;
      }
    }
  }

  template <std::size_t... I>
  void disarm_timers(std::index_sequence<I...>) noexcept {
    (disarm_timer<I>(), ...);
  }
  template <std::size_t I>
  void disarm_timer() noexcept {
    if constexpr (std::tuple_element_t<I, std::tuple<Arms...>>::is_timer) {
      auto& arm = std::get<I>(arms_);
      if (arm.queue) std::exchange(arm.queue, nullptr)->remove(&arm);  // waits out a firing one
    }
  }

  template <std::size_t... I>
  void collect(result_type& out, std::index_sequence<I...>) {
    out.index_ = count;
    rethrow_panics(std::index_sequence<I...>{});
    (collect_arm<I>(out), ...);
  }
  template <std::size_t I>
  void collect_arm(result_type& out) {
    auto& arm = std::get<I>(arms_);
    bool completed = false;
    if constexpr (std::tuple_element_t<I, std::tuple<Arms...>>::is_timer) {
      completed = arm.fired;
      if (completed) std::get<I>(out.values_) = option<std::monostate>(std::in_place);
    } else {
      using T = typename decltype(arm.child)::value_type;
      if (arm.cell->outcome() == task_outcome::finished) {
        completed = true;
        std::get<I>(out.values_) =
            option<value_or_monostate<T>>(std::in_place, child_value<T>(arm.cell));
      }
    }
    if (completed && out.index_ == count) out.index_ = I;
  }

  template <std::size_t... I>
  void rethrow_panics(std::index_sequence<I...>) {
#if defined(__cpp_exceptions)
    (rethrow_panic<I>(), ...);
#endif
  }
#if defined(__cpp_exceptions)
  template <std::size_t I>
  void rethrow_panic() {
    if constexpr (!std::tuple_element_t<I, std::tuple<Arms...>>::is_timer) {
      task_cell* cell = std::get<I>(arms_).cell;
      if (cell->outcome() == task_outcome::panicked) std::rethrow_exception(cell->exception());
    }
  }
#endif

  std::tuple<Arms...> arms_;
  std::array<task_cell*, tasks> cell_storage_{};
};

template <class V>
inline constexpr bool is_task_v = false;
template <class T>
inline constexpr bool is_task_v<task<T>> = true;

// The arm an awaitable becomes.
template <class A>
auto make_race_arm(A&& a) {
  using V = std::remove_cvref_t<A>;
  if constexpr (std::is_same_v<V, sleep_awaiter>)
    return race_timer_arm(a.deadline());
  else if constexpr (is_task_v<V> && !std::is_lvalue_reference_v<A>)
    return race_task_arm<typename V::value_type>(std::move(a));
  else if constexpr (std::is_lvalue_reference_v<A>)
    return race_task_arm<awaitable_result_t<A>>(run_in_place(a));
  else
    return race_task_arm<awaitable_result_t<A>>(run_as_task(std::move(a)));
}

}  // namespace detail

/// Awaits every awaitable at once and resumes with the first to complete: `.index()` says which,
/// `get<I>()` gives its value. The others are cancelled safely (an I/O operation in flight is
/// cancelled in the kernel and awaited) before the caller resumes. Works with any awaitable:
/// tasks, I/O operations, sleeps, channel receives, notified(), cancelled(), join handles. A
/// temporary awaitable is moved into the race; a named one (a join handle, a oneshot receiver)
/// is awaited in place and must outlive the race. Must be awaited inside a task on a runtime.
template <class... As>
auto race(As&&... awaitables) {
  static_assert(sizeof...(As) >= 1, "pw::race needs at least one awaitable");
  return detail::race_awaiter<decltype(detail::make_race_arm(std::forward<As>(awaitables)))...>(
      detail::make_race_arm(std::forward<As>(awaitables))...);
}

}  // namespace polarway
