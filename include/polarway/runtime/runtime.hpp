// pw::runtime: a multi-threaded work-stealing runtime. Construct one (one worker per core by
// default), hand it a task with block_on() from ordinary code, and spawn() more tasks from
// anywhere. Destroying the runtime (or calling shutdown()) stops accepting tasks, cancels the
// ones still alive, waits for them to be destroyed, and joins the worker threads; a task that
// never suspends keeps shutdown waiting, as in Tokio.
#pragma once

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

#include "polarway/detail/panic.hpp"
#include "polarway/detail/scheduler.hpp"
#include "polarway/runtime/backend_kind.hpp"
#include "polarway/error.hpp"
#include "polarway/result.hpp"
#include "polarway/runtime/join_error.hpp"
#include "polarway/runtime/join_handle.hpp"
#include "polarway/runtime/runtime_metrics.hpp"
#include "polarway/runtime/spawn_blocking.hpp"
#include "polarway/task.hpp"

namespace polarway {

struct runtime_options {
  /// Worker threads; 0 means POLARWAY_WORKERS if set, else one per core.
  std::size_t workers = 0;
  /// The reactor backend; none means POLARWAY_BACKEND if set, else io_uring when the kernel
  /// allows it and epoll otherwise. Asking for io_uring explicitly makes its absence an error.
  option<backend_kind> backend = none;
  /// How long an idle worker keeps polling for I/O, timers and work before it parks; zero (the
  /// default) leaves it to the worker, which spins briefly only while its own I/O and timers
  /// have been bringing work back sooner than a parked thread wakes (docs/design.md, "Spinning
  /// before parking"), and otherwise parks at once. It trades CPU for latency: a parked worker takes tens of
  /// microseconds to wake (over a hundred on a busy VM), a polling one sees an event at its next
  /// poll, but it keeps a core busy while there is nothing to do. At most half the workers (at
  /// least one) poll at once. From zero to max_busy_poll.
  std::chrono::microseconds busy_poll{0};
  /// The most threads the blocking pool (spawn_blocking, file operations the reactor cannot
  /// wait for) runs at once; they start on demand, and jobs beyond this many wait their turn.
  /// From 1 to max_max_blocking_threads.
  std::size_t max_blocking_threads = 512;
  /// How long a blocking-pool thread waits idle for another job before it exits. From zero to
  /// max_thread_keep_alive.
  std::chrono::milliseconds thread_keep_alive{10'000};

  /// The most workers a runtime accepts (a typo such as POLARWAY_WORKERS=20000 is an error).
  static constexpr std::size_t max_workers = 1024;
  /// The longest busy_poll accepted.
  static constexpr std::chrono::microseconds max_busy_poll{1'000'000};
  /// The largest max_blocking_threads accepted.
  static constexpr std::size_t max_max_blocking_threads = 65'536;
  /// The longest thread_keep_alive accepted (a day).
  static constexpr std::chrono::milliseconds max_thread_keep_alive{86'400'000};

  /// These options with `workers` and `backend` resolved: the explicit value, else the
  /// environment (POLARWAY_WORKERS, POLARWAY_BACKEND), else the defaults. A malformed
  /// environment value is an invalid_input error.
  result<runtime_options> resolved() const {
    runtime_options out = *this;
    if (!out.backend) {
      auto env = detail::backend_from_env();
      if (!env) return err(env.error());
      out.backend = *env;
    }
    if (out.workers > max_workers) return err(error(errc::invalid_input, "runtime_options: workers above 1024"));
    if (out.busy_poll < std::chrono::microseconds::zero() || out.busy_poll > max_busy_poll)
      return err(error(errc::invalid_input, "runtime_options: busy_poll outside 0 to 1 s"));
    if (out.max_blocking_threads < 1 || out.max_blocking_threads > max_max_blocking_threads)
      return err(error(errc::invalid_input, "runtime_options: max_blocking_threads outside 1 to 65536"));
    if (out.thread_keep_alive < std::chrono::milliseconds::zero() || out.thread_keep_alive > max_thread_keep_alive)
      return err(error(errc::invalid_input, "runtime_options: thread_keep_alive outside 0 to 24 h"));
    if (out.workers == 0) {
      if (const char* env = std::getenv("POLARWAY_WORKERS"); env && *env) {
        auto parsed = parse_workers(env);
        if (!parsed) return err(parsed.error());
        out.workers = *parsed;
      } else {
        out.workers = std::max(1u, std::thread::hardware_concurrency());
      }
    }
    return out;
  }

  /// Parses a worker count: a decimal integer from 1 to max_workers, nothing else.
  static result<std::size_t> parse_workers(std::string_view text) {
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size() || n == 0 || n > max_workers)
      return err(error(errc::invalid_input, "POLARWAY_WORKERS: expected an integer from 1 to 1024"));
    return n;
  }
};

class runtime {
 public:
  /// A runtime with default options. Panics (with the reason) if POLARWAY_WORKERS is malformed.
  runtime() : runtime(runtime_options{}) {}
  explicit runtime(const runtime_options& options) : runtime(checked(options), 0) {}

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;
  ~runtime() { sched_->shutdown(); }

