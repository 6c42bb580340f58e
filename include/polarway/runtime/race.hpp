// pw::race(a, b, ...): awaits several awaitables at once and resumes with the first to complete
// (Tokio's select!); the others are cancelled, and the caller resumes only once they are gone.
//
// An awaitable that is ready at once (a message already queued, a token already cancelled, a
// deadline already past) wins without any task: the race asks each awaiter in order, as a
// co_await would, and the first ready one wins. Otherwise each awaitable runs as a child task of
// a structured fan-out (join_all's fork_group), except a pw::sleep / pw::sleep_until, which is a
// timer of the race itself and costs no task. The first
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
#include <optional>
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

class race_state;

// What a raced awaitable that runs as a child task keeps: the child, and what its completion
// callback needs.
template <class T>
struct race_child {
  static_assert(!std::is_reference_v<T>, "pw::race: an awaitable that gives a reference is not supported");
  using value_type = value_or_monostate<T>;
  static constexpr bool is_timer = false;

  task<T> child;
  race_state* race = nullptr;
  task_cell* cell = nullptr;
};

// A raced task: it can only complete by running, so it always runs as a child.
template <class T>
struct race_task_arm : race_child<T> {
  static constexpr bool can_be_ready = false;

  explicit race_task_arm(task<T> t) noexcept { this->child = std::move(t); }
  race_task_arm(race_task_arm&& other) noexcept { this->child = std::move(other.child); }

  void make_child() noexcept {}
  void release() noexcept {}
};

// An awaiter whose await_ready() was asked already (by the race): suspends straight away.
template <class Aw>
struct started_awaiter {
  Aw& aw;
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  decltype(auto) await_suspend(std::coroutine_handle<Promise> caller) { return aw.await_suspend(caller); }
  decltype(auto) await_resume() { return aw.await_resume(); }
};

template <class T, class Aw>
task<T> await_started(Aw& aw) {
  co_return co_await started_awaiter<Aw>{aw};
}

// Any other awaitable (a channel receive, notified(), cancelled(), a join handle...). The race
// first asks its awaiter whether it is ready; if so it wins with no task at all. If not, a
// child task awaits that same awaiter, which lives here: a temporary awaitable is moved in
// (awaiters are movable until awaited), a named one is awaited where it is and must outlive
// the race. The awaiter outlives the child, so the race destroys it (which unlinks it from
// whatever it waits on) before it frees the children's cells.
template <class A>
class race_await_arm : public race_child<awaitable_result_t<A>> {
  static constexpr bool named = std::is_lvalue_reference_v<A>;
  static constexpr bool has_co_await = requires { std::declval<A>().operator co_await(); };
  using source_type = std::remove_cvref_t<A>;
  using awaiter_type = typename decltype(awaiter_of<A>())::type;
  using T = awaitable_result_t<A>;

 public:
  static constexpr bool can_be_ready = true;

  explicit race_await_arm(A&& a) noexcept {
    if constexpr (named)
      named_ = &a;
    else
      owned_.emplace(std::move(a));
  }
  race_await_arm(race_await_arm&& other) noexcept : named_(other.named_) {
    if constexpr (!named) owned_.emplace(std::move(*other.owned_));
  }

  bool try_ready() { return awaiter().await_ready(); }

  value_or_monostate<T> take_ready() {
    if constexpr (std::is_void_v<T>) {
      awaiter().await_resume();
      return std::monostate{};
    } else {
      return awaiter().await_resume();
    }
  }

  void make_child() { this->child = await_started<T>(awaiter()); }

  void release() noexcept {
    awaiter_.reset();
    owned_.reset();
  }

 private:
  source_type& source() noexcept {
    if constexpr (named)
      return *named_;
    else
      return *owned_;
  }

  awaiter_type& awaiter() {
    if constexpr (has_co_await) {
      if (!awaiter_) {
        if constexpr (named)
          awaiter_.emplace(source().operator co_await());
        else
          awaiter_.emplace(std::move(source()).operator co_await());
      }
      return *awaiter_;
    } else {
      return source();
    }
  }

