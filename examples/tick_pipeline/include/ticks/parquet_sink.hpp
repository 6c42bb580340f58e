// ticks::parquet_sink: the tick pipeline's durable sink. Ticks go into Parquet files
// partitioned by stream, symbol and UTC day (ticks/parquet_partition.hpp):
//
//   <root>/<stream>/symbol=<SYMBOL>/date=<YYYY-MM-DD>/part-<n>.parquet
//
// The date is the UTC day of the exchange's event time ("E"); a bookTicker without "E" (spot
// sends none) is stamped with the time the sink receives it (options.clock_ms, CLOCK_REALTIME
// by default), which then is both its event_time column and its date.
//
// Invariants it keeps:
// - A reader never sees a half-written file: a part file is written as .part-<n>.parquet.tmp in
//   its own directory, fsynced, renamed into place, and the directory is fsynced. Part numbers
//   continue after the highest one on disk, and the temp is opened O_EXCL, so nothing is
//   overwritten. open() removes stale temps (of a crashed run) under the root's partition
//   directories, while holding an exclusive lock on <root>/.polarway-parquet-sink.lock, so two
//   sinks can never share a root.
// - Bounded memory, whatever the volume: at most max_open_partitions files are open, each with
//   at most one row group (rows_per_row_group rows) buffered; opening one more commits the least
//   recently used. A stream's file for a symbol and day is committed as soon as a row of a later
//   day comes for that stream and symbol: their event times move forward, so at midnight UTC
//   each day's files close instead of staying open, with their buffers, beside the next day's
//   (a late row of the earlier day starts another part). Files also roll at max_rows_per_file
//   rows or about max_file_bytes bytes. Committed files leave nothing behind in memory.
// - Faults are values and fail-stop. A write, fsync, close or rename error (ENOSPC, EIO, EFBIG,
//   ...) in one partition removes that partition's temporary file (its rows are counted in
//   rows_lost), commits every other open partition at once (so nothing already accepted is left
//   in limbo), and returns a parquet_sink_error naming the partition file. The sink then refuses
//   further writes with the same error: the pipeline's contract is that a sink error is final.
//   After that, for every stream, rows_accepted == rows_written + rows_lost.
// - Invalid ticks (a symbol outside [A-Z0-9]{1,20}, a time outside 1970..9999) never reach a
//   path: they are not written, are counted in rows_rejected, and the last one is kept in
//   last_rejection(); the write goes on (a bad tick must not stop good ones).
//
// - Rows may carry their origin (write_from): a position in the stream they were read from (a
//   bus's sequence number and the row's index in that message). Each file then records the
//   first and last origin it holds in its key-value metadata (polarway.origin.first / .last,
//   "seq:row", and options.origin_label as polarway.origin), written with the footer, so it is
//   committed with the rows, atomically. Origins must arrive in increasing order per partition;
//   a row whose origin is not after the last one the partition took (this run, or as given to
//   resume_after() from the files of an earlier one) is skipped and counted in
//   rows_already_written: a redelivered message never writes a row twice. The writer of the
//   origins may also declare, with set_settled_origin(), a sequence number before which every
//   message is done with; files committed from then on record it (polarway.origin.settled), so
//   that a later run knows where to start reading again.
//
// One task uses a sink at a time (the pipeline's single sink task). Its I/O goes through pw::fs
// and must run inside a pw::runtime. Directory scans (the next part number, the stale-temp
// sweep) and the lock file are small blocking calls: the runtime has no async readdir or flock.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <polarway/error.hpp>
#include <polarway/option.hpp>
#include <polarway/result.hpp>
#include <polarway/task.hpp>
#include <pw_parquet/compression.hpp>

#include "ticks/parquet_partition.hpp"
#include "ticks/parquet_sink_error.hpp"
#include "ticks/tick.hpp"

namespace ticks {

struct parquet_sink_options {
  /// The output directory (created if missing).
  std::string root = "out";
  pw_parquet::compression codec = pw_parquet::compression::snappy;
  int zstd_level = 3;
  /// Rows buffered per open partition before they are encoded and written as one row group.
  std::size_t rows_per_row_group = 65536;
  /// A file is committed and a new part started once it holds this many rows...
  std::uint64_t max_rows_per_file = 4'000'000;
  /// ...or once the bytes written plus the buffered row group reach about this many.
  std::uint64_t max_file_bytes = std::uint64_t{256} << 20;
  /// Open partitions (files being written); one more commits the least recently used.
  std::size_t max_open_partitions = 16;
  /// Remove .part-<n>.parquet.tmp files left under root by a crashed run (in open()).
  bool remove_stale_temps = true;
  /// Milliseconds since the epoch, for bookTicker ticks without an event time; nullptr means
  /// CLOCK_REALTIME. Tests set a fixed clock.
  std::int64_t (*clock_ms)() noexcept = nullptr;
  /// Recorded as polarway.origin in files holding rows written with write_from (e.g.
  /// "nats:TICKS"): what the files' origin positions count in.
  std::string origin_label{};
};

/// A row's place in the stream it was read from: the message's sequence number there and the
/// row's index within the message. Ordered by message, then row.
struct row_origin {
  std::uint64_t seq = 0;
  std::uint32_t row = 0;

