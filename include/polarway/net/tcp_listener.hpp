// pw::net::tcp_listener: a listening TCP socket. On io_uring, accepting uses one multishot
// accept armed on the ring of the worker that first awaits accept(): the kernel keeps posting
// accepted connections, which go straight to a waiting task or into a short queue. When the
// queue reaches `backlog_cap` the multishot is cancelled, and re-armed once tasks have drained
// the queue, so nothing queues without bound. A kernel without multishot accept (before Linux
// 5.19) gets one single-shot accept per connection instead, re-armed while tasks wait. On
// epoll, accept4 is retried on readiness.
//
// accept() is cancel-safe: a task aborted while waiting takes no connection with it; a
// connection accepted after that stays queued for the next accept(). A listener may outlive the
// runtime's shutdown() (its multishot accept is cancelled when the workers stop), but, like
// every I/O object, not the runtime object itself.
#pragma once

#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <mutex>

#include "polarway/detail/io_awaiters.hpp"
#include "polarway/detail/socket.hpp"
#include "polarway/detail/uring_driver.hpp"
#include "polarway/error.hpp"
#include "polarway/net/socket_addr.hpp"
#include "polarway/net/tcp_stream.hpp"
#include "polarway/result.hpp"
#include "polarway/task.hpp"

namespace polarway::net {

namespace detail_listener {

namespace d = polarway::detail;

// What the multishot accept delivers to, shared by the listener and the in-flight operation:
// freed when both are done with it.
class accept_queue : public d::uring_target {
 public:
  static constexpr std::size_t backlog_cap = 1024;

  explicit accept_queue(int listen_fd) noexcept : d::uring_target{&on_cqe}, listen_fd_(listen_fd) {}

  // A task waiting for a connection: the queue fills `fd` (or `error`) and wakes `cell`.
  struct waiter {
    d::task_cell* cell = nullptr;
    int fd = -1;
    int error = 0;
    waiter* next = nullptr;
    bool linked = false;
  };

  /// Takes a queued connection (>= 0), or -errno for a queued error, or -EAGAIN if none: then
  /// arms the multishot on the current ring if needed, and links `w` (under the same lock).
  int take_or_wait(waiter* w, d::uring_driver& ring) {
    std::lock_guard lock(mu_);
    if (!ready_.empty()) {
      const int fd = ready_.front();
      ready_.pop_front();
      return fd;
    }
    if (pending_error_) return -std::exchange(pending_error_, 0);
    if (!armed_ && !closing_) arm(ring);
    w->linked = true;
    w->next = nullptr;
    if (tail_) tail_->next = w;
    else head_ = w;
    tail_ = w;
    return -EAGAIN;
  }

  /// Unlinks a waiter that is being destroyed before it was served.
  void forget(waiter* w) {
    std::lock_guard lock(mu_);
    if (!w->linked) return;
    waiter** p = &head_;
    waiter* prev = nullptr;
    while (*p && *p != w) {
      prev = *p;
      p = &(*p)->next;
    }
    if (*p) {
      *p = w->next;
      if (tail_ == w) tail_ = prev;
    }
    w->linked = false;
  }

  /// A connection handed to a waiter that was aborted before it ran goes back to the front of
  /// the queue, for the next accept().
  void give_back(int fd) {
    std::lock_guard lock(mu_);
    if (closing_) ::close(fd);
    else ready_.push_front(fd);
  }

  /// The listener goes away: stop the multishot (on its own ring) and drop our reference.
  void close() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      if (armed_) {
        if (armed_on_->owned_by_caller()) armed_on_->cancel_now(d::uring_driver::target_key(this));
        else armed_on_->post_cancel(d::uring_driver::target_key(this), nullptr, nullptr, nullptr);
      }
    }
    release();
  }

  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  ~accept_queue() {
    for (int fd : ready_) ::close(fd);
  }

  static void on_cqe(d::uring_target* self, int res, std::uint32_t flags) noexcept {
    static_cast<accept_queue*>(self)->deliver(res, flags);
  }

  void deliver(int res, std::uint32_t flags) noexcept {
    const bool more = (flags & IORING_CQE_F_MORE) != 0;
    {
      std::lock_guard lock(mu_);
      if (res >= 0) {
        if (closing_) ::close(res);
        else if (waiter* w = pop_waiter()) serve(w, res, 0);
        else ready_.push_back(res);
        if (more && !closing_ && ready_.size() >= backlog_cap) armed_on_->cancel_now(d::uring_driver::target_key(this));
      } else if (res != -ECANCELED && !closing_) {
        // A real accept error (EMFILE, ENFILE, ...): give it to a waiter, or keep it for the next.
        if (waiter* w = pop_waiter()) serve(w, -1, -res);
        else pending_error_ = -res;
      }
      if (!more) armed_ = false;
      // The accept ended (a single-shot one after its connection; a multishot one cancelled,
      // or on an error): re-arm for the waiters still here.
      if (!more && !closing_ && head_) arm(*armed_on_);
    }
    if (!more) release();
  }

