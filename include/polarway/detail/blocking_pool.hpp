// The runtime's one pool of threads for work that would block a worker: the closures of
// pw::spawn_blocking, and the file operations the reactor cannot wait for (all of them on the
// epoll backend; on io_uring, those the kernel's ring lacks).
//
// Threads are started on demand: a job that finds no idle thread starts one, up to
// `max_threads`; beyond that, jobs wait in FIFO order for a thread to finish. A thread that has
// been idle for `keep_alive` exits, so a burst of blocking work does not leave its threads
// behind. The queue is intrusive: a job lives in the frame of the task that awaits it, so the
// queue holds no more entries than there are such tasks and allocates nothing.
//
// A job is an io_op: the pool thread runs it, records the result and wakes the task. A job
// still queued when its task is aborted is withdrawn and never runs; one already running
// finishes first (a blocking call cannot be interrupted), and only then is the task's frame
// destroyed.
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>

#include "polarway/detail/io_op.hpp"
#include "polarway/detail/panic.hpp"
#include "polarway/detail/task_cell.hpp"
#include "polarway/sync/detail/wait_list.hpp"

namespace polarway::detail {

class blocking_pool {
 public:
  /// A call to run: `run(ctx)` returns a result (>= 0) or -errno. Lives in the awaiting task's
  /// frame; linked on the pool's queue while it waits for a thread.
  struct job : wait_link<job> {
    io_op op;
    int (*run)(void* ctx) noexcept = nullptr;
    void* ctx = nullptr;
    blocking_pool* pool = nullptr;
  };

  blocking_pool(std::size_t max_threads, std::chrono::nanoseconds keep_alive) noexcept
      : max_threads_(max_threads < 1 ? 1 : max_threads), keep_alive_(keep_alive) {}
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;
  /// Waits for every thread to exit. By then no job is queued or running: each belongs to a
  /// task, and the runtime destroys the pool after its last task.
  ~blocking_pool() {
    std::unique_lock lock(mu_);
    stopping_ = true;
    work_cv_.notify_all();
    exit_cv_.wait(lock, [&] { return live_ == 0; });
    std::list<pthread_t> exited = std::move(exited_);
    lock.unlock();
    join_all(exited);
  }

  /// How many calls the pool has run (for tests and diagnostics).
  std::uint64_t calls_run() const noexcept { return calls_run_.load(std::memory_order_relaxed); }
  /// Threads alive now, busy or idle.
  std::size_t threads_alive() {
    std::lock_guard lock(mu_);
    return live_;
  }
  /// Threads waiting for work.
  std::size_t threads_idle() {
    std::lock_guard lock(mu_);
    return idle_;
  }
  /// Jobs waiting for a thread.
  std::size_t queued() {
    std::lock_guard lock(mu_);
    return queued_;
  }
  std::size_t max_threads() const noexcept { return max_threads_; }

  /// Queues `j` for the task `cell`; the pool wakes the task when `j` has run.
  void submit(job* j, task_cell* cell) {
    j->pool = this;
    j->op.arm(cell, io_op::canceller{&withdraw, j});
    std::list<pthread_t> exited;
    {
      std::lock_guard lock(mu_);
      queue_.push_back(j);
      ++queued_;
      if (idle_ > 0) {
        --idle_;  // that thread is spoken for: the next job must not count on it too
        ++wakeups_;
        work_cv_.notify_one();
      } else if (live_ < max_threads_) {
        exited.swap(exited_);
        start_thread_locked();
      }
      // else: every thread is busy and no more may start; the first to finish takes it.
    }
    join_all(exited);  // threads that exited after their keep-alive, reaped here
  }

 private:
  // The canceller of a job's io_op: withdraws the job if no thread has taken it yet.
  static bool withdraw(void* self, io_op* op) noexcept {
    auto* j = static_cast<job*>(self);
    blocking_pool& pool = *j->pool;
    std::lock_guard lock(pool.mu_);
    if (!j->linked) return false;  // running: its completion wakes the task
    pool.queue_.remove(j);
    --pool.queued_;
    op->finish_withdrawn();
    return true;
  }

  void start_thread_locked() {
    auto* slot = &threads_.emplace_back();
    auto it = std::prev(threads_.end());
    auto* start = new start_args{this, it};
    if (::pthread_create(slot, nullptr, &thread_main, start) != 0) {
      delete start;
      threads_.erase(it);
      // The queued job waits for a running thread; with none, nothing would ever run it.
      if (live_ == 0) panic("blocking pool", "cannot start a thread, and none is running");
      return;
    }
    ++live_;
  }

  struct start_args {
    blocking_pool* pool;
    std::list<pthread_t>::iterator self;
  };

  static void* thread_main(void* arg) {
    auto* start = static_cast<start_args*>(arg);
    blocking_pool* pool = start->pool;
    const auto self = start->self;
    delete start;
    pool->loop(self);
    return nullptr;
  }

  void loop(std::list<pthread_t>::iterator self) {
    std::unique_lock lock(mu_);
    for (;;) {
      if (job* j = queue_.pop_front()) {
        --queued_;
        // A thread finishing its job took one that an idle thread was woken for: that thread
        // finds nothing and keeps waiting, so it counts as idle again (otherwise the next job
        // would start a thread while one sits idle).
        if (wakeups_ > queued_) {
          --wakeups_;
          ++idle_;
        }
        lock.unlock();
        const int result = j->run(j->ctx);
        calls_run_.fetch_add(1, std::memory_order_relaxed);
        j->op.complete(result);  // the frame holding `j` may be gone right after this
        lock.lock();
        continue;
      }
      if (stopping_) break;
      ++idle_;
      const bool woken = work_cv_.wait_for(lock, keep_alive_, [&] { return wakeups_ > 0 || stopping_; });
      if (wakeups_ > 0) {
        --wakeups_;  // the submitter took this thread off idle_ already
        continue;
      }
      --idle_;
      if (!woken) break;  // idle for keep_alive: exit
    }
    // The pthread_t is joined by the next submit() or the destructor; this thread touches the
    // pool no more once it releases the lock.
    exited_.splice(exited_.end(), threads_, self);
    if (--live_ == 0) exit_cv_.notify_all();
  }

  static void join_all(std::list<pthread_t>& threads) noexcept {
    for (pthread_t t : threads) ::pthread_join(t, nullptr);
  }

  const std::size_t max_threads_;
  const std::chrono::nanoseconds keep_alive_;
  std::atomic<std::uint64_t> calls_run_{0};
  std::mutex mu_;
  std::condition_variable work_cv_;  // a job was queued for an idle thread, or stopping
  std::condition_variable exit_cv_;  // the last thread exited
  wait_list<job> queue_;
  std::size_t queued_ = 0;
  std::list<pthread_t> threads_;  // running threads
  std::list<pthread_t> exited_;   // exited, not yet joined
  std::size_t live_ = 0;
  std::size_t idle_ = 0;     // threads waiting for work and not yet spoken for
  std::size_t wakeups_ = 0;  // jobs handed to idle threads not yet woken
  bool stopping_ = false;
};

}  // namespace polarway::detail
