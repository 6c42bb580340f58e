// pw::runtime: a multi-threaded work-stealing runtime. Construct one (one worker per core by
// default), hand it a task with block_on() from ordinary code, and spawn() more tasks from
// anywhere. Destroying the runtime (or calling shutdown()) stops accepting tasks, cancels the
// ones still alive, waits for them to be destroyed, and joins the worker threads; a task that
// never suspends keeps shutdown waiting, as in Tokio.
//
// Observing it in production (docs/observability.md): metrics() is a snapshot of the workers'
// counters; the stall detector (runtime_options::slow_poll, on by default) reports a task run
// that goes on too long, naming the task by its spawn site or its spawn_named name;
// dump_tasks() lists the live tasks.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "polarway/detail/interned_text.hpp"
#include "polarway/detail/panic.hpp"
#include "polarway/detail/scheduler.hpp"
#include "polarway/detail/stall_watchdog.hpp"
#include "polarway/detail/trace_json.hpp"
#include "polarway/runtime/backend_kind.hpp"
#include "polarway/error.hpp"
#include "polarway/result.hpp"
#include "polarway/runtime/join_error.hpp"
#include "polarway/runtime/join_handle.hpp"
#include "polarway/runtime/runtime_metrics.hpp"
#include "polarway/runtime/spawn_blocking.hpp"
#include "polarway/runtime/spawn_site.hpp"
#include "polarway/runtime/stall_report.hpp"
#include "polarway/runtime/task_info.hpp"
#include "polarway/task.hpp"

namespace polarway {

namespace detail {

/// The site of a task spawned with a name: the name, kept for the life of the process, or
/// `fallback` once the table of kept texts is full.
inline spawn_site named_site(std::string_view name, spawn_site fallback) {
  const char* kept = intern(name);
  return kept ? spawn_site::named(kept) : fallback;
}

}  // namespace detail

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
  /// The stall detector: a task run (one poll of a task) that lasts longer than this is
  /// reported while it runs and again when it ends (stall_report.hpp), naming the task. Zero
  /// turns the detector off. From 1 ms to max_slow_poll. The detector is a thread that samples
  /// the workers every slow_poll / 4, at least 1 ms apart (every slow_poll while they all
  /// sleep); the workers pay a few stores per run.
  std::chrono::milliseconds slow_poll{10};
  /// Where stall reports go, called on the detector's thread: at most 10 a second after a burst
  /// of 10, the dropped ones counted in the next. Empty (the default): a line on stderr each.
  std::function<void(const stall_report&)> on_stall{};
  /// The flight recorder: how many recent scheduler events each worker keeps (task spawns,
  /// runs, steals, parks, I/O collected), for write_trace(); zero (the default) turns it off.
  /// Rounded up to a power of two; up to max_flight_recorder. On, each event costs a clock
  /// reading, and each event kept 32 bytes of ring.
  std::size_t flight_recorder = 0;

