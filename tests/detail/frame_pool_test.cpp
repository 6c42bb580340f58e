#include "polarway/detail/frame_pool.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

using polarway::detail::frame_pool;

TEST_CASE("blocks are usable, aligned and distinct") {
  std::vector<std::pair<void*, std::size_t>> blocks;
  for (std::size_t n : {1u, 63u, 64u, 65u, 500u, 1024u, 1025u, 5000u}) {
    void* p = frame_pool::allocate(n);
    CHECK(reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t) == 0);
    std::memset(p, 0xab, n);  // ASan catches a block smaller than asked
    blocks.emplace_back(p, n);
  }
  std::set<void*> distinct;
  for (auto& b : blocks) distinct.insert(b.first);
  CHECK(distinct.size() == blocks.size());
  for (auto& [p, n] : blocks) frame_pool::deallocate(p, n);
}

TEST_CASE("blocks of every size up to the largest class hold all their bytes without overlapping") {
  // Carved back to back from one slab: a class rounded down would let one block's bytes run
  // into the next, which the patterns below would show (the pool is bypassed under ASan).
  // Three tests below need classes that nothing else here has touched (832, 896 and 960 bytes).
  const auto reserved = [](std::size_t n) {
    const std::size_t c = (n - 1) / frame_pool::granule;
    return c == (832 - 1) / frame_pool::granule || c == (896 - 1) / frame_pool::granule ||
           c == (960 - 1) / frame_pool::granule;
  };
  std::vector<std::pair<unsigned char*, std::size_t>> blocks;
  for (std::size_t n = 1; n <= 1024 + 16; n += 7) {
    if (reserved(n)) continue;
    auto* p = static_cast<unsigned char*>(frame_pool::allocate(n));
    CHECK(reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t) == 0);
    std::memset(p, static_cast<int>(blocks.size() & 0xff), n);
    blocks.emplace_back(p, n);
  }
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const unsigned char* p = blocks[i].first;
    const std::size_t n = blocks[i].second;  // not a structured binding: clang 14 cannot capture one in CHECK
    std::size_t wrong = 0;
    for (std::size_t k = 0; k < n; ++k) wrong += p[k] != static_cast<unsigned char>(i & 0xff);
    CHECK_MESSAGE(wrong == 0, "block ", i, " of ", n, " bytes was overwritten");
  }
  for (auto& [p, n] : blocks) frame_pool::deallocate(p, n);
}

#if POLARWAY_FRAME_POOL
TEST_CASE("a freed block is reused by the next allocation of its class") {
  void* a = frame_pool::allocate(200);
  frame_pool::deallocate(a, 200);
  void* b = frame_pool::allocate(208);  // same 208-byte class
  CHECK(a == b);
  frame_pool::deallocate(b, 208);
}
#endif

TEST_CASE("blocks freed on another thread come back through the depot") {
  constexpr int n = 10'000;
  std::vector<void*> blocks(n);
  for (auto& p : blocks) p = frame_pool::allocate(128);
  std::thread([&] {
    for (void* p : blocks) frame_pool::deallocate(p, 128);
  }).join();
  // The exiting thread kept at most a partial batch; the rest went to the depot, so allocating
  // again here must hand back blocks from that set.
  std::set<void*> freed(blocks.begin(), blocks.end());
  int reused = 0;
  for (auto& p : blocks) {
    p = frame_pool::allocate(128);
    reused += freed.count(p) ? 1 : 0;
  }
#if POLARWAY_FRAME_POOL
  CHECK(reused >= n - 2 * static_cast<int>(frame_pool::batch));
#else
  (void)reused;  // no pool under ASan: this only checks that cross-thread frees are safe
#endif
  for (void* p : blocks) frame_pool::deallocate(p, 128);
}

#if POLARWAY_FRAME_POOL
TEST_CASE("a thread that exits hands every free block it kept to the depot") {
  // 960 bytes: a class no other test here uses, so this thread's list and the depot start empty.
  constexpr std::size_t size = 960;
  constexpr int n = 1000;  // 960 KB: several slabs
  std::set<void*> theirs;
  std::thread([&] {
    std::vector<void*> blocks(n);
    for (auto& p : blocks) p = frame_pool::allocate(size);
    for (void* p : blocks) std::memset(p, 0x5a, size);
    for (void* p : blocks) frame_pool::deallocate(p, size);
    theirs.insert(blocks.begin(), blocks.end());
  }).join();
  REQUIRE(theirs.size() == static_cast<std::size_t>(n));
  // Every one comes back here, none is new memory.
  std::vector<void*> mine(n);
  int reused = 0;
  for (auto& p : mine) {
    p = frame_pool::allocate(size);
    reused += theirs.count(p) ? 1 : 0;
  }
  CHECK(reused == n);
  for (void* p : mine) frame_pool::deallocate(p, size);
}

TEST_CASE("threads that come and go reuse the blocks their predecessors handed in") {
  // 832 bytes: a class no other test here uses.
  std::set<void*> seen;
  for (int t = 0; t < 200; ++t)
    std::thread([&] {
      void* p = frame_pool::allocate(832);
      std::memset(p, 1, 832);
      seen.insert(p);
      frame_pool::deallocate(p, 832);
    }).join();
  // Each thread hands its block to the depot as it exits and the next one takes it back, so
  // memory does not grow with the number of threads.
  CHECK(seen.size() == 1);
}

TEST_CASE("blocks freed and allocated after a thread's lists were handed over come back through the depot") {
  // 896 bytes: a class no other test here uses. A thread_local destroyed after the pool's exit
  // hook (it was constructed before the thread's first use of the pool) frees a block, then
  // allocates and frees another. Neither may be lost in lists that nobody will hand over again.
  constexpr std::size_t size = 896;
  struct late_holder {
    void* kept = nullptr;
    void* during_exit = nullptr;
    ~late_holder() {
      frame_pool::deallocate(kept, size);
      during_exit = frame_pool::allocate(size);
      std::memset(during_exit, 0x3c, size);  // a block of the class's full size
      frame_pool::deallocate(during_exit, size);
      *reported = {kept, during_exit};
    }
    std::pair<void*, void*>* reported = nullptr;
  };
  std::pair<void*, void*> blocks{};
  std::thread([&] {
    thread_local late_holder late;
    late.reported = &blocks;
    late.kept = frame_pool::allocate(size);  // the thread's first use: the exit hook comes after
  }).join();
  REQUIRE(blocks.first != nullptr);
  REQUIRE(blocks.second != nullptr);
  void* a = frame_pool::allocate(size);
  void* b = frame_pool::allocate(size);
  CHECK(std::set<void*>{a, b} == std::set<void*>{blocks.first, blocks.second});
  frame_pool::deallocate(a, size);
  frame_pool::deallocate(b, size);
}
#endif
