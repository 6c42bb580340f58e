// ticks::app::tick_recording: the part files the Parquet sink wrote, read back as the ticks
// they hold, in event-time order, for polarway-replay.
//
// tick_recording::scan() finds every *.parquet under a directory (list_parquet_files), reads
// each footer, tells the tick kind from the columns (trade_id: trade, agg_trade_id: aggTrade,
// update_id: bookTicker) and checks each column a message needs against its type (timestamps
// of any unit that are whole milliseconds, decimals of precision <= 18 and scale <= 8, int64
// ids, a boolean, a string symbol). It notes each file's event-time range and symbols from the
// statistics; a file whose symbol statistics do not name a single symbol has its symbol column
// read once to list them. Files are ranked by path, part numbers compared as numbers, so that a
// stream's parts come in the order the sink wrote them.
//
// tick_merge reads a recording as one sequence: a k-way merge of the files by event time, ties
// in rank order, then row order. Each file's rows come in file order (the order its stream was
// received in), so a stream's ids keep their order even where its event times do not. A file
// is opened only when the merge reaches its first event time, and closed when read; each open
// file holds one decoded row group, so memory is the number of files that overlap in time
// times the row group. Row groups whose statistics rule out every row (time range, streams)
// are skipped unread.
//
// Errors are text naming the file, and for column data the column and the row group.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/option.hpp>
#include <polarway/result.hpp>
#include <polarway/task.hpp>

#include "ticks/tick.hpp"

namespace ticks::app {

/// Which recorded rows are read: event_time in [from_ms, to_ms), symbol among `symbols` (all
/// when empty).
struct recording_filter {
  polarway::option<std::int64_t> from_ms;
  polarway::option<std::int64_t> to_ms;
  std::vector<std::string> symbols;
};

/// One part file of a recording.
struct recorded_file {
  std::string path;
  message_kind kind = message_kind::trade;
  std::vector<std::string> symbols;  // sorted, each a valid symbol
  std::int64_t min_time_ms = INT64_MIN;  // from the statistics: every row is within
  std::int64_t max_time_ms = INT64_MAX;
  std::uint64_t rows = 0;
};

/// "btcusdt@trade": the stream name of a symbol and kind.
std::string stream_name_of(std::string_view symbol, message_kind kind);

class tick_recording {
 public:
  /// Scans `dir` (a directory or one file) under `filter`. An error names the path: nothing to
  /// read, a file that is not Parquet or not a tick file, a column of the wrong type.
  static polarway::task<polarway::result<tick_recording, std::string>> scan(std::string dir,
                                                                          recording_filter filter);

  /// The files that may hold rows under the filter, in rank order.
  const std::vector<recorded_file>& files() const noexcept { return files_; }
  /// Every stream that has files under the filter, sorted.
  const std::vector<std::string>& streams() const noexcept { return streams_; }
  bool has_stream(std::string_view name) const noexcept;
  const recording_filter& filter() const noexcept { return filter_; }
  /// Rows in the files (before the time filter).
  std::uint64_t rows() const noexcept;

 private:
  std::vector<recorded_file> files_;
  std::vector<std::string> streams_;
  recording_filter filter_;
};

/// The ticks of a recording, merged by event time, for the streams asked for.
class tick_merge {
 public:
  /// The merge of `recording`'s rows of `streams` (stream names, e.g. "btcusdt@trade"), from
  /// the start of the recording's time range.
  tick_merge(std::shared_ptr<const tick_recording> recording, std::span<const std::string> streams);
  ~tick_merge();
  tick_merge(tick_merge&&) noexcept;
  tick_merge& operator=(tick_merge&&) noexcept;

  /// Whether front() is known without reading a file: then front() and pop() may be called.
  bool ready() const noexcept;
  /// Whether every row has been taken.
  bool done() const noexcept;
  /// Reads what ready() waits for (the next row group of a file, or the files the merge has
  /// reached). Afterwards ready() or done() holds, unless it failed. After an error the merge
  /// is done.
  polarway::task<polarway::result<void, std::string>> refill();

  /// The next tick and its stream name, valid until pop(). Only when ready().
  const ticks::tick& front() const noexcept;
  std::string_view front_stream() const noexcept;
  std::int64_t front_time_ms() const noexcept;
  void pop();

  /// From now on, only the rows of `streams`. A stream the merge did not cover joins at the
  /// event time of the last row taken: its earlier rows are not sent.
  void set_streams(std::span<const std::string> streams);

  /// Rows taken so far.
  std::uint64_t taken() const noexcept;

  struct state;

 private:
  std::unique_ptr<state> s_;
};

}  // namespace ticks::app
