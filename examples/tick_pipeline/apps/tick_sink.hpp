// ticks::app::tick_sink: where the ingest pipeline's single sink task puts decoded ticks. The
// counting sink below is the first implementation; the Parquet sink (examples/parquet) plugs in
// behind the same interface.
//
// Contract: one task calls write() and flush(), never concurrently. write() receives ticks in
// channel order, in batches (the sink task drains whatever is buffered, up to a bound, so a
// sink pays its per-call costs once per batch, not once per tick); a write that suspends is
// the back-pressure: while it waits, the channel fills and the connection tasks stop reading.
// An error from either call is final: the pipeline closes the channel and reports it.
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
