// A small pool of threads for calls that would block a worker: file operations on the epoll
// backend (epoll cannot wait for regular files). A call is an io_op: the pool thread runs it,
// stores the result, and wakes the task. A call still queued when its task is aborted is
// withdrawn; one already running finishes first (a blocking syscall cannot be interrupted),
// and only then is the task's frame destroyed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "polarway/detail/io_op.hpp"
#include "polarway/detail/task_cell.hpp"

namespace polarway::detail {

class blocking_pool {
 public:
  /// A call to run: `run(ctx)` returns a result (>= 0) or -errno.
  struct job {
    io_op op;
    int (*run)(void* ctx) noexcept = nullptr;
    void* ctx = nullptr;
  };

  explicit blocking_pool(std::size_t threads) : size_(threads) {}
  blocking_pool(const blocking_pool&) = delete;
  blocking_pool& operator=(const blocking_pool&) = delete;
  ~blocking_pool() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  /// How many calls the pool has run (for tests and diagnostics).
  std::uint64_t calls_run() const noexcept { return calls_run_.load(std::memory_order_relaxed); }

  /// Queues `j` for the current task; the pool wakes the task when it is done.
  void submit(job* j, task_cell* cell) {
    j->op.arm(cell, io_op::canceller{&withdraw, this});
    {
      std::lock_guard lock(mu_);
      if (threads_.size() < size_ && idle_ == 0) threads_.emplace_back([this] { loop(); });
      queue_.push_back(j);
    }
    cv_.notify_one();
  }

 private:
  static bool withdraw(void* self, io_op* op) noexcept {
    auto* pool = static_cast<blocking_pool*>(self);
    std::lock_guard lock(pool->mu_);
    for (auto it = pool->queue_.begin(); it != pool->queue_.end(); ++it) {
      if (&(*it)->op == op) {
        pool->queue_.erase(it);
        op->finish_withdrawn();
        return true;
      }
    }
    return false;  // running: its completion wakes the task
  }

  void loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      ++idle_;
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      --idle_;
      if (queue_.empty()) return;  // stopping
      job* j = queue_.front();
      queue_.pop_front();
      lock.unlock();
      const int result = j->run(j->ctx);
      calls_run_.fetch_add(1, std::memory_order_relaxed);
      j->op.complete(result);
      lock.lock();
    }
  }

  std::atomic<std::uint64_t> calls_run_{0};
  const std::size_t size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<job*> queue_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace polarway::detail
