// The io_uring half of a worker's reactor: one ring per worker, created on that worker's
// thread and touched only by it (IORING_SETUP_SINGLE_ISSUER; DEFER_TASKRUN where the kernel has
// it, so completions are processed only when the worker asks, in batches). Flags are probed by
// stripping them one at a time on EINVAL.
//
// Submissions queue up in the SQ ring and go to the kernel when the worker runs out of tasks,
// every `fairness_interval` tasks (poll), or when it waits; a poll with nothing to submit enters
// the kernel only if it may have completions to hand over (see poll()). Another worker wakes
// this one ring to ring (IORING_OP_MSG_RING from its own ring); any other thread writes an
// eventfd whose read is kept armed in the ring (unpark; bench/wake_bench measured the MSG_RING
// path at less than half the eventfd's cost on this project's 2-core VM). A thread asks the
// owner to cancel an operation through a locked list plus that wake-up (post_cancel): only the
// owner may submit to its ring.
#pragma once

#include <liburing.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <bitset>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "polarway/detail/io_counts.hpp"
#include "polarway/detail/io_op.hpp"
#include "polarway/error.hpp"
#include "polarway/result.hpp"

namespace polarway::detail {

/// Something a CQE is delivered to (the user_data of its SQE), for operations that are not a
/// plain io_op (the wake-up read, multishot accept). A plain io_op's user_data is its address
/// with the low bit set.
struct uring_target {
  void (*on_cqe)(uring_target* self, int res, std::uint32_t flags) noexcept;
};

class uring_driver {
 public:
  /// Creates a ring on the calling thread. Errors: EPERM/ENOSYS (io_uring not allowed) and the
  /// like, with the context "io_uring_setup".
  static result<std::unique_ptr<uring_driver>> create(unsigned entries = 256) {
    std::unique_ptr<uring_driver> d(new uring_driver());
    io_uring_params params{};
    params.cq_entries = entries * 16;  // room for multishot accept bursts
    unsigned flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
                     IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    // Strip the newest flags first until the kernel accepts the set (TASKRUN_FLAG before
    // COOP_TASKRUN, without which, or DEFER_TASKRUN, it is refused).
    const unsigned optional[] = {IORING_SETUP_DEFER_TASKRUN, IORING_SETUP_SINGLE_ISSUER, IORING_SETUP_TASKRUN_FLAG,
                                 IORING_SETUP_COOP_TASKRUN, IORING_SETUP_SUBMIT_ALL};
    int rc = -EINVAL;
    for (std::size_t strip = 0; strip <= std::size(optional); ++strip) {
      params.flags = flags;
      rc = io_uring_queue_init_params(entries, &d->ring_, &params);
      if (rc != -EINVAL || strip == std::size(optional)) break;
      flags &= ~optional[strip];
    }
    if (rc < 0) return err(error::from_errno(-rc, "io_uring_setup"));
    d->ring_ok_ = true;
    d->flags_ = flags;
    // The probe came in Linux 5.6, with operations this backend cannot do without (read for
    // the wake-up eventfd, send, recv): a ring that cannot be probed, or lacks one of those, is
    // refused, and the runtime uses epoll instead (unless io_uring was demanded).
    io_uring_probe* probe = io_uring_get_probe_ring(&d->ring_);
    if (!probe) return err(error::from_errno(ENOSYS, "io_uring_probe (the io_uring backend needs Linux 5.6)"));
    for (int op = 0; op < IORING_OP_LAST; ++op)
      if (io_uring_opcode_supported(probe, op)) d->supported_ops_.set(static_cast<std::size_t>(op));
    io_uring_free_probe(probe);
    for (io_uring_op op : {IORING_OP_READ, IORING_OP_SEND, IORING_OP_RECV, IORING_OP_ACCEPT, IORING_OP_CONNECT,
                           IORING_OP_ASYNC_CANCEL, IORING_OP_TIMEOUT})
      if (!d->supports(op))
        return err(error::from_errno(ENOSYS, "io_uring: an operation the backend needs (Linux 5.6) is missing"));
    d->owner_ = std::this_thread::get_id();
    d->efd_ = ::eventfd(0, EFD_CLOEXEC);
    if (d->efd_ < 0) return err(error::from_errno(errno, "eventfd"));
    d->arm_wakeup();
    this_thread_ring() = d.get();
    return d;
  }

  uring_driver(const uring_driver&) = delete;
  uring_driver& operator=(const uring_driver&) = delete;
  ~uring_driver() {
    if (this_thread_ring() == this) this_thread_ring() = nullptr;
    if (ring_ok_) io_uring_queue_exit(&ring_);
    if (efd_ >= 0) ::close(efd_);
  }

