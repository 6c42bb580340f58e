// ticks::app::log_limiter: stderr lines for connection-level events, at most ten a second.
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

#include "process_stats.hpp"

namespace ticks::app {

// Connection-level events (connect failures, protocol errors, clients breaking the session
// rules) can come at any rate from a hostile or broken peer: at most `per_second` lines a
// second, the rest counted and summarised. Each line starts with the program's name.
class log_limiter {
 public:
  log_limiter() noexcept = default;
  explicit log_limiter(const char* program) noexcept : program_(program) {}

  void line(const std::string& text) {
    std::lock_guard lock(mu_);
    const std::int64_t now = monotonic_ns();
    if (now - window_start_ >= 1'000'000'000) {
      if (suppressed_ > 0) std::fprintf(stderr, "%s: (%llu more lines suppressed)\n", program_, static_cast<unsigned long long>(suppressed_));
      window_start_ = now;
      lines_ = 0;
      suppressed_ = 0;
    }
    if (lines_ < per_second) {
      ++lines_;
      std::fprintf(stderr, "%s: %s\n", program_, text.c_str());
    } else {
      ++suppressed_;
    }
  }

 private:
  static constexpr int per_second = 10;
  const char* program_ = "polarway-ingest";
  std::mutex mu_;
  std::int64_t window_start_ = 0;
  int lines_ = 0;
  std::uint64_t suppressed_ = 0;
};

}  // namespace ticks::app