  source_type* named_ = nullptr;
  std::optional<source_type> owned_;
  std::optional<awaiter_type> awaiter_;  // made from the source when it has operator co_await
};

// A raced pw::sleep: a timer entry of the race, firing into it.
struct race_timer_arm : timer_entry {
  using value_type = std::monostate;
  static constexpr bool is_timer = true;
  static constexpr bool can_be_ready = true;

  explicit race_timer_arm(clock::time_point d) noexcept : until(d) {}
  race_timer_arm(race_timer_arm&& other) noexcept : until(other.until) {}

  // As pw::sleep: a deadline that has passed completes at once, budget permitting.
  bool try_ready() const noexcept { return clock::now() >= until && coop_consume(); }
  std::monostate take_ready() const noexcept { return {}; }
  void release() noexcept {}  // disarmed apart, by disarm_timers

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
    auto* arm = static_cast<race_child<T>*>(ctx);
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
class race_awaiter final : race_state {
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
    std::apply([](auto&... arm) { (arm.release(), ...); }, arms_);  // before the cells they may name
    release_children(cell_storage_.data(), tasks);
  }

  // An awaitable that is ready at once (a message already queued, a deadline already past)
  // wins with no task at all: the first listed of them. Tasks are never ready before they run.
  bool await_ready() { return try_ready(std::make_index_sequence<count>{}); }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> caller) {
    bind_parent("pw::race", caller);
    cells_ = cell_storage_.data();
    task_count_ = tasks;
    fork_all(std::make_index_sequence<count>{});
    arm_timers(std::make_index_sequence<count>{});
    // The arms are waits (a read, a channel, a token): no parked worker is woken to steal one.
    return start(cell_storage_.data(), tasks, timers_pending_ ? 1 : 0, /*wake_peers=*/false);
  }

  result_type await_resume() {
    result_type out;
    if (ready_ != count) {
      take_ready(out, std::make_index_sequence<count>{});
      return out;
    }
    finish_wait();
    disarm_timers(std::make_index_sequence<count>{});
    collect(out, std::make_index_sequence<count>{});
    if (out.index_ == count) [[unlikely]]
      panic("pw::race", "resumed with no awaitable completed");
    return out;
  }

 private:
  template <std::size_t... I>
  bool try_ready(std::index_sequence<I...>) {
    return (try_arm_ready<I>() || ...);  // in order, up to the first ready one
  }
  template <std::size_t I>
  bool try_arm_ready() {
    if constexpr (std::tuple_element_t<I, std::tuple<Arms...>>::can_be_ready) {
      if (!std::get<I>(arms_).try_ready()) return false;
      ready_ = I;
      return true;
    } else {
      return false;
    }
  }
  template <std::size_t... I>
  void take_ready(result_type& out, std::index_sequence<I...>) {
    out.index_ = ready_;
    (take_arm_ready<I>(out), ...);
  }
  template <std::size_t I>
  void take_arm_ready(result_type& out) {
    using arm_type = std::tuple_element_t<I, std::tuple<Arms...>>;
    if constexpr (arm_type::can_be_ready) {
      if (I == ready_)
        std::get<I>(out.values_) =
            option<typename arm_type::value_type>(std::in_place, std::get<I>(arms_).take_ready());
    }
  }

  template <std::size_t... I>
  void fork_all(std::index_sequence<I...>) {
    (fork_arm<I>(), ...);
  }
  template <std::size_t I>
  void fork_arm() {
    auto& arm = std::get<I>(arms_);
    if constexpr (!std::tuple_element_t<I, std::tuple<Arms...>>::is_timer) {
      using T = typename decltype(arm.child)::value_type;
      arm.make_child();
      arm.race = this;
      arm.cell = fork(arm.child, &race_state::child_done<T>, static_cast<race_child<T>*>(&arm), task_cell::soft_cancel);
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
  std::size_t ready_ = count;  // the arm that was ready at once, if one was
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
  else
    return race_await_arm<A>(std::forward<A>(a));
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
