// ticks::app::counting_sink: a tick_sink that stores nothing and measures everything: ticks per
// kind, the feed_totals sums (to compare with what the feed generator sent: equal totals mean
// nothing was lost, duplicated or altered), and end-to-end latency from "pw_ts" (the feed's
// send time, CLOCK_REALTIME ns) to the moment the sink sees the tick, in a fixed-size
// log-bucketed histogram. Optionally slow on purpose (delay_us per tick) to demonstrate
// back-pressure: the delay is paid in sleeps of at least a millisecond, accumulated over ticks.
//
// It can sit in front of a downstream sink (the Parquet sink, with --out): each batch goes
// downstream first and is counted only once the downstream has taken it, so the totals and the
// latency describe what was written, and a downstream error is returned as is (the pipeline
// then stops; the batch that failed is not counted). flush() flushes the downstream.
//
// written(), per_kind() and latency() may be read from any thread (the live display, a
// /metrics scrape); everything else belongs to the sink task until it has been joined.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>

#include "latency_histogram.hpp"
#include "stream_tick_counts.hpp"
#include "tick_sink.hpp"
#include "ticks/feed_generator.hpp"

namespace ticks::app {

class counting_sink final : public tick_sink {
 public:
  /// With `streams`, the ticks written are also counted per stream there.
  explicit counting_sink(std::uint64_t delay_us_per_tick = 0, tick_sink* downstream = nullptr,
                         stream_tick_counts* streams = nullptr)
      : delay_us_(delay_us_per_tick), downstream_(downstream) {
    if (streams != nullptr) per_stream_.emplace(*streams, stream_tick_counts::column::written);
  }

  polarway::task<polarway::result<void>> write(std::span<const ticks::tick> batch) override;
  polarway::task<polarway::result<void>> flush() override;

  std::uint64_t written() const noexcept { return written_.load(std::memory_order_relaxed); }
  const feed_totals& totals() const noexcept { return totals_; }
  /// Ticks written per kind (trade, aggTrade, bookTicker), as of now (any thread).
  std::array<std::uint64_t, 3> per_kind() const noexcept {
    return {per_kind_[0].load(std::memory_order_relaxed), per_kind_[1].load(std::memory_order_relaxed),
            per_kind_[2].load(std::memory_order_relaxed)};
  }
  /// End-to-end latency of the ticks written (any thread: see latency_histogram).
  const latency_histogram& latency() const noexcept { return latency_; }
  std::uint64_t flushes() const noexcept { return flushes_; }

 private:
  std::uint64_t delay_us_;
  tick_sink* downstream_;
  std::int64_t delay_debt_ns_ = 0;
  std::atomic<std::uint64_t> written_{0};
  feed_totals totals_;
  std::array<std::atomic<std::uint64_t>, 3> per_kind_{};
  std::optional<stream_tick_counts::writer> per_stream_;
  latency_histogram latency_;
  std::uint64_t flushes_ = 0;
};

}  // namespace ticks::app
