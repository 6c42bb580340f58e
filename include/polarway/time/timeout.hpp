// pw::timeout(d, awaitable): awaits `awaitable`, or gives up after `d` with an error whose code
// is pw::errc::timed_out. It is pw::race(awaitable, pw::sleep_until(deadline)): the awaitable
// runs as the race's child task against the race's own timer, and when the timer wins the child
// is aborted through the normal cancellation protocol, so an I/O operation in flight is
// cancelled in the kernel, its buffers stay alive until the kernel has answered, and the caller
// resumes only after that. The awaitable is listed first, so if it completed as the timer fired
// its value is returned: an operation that has already completed (bytes received, a connection
// accepted) is never thrown away.
#pragma once

#include <chrono>
#include <coroutine>
#include <type_traits>
#include <utility>

#include "polarway/error.hpp"
#include "polarway/result.hpp"
#include "polarway/runtime/race.hpp"
#include "polarway/time/sleep.hpp"

namespace polarway {

namespace detail {

template <class Race, class T>
class timeout_awaiter {
 public:
  explicit timeout_awaiter(Race race) noexcept : race_(std::move(race)) {}
  /// Movable until awaited (so a timeout can wrap another one); nothing is armed before.
  timeout_awaiter(timeout_awaiter&& other) noexcept : race_(std::move(other.race_)) {}
  timeout_awaiter& operator=(timeout_awaiter&&) = delete;

  bool await_ready() { return race_.await_ready(); }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> caller) { return race_.await_suspend(caller); }

  result<T, error> await_resume() {
    auto r = race_.await_resume();
    if (!r.template completed<0>()) return err(error(errc::timed_out, "pw::timeout"));
    if constexpr (std::is_void_v<T>)
      return ok();
    else
      return result<T, error>(std::in_place, std::move(r).template get<0>());
  }

 private:
  Race race_;
};

template <class A>
auto make_timeout(clock::time_point deadline, A&& awaitable) {
  auto race = polarway::race(std::forward<A>(awaitable), sleep_until(deadline));
  return timeout_awaiter<decltype(race), awaitable_result_t<A>>(std::move(race));
}

}  // namespace detail

/// Awaits `awaitable` for at most `d`: its value, or an error with code pw::errc::timed_out.
/// The awaitable (a task, an I/O operation, a channel receive...) is cancelled safely when the
/// time runs out. Must be awaited inside a task running on a runtime.
template <class Rep, class Period, class A>
auto timeout(std::chrono::duration<Rep, Period> d, A&& awaitable) {
  return detail::make_timeout(steady_clock::now() + std::chrono::duration_cast<steady_clock::duration>(d),
                              std::forward<A>(awaitable));
}

/// Like timeout, with an absolute deadline.
template <class A>
auto timeout_at(steady_clock::time_point deadline, A&& awaitable) {
  return detail::make_timeout(deadline, std::forward<A>(awaitable));
}

}  // namespace polarway
