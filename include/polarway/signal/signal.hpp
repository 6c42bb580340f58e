// pw::signal: Unix signals as awaitables, as Tokio's tokio::signal.
//
//   co_await pw::signal::ctrl_c();                 // the next SIGINT
//   auto term = pw::signal::signal(SIGTERM);       // a listener: every SIGTERM from now on
//   co_await term.recv();
//
// Delivery. The first listener for a signal installs a process-wide handler for it
// (sigaction). The handler does only what is async-signal-safe: it counts the signal and
// writes a byte to a non-blocking self-pipe. A reactor that a listener waits on watches the
// pipe's read end like any other fd (a poll on io_uring, a level-triggered registration on
// epoll); when it becomes readable, the reactor drains it and wakes every listener whose
// signal's count has moved since it last received. Why a handler and a pipe rather than a
// signalfd: a signalfd only sees signals that are blocked in every thread, and a library cannot
// block a signal in threads it did not create (docs/design.md, "Signals").
//
// Semantics, as in Tokio:
//   - every listener of a signal receives each delivery (several listeners of one signal each
//     get it); a listener created after a delivery does not see that one;
//   - deliveries coalesce: several signals that arrive before a listener receives again are
//     one recv();
//   - once a listener for a signal exists, the handler stays installed for the life of the
//     process, and the signal's default action (terminating on SIGINT or SIGTERM) no longer
//     happens: the program decides what a signal means. Creating a listener installs the
//     handler again if other code replaced it meanwhile; a handler installed before is
//     replaced, not called;
//   - SIGKILL and SIGSTOP cannot be caught, and SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGTRAP
//     report a broken process that must not carry on: signal() refuses them (invalid_input,
//     reported by recv()).
// A listener needs the signal unblocked in at least one thread (the runtime's threads inherit
// the mask of the thread that created the runtime): a blocked signal is never delivered.
//
// recv() is an awaiter, movable until awaited, so it can be an arm of pw::race. It is
// cancel-safe: a recv() that loses a race (or whose task is aborted) takes nothing, and the
// delivery it was woken for is there for the next recv(). One task at a time may await a
// listener's recv().
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "polarway/detail/io_awaiters.hpp"
#include "polarway/detail/panic.hpp"
#include "polarway/error.hpp"
#include "polarway/option.hpp"
#include "polarway/result.hpp"
#include "polarway/sync/detail/wait_list.hpp"

namespace polarway::signal {

namespace detail_signal {

namespace d = polarway::detail;

/// Signals that cannot be caught, or that report a broken process (refused, as in Tokio).
inline bool forbidden(int signum) noexcept {
  switch (signum) {
    case SIGKILL:
    case SIGSTOP:
    case SIGSEGV:
    case SIGBUS:
    case SIGILL:
    case SIGFPE:
    case SIGTRAP: return true;
    default: return false;
  }
}

/// The process-wide state behind every listener. What the handler touches is static and
/// lock-free; the rest is guarded by `mu_`.
class registry {
 public:
  struct waiter : d::wait_link<waiter> {
    d::task_cell* cell = nullptr;
    int signum = 0;
    std::uint64_t seen = 0;
  };

  static registry& get() {
    static registry* const r = new registry();  // never destroyed: the handler outlives main
    return *r;
  }

  /// How many times `signum` has been delivered since the process started listening to it.
  static std::uint64_t count(int signum) noexcept { return counts_[signum].load(std::memory_order_seq_cst); }

  /// Makes sure our handler is installed for `signum` (and the pipe exists). Thread-safe.
  result<void> install(int signum) {
    constexpr const char* what = "signal::signal";
    if (signum <= 0 || signum >= NSIG || forbidden(signum))
      return err(error(errc::invalid_input, "signal::signal: that signal cannot be listened to"));
    std::lock_guard lock(mu_);
    if (pipe_read_ < 0) {
      int fds[2];
      if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) return err(error::from_errno(errno, what));
      pipe_read_ = fds[0];
      pipe_write_.store(fds[1], std::memory_order_seq_cst);
    }
    struct sigaction current{};
    if (::sigaction(signum, nullptr, &current) < 0) return err(error::from_errno(errno, what));
    if (current.sa_handler == &handler && !(current.sa_flags & SA_SIGINFO)) return ok();
    struct sigaction sa{};
    sa.sa_handler = &handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // system calls the signal interrupts resume instead of failing
    if (::sigaction(signum, &sa, nullptr) < 0) return err(error::from_errno(errno, what));
    return ok();
  }

  /// Links `w` unless its signal has moved already (then false: do not suspend). Arms the
  /// calling worker's reactor to watch the pipe if it does not yet.
  result<bool> wait(waiter* w) {
    d::reactor& io = d::current_reactor("signal::recv");
    if (!io.watches(pipe_read_)) {
      auto watched = io.watch_readable(pipe_read_, &on_readable, this);
      if (!watched) return err(watched.error());
    }
    std::lock_guard lock(mu_);
    if (count(w->signum) != w->seen) return false;
    waiters_.push_back(w);
    return true;
  }

  /// How many recv() awaiters are waiting now (for tests and diagnostics).
  std::size_t waiting() {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (waiter* w = waiters_.front(); w; w = w->next) ++n;
    return n;
  }

  /// Unlinks `w` if it is still linked (its task was aborted while waiting).
  void forget(waiter* w) noexcept {
    std::lock_guard lock(mu_);
    if (w->linked) waiters_.remove(w);
  }

