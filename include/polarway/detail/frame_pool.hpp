// Recycling of coroutine frames. Spawning a task allocates a frame; a runtime that spawns
// millions of short tasks spends much of its time in malloc unless frames are reused. Each
// thread keeps a free list per size class (64-byte steps up to 1 KiB); a list that grows past
// its cap hands a batch to a global depot, and an empty list takes a batch back, so a thread
// that only frees (a consumer of tasks spawned elsewhere) does not hoard memory and one that
// only allocates still finds recycled frames. Frames above 1 KiB go to operator new directly.
//
// Under AddressSanitizer the pool is bypassed: recycling would hide use-after-free of frames,
// the very bug class the sanitizer build is there to catch.
#pragma once

#include <array>
#include <cstddef>
#include <mutex>
#include <new>
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
  static constexpr std::size_t granule = 64;
  static constexpr std::size_t classes = 16;  // up to 1 KiB
  static constexpr std::size_t batch = 64;    // blocks moved to or from the depot at once

  static void* allocate(std::size_t n) {
#if POLARWAY_FRAME_POOL
    const std::size_t c = (n - 1) / granule;
    if (c < classes) {
      local_lists& lists = local();
      if (list& l = lists.lists[c]; l.head != nullptr || depot().take(c, l)) return l.pop();
      return ::operator new((c + 1) * granule);
    }
#endif
    return ::operator new(n);
  }

  static void deallocate(void* p, [[maybe_unused]] std::size_t n) noexcept {
#if POLARWAY_FRAME_POOL
    const std::size_t c = (n - 1) / granule;
    if (c < classes) {
      list& l = local().lists[c];
      l.push(p);
      if (l.count >= 2 * batch) depot().give(c, l);
      return;
    }
#endif
    ::operator delete(p);
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

  // Batches of free blocks shared by all threads; a batch is a chain of `batch` nodes.
  class depot_t {
   public:
    bool take(std::size_t c, list& into) {
      std::lock_guard lock(mu_);
      if (chains_[c].empty()) return false;
      into.head = chains_[c].back();
      into.count = batch;
      chains_[c].pop_back();
      return true;
    }
    void give(std::size_t c, list& from) noexcept {
      node* chain = from.head;
      node* last = chain;
      for (std::size_t i = 1; i < batch; ++i) last = last->next;
      from.head = last->next;
      from.count -= batch;
      last->next = nullptr;
      std::lock_guard lock(mu_);
      chains_[c].push_back(chain);
    }
    ~depot_t() {
      for (auto& chains : chains_)
        for (node* chain : chains)
          while (chain != nullptr) {
            node* next = chain->next;
            ::operator delete(chain);
            chain = next;
          }
    }

   private:
    std::mutex mu_;
    std::array<std::vector<node*>, classes> chains_;
  };

  struct local_lists {
    std::array<list, classes> lists;
    ~local_lists() {
      // A thread that exits frees what it kept; the depot keeps only full batches.
      for (list& l : lists)
        while (l.head != nullptr) ::operator delete(l.pop());
    }
  };

  static depot_t& depot() {
    static depot_t d;
    return d;
  }
  static local_lists& local() {
    thread_local local_lists lists;
    return lists;
  }
};

}  // namespace polarway::detail
