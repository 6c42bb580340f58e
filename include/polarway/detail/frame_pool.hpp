// Recycling of coroutine frames. Spawning a task allocates a frame; a runtime that spawns
// millions of short tasks spends much of its time in malloc unless frames are reused. Each
// thread keeps a free list per size class (16-byte steps up to 1 KiB); a list that grows past
// its cap hands a batch to a global depot, and an empty list takes a batch back, so a thread
// that only frees (a consumer of tasks spawned elsewhere) does not hoard memory and one that
// only allocates still finds recycled frames. Frames above 1 KiB go to operator new directly.
//
// New blocks are carved from per-thread slabs (mmap, 64 KiB growing to 2 MiB) instead of being
// taken from malloc one by one: no per-block header or malloc bookkeeping, and a burst of
// spawns touches contiguous memory. In a fresh process, spawning 100,000 tasks at once (about
// 30 MB of new frames: bench/compare's spawn_many_100k, 1 worker) went from about 450 to about
// 380 ns per task on this project's VM.
// Slabs are mapped with MAP_POPULATE: the kernel fills all their pages in the one mmap call,
// which costs less than a page fault on the first touch of every 4 KiB (32 blocks of 128 bytes):
// 200-280 us per 2 MiB here, against 440-560 us of faults. spawn_many_100k on 1 worker, 5
// alternating runs, median: 311 -> 251 ns per task. The price: a slab is resident as soon as it
// is mapped (at most 2 MiB per thread), and the thread that maps a 2 MiB slab spends those
// 0.2-0.3 ms in one call, instead of spread over the next 16,384 blocks.
// Asking for transparent huge pages on the slabs was tried and dropped: rounds came out either
// faster still or more than twice as slow, depending on how fast the VM's host backed a 2 MiB
// page.
//
// Blocks of the pooled classes are never returned to the system: a thread that exits hands its
// free blocks to the depot (and unmaps the part of its slab it never used), and the depot keeps
// them for the next runtime. A block freed after that hand-over (by a thread_local destroyed
// later in the thread's exit) goes straight to the depot. The memory a process holds for frames
// is thus its peak of live frames, plus at most a slab per thread.
//
// Under AddressSanitizer the pool is bypassed: recycling would hide use-after-free of frames,
// the very bug class the sanitizer build is there to catch.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include "polarway/detail/sanitizers.hpp"

#if POLARWAY_ASAN
#define POLARWAY_FRAME_POOL 0
#else
#define POLARWAY_FRAME_POOL 1
#endif

namespace polarway::detail {

class frame_pool {
 public:
  // 16-byte steps (the alignment of operator new, which frames and cells need): a spawned
  // task's 80-byte frame took a 128-byte block in 64-byte steps, and the frame and cell of
  // spawn_many_100k's tasks 256 bytes in all instead of 208. That memory is fresh in a burst
  // of spawns: spawn_many_100k on 1 worker, 4 alternating runs, 212-221 -> 171-185 ns per task
  // (32-byte steps: 184-198). No workload measured slower; blocks now share cache lines more
  // often, which the 2-worker rows (skynet, fib, ping_pong, yield_many) did not show.
  static constexpr std::size_t granule = 16;
  static constexpr std::size_t classes = 64;  // up to 1 KiB
  static constexpr std::size_t batch = 64;    // blocks moved to or from the depot at once

