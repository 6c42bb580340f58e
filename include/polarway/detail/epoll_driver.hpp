// The epoll half of a worker's reactor, used when io_uring cannot be set up (EPERM under a
// seccomp policy, ENOSYS, kernel.io_uring_disabled) or when POLARWAY_BACKEND=epoll. Sockets
// are non-blocking and registered once, edge-triggered, with the epoll of the worker that
// created them; each has a `readiness` record counting readiness events per direction. An
// operation tries its syscall, and on EAGAIN waits for the count to move past the value it saw
// before trying, so an event that lands between the failed try and the wait is never lost.
// File operations, which epoll cannot wait for, run on the runtime's blocking pool.
#pragma once

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "polarway/detail/panic.hpp"
#include "polarway/detail/context.hpp"
#include "polarway/detail/io_counts.hpp"
#include "polarway/error.hpp"
#include "polarway/result.hpp"

namespace polarway::detail {

class epoll_driver;

enum class io_direction : int { read = 0, write = 1 };

/// Readiness of one file descriptor, shared by the epoll owner and the tasks using the fd.
class readiness {
 public:
  std::uint64_t seq(io_direction d) {
    std::lock_guard lock(mu_);
    return seq_[index(d)];
  }

  /// Awaits a readiness event in direction `d` newer than `seen` (from seq() before the try).
  struct awaiter {
    readiness& r;
    io_direction dir;
    std::uint64_t seen;
    task_cell* registered = nullptr;

    bool await_ready() {
      std::lock_guard lock(r.mu_);
      return r.seq_[index(dir)] != seen;
    }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> caller) {
      task_cell* self = current_task_or_panic("socket readiness", wait_kind::io, caller);
      std::lock_guard lock(r.mu_);
      if (r.seq_[index(dir)] != seen) return false;
      if (r.waiter_[index(dir)]) panic("socket", "two tasks wait on the same socket in the same direction");
      r.waiter_[index(dir)] = registered = self;
      return true;
    }
    void await_resume() noexcept { registered = nullptr; }
    ~awaiter() {  // cancelled while waiting: unlink under the lock the waker takes
      if (!registered) return;
      std::lock_guard lock(r.mu_);
      if (r.waiter_[index(dir)] == registered) r.waiter_[index(dir)] = nullptr;
    }
  };
  awaiter wait(io_direction d, std::uint64_t seen) { return awaiter{*this, d, seen}; }

  /// From the epoll owner: record events and wake the waiters they concern.
  void on_events(std::uint32_t events) noexcept {
    std::lock_guard lock(mu_);
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) signal(0);
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) signal(1);
  }

  epoll_driver* owner = nullptr;

 private:
  static int index(io_direction d) noexcept { return static_cast<int>(d); }
  void signal(int i) noexcept {
    ++seq_[i];
    if (task_cell* w = waiter_[i]) {
      waiter_[i] = nullptr;
      wake(w);
    }
  }

  std::mutex mu_;
  std::array<std::uint64_t, 2> seq_{};
  std::array<task_cell*, 2> waiter_{};
};

/// Something an epoll event is delivered to other than a socket's readiness record: a
/// watched fd (reactor::watch_readable). Its epoll data is its address with the low bit set.
struct epoll_target {
  void (*on_event)(epoll_target* self, std::uint32_t events) noexcept;
};

class epoll_driver {
 public:
  static result<std::unique_ptr<epoll_driver>> create() {
    std::unique_ptr<epoll_driver> d(new epoll_driver());
    d->epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (d->epfd_ < 0) return err(error::from_errno(errno, "epoll_create1"));
    d->efd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (d->efd_ < 0) return err(error::from_errno(errno, "eventfd"));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the wake-up fd
    if (::epoll_ctl(d->epfd_, EPOLL_CTL_ADD, d->efd_, &ev) < 0) return err(error::from_errno(errno, "epoll_ctl"));
    d->owner_ = std::this_thread::get_id();
    return d;
  }

  epoll_driver(const epoll_driver&) = delete;
  epoll_driver& operator=(const epoll_driver&) = delete;
  ~epoll_driver() {
    free_retired();
    if (efd_ >= 0) ::close(efd_);
    if (epfd_ >= 0) ::close(epfd_);
  }