  unsigned setup_flags() const noexcept { return flags_; }

  /// Whether this kernel's io_uring has the operation (probed when the ring was created).
  /// File operations it lacks run on the blocking pool instead (detail/file_call.hpp).
  bool supports(io_uring_op opcode) const noexcept { return supported_ops_.test(static_cast<std::size_t>(opcode)); }
  /// Whether accept takes IORING_ACCEPT_MULTISHOT (Linux 5.19). No probe says so; the socket
  /// operation came in the same release, and the probe lists that.
  bool has_multishot_accept() const noexcept { return supports(IORING_OP_SOCKET); }
  /// For tests: from now on, behave as on a kernel without `opcode`.
  void forget_op(io_uring_op opcode) noexcept { supported_ops_.reset(static_cast<std::size_t>(opcode)); }

  /// Whether recv/send take IORING_RECVSEND_POLL_FIRST (Linux 5.19). No feature bit says so;
  /// SINGLE_ISSUER (6.0) being accepted implies it.
  bool has_poll_first() const noexcept { return flags_ & IORING_SETUP_SINGLE_ISSUER; }

  /// A free SQE (owner only); submits what is queued if the ring is full.
  io_uring_sqe* sqe() noexcept {
    io_uring_sqe* s = io_uring_get_sqe(&ring_);
    while (!s) {
      kernel_entries_.add();
      io_uring_submit(&ring_);
      s = io_uring_get_sqe(&ring_);
    }
    ++pending_;
    submissions_.add();
    return s;
  }

  /// Queues `op` with a prepared SQE; the CQE completes it.
  template <class Prep>
  void submit(io_op* op, task_cell* cell, Prep&& prep) noexcept {
    op->arm(cell, io_op::canceller{&request_cancel, this});
    io_uring_sqe* s = sqe();
    prep(s);
    io_uring_sqe_set_data64(s, op_key(op));
  }

  /// Queues an SQE whose completions go to `target` (e.g. a multishot accept), counted until
  /// its last CQE (the one without IORING_CQE_F_MORE).
  template <class Prep>
  void submit_target(uring_target* target, Prep&& prep) noexcept {
    io_uring_sqe* s = sqe();
    prep(s);
    io_uring_sqe_set_data(s, target);
    ++targets_;
    ++targets_submitted_;
  }

  /// Arms a one-shot readiness poll of `fd` (POLLIN) whose CQE goes to `target`; the target
  /// re-arms it to keep watching (reactor::watch_readable).
  void poll_target(uring_target* target, int fd) noexcept {
    submit_target(target, [fd](io_uring_sqe* s) { io_uring_prep_poll_add(s, fd, POLLIN); });
  }

  /// How many submit_target() calls this ring has had (for tests and diagnostics).
  std::uint64_t targets_submitted() const noexcept { return targets_submitted_; }

  /// Before the worker exits: cancel what is still armed (a multishot accept of a listener
  /// that outlives the runtime) and wait, boundedly, for the last CQEs, so that what those
  /// operations own is released through their normal completion path rather than leaked with
  /// the ring.
  void quiesce() noexcept {
    if (targets_ > 0) {
      io_uring_sqe* s = sqe();
      io_uring_prep_cancel64(s, 0, IORING_ASYNC_CANCEL_ANY);
      io_uring_sqe_set_data(s, nullptr);
    }
    for (int i = 0; i < 100 && targets_ > 0; ++i) wait(10'000'000);
  }

  /// Sends what is queued to the kernel (one syscall, none if nothing is queued).
  void flush() noexcept {
    if (pending_) {
      pending_ = 0;
      kernel_entries_.add();
      io_uring_submit(&ring_);
    }
  }

  /// Processes whatever completions are ready, without blocking.
  ///
  /// A busy worker polls every `fairness_interval` tasks, and a system call each time cost
  /// 10-20% of fork-join and yield-heavy workloads (alternating runs of skynet_100M on 2
  /// workers: about 26 -> 23 ns per task without it). With DEFER_TASKRUN (or COOP_TASKRUN)
  /// the kernel posts completions only when the worker enters it; TASKRUN_FLAG makes it say,
  /// in the shared SQ ring flags, when it has such work. So the kernel is entered when there
  /// is something to submit, when it has said so, and, as a bound on anything it may not have
  /// flagged, at least every `enter_at_least_every` polls. (It hands over about 20 completions
  /// per entry; what it leaves for the next entry stays flagged: uring_driver_poll_test's
  /// burst of 96 takes 5 polls on Linux 6.18.) Without TASKRUN_FLAG (before Linux 5.19) every
  /// poll enters.
  void poll() noexcept {
    take_remote_cancels();
    if (pending_ == 0 && !time_to_enter()) {
      drain();  // anything posted without task work
      return;
    }
    pending_ = 0;
    ++poll_entries_;
    kernel_entries_.add();
    io_uring_submit_and_get_events(&ring_);
    entered_and_drained();
  }