 private:
  registry() = default;

  // The handler: async-signal-safe (lock-free atomics and write(2)), errno preserved.
  static void handler(int signum) noexcept {
    const int saved = errno;
    counts_[signum].fetch_add(1, std::memory_order_seq_cst);
    const int fd = pipe_write_.load(std::memory_order_seq_cst);
    const char byte = 1;
    if (fd >= 0) {
      [[maybe_unused]] const ssize_t n = ::write(fd, &byte, 1);  // the pipe is full: a wake-up is pending anyway
    }
    errno = saved;
  }

  // A reactor found the pipe readable: drain it, then wake every waiter whose signal moved.
  // Draining comes first: a signal counted before the byte that woke us was written, and so
  // is seen here; one counted after writes another byte, and the pipe is readable again.
  static void on_readable(void* self) noexcept {
    auto* r = static_cast<registry*>(self);
    char buf[256];
    while (::read(r->pipe_read_, buf, sizeof buf) > 0) {
    }
    std::lock_guard lock(r->mu_);
    for (waiter* w = r->waiters_.front(); w;) {
      waiter* next = w->next;
      if (count(w->signum) != w->seen) {
        r->waiters_.remove(w);
        d::wake(w->cell);  // under the lock that the awaiter's destructor takes
      }
      w = next;
    }
  }

  static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
                "the signal handler needs lock-free atomics");
  static inline std::atomic<std::uint64_t> counts_[NSIG] = {};
  static inline std::atomic<int> pipe_write_{-1};

  std::mutex mu_;
  int pipe_read_ = -1;  // set once, under mu_, before any listener can wait
  d::wait_list<waiter> waiters_;
};

}  // namespace detail_signal

/// Awaits the next delivery of a listener's signal: `co_await listener.recv()` gives ok(), or
/// the error that kept the listener from being set up. Movable until awaited.
class [[nodiscard]] recv_awaiter {
  using registry = detail_signal::registry;

 public:
  recv_awaiter(int signum, std::uint64_t seen, std::uint64_t* update_seen, option<error> failure) noexcept
      : update_seen_(update_seen), failure_(failure) {
    node_.signum = signum;
    node_.seen = seen;
  }
  recv_awaiter(recv_awaiter&& other) noexcept
      : node_(), update_seen_(other.update_seen_), failure_(other.failure_) {
    polarway::detail::check_awaiter_movable(other.registered_, "signal::recv");
    node_.signum = other.node_.signum;
    node_.seen = other.node_.seen;
  }
  recv_awaiter(const recv_awaiter&) = delete;
  recv_awaiter& operator=(const recv_awaiter&) = delete;
  ~recv_awaiter() {
    if (registered_) registry::get().forget(&node_);
  }

  bool await_ready() const noexcept { return failure_.is_some() || registry::count(node_.signum) != node_.seen; }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> caller) {
    polarway::detail::task_cell* self = polarway::detail::current_task_or_panic("signal::recv", wait_kind::signal, caller);
    node_.cell = self;
    auto linked = registry::get().wait(&node_);
    if (!linked) {
      failure_ = linked.error();
      return false;
    }
    registered_ = *linked;
    return registered_;
  }

  result<void> await_resume() noexcept {
    registered_ = false;
    if (failure_) return err(*failure_);
    // Take every delivery so far: deliveries that came while we were away coalesce.
    if (update_seen_) *update_seen_ = registry::count(node_.signum);
    return ok();
  }

 private:
  registry::waiter node_;
  std::uint64_t* update_seen_;  // the listener's count of what it received, if there is one
  option<error> failure_;
  bool registered_ = false;  // linked and suspended; only this task writes it
};

class listener;
inline listener signal(int signum);
inline recv_awaiter ctrl_c();

/// Receives one signal, every time it is delivered from the listener's creation on.
class listener {
 public:
  /// The signal number (SIGTERM, ...).
  int signum() const noexcept { return signum_; }

  /// The next delivery not yet received (at once if one came since the last recv()). The
  /// listener must stay where it is (not be moved or destroyed) until the recv() completes.
  recv_awaiter recv() & noexcept { return recv_awaiter(signum_, seen_, &seen_, failure_); }

 private:
  friend listener signal(int signum);
  friend recv_awaiter ctrl_c();
  listener(int signum, std::uint64_t seen, option<error> failure) noexcept
      : signum_(signum), seen_(seen), failure_(failure) {}

  int signum_;
  std::uint64_t seen_;  // deliveries counted when this listener last received (or was created)
  option<error> failure_;
};

/// A listener for `signum` (SIGTERM, SIGHUP, SIGUSR1, ...), installing the process's handler
/// for it if needed. A signal that cannot be listened to gives a listener whose recv() reports
/// why (invalid_input for SIGKILL, SIGSEGV and the like).
inline listener signal(int signum) {
  auto installed = detail_signal::registry::get().install(signum);
  if (!installed) return listener(signum, 0, installed.error());
  return listener(signum, detail_signal::registry::count(signum), none);
}

/// Completes at the next SIGINT (Ctrl-C) delivered after this call.
inline recv_awaiter ctrl_c() {
  const listener l = signal(SIGINT);
  return recv_awaiter(l.signum_, l.seen_, nullptr, l.failure_);  // no listener to update: it goes here
}

}  // namespace polarway::signal