  // The fast paths (a pop from, or a push onto, this thread's list) are small enough to inline
  // into every spawn; what happens when the list is empty or full is kept out of line, so that
  // it does not make each call save and restore registers it does not need. (The pool had
  // about 17% of skynet's samples on 2 workers, and a third of allocate's went to those saves
  // and restores.) For the same reason they reach this thread's lists without a first-use
  // guard: the lists are constant-initialized and trivially destructible, and a thread's first
  // call takes the slow path, which registers the hand-over at its exit (`in_use`). With that
  // registration inside, g++ 12 still gave deallocate a frame (four registers saved and
  // restored, 32 instructions); now it has 15 and none. chained_spawn on 1 worker, 8
  // alternating runs, median: 28.4 -> 25.4 ns per spawn.
  // Inlined always, as is task_cell::create: every spawn and every fork child calls them, and
  // g++ 12's inliner drops them from a fork whose code is large.
  [[gnu::always_inline]] static void* allocate(std::size_t n) {
#if POLARWAY_FRAME_POOL
    const std::size_t c = (n - 1) / granule;
    local_lists& local = tls_lists;
    if (c < classes && local.in_use) [[likely]] {
      list& l = local.lists[c];
      if (l.head != nullptr) [[likely]]
        return l.pop();
    }
    return allocate_slow(n);
#else
    return ::operator new(n);
#endif
  }

  static void deallocate(void* p, [[maybe_unused]] std::size_t n) noexcept {
#if POLARWAY_FRAME_POOL
    const std::size_t c = (n - 1) / granule;
    local_lists& local = tls_lists;
    if (c < classes && local.in_use) [[likely]] {
      list& l = local.lists[c];
      if (l.count + 1 < 2 * batch) [[likely]] {
        l.push(p);
        return;
      }
    }
    deallocate_slow(p, n);
#else
    ::operator delete(p);
#endif
  }

 private:
  struct node {
    node* next;
  };
  struct list {
    node* head = nullptr;
    std::size_t count = 0;
    void push(void* p) noexcept {
      auto* n = static_cast<node*>(p);
      n->next = head;
      head = n;
      ++count;
    }
    void* pop() noexcept {
      node* n = head;
      head = n->next;
      --count;
      return n;
    }
  };

  // Chains of free blocks shared by all threads: usually `batch` blocks each; a thread that
  // exits leaves a shorter one.
  class depot_t {
   public:
    /// Fills an empty list with a chain from the depot, if it has one.
    bool take(std::size_t c, list& into) {
      // A thread whose live frames keep growing (a burst of spawns) comes here for every new
      // block while the depot is empty; looking at the count first keeps the mutex out of that
      // path (it was two thirds of the cost of carving a block). A chain given back meanwhile
      // is found next time.
      if (chain_count_[c].load(std::memory_order_relaxed) == 0) return false;
      std::lock_guard lock(mu_);
      if (chains_[c].empty()) return false;
      into.head = chains_[c].back().first;
      into.count = chains_[c].back().second;
      chains_[c].pop_back();
      chain_count_[c].store(chains_[c].size(), std::memory_order_relaxed);
      return true;
    }

    /// Moves the first `n` blocks of `from` (all of them by default) to the depot.
    void give(std::size_t c, list& from, std::size_t n = batch) noexcept {
      node* chain = from.head;
      node* last = chain;
      for (std::size_t i = 1; i < n; ++i) last = last->next;
      from.head = last->next;
      from.count -= n;
      last->next = nullptr;
      std::lock_guard lock(mu_);
      chains_[c].emplace_back(chain, n);
      chain_count_[c].store(chains_[c].size(), std::memory_order_relaxed);
    }

   private:
    std::mutex mu_;
    std::array<std::vector<std::pair<node*, std::size_t>>, classes> chains_;
    std::array<std::atomic<std::size_t>, classes> chain_count_{};  // chains_[c].size(), readable unlocked
  };

  // Trivially destructible and constant-initialized, so that the fast paths reach it with no
  // guard of a first use: `in_use` says that this thread has registered its exit_hook (the
  // first call takes the slow path, which does that).
  struct local_lists {
    std::array<list, classes> lists{};
    // This thread's slab: new blocks are carved from it, so that threads do not interleave
    // their fresh blocks in one region (a shared slab cost skynet_1M 10% on 2 workers). A
    // thread's first slab is 64 KiB, each next one twice the last, up to 2 MiB. A thread
    // carves only when its list and the depot are both empty, so threads that come and go
    // (block_on callers) mostly reuse the blocks their predecessors handed in.
    char* slab_next = nullptr;
    std::size_t slab_left = 0;
    std::size_t next_slab_bytes = std::size_t{64} << 10;
    bool slab_mapped = false;
    bool in_use = false;  // the exit hook is registered, and has not run
    bool exited = false;  // the exit hook has run: blocks freed from now on go to the depot

