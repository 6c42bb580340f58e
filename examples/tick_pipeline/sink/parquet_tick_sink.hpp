// ticks::app::parquet_tick_sink: the Parquet sink behind the ingest pipeline's tick_sink
// interface (apps/tick_sink.hpp), for targets that link both tick_apps and tick_parquet_sink.
//
// tick_sink speaks pw::error, whose context is a static string, so the partition path cannot
// travel through it: the adapter returns the underlying code with the context
// "parquet_sink::write" / "parquet_sink::flush", and the full parquet_sink_error (partition
// file, rows lost, batch index) stays available from sink().failure() for the summary.
#pragma once

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
    if (!r) co_return polarway::err(polarway::error(r.error().error.code(), "parquet_sink::write"));
    co_return polarway::ok();
  }

  /// Commits every open file (the pipeline calls this once, after the last write).
  polarway::task<polarway::result<void>> flush() override {
    auto r = co_await sink_.flush();
    if (!r) co_return polarway::err(polarway::error(r.error().error.code(), "parquet_sink::flush"));
    co_return polarway::ok();
  }

  parquet_sink& sink() noexcept { return sink_; }
  const parquet_sink& sink() const noexcept { return sink_; }

 private:
  parquet_sink sink_;
};

}  // namespace ticks::app
