// ticks::app::tick_sink: where the ingest pipeline's single sink task puts decoded ticks.
// Implementations: the counting sink (counting_sink.hpp) and the Parquet sink's adapter
// (sink/parquet_tick_sink.hpp), which the counting sink can pass each batch on to.
//
// Contract: one task calls write() and flush(), never concurrently. write() receives ticks in
// channel order, one channel message at a time: a batch a connection task decoded from one
// read (up to ingest_config::batch_max ticks), so a sink pays its per-call costs once per
// batch, not once per tick; a write that suspends is the back-pressure: while it waits, the
// channel fills and the connection tasks stop reading. An error from write() is final: the
// sink task closes the channel and the run reports it; flush() is called once, at the end.
#pragma once

#include <span>

#include <polarway/result.hpp>
#include <polarway/task.hpp>

#include "ticks/tick.hpp"

namespace ticks::app {

class tick_sink {
 public:
  virtual ~tick_sink() = default;
  /// Takes a batch of ticks; on success every one of them counts as written.
  virtual polarway::task<polarway::result<void>> write(std::span<const ticks::tick> batch) = 0;
  /// Makes everything written so far durable (called once, after the last write).
  virtual polarway::task<polarway::result<void>> flush() = 0;
};

}  // namespace ticks::app