  /// How many times poll() has entered the kernel (for tests).
  std::uint64_t poll_entries() const noexcept { return poll_entries_; }

  /// SQEs queued, CQEs handed out, and io_uring_enter calls so far (any thread; see
  /// owned_counter). A CQE may be an internal wake-up rather than an operation's.
  io_counts counts() const noexcept { return {submissions_.get(), completions_.get(), kernel_entries_.get()}; }

  /// Blocks until a completion, an unpark(), or `timeout_ns` (negative: no limit).
  void wait(std::int64_t timeout_ns) noexcept {
    take_remote_cancels();
    pending_ = 0;
    io_uring_cqe* cqe = nullptr;
    kernel_entries_.add();
    if (timeout_ns < 0) {
      io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, nullptr, nullptr);
    } else {
      __kernel_timespec ts{};
      ts.tv_sec = timeout_ns / 1'000'000'000;
      ts.tv_nsec = timeout_ns % 1'000'000'000;
      io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
    }
    entered_and_drained();
  }

  /// Wakes the owner if it waits (any thread): ring to ring from a thread that owns another
  /// ring (a worker), else through the eventfd.
  void unpark() noexcept {
    uring_driver* mine = this_thread_ring();
    if (mine && mine != this && mine->has_msg_ring()) mine->unpark_via_msg_ring(*this);
    else unpark_via_eventfd();
  }

