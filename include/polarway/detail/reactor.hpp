// A worker's reactor: its io_uring ring, or its epoll set when io_uring is unavailable, behind
// one small interface the scheduler drives (flush submissions each tick, poll for completions
// while busy, wait when idle, be unparked by other threads). Operations themselves talk to the
// backend directly (net/ and fs/ branch on kind()).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "polarway/detail/epoll_driver.hpp"
#include "polarway/detail/uring_driver.hpp"
#include "polarway/error.hpp"
#include "polarway/result.hpp"
#include "polarway/runtime/backend_kind.hpp"

namespace polarway::detail {

/// Reads POLARWAY_BACKEND: unset or empty means "io_uring if the kernel allows it".
inline result<option<backend_kind>> backend_from_env() {
  const char* env = std::getenv("POLARWAY_BACKEND");
  if (!env || !*env) return option<backend_kind>();
  const std::string_view v(env);
  if (v == "io_uring") return option<backend_kind>(backend_kind::io_uring);
  if (v == "epoll") return option<backend_kind>(backend_kind::epoll);
  return err(error(errc::invalid_input, "POLARWAY_BACKEND: expected io_uring or epoll"));
}

class reactor {
 public:
  /// A reactor of the preferred kind, or an epoll one if io_uring cannot be set up (and
  /// io_uring was not demanded).
  static result<std::unique_ptr<reactor>> create(backend_kind preferred, bool demanded) {
    std::unique_ptr<reactor> r(new reactor());
    if (preferred == backend_kind::io_uring) {
      auto ring = uring_driver::create();
      if (ring) {
        r->kind_ = backend_kind::io_uring;
        r->uring_ = std::move(*ring);
        return r;
      }
      if (demanded) return err(ring.error());
      r->fallback_reason_ = ring.error();
    }
    auto ep = epoll_driver::create();
    if (!ep) return err(ep.error());
    r->kind_ = backend_kind::epoll;
    r->epoll_ = std::move(*ep);
    return r;
  }

  backend_kind kind() const noexcept { return kind_; }
  uring_driver& uring() noexcept { return *uring_; }
  epoll_driver& epoll() noexcept { return *epoll_; }
  /// Why io_uring was not used, when it was preferred but unavailable.
  const option<error>& fallback_reason() const noexcept { return fallback_reason_; }

  void flush() noexcept {
    if (uring_) uring_->flush();
  }
  void poll() noexcept {
    if (uring_) uring_->poll();
    else epoll_->poll();
  }
  void wait(std::int64_t timeout_ns) noexcept {
    if (uring_) uring_->wait(timeout_ns);
    else epoll_->wait(timeout_ns);
  }
  /// Before the worker exits (see uring_driver::quiesce).
  void quiesce() noexcept {
    if (uring_) uring_->quiesce();
    else epoll_->poll();
  }
  void unpark() noexcept {
    if (uring_) uring_->unpark();
    else epoll_->unpark();
  }
  /// What the backend has done so far (any thread; see io_counts.hpp).
  io_counts counts() const noexcept { return uring_ ? uring_->counts() : epoll_->counts(); }

  /// Calls `on_readable(ctx)` on this worker whenever `fd` is readable, for as long as the
  /// reactor lives (owner thread only). Level-triggered: `on_readable` must drain `fd`, or it
  /// is called again at the next poll. Used for the signal pipe (signal/signal.hpp).
  result<void> watch_readable(int fd, void (*on_readable)(void*) noexcept, void* ctx) {
    auto w = std::make_unique<fd_watch>();
    w->on_cqe = &fd_watch::from_ring;
    w->on_event = &fd_watch::from_epoll;
    w->fd = fd;
    w->on_readable = on_readable;
    w->ctx = ctx;
    w->ring = uring_.get();
    if (uring_) {
      uring_->poll_target(w.get(), fd);
    } else {
      auto r = epoll_->watch_readable(fd, w.get());
      if (!r) return r;
    }
    w->armed = true;
    watches_.push_back(std::move(w));
    return ok();
  }

  /// Whether this reactor watches `fd` (owner thread only).
  bool watches(int fd) const noexcept {
    for (const auto& w : watches_)
      if (w->fd == fd && w->armed) return true;
    return false;
  }

 private:
  reactor() = default;

  // One watch_readable registration: a one-shot poll re-armed after each completion on
  // io_uring, a level-triggered registration on epoll.
  struct fd_watch : uring_target, epoll_target {
    int fd = -1;
    void (*on_readable)(void*) noexcept = nullptr;
    void* ctx = nullptr;
    uring_driver* ring = nullptr;
    bool armed = false;

    static void from_ring(uring_target* t, int res, std::uint32_t) noexcept {
      auto* w = static_cast<fd_watch*>(t);
      if (res < 0) {  // cancelled as the worker exits (quiesce), or the fd is unusable
        w->armed = false;
        return;
      }
      w->on_readable(w->ctx);
      w->ring->poll_target(w, w->fd);
    }
    static void from_epoll(epoll_target* t, std::uint32_t) noexcept {
      auto* w = static_cast<fd_watch*>(t);
      w->on_readable(w->ctx);
    }
  };

  // Destroyed after the drivers (declared before them): a ring's last CQEs may still name them.
  std::vector<std::unique_ptr<fd_watch>> watches_;
  backend_kind kind_ = backend_kind::epoll;
  std::unique_ptr<uring_driver> uring_;
  std::unique_ptr<epoll_driver> epoll_;
  option<error> fallback_reason_;
};

}  // namespace polarway::detail