  /// Runs `t` on the runtime and blocks the calling thread until it finishes. Call it from
  /// outside the runtime; several threads may block_on at once. If the task panics, its
  /// exception is rethrown here; if it is cancelled (the runtime shut down under it), this
  /// aborts the process with a message: use try_block_on to get that as a value.
  template <class T>
  T block_on(task<T> t) {
    join_handle<T> handle = spawn(std::move(t));
    detail::task_cell* cell = wait_for(handle);
#if defined(__cpp_exceptions)
    if (cell->outcome() == detail::task_outcome::panicked) std::rethrow_exception(cell->exception());
#endif
    result<T, join_error> r = detail::take_outcome<T>(cell);
    if (!r) [[unlikely]]
      detail::panic("runtime::block_on", r.error().message());
    if constexpr (!std::is_void_v<T>) return std::move(*r);
  }

  /// block_on that reports a cancelled or panicked task as a join_error instead.
  template <class T>
  result<T, join_error> try_block_on(task<T> t) {
    join_handle<T> handle = spawn(std::move(t));
    return detail::take_outcome<T>(wait_for(handle));
  }

  /// Spawns `t` from any thread. After shutdown the task is not run and the handle reports
  /// join_error::cancelled().
  template <class T>
  join_handle<T> spawn(task<T> t) {
    return detail::make_join_handle<T>(
        sched_->spawn_cell(std::move(t), detail::task_cell::join_interest, 1));
  }

  /// Runs `f()` on the runtime's blocking pool, from any thread (see spawn_blocking.hpp). After
  /// shutdown f never runs and the handle reports join_error::cancelled().
  template <class F>
    requires std::is_invocable_v<std::decay_t<F>&> && std::is_move_constructible_v<std::decay_t<F>>
  join_handle<detail::blocking_result_t<F>> spawn_blocking(F&& f) {
    return detail::spawn_blocking_on(*sched_, std::decay_t<F>(std::forward<F>(f)));
  }

  /// Stops accepting tasks, cancels the remaining ones and joins the workers (idempotent).
  /// Must not be called from inside one of the runtime's tasks.
  void shutdown() { sched_->shutdown(); }

  std::size_t worker_count() const noexcept { return sched_->worker_count(); }

  /// The reactor backend in use: io_uring if every worker got a ring, else epoll.
  backend_kind backend() const noexcept { return sched_->backend(); }

  /// A snapshot of the workers' counters and the runtime's queues, from any thread, at any
  /// time (see runtime_metrics.hpp for what it promises).
  runtime_metrics metrics() const { return detail::snapshot_metrics(*sched_); }

 private:
  runtime(const runtime_options& resolved, int)
      : sched_(std::make_unique<detail::scheduler>(resolved.workers, resolved.backend.value_or(backend_kind::io_uring),
                                                   resolved.backend.is_some(), resolved.busy_poll,
                                                   resolved.max_blocking_threads, resolved.thread_keep_alive)) {}

  static runtime_options checked(const runtime_options& options) {
    auto resolved = options.resolved();
    if (!resolved) detail::panic("runtime", resolved.error().message());
    return *resolved;
  }

  // Blocks until the handle's task completes; returns its cell.
  template <class T>
  detail::task_cell* wait_for(join_handle<T>& handle) {
    if (sched_->on_worker_thread()) detail::panic("runtime::block_on", "called from inside one of the runtime's tasks");
    detail::task_cell* cell = detail::join_handle_access::cell(handle);
    struct latch {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
      static void signal(void* self) noexcept {
        auto* l = static_cast<latch*>(self);
        std::lock_guard lock(l->mu);  // notify under the lock: the latch dies once `done` is seen
        l->done = true;
        l->cv.notify_one();
      }
    } done;
    if (cell->set_join_waker(&latch::signal, &done)) {
      std::unique_lock lock(done.mu);
      done.cv.wait(lock, [&] { return done.done; });
    }
    return cell;
  }

  std::unique_ptr<detail::scheduler> sched_;
};

/// Spawns `t` onto the runtime running the calling task. Must be called from inside a task;
/// after shutdown the handle reports join_error::cancelled().
template <class T>
join_handle<T> spawn(task<T> t) {
  detail::worker* w = detail::tls_context.current_worker;
  if (!w) [[unlikely]]
    detail::panic("pw::spawn", "called outside a polarway runtime (use runtime::spawn)");
  return detail::make_join_handle<T>(
      w->sched->spawn_cell(std::move(t), detail::task_cell::join_interest, 1));
}

}  // namespace polarway
