// ticks::app::latency_histogram: a fixed-size, log-linear histogram of nanosecond values, for
// end-to-end latency percentiles with bounded memory however long the run. Each power of two
// is split into 32 linear sub-buckets, so a reported percentile is within about 3% of the true
// value (it reports the bucket's upper bound: never an underestimate). Values of 2^42 ns (73
// minutes) and more share the last bucket.
//
// One writer (the sink task records), any number of readers on any thread (a /metrics scrape
// while the run goes on): every field is an atomic that only the writer changes, with a relaxed
// load and store rather than a locked read-modify-write, so recording costs what plain
// increments do. A reader sees each field as it was at some moment, not all fields at one
// moment: a percentile taken during a run is as exact as the bucket width, give or take the
// values recorded while it read.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace ticks::app {

class latency_histogram {
 public:
  static constexpr int sub_bits = 5;
  static constexpr std::uint64_t sub = std::uint64_t{1} << sub_bits;
  static constexpr int max_exponent = 42;
  static constexpr std::size_t bucket_count = (max_exponent - sub_bits + 2) * sub;

  /// The writer only.
  void record(std::uint64_t v) noexcept {
    bump(buckets_[index(v)], 1);
    const std::uint64_t n = bump(count_, 1);
    bump(sum_, v);
    if (v > max()) max_.store(v, std::memory_order_relaxed);
    if (n == 1 || v < min()) min_.store(v, std::memory_order_relaxed);
  }

  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  std::uint64_t max() const noexcept { return max_.load(std::memory_order_relaxed); }
  std::uint64_t min() const noexcept { return min_.load(std::memory_order_relaxed); }
  /// The sum of every value recorded (wraps past 2^64 ns, 584 years of latency).
  std::uint64_t sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

  /// The value at quantile q (0 < q <= 1): the upper bound of the bucket holding it, capped at
  /// the largest value seen. 0 when empty.
  std::uint64_t percentile(double q) const noexcept {
    const std::uint64_t count = this->count();
    if (count == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count) + 0.5);
    if (rank < 1) rank = 1;
    if (rank > count) rank = count;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
      seen += buckets_[i].load(std::memory_order_relaxed);
      if (seen >= rank) {
        const std::uint64_t hi = upper_bound(i);
        return hi < max() ? hi : max();
      }
    }
    return max();
  }

  /// How many recorded values are at most `v`, counting whole buckets: those of the bucket
  /// that holds `v` are left out unless its upper bound is `v` itself, so the answer is never
  /// too high and short by at most that bucket (values within about 3% below `v`).
  std::uint64_t count_at_most(std::uint64_t v) const noexcept {
    std::size_t end = index(v);
    if (upper_bound(end) == v) ++end;
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < end; ++i) n += buckets_[i].load(std::memory_order_relaxed);
    return n;
  }

  /// Adds `o` in (the writer of this one, with `o` no longer written).
  void merge(const latency_histogram& o) noexcept {
    for (std::size_t i = 0; i < bucket_count; ++i) bump(buckets_[i], o.buckets_[i].load(std::memory_order_relaxed));
    if (o.count() && (count() == 0 || o.min() < min())) min_.store(o.min(), std::memory_order_relaxed);
    if (o.max() > max()) max_.store(o.max(), std::memory_order_relaxed);
    bump(count_, o.count());
    bump(sum_, o.sum());
  }

  static constexpr std::size_t index(std::uint64_t v) noexcept {
    if (v < sub) return static_cast<std::size_t>(v);
    const int e = std::bit_width(v) - 1 - sub_bits;  // v >> e is in [sub, 2 * sub)
    if (e > max_exponent - sub_bits) return bucket_count - 1;
    return static_cast<std::size_t>(e + 1) * sub + static_cast<std::size_t>((v >> e) - sub);
  }

  /// The largest value that maps to bucket i.
  static constexpr std::uint64_t upper_bound(std::size_t i) noexcept {
    if (i < sub) return i;
    const auto e = static_cast<int>(i / sub) - 1;
    const std::uint64_t mant = sub + i % sub;
    return ((mant + 1) << e) - 1;
  }

 private:
  // The single writer's increment: returns the new value.
  static std::uint64_t bump(std::atomic<std::uint64_t>& a, std::uint64_t by) noexcept {
    const std::uint64_t v = a.load(std::memory_order_relaxed) + by;
    a.store(v, std::memory_order_relaxed);
    return v;
  }

  std::array<std::atomic<std::uint64_t>, bucket_count> buckets_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> max_{0};
  std::atomic<std::uint64_t> min_{0};
};

}  // namespace ticks::app
