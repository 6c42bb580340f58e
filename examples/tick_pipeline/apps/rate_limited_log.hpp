// ticks::app::log_limiter: stderr lines for connection-level events, at most ten a second.
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

#include "process_stats.hpp"

namespace ticks::app {

// Connection-level events (connect failures, protocol errors) can come at any rate from a
// hostile or broken peer: at most `per_second` lines a second, the rest counted and summarised.
class log_limiter {
 public:
  void line(const std::string& text) {
    std::lock_guard lock(mu_);
    const std::int64_t now = monotonic_ns();
    if (now - window_start_ >= 1'000'000'000) {
      if (suppressed_ > 0) std::fprintf(stderr, "polarway-ingest: (%llu more lines suppressed)\n", static_cast<unsigned long long>(suppressed_));
      window_start_ = now;
      lines_ = 0;
      suppressed_ = 0;
    }
    if (lines_ < per_second) {
      ++lines_;
      std::fprintf(stderr, "polarway-ingest: %s\n", text.c_str());
    } else {
      ++suppressed_;
    }
  }

 private:
  static constexpr int per_second = 10;
  std::mutex mu_;
  std::int64_t window_start_ = 0;
  int lines_ = 0;
  std::uint64_t suppressed_ = 0;
};

}  // namespace ticks::app
