// pw::stall_report: what the stall detector (runtime_options::slow_poll) says about one poll
// that ran too long: which task, on which worker, for how long, and whether it is still
// running. The detector reports a slow poll twice: once while it is still running, as soon as it
// has run past the threshold (a task blocked in a system call is caught in the act), and once
// when it ends, with its whole duration.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "polarway/runtime/spawn_site.hpp"

namespace polarway {

struct stall_report {
  spawn_site site;                       // the task's spawn site or name
  std::size_t worker = 0;                // the worker running it
  std::chrono::nanoseconds duration{0};  // how long the poll has run (so far, if still running)
  bool still_running = false;            // reported while the poll runs; false: it has ended
  std::uint64_t suppressed = 0;          // reports the rate limit dropped since the last one
};

/// One line, without a newline: "slow poll: task spawned at main.cpp:42 has been running for
/// 52.1 ms on worker 1" or "... ran for 61.0 ms on worker 1".
inline std::string to_string(const stall_report& r) {
  const double ms = static_cast<double>(r.duration.count()) / 1e6;
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.1f ms", ms);
  std::string out = "slow poll: task ";
  out += r.site.is_name() ? "named " : "spawned at ";
  out += r.site.to_string();
  out += r.still_running ? " has been running for " : " ran for ";
  out += duration;
  out += " on worker ";
  out += std::to_string(r.worker);
  if (r.suppressed != 0) {
    out += " (";
    out += std::to_string(r.suppressed);
    out += " earlier reports suppressed)";
  }
  return out;
}

}  // namespace polarway