  friend auto operator<=>(const row_origin&, const row_origin&) = default;
};

/// "seq:row", as files record it.
std::string to_string(const row_origin& o);
/// The inverse of to_string; none for anything else.
polarway::option<row_origin> parse_row_origin(std::string_view text) noexcept;

/// The key-value metadata keys of a file written with origins.
inline constexpr const char* origin_label_key = "polarway.origin";
inline constexpr const char* origin_first_key = "polarway.origin.first";
inline constexpr const char* origin_last_key = "polarway.origin.last";
inline constexpr const char* origin_settled_key = "polarway.origin.settled";

/// The file open() locks in the root; it stays there after close() and holds no data.
inline constexpr const char* parquet_sink_lock_file = ".polarway-parquet-sink.lock";

/// Counters for one stream (trade, aggTrade, bookTicker).
struct parquet_stream_counts {
  std::uint64_t rows_accepted = 0;  // taken by write()
  std::uint64_t rows_written = 0;   // in committed (renamed, fsynced) files
  std::uint64_t rows_lost = 0;      // in files that failed and were removed
  std::uint64_t rows_rejected = 0;  // invalid ticks, never written
  std::uint64_t rows_already_written = 0;  // write_from: origin not after its partition's last
  std::uint64_t files_written = 0;
  std::uint64_t bytes_written = 0;  // of committed files
};

struct parquet_sink_stats {
  std::array<parquet_stream_counts, 3> streams{};  // indexed by message_kind
  std::uint64_t partitions_opened = 0;  // files started
  std::uint64_t evictions = 0;          // commits forced by max_open_partitions
  std::uint64_t day_commits = 0;        // commits of a day's file once the next day's rows began
  std::uint64_t stale_temps_removed = 0;
  std::uint64_t temps_not_removed = 0;  // after a fault, the unlink of the temp failed too
  std::size_t open_partitions = 0;
  std::size_t max_open_partitions_seen = 0;

  const parquet_stream_counts& of(message_kind k) const noexcept { return streams[static_cast<std::size_t>(k)]; }
  std::uint64_t rows_written() const noexcept { return sum(&parquet_stream_counts::rows_written); }
  std::uint64_t rows_lost() const noexcept { return sum(&parquet_stream_counts::rows_lost); }
  std::uint64_t rows_rejected() const noexcept { return sum(&parquet_stream_counts::rows_rejected); }
  std::uint64_t rows_already_written() const noexcept { return sum(&parquet_stream_counts::rows_already_written); }
  std::uint64_t files_written() const noexcept { return sum(&parquet_stream_counts::files_written); }
  std::uint64_t bytes_written() const noexcept { return sum(&parquet_stream_counts::bytes_written); }

 private:
  std::uint64_t sum(std::uint64_t parquet_stream_counts::*field) const noexcept {
    return streams[0].*field + streams[1].*field + streams[2].*field;
  }
};

/// Why a tick was rejected (pw::errc::invalid_input with the reason as context for path
/// problems, a pw_parquet::errc for values the schema cannot hold), and its stream and symbol.
struct parquet_rejection {
  polarway::error error;
  message_kind kind{};
  std::string symbol;  // as received, possibly hostile: for logs only, never for paths
};

class parquet_sink {
 public:
  /// Creates the root, takes its lock, sweeps stale temps. Errors: the root cannot be created
  /// or locked (another sink holds it: EWOULDBLOCK), or invalid options (pw::errc::invalid_input).
  static polarway::task<polarway::result<parquet_sink, parquet_sink_error>> open(parquet_sink_options options);

  parquet_sink(parquet_sink&&) noexcept;
  parquet_sink& operator=(parquet_sink&&) noexcept;
  /// A sink dropped without close() removes its temporary files (their rows are lost).
  ~parquet_sink();

  /// Buffers a batch; awaits file writes whenever a row group completes or a file rolls.
  polarway::task<polarway::result<void, parquet_sink_error>> write(std::span<const tick> batch);
  polarway::task<polarway::result<void, parquet_sink_error>> write(const tick& t);
  /// write(), with batch[i] at origin {first.seq, first.row + i} (see the header comment).
  polarway::task<polarway::result<void, parquet_sink_error>> write_from(std::span<const tick> batch, row_origin first);
  /// Rows of (kind, symbol, UTC day) at or before `last` are skipped from now on: they are in
  /// files committed earlier.
  void resume_after(message_kind kind, const symbol& sym, std::int32_t day, row_origin last);
  /// The earliest origin held by a file not yet committed; none when every row written with an
  /// origin is committed. Everything before it is durable.
  polarway::option<row_origin> oldest_uncommitted_origin() const noexcept;
  /// Files committed from now on record `seq` as polarway.origin.settled: every message before
  /// it was written to files committed before this call (or had no rows here). Never backwards.
  void set_settled_origin(std::uint64_t seq) noexcept;
  /// Commits every open partition (row group, footer, fsync, rename, directory fsync): everything
  /// accepted so far is durable and visible afterwards. Later writes start new part files.
  polarway::task<polarway::result<void, parquet_sink_error>> flush();
  /// flush(), then releases the root's lock; the sink accepts nothing afterwards.
  polarway::task<polarway::result<void, parquet_sink_error>> close();

  const parquet_sink_stats& stats() const noexcept;
  /// The fault that stopped the sink, if one did.
  const polarway::option<parquet_sink_error>& failure() const noexcept;
  /// The most recent rejected tick, if any.
  const polarway::option<parquet_rejection>& last_rejection() const noexcept;
  const parquet_sink_options& options() const noexcept;

  struct state;

 private:
  explicit parquet_sink(std::unique_ptr<state> s) noexcept;
  static polarway::task<polarway::result<parquet_sink, parquet_sink_error>> open_impl(parquet_sink_options options);
  std::unique_ptr<state> state_;
};

}  // namespace ticks
