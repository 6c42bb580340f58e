// detail::spin_lock: the lock that guards the waiter lists of polarway's sync primitives and
// the scheduler's task registry.
//
// Why not std::mutex: the critical sections are a handful of pointer updates (link a waiter,
// hand a permit over, wake a task), and on a contended std::mutex glibc parks the thread in
// the kernel, which costs far more than the section itself. The lock spins briefly with a CPU
// pause and then yields the thread, so a holder preempted by the OS does not make the others
// burn their time slice. Acquire/release orders only: ThreadSanitizer sees it as a lock.
#pragma once

#include <atomic>
#include <thread>

namespace polarway::detail {

/// A CPU hint for spin-wait loops (lets the sibling hyper-thread run, saves power).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

/// Spins with a CPU pause for a short while, then yields the thread to the OS: for waits that
/// are normally a few nanoseconds long but may last a time slice if another thread was
/// preempted in the middle of a short critical section.
class spin_backoff {
 public:
  void pause() noexcept {
    if (step_ < spin_limit) {
      ++step_;
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }

 private:
  static constexpr int spin_limit = 64;
  int step_ = 0;
};

class spin_lock {
 public:
  spin_lock() noexcept = default;
  spin_lock(const spin_lock&) = delete;
  spin_lock& operator=(const spin_lock&) = delete;

  /// Takes the lock, spinning (then yielding) while another thread holds it.
  void lock() noexcept {
    for (;;) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      spin_backoff backoff;
      // Read-only wait: spinning on exchange would bounce the cache line between cores.
      while (locked_.load(std::memory_order_relaxed)) backoff.pause();
    }
  }

  /// Takes the lock if it is free.
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
  }

  /// Releases the lock.
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace polarway::detail