  void unpark_via_eventfd() noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(efd_, &one, sizeof one);
  }

  /// Wakes `target`'s owner with an IORING_OP_MSG_RING sent from this ring (owner of this ring
  /// only): a CQE posted straight into the target ring, with no eventfd read to re-arm there.
  /// Submitted at once, since the target may be asleep. Should the kernel refuse it, the
  /// failure CQE (tagged with msg_ring_failed_tag) makes drain() fall back to the eventfd.
  void unpark_via_msg_ring(uring_driver& target) noexcept {
    io_uring_sqe* s = sqe();
    io_uring_prep_msg_ring(s, target.ring_.ring_fd, 0, target_key(&target.msg_wakeup_target_), 0);
    io_uring_sqe_set_data64(s, reinterpret_cast<std::uint64_t>(&target) | msg_ring_failed_tag);
    s->flags |= IOSQE_CQE_SKIP_SUCCESS;  // a CQE on this ring only if it failed
    flush();
  }

  /// IORING_OP_MSG_RING (5.18) and IOSQE_CQE_SKIP_SUCCESS (5.17): implied by SINGLE_ISSUER (6.0).
  bool has_msg_ring() const noexcept { return flags_ & IORING_SETUP_SINGLE_ISSUER; }

  /// Submits a cancellation of the SQE whose user_data was `key` (owner only).
  void cancel_now(std::uint64_t key) noexcept {
    io_uring_sqe* s = sqe();
    io_uring_prep_cancel64(s, key, 0);
    io_uring_sqe_set_data(s, nullptr);  // its own CQE is of no interest
  }
  static std::uint64_t op_key(io_op* op) noexcept { return reinterpret_cast<std::uint64_t>(op) | 1; }
  static std::uint64_t target_key(uring_target* t) noexcept { return reinterpret_cast<std::uint64_t>(t); }

  /// Asks the owner to cancel the SQE whose user_data was `key` (any thread). The owner
  /// calls settle(ctx) once it has, so the requester knows no request is in flight, and wakes
  /// `keep_alive`'s task so that it looks again.
  void post_cancel(std::uint64_t key, void (*settle)(void*) noexcept, void* ctx, task_cell* keep_alive) {
    if (keep_alive) keep_alive->ref();
    {
      std::lock_guard lock(remote_mu_);
      remote_.push_back({key, settle, ctx, keep_alive});
    }
    has_remote_.store(true, std::memory_order_release);
    unpark();
  }

  /// Whether the calling thread owns this ring.
  bool owned_by_caller() const noexcept { return std::this_thread::get_id() == owner_; }

 private:
  uring_driver() = default;

  // user_data tags: an io_op's address | 1; a driver's address | 2 for a failed MSG_RING
  // wake-up sent to it; a uring_target's address as it is (all are at least 4-aligned).
  static constexpr std::uint64_t msg_ring_failed_tag = 2;

  /// The ring owned by the calling thread, if any (set by create(), on the owner's thread).
  static uring_driver*& this_thread_ring() noexcept {
    static thread_local uring_driver* ring = nullptr;
    return ring;
  }

  struct remote_cancel {
    std::uint64_t key;
    void (*settle)(void*) noexcept;
    void* ctx;
    task_cell* keep_alive;
  };

  static bool request_cancel(void* self, io_op* op) noexcept {
    auto* d = static_cast<uring_driver*>(self);
    if (d->owned_by_caller()) {
      d->cancel_now(op_key(op));
      return false;  // the op's own CQE (-ECANCELED or its result) wakes the task
    }
    op->expect_settle();
    d->post_cancel(op_key(op), [](void* p) noexcept { static_cast<io_op*>(p)->settle_cancel(); }, op, op->cell());
    return false;
  }

  void take_remote_cancels() noexcept {
    if (!has_remote_.load(std::memory_order_acquire)) return;
    std::vector<remote_cancel> batch;
    {
      std::lock_guard lock(remote_mu_);
      batch.swap(remote_);
      has_remote_.store(false, std::memory_order_relaxed);
    }
    for (const remote_cancel& r : batch) {
      cancel_now(r.key);  // harmless (-ENOENT) if it completed meanwhile
      if (r.settle) r.settle(r.ctx);
      if (r.keep_alive) {
        wake(r.keep_alive);  // let the task see the settled state
        r.keep_alive->unref();
      }
    }
  }

  void arm_wakeup() noexcept {
    io_uring_sqe* s = sqe();
    io_uring_prep_read(s, efd_, &efd_buf_, sizeof efd_buf_, 0);
    io_uring_sqe_set_data(s, &wakeup_target_);
  }

  static constexpr unsigned enter_at_least_every = 8;

  // For a poll with nothing to submit: whether to enter the kernel. Counts the polls that do
  // not, for the periodic entry.
  bool time_to_enter() noexcept {
    if (!(flags_ & IORING_SETUP_TASKRUN_FLAG)) return true;
    if (IO_URING_READ_ONCE(*ring_.sq.kflags) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) return true;
    return ++polls_without_entry_ >= enter_at_least_every;
  }

  // After an entry into the kernel: hands over the completions.
  void entered_and_drained() noexcept {
    polls_without_entry_ = 0;
    drain();
  }

  // Hands every posted completion to its operation.
  void drain() noexcept {
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      const std::uint64_t key = io_uring_cqe_get_data64(cqe);
      if ((key & 3) == msg_ring_failed_tag) {
        reinterpret_cast<uring_driver*>(key & ~std::uint64_t{3})->unpark_via_eventfd();
      } else if (key & 1) {
        reinterpret_cast<io_op*>(key & ~std::uint64_t{1})->complete(cqe->res, cqe->flags);
      } else if (auto* t = reinterpret_cast<uring_target*>(key)) {
        if (t == &wakeup_target_) {
          arm_wakeup();
        } else if (t == &msg_wakeup_target_) {
          // a wake-up sent by unpark_via_msg_ring: nothing to re-arm
        } else {
          if (!(cqe->flags & IORING_CQE_F_MORE)) --targets_;
          t->on_cqe(t, cqe->res, cqe->flags);
        }
      }
    }
    io_uring_cq_advance(&ring_, seen);
    completions_.add(seen);
  }

  io_uring ring_{};
  bool ring_ok_ = false;
  unsigned flags_ = 0;
  std::uint64_t targets_submitted_ = 0;
  std::bitset<IORING_OP_LAST> supported_ops_;  // from io_uring_probe
  int efd_ = -1;
  std::uint64_t efd_buf_ = 0;
  uring_target wakeup_target_{nullptr};
  uring_target msg_wakeup_target_{nullptr};
  unsigned pending_ = 0;
  unsigned polls_without_entry_ = 0;
  std::uint64_t poll_entries_ = 0;
  owned_counter submissions_;
  owned_counter completions_;
  owned_counter kernel_entries_;
  int targets_ = 0;
  std::thread::id owner_;
  std::mutex remote_mu_;
  std::vector<remote_cancel> remote_;
  std::atomic<bool> has_remote_{false};
};

}  // namespace polarway::detail