  // Under mu_: one accept on `ring` for this queue, holding a reference until its last CQE.
  // Multishot where the kernel has it (Linux 5.19); before, one connection per operation,
  // re-armed by deliver() while tasks wait (and connections wait in the kernel's backlog).
  void arm(d::uring_driver& ring) {
    armed_ = true;
    armed_on_ = &ring;
    refs_.fetch_add(1, std::memory_order_relaxed);
    ring.submit_target(this, [fd = listen_fd_, multishot = ring.has_multishot_accept()](io_uring_sqe* sqe) {
      if (multishot)
        io_uring_prep_multishot_accept(sqe, fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      else
        io_uring_prep_accept(sqe, fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    });
  }

  waiter* pop_waiter() noexcept {
    waiter* w = head_;
    if (!w) return nullptr;
    head_ = w->next;
    if (!head_) tail_ = nullptr;
    w->linked = false;
    return w;
  }
  static void serve(waiter* w, int fd, int error) noexcept {
    w->fd = fd;
    w->error = error;
    d::wake(w->cell);  // under the queue lock, which forget() takes
  }

  const int listen_fd_;
  std::mutex mu_;
  std::deque<int> ready_;
  int pending_error_ = 0;
  waiter* head_ = nullptr;
  waiter* tail_ = nullptr;
  bool armed_ = false;
  bool closing_ = false;
  d::uring_driver* armed_on_ = nullptr;
  std::atomic<int> refs_{1};  // the listener's
};

}  // namespace detail_listener

class tcp_listener {
 public:
  tcp_listener() noexcept = default;
  tcp_listener(tcp_listener&& o) noexcept : fd_(std::move(o.fd_)), queue_(std::exchange(o.queue_, nullptr)) {}
  tcp_listener& operator=(tcp_listener&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::move(o.fd_);
      queue_ = std::exchange(o.queue_, nullptr);
    }
    return *this;
  }
  ~tcp_listener() { reset(); }

  /// Binds and listens on `addr` ("127.0.0.1:0" picks a free port).
  static result<tcp_listener> bind(std::string_view addr) {
    auto parsed = socket_addr::parse(addr);
    if (!parsed) return err(parsed.error());
    return bind(*parsed);
  }

  static result<tcp_listener> bind(const socket_addr& addr) {
    constexpr const char* what = "tcp_listener::bind";
    const int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return err(error::from_errno(errno, what));
    tcp_listener l;
    l.fd_ = detail::socket_fd(fd);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, addr.native(), addr.native_len()) < 0) return err(error::from_errno(errno, what));
    if (::listen(fd, 1024) < 0) return err(error::from_errno(errno, "tcp_listener::listen"));
    return l;
  }

  /// The address the listener is bound to (with the port the kernel chose for port 0).
  result<socket_addr> local_addr() const {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&ss), &len) < 0)
      return err(error::from_errno(errno, "tcp_listener::local_addr"));
    return socket_addr::from_native(reinterpret_cast<sockaddr*>(&ss), len);
  }

  /// Waits for the next connection.
  task<result<tcp_stream>> accept() {
    constexpr const char* what = "tcp_listener::accept";
    auto& reactor = detail::current_reactor(what);
    if (reactor.kind() == backend_kind::io_uring) {
      if (!queue_) queue_ = new detail_listener::accept_queue(fd_.get());
      accept_awaiter aw{queue_, &reactor.uring()};
      co_await aw;
      if (aw.w.fd < 0) co_return err(error::from_errno(aw.w.error, what));
      co_return tcp_stream(detail::socket_fd(aw.w.fd));
    }
    auto accepted = co_await detail::socket_call(
        fd_, detail::io_direction::read,
        [fd = fd_.get()] {
          const int c = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          return c >= 0 ? c : -errno;
        },
        [](io_uring_sqe*) {}, what);
    if (!accepted) co_return err(accepted.error());
    co_return tcp_stream(detail::socket_fd(static_cast<int>(*accepted)));
  }

  int native_handle() const noexcept { return fd_.get(); }

 private:
  struct accept_awaiter {
    detail_listener::accept_queue* q;
    detail::uring_driver* ring;
    detail_listener::accept_queue::waiter w{};

    bool await_ready() noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> caller) {
      w.cell = detail::current_task_or_panic("tcp_listener::accept");
      w.cell->resume_point = caller;
      const int r = q->take_or_wait(&w, *ring);
      if (r == -EAGAIN) return true;
      if (r >= 0) w.fd = r;
      else w.error = -r;
      if (detail::coop_consume()) return false;
      w.cell->transition_to_notified();  // ready, but out of budget: yield first
      return true;
    }
    void await_resume() noexcept { taken = true; }
    ~accept_awaiter() {
      q->forget(&w);
      if (!taken && w.fd >= 0) q->give_back(w.fd);  // aborted after being served: keep the connection
    }
    bool taken = false;
  };

  void reset() noexcept {
    if (queue_) std::exchange(queue_, nullptr)->close();
    fd_.close();
  }

  detail::socket_fd fd_;
  detail_listener::accept_queue* queue_ = nullptr;
};

}  // namespace polarway::net