    static constexpr std::size_t max_slab_bytes = std::size_t{2} << 20;

    // What is carved from a slab stays mapped for the life of the process (see the header).
    void* carve(std::size_t size) {
      if (slab_left < size) {
        const std::size_t bytes = next_slab_bytes;
        next_slab_bytes = std::min(2 * bytes, max_slab_bytes);
        void* slab = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        slab_mapped = slab != MAP_FAILED;
        slab_next = static_cast<char*>(slab_mapped ? slab : ::operator new(bytes));
        slab_left = bytes;
      }
      void* p = slab_next;
      slab_next += size;
      slab_left -= size;
      return p;
    }

    // The thread exits: it hands what it kept to the depot (blocks are never freed) and
    // unmaps the untouched whole pages at the end of its slab.
    void hand_over() noexcept {
      in_use = false;
      exited = true;
      for (std::size_t c = 0; c < classes; ++c)
        if (lists[c].count > 0) depot().give(c, lists[c], lists[c].count);
      if (slab_mapped) {
        const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
        const auto start = (reinterpret_cast<std::uintptr_t>(slab_next) + page - 1) & ~(page - 1);
        const auto end = reinterpret_cast<std::uintptr_t>(slab_next) + slab_left;  // slab ends page-aligned
        if (end > start) ::munmap(reinterpret_cast<void*>(start), end - start);
      }
    }
  };
  struct exit_hook {
    ~exit_hook() { tls_lists.hand_over(); }
  };

  // This thread's first use of the pool: registers the hook that hands its blocks over when it
  // exits. False once the thread is exiting (the hook has run).
  static bool enter() noexcept {
    local_lists& local = tls_lists;
    if (local.exited) return false;
    static thread_local exit_hook hook;
    (void)hook;
    local.in_use = true;
    return true;
  }

  // Not the fast path: a frame above 1 KiB, the thread's first allocation, or an empty list
  // (a chain from the depot, else a new block).
  [[gnu::noinline]] static void* allocate_slow(std::size_t n) {
    const std::size_t c = (n - 1) / granule;
    if (c >= classes) return ::operator new(n);
    local_lists& local = tls_lists;
    // An exiting thread: a block of the full class size, since it may be freed into the pool.
    if (!local.in_use && !enter()) return ::operator new((c + 1) * granule);
    list& l = local.lists[c];
    if (l.head == nullptr && !depot().take(c, l)) return local.carve((c + 1) * granule);
    return l.pop();
  }

  // Not the fast path: a frame above 1 KiB, the thread's first free, or a full list (half of
  // it goes to the depot).
  [[gnu::noinline]] static void deallocate_slow(void* p, std::size_t n) noexcept {
    const std::size_t c = (n - 1) / granule;
    if (c >= classes) return ::operator delete(p);
    local_lists& local = tls_lists;
    if (!local.in_use && !enter()) {  // an exiting thread: straight to the depot
      list one;
      one.push(p);
      depot().give(c, one, 1);
      return;
    }
    list& l = local.lists[c];
    l.push(p);
    if (l.count >= 2 * batch) depot().give(c, l);
  }

  static depot_t& depot() {
    static depot_t d;
    return d;
  }
  static thread_local local_lists tls_lists;
};

// Constant-initialized (constinit) and trivially destructible: no guard on the fast paths.
inline thread_local constinit frame_pool::local_lists frame_pool::tls_lists{};

}  // namespace polarway::detail
