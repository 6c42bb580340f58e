// ticks::app::parquet_tick_sink: the Parquet sink behind the ingest pipeline's tick_sink
// interface (apps/tick_sink.hpp), for targets that link both tick_apps and tick_parquet_sink.
//
// tick_sink speaks pw::error, whose context is a static string, so the partition path cannot
// travel through it: the adapter returns the underlying code with the context
// "parquet_sink::write" / "parquet_sink::flush", and the full parquet_sink_error (partition
// file, rows lost, batch index) stays available from sink().failure() for the summary.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "tick_sink.hpp"
#include "ticks/parquet_sink.hpp"

namespace ticks::app {

class parquet_tick_sink final : public tick_sink {
 public:
  explicit parquet_tick_sink(parquet_sink sink) noexcept : sink_(std::move(sink)) {}

  polarway::task<polarway::result<void>> write(std::span<const ticks::tick> batch) override {
    auto r = co_await sink_.write(batch);
    publish();
    if (!r) co_return polarway::err(polarway::error(r.error().error.code(), "parquet_sink::write"));
    co_return polarway::ok();
  }

  /// Commits every open file (the pipeline calls this once, after the last write).
  polarway::task<polarway::result<void>> flush() override {
    auto r = co_await sink_.flush();
    publish();
    if (!r) co_return polarway::err(polarway::error(r.error().error.code(), "parquet_sink::flush"));
    co_return polarway::ok();
  }

  parquet_sink& sink() noexcept { return sink_; }
  const parquet_sink& sink() const noexcept { return sink_; }

  /// What committed files hold, per stream kind, as of the last write() or flush() (any
  /// thread: a /metrics scrape while the sink task writes).
  struct committed_counts {
    std::uint64_t rows = 0;
    std::uint64_t files = 0;
    std::uint64_t bytes = 0;
  };
  committed_counts committed(message_kind k) const noexcept {
    const published_counts& p = published_[static_cast<std::size_t>(k)];
    return {p.rows.load(std::memory_order_relaxed), p.files.load(std::memory_order_relaxed),
            p.bytes.load(std::memory_order_relaxed)};
  }

 private:
  struct published_counts {
    std::atomic<std::uint64_t> rows{0};
    std::atomic<std::uint64_t> files{0};
    std::atomic<std::uint64_t> bytes{0};
  };

  // The sink task copies its counters out for committed(): the sink's own stats are its alone.
  void publish() noexcept {
    for (std::size_t k = 0; k < published_.size(); ++k) {
      const parquet_stream_counts& c = sink_.stats().streams[k];
      published_[k].rows.store(c.rows_written, std::memory_order_relaxed);
      published_[k].files.store(c.files_written, std::memory_order_relaxed);
      published_[k].bytes.store(c.bytes_written, std::memory_order_relaxed);
    }
  }

  parquet_sink sink_;
  std::array<published_counts, 3> published_{};
};

}  // namespace ticks::app
