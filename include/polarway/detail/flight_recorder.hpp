// The flight recorder behind runtime_options::flight_recorder: each worker keeps a ring of its
// most recent scheduler events (a task spawned, a run begun and ended, a steal, a park and the
// wake-up from it, I/O collected from the reactor), so that after a stall one can see what the
// workers were doing; runtime::write_trace turns the rings into a Chrome / Perfetto trace.
//
// One worker writes its ring; any thread may read it while it is written. Each slot is a tiny
// seqlock: the writer marks the slot busy, writes the event, then publishes the event's number;
// a reader keeps a slot only if it saw the same number before and after reading it. Without
// fences (which ThreadSanitizer does not model): the event's fields are stored with release
// and loaded with acquire, so a reader that sees a field of a newer event also sees the busy
// mark written before it, and discards the slot. On x86-64 all of it compiles to plain moves.
//
// Recording an event reads a clock, which is why the recorder is off by default. Where the
// kernel keeps time by the TSC (x86-64, clocksource "tsc": invariant and the same on every
// core), the ring reads the TSC itself, several times cheaper than steady_clock through the
// vDSO on a VM, and converts ticks to steady_clock nanoseconds when it is read, along the line
// through two (ticks, ns) points: its creation and the read. Elsewhere it reads steady_clock.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace polarway::detail {

enum class trace_kind : std::uint8_t {
  spawn,        // arg: the new task's spawn_site::bits()
  run_begin,    // arg: the task's spawn_site::bits()
  run_end,      // arg: the task's spawn_site::bits()
  steal,        // arg: the victim worker's index
  park,         // arg: 0
  unpark,       // arg: 1 if woken by another thread, 0 by its own I/O or a timer
  io_collected, // arg: I/O completions (epoll: readiness events) collected since the last one
};

struct trace_event {
  std::int64_t ns = 0;  // steady clock (in the ring: the ring's clock, see event_ring::now)
  std::uint64_t arg = 0;
  trace_kind kind = trace_kind::spawn;
};

class event_ring {
 public:
  /// Keeps the last `capacity` events (rounded up to a power of two, at least 2).
  explicit event_ring(std::size_t capacity)
      : mask_(round_up(capacity) - 1), slots_(new slot[mask_ + 1]), tsc_(kernel_keeps_time_by_tsc()), origin_(clock_pair()) {}

  /// The owning worker only. Out of line, so that the scheduler's paths with the recorder off
  /// pay only for testing whether it is on.
  [[gnu::noinline]] void record(trace_kind kind, std::uint64_t arg) noexcept {
    const std::uint64_t n = next_;
    next_ = n + 1;
    slot& s = slots_[n & mask_];
    s.seq.store(busy, std::memory_order_relaxed);
    s.ns.store(now(), std::memory_order_release);
    s.arg.store(arg, std::memory_order_release);
    s.kind.store(kind, std::memory_order_release);
    s.seq.store(n + 1, std::memory_order_release);
  }

  /// Any thread: the events in the ring now, oldest first (those being overwritten as they
  /// are read are left out).
  std::vector<trace_event> snapshot() const {
    std::vector<std::pair<std::uint64_t, trace_event>> found;
    found.reserve(mask_ + 1);
    for (std::size_t i = 0; i <= mask_; ++i) {
      const slot& s = slots_[i];
      const std::uint64_t before = s.seq.load(std::memory_order_acquire);
      if (before == 0 || before == busy) continue;
      trace_event e{s.ns.load(std::memory_order_acquire), s.arg.load(std::memory_order_acquire),
                    s.kind.load(std::memory_order_acquire)};
      if (s.seq.load(std::memory_order_relaxed) != before) continue;
      found.emplace_back(before, e);
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<trace_event> out;
    out.reserve(found.size());
    const clock_point at = clock_pair();
    for (const auto& f : found) {
      out.push_back(f.second);
      out.back().ns = to_ns(out.back().ns, at);
    }
    return out;
  }

  std::size_t capacity() const noexcept { return mask_ + 1; }

  static std::int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  /// Whether this ring's events are stamped with the TSC (converted when read).
  bool stamps_with_tsc() const noexcept { return tsc_; }

 private:
  struct clock_point {
    std::int64_t ticks;  // the ring's clock
    std::int64_t ns;     // steady clock
  };

  std::int64_t now() const noexcept {
#if defined(__x86_64__)
    if (tsc_) return static_cast<std::int64_t>(__rdtsc());
#endif
    return now_ns();
  }

  clock_point clock_pair() const noexcept {
    const std::int64_t before = now();
    const std::int64_t ns = now_ns();
    return {before + (now() - before) / 2, ns};
  }

  // Ticks of the ring's clock to steady_clock ns, along the line from origin_ to `at`.
  std::int64_t to_ns(std::int64_t ticks, clock_point at) const noexcept {
    if (!tsc_) return ticks;
    const std::int64_t dt = at.ticks - origin_.ticks;
    if (dt <= 0) return origin_.ns;
    const double ns_per_tick = static_cast<double>(at.ns - origin_.ns) / static_cast<double>(dt);
    return origin_.ns + static_cast<std::int64_t>(static_cast<double>(ticks - origin_.ticks) * ns_per_tick);
  }

  // Read once per ring, when a runtime with the recorder on starts.
  static bool kernel_keeps_time_by_tsc() noexcept {
#if defined(__x86_64__)
    std::FILE* f = std::fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "re");
    if (f == nullptr) return false;
    char name[32] = {};
    const bool read = std::fgets(name, sizeof name, f) != nullptr;
    std::fclose(f);
    return read && std::strcmp(name, "tsc\n") == 0;
#else
    return false;
#endif
  }

  static constexpr std::uint64_t busy = ~std::uint64_t{0};

  struct slot {
    std::atomic<std::uint64_t> seq{0};  // 0: never written; busy: being written; else event number + 1
    std::atomic<std::int64_t> ns{0};
    std::atomic<std::uint64_t> arg{0};
    std::atomic<trace_kind> kind{trace_kind::spawn};
  };

  static std::size_t round_up(std::size_t n) noexcept {
    std::size_t p = 2;
    while (p < n) p <<= 1;
    return p;
  }

  const std::size_t mask_;
  std::unique_ptr<slot[]> slots_;
  const bool tsc_;
  const clock_point origin_;
  std::uint64_t next_ = 0;  // the owning worker's
};

}  // namespace polarway::detail
