// Small process facts for the summaries: peak and current resident memory from
// /proc/self/status (VmHWM, VmRSS), the process's CPU time, and the clocks the pipeline uses
// (monotonic for rates and the monitor's windows, realtime for "pw_ts", which crosses process
// boundaries).
#pragma once

#include <cstdint>
#include <ctime>

namespace ticks::app {

/// A /proc/self/status field in KiB ("VmHWM"), 0 if unavailable.
std::uint64_t proc_status_kib(const char* field) noexcept;
inline std::uint64_t peak_rss_kib() noexcept { return proc_status_kib("VmHWM"); }
inline std::uint64_t current_rss_kib() noexcept { return proc_status_kib("VmRSS"); }

inline std::int64_t clock_ns(clockid_t id) noexcept {
  timespec ts{};
  ::clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
inline std::int64_t monotonic_ns() noexcept { return clock_ns(CLOCK_MONOTONIC); }
inline std::int64_t realtime_ns() noexcept { return clock_ns(CLOCK_REALTIME); }
/// CPU time of every thread of the process so far, in milliseconds.
inline std::uint64_t process_cpu_ms() noexcept {
  return static_cast<std::uint64_t>(clock_ns(CLOCK_PROCESS_CPUTIME_ID) / 1'000'000);
}

}  // namespace ticks::app