  /// Registers a non-blocking fd (edge-triggered, both directions) with this worker's epoll.
  result<std::unique_ptr<readiness>> register_fd(int fd) {
    auto r = std::make_unique<readiness>();
    r->owner = this;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = r.get();
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) return err(error::from_errno(errno, "epoll_ctl"));
    registered_.fetch_add(1, std::memory_order_relaxed);
    registrations_.add();
    return r;
  }

  /// Unregisters `fd` and frees `r` once no event batch can still mention it (any thread; the
  /// fd must still be open).
  void deregister(int fd, std::unique_ptr<readiness> r) {
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    registered_.fetch_sub(1, std::memory_order_relaxed);
    std::lock_guard lock(retired_mu_);
    retired_.push_back(std::move(r));
  }

  /// Registers `fd` level-triggered for reading; each epoll_wait that finds it readable calls
  /// `target` (owner thread). It stays registered until this driver is destroyed.
  result<void> watch_readable(int fd, epoll_target* target) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = reinterpret_cast<std::uint64_t>(target) | target_tag;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) return err(error::from_errno(errno, "epoll_ctl"));
    registered_.fetch_add(1, std::memory_order_relaxed);  // so that poll() looks at it
    registrations_.add();
    return ok();
  }

  void flush() noexcept {}

  /// Hands out the readiness events that are there, without blocking. With no fd registered
  /// there can be none (the wake-up eventfd matters only to wait(), and records retired
  /// meanwhile are freed by the next wait()), so the system call is skipped: a busy worker
  /// polls every `fairness_interval` tasks (skynet_100M over epoll, 3 alternating runs: 2
  /// workers 25.7-34.7 -> 20.9-23.6 ns per task, 1 worker 43.1-45.8 -> 38.4-43.6).
  void poll() noexcept {
    if (registered_.load(std::memory_order_relaxed) == 0) return;
    run(0);
  }
  void wait(std::int64_t timeout_ns) noexcept {
    const int ms = timeout_ns < 0 ? -1 : static_cast<int>((timeout_ns + 999'999) / 1'000'000);
    run(ms);
  }
  void unpark() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(efd_, &one, sizeof one);
  }

  /// How many times this driver has called epoll_wait (for tests).
  std::uint64_t epoll_waits() const noexcept { return epoll_waits_; }

  /// Descriptors registered, readiness events handed out, and epoll_wait calls so far (any
  /// thread; see owned_counter). An event may be an internal wake-up's.
  io_counts counts() const noexcept { return {registrations_.get(), events_.get(), epoll_waits_counter_.get()}; }

 private:
  epoll_driver() = default;

  void run(int timeout_ms) noexcept {
    epoll_event events[128];
    ++epoll_waits_;
    epoll_waits_counter_.add();
    const int n = ::epoll_wait(epfd_, events, 128, timeout_ms);
    if (n > 0) events_.add(static_cast<std::uint64_t>(n));
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 & target_tag) {
        auto* t = reinterpret_cast<epoll_target*>(events[i].data.u64 & ~target_tag);
        t->on_event(t, events[i].events);
      } else if (auto* r = static_cast<readiness*>(events[i].data.ptr)) {
        r->on_events(events[i].events);
      } else {
        std::uint64_t drained = 0;
        [[maybe_unused]] auto k = ::read(efd_, &drained, sizeof drained);
      }
    }
    free_retired();  // after the batch: no event of this batch can refer to them any more
  }

  void free_retired() noexcept {
    std::vector<std::unique_ptr<readiness>> batch;
    {
      std::lock_guard lock(retired_mu_);
      batch.swap(retired_);
    }
  }

  // Tags an epoll_target's address in epoll data (readiness records are 8-aligned, the
  // wake-up eventfd is null).
  static constexpr std::uint64_t target_tag = 1;

  int epfd_ = -1;
  int efd_ = -1;
  std::atomic<std::size_t> registered_{0};  // fds registered and not yet deregistered (any thread)
  std::uint64_t epoll_waits_ = 0;
  owned_counter registrations_;
  owned_counter events_;
  owned_counter epoll_waits_counter_;
  std::thread::id owner_;
  std::mutex retired_mu_;
  std::vector<std::unique_ptr<readiness>> retired_;
};

}  // namespace polarway::detail
