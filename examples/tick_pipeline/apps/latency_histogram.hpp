// ticks::app::latency_histogram: a fixed-size, log-linear histogram of nanosecond values, for
// end-to-end latency percentiles with bounded memory however long the run. Each power of two
// is split into 32 linear sub-buckets, so a reported percentile is within about 3% of the true
// value (it reports the bucket's upper bound: never an underestimate). Values of 2^42 ns (73
// minutes) and more share the last bucket. Not thread-safe: one per sink task.
#pragma once

#include <array>
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

  void record(std::uint64_t v) noexcept {
    ++buckets_[index(v)];
    ++count_;
    if (v > max_) max_ = v;
    if (count_ == 1 || v < min_) min_ = v;
  }

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t max() const noexcept { return max_; }
  std::uint64_t min() const noexcept { return min_; }

  /// The value at quantile q (0 < q <= 1): the upper bound of the bucket holding it, capped at
  /// the largest value seen. 0 when empty.
  std::uint64_t percentile(double q) const noexcept {
    if (count_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_) + 0.5);
    if (rank < 1) rank = 1;
    if (rank > count_) rank = count_;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
      seen += buckets_[i];
      if (seen >= rank) {
        const std::uint64_t hi = upper_bound(i);
        return hi < max_ ? hi : max_;
      }
    }
    return max_;
  }

  void merge(const latency_histogram& o) noexcept {
    for (std::size_t i = 0; i < bucket_count; ++i) buckets_[i] += o.buckets_[i];
    if (o.count_ && (count_ == 0 || o.min_ < min_)) min_ = o.min_;
    if (o.max_ > max_) max_ = o.max_;
    count_ += o.count_;
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
  std::array<std::uint64_t, bucket_count> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t min_ = 0;
};

}  // namespace ticks::app