  /// The most workers a runtime accepts (a typo such as POLARWAY_WORKERS=20000 is an error).
  static constexpr std::size_t max_workers = 1024;
  /// The longest busy_poll accepted.
  static constexpr std::chrono::microseconds max_busy_poll{1'000'000};
  /// The largest max_blocking_threads accepted.
  static constexpr std::size_t max_max_blocking_threads = 65'536;
  /// The longest thread_keep_alive accepted (a day).
  static constexpr std::chrono::milliseconds max_thread_keep_alive{86'400'000};
  /// The longest slow_poll accepted (an hour).
  static constexpr std::chrono::milliseconds max_slow_poll{3'600'000};
  /// The most events a worker's flight recorder keeps (16 Mi, 512 MiB of ring).
  static constexpr std::size_t max_flight_recorder = std::size_t{1} << 24;

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
    if (out.slow_poll < std::chrono::milliseconds::zero() || out.slow_poll > max_slow_poll)
      return err(error(errc::invalid_input, "runtime_options: slow_poll outside 0 to 1 h"));
    if (out.flight_recorder > max_flight_recorder)
      return err(error(errc::invalid_input, "runtime_options: flight_recorder above 16777216 events"));
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
  T block_on(task<T> t, spawn_site site = spawn_site::here()) {
    join_handle<T> handle = spawn(std::move(t), site);
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
  result<T, join_error> try_block_on(task<T> t, spawn_site site = spawn_site::here()) {
    join_handle<T> handle = spawn(std::move(t), site);
    return detail::take_outcome<T>(wait_for(handle));
  }

  /// Spawns `t` from any thread. After shutdown the task is not run and the handle reports
  /// join_error::cancelled(). `site` names the task in stall reports and task dumps: the
  /// caller's file and line.
  template <class T>
  join_handle<T> spawn(task<T> t, spawn_site site = spawn_site::here()) {
    return detail::make_join_handle<T>(
        sched_->spawn_cell(std::move(t), detail::task_cell::join_interest, 1, site));
  }

  /// spawn with a name for stall reports and task dumps instead of the spawn site. Names are
  /// kept for the life of the process, each distinct one once, up to 1,024 (shared with other
  /// run-time texts such as error contexts); past that, a new name is not kept and the task
  /// carries its spawn site. Costs a lock and a lookup more than spawn.
  template <class T>
  join_handle<T> spawn_named(std::string_view name, task<T> t, spawn_site site = spawn_site::here()) {
    return spawn(std::move(t), detail::named_site(name, site));
  }

  /// Runs `f()` on the runtime's blocking pool, from any thread (see spawn_blocking.hpp). After
  /// shutdown f never runs and the handle reports join_error::cancelled().
  template <class F>
    requires std::is_invocable_v<std::decay_t<F>&> && std::is_move_constructible_v<std::decay_t<F>>
  join_handle<detail::blocking_result_t<F>> spawn_blocking(F&& f, spawn_site site = spawn_site::here()) {
    return detail::spawn_blocking_on(*sched_, std::decay_t<F>(std::forward<F>(f)), site);
  }

  /// Stops accepting tasks, cancels the remaining ones and joins the workers (idempotent).
  /// Must not be called from inside one of the runtime's tasks.
  void shutdown() { sched_->shutdown(); }

  std::size_t worker_count() const noexcept { return sched_->worker_count(); }

  /// The reactor backend in use: io_uring if every worker got a ring, else epoll.
  backend_kind backend() const noexcept { return sched_->backend(); }

  /// A snapshot of the workers' counters and the runtime's queues, from any thread, at any
  /// time (see runtime_metrics.hpp for what it promises).
  runtime_metrics metrics() const {
    runtime_metrics m = detail::snapshot_metrics(*sched_);
    if (watchdog_) m.slow_polls = watchdog_->slow_polls();
    return m;
  }

  /// The live tasks, from any thread at any time: each with its site or name, state, what it
  /// waits on, age and polls (task_info.hpp). A task spawned on a worker appears once it has
  /// first suspended, or while a worker runs it. Workers keep running meanwhile; the ones
  /// that start or end tasks wait only while the dump reads the quarter of a worker's tasks
  /// those tasks are listed with.
  std::vector<task_info> dump_tasks() const { return sched_->dump_tasks(); }

  /// The flight recorder's events (runtime_options::flight_recorder) as a Chrome / Perfetto
  /// trace, JSON (detail/trace_json.hpp): one track per worker, a slice per task run and park,
  /// an instant per spawn, steal and I/O collection. Any thread, any time; invalid_input if
  /// the recorder is off.
  result<std::string> trace_json() const {
    if (!sched_->tracing())
      return err(error(errc::invalid_input,
                       "runtime::trace_json: the flight recorder is off (runtime_options::flight_recorder)"));
    return detail::trace_json(sched_->trace_snapshots());
  }

  /// trace_json() written to `path` (created or truncated). Blocks the calling thread for the
  /// write: call it from outside the runtime, or through spawn_blocking.
  result<void> write_trace(const std::string& path) const {
    auto json = trace_json();
    if (!json) return err(json.error());
    std::FILE* f = std::fopen(path.c_str(), "we");
    if (!f) return err(error::from_errno(errno, "runtime::write_trace: open"));
    const bool written = std::fwrite(json->data(), 1, json->size(), f) == json->size();
    const int write_errno = errno;
    if (std::fclose(f) != 0 || !written)
      return err(error::from_errno(written ? errno : write_errno, "runtime::write_trace: write"));
    return ok();
  }

 private:
  runtime(const runtime_options& resolved, int)
      : sched_(std::make_unique<detail::scheduler>(resolved.workers, resolved.backend.value_or(backend_kind::io_uring),
                                                   resolved.backend.is_some(), resolved.busy_poll,
                                                   resolved.max_blocking_threads, resolved.thread_keep_alive,
                                                   resolved.flight_recorder)) {
    if (resolved.slow_poll.count() == 0) return;
    detail::stall_watchdog::reporter report = resolved.on_stall;
    if (!report) report = &report_to_stderr;
    watchdog_ = std::make_unique<detail::stall_watchdog>(
        sched_->worker_count(), resolved.slow_poll,
        [s = sched_.get()](std::size_t i) { return s->sample_worker(i); }, std::move(report));
  }

  static void report_to_stderr(const stall_report& r) {
    const std::string line = "polarway: " + to_string(r) + "\n";
    (void)!::write(STDERR_FILENO, line.data(), line.size());
  }

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
  // Declared after sched_, so destroyed before it: it reads the workers until it stops, and
  // watches shutdown (which the destructor runs first) too.
  std::unique_ptr<detail::stall_watchdog> watchdog_;
};

/// Spawns `t` onto the runtime running the calling task. Must be called from inside a task;
/// after shutdown the handle reports join_error::cancelled().
template <class T>
join_handle<T> spawn(task<T> t, spawn_site site = spawn_site::here()) {
  detail::worker* w = detail::tls_context.current_worker;
  if (!w) [[unlikely]]
    detail::panic("pw::spawn", "called outside a polarway runtime (use runtime::spawn)");
  return detail::make_join_handle<T>(
      w->sched->spawn_cell(std::move(t), detail::task_cell::join_interest, 1, site));
}

/// pw::spawn with a name for stall reports and task dumps (see runtime::spawn_named).
template <class T>
join_handle<T> spawn_named(std::string_view name, task<T> t, spawn_site site = spawn_site::here()) {
  return spawn(std::move(t), detail::named_site(name, site));
}

}  // namespace polarway
