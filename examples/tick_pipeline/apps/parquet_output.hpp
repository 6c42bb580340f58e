// ticks::app::parquet_output: the Parquet output of polarway-ingest and polarway-demo, from the
// command line to the verdict: the flags (--out, --codec and the sink's size knobs, parsed the
// same way by both programs), opening the sink (ticks::parquet_sink, behind the pipeline's
// tick_sink as ticks::app::parquet_tick_sink) and the end-of-run check that every tick the
// pipeline wrote is in a committed file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <polarway/result.hpp>
#include <polarway/task.hpp>
#include <pw_parquet/compression.hpp>

#include "cli.hpp"
#include "ticks/parquet_sink.hpp"

namespace ticks::app {

struct parquet_output_config {
  std::string dir;  // empty: no Parquet output
  pw_parquet::compression codec = pw_parquet::compression::snappy;
  /// Each open file buffers up to this many rows (about 100 bytes each, encoding included), so
  /// peak memory is about open partitions x this x 100 B: 16384 keeps the demo's 20 partitions
  /// near 40 MiB (65536 took it to 140 MiB) while row groups stay large enough to scan well.
  std::size_t rows_per_row_group = 16384;
  std::uint64_t max_rows_per_file = 4'000'000;
  /// Files open at once. Must exceed the partitions (stream x symbol x day) that interleave,
  /// or the sink's LRU commits a file for nearly every tick; each open file buffers up to one
  /// row group. 0: the program's default.
  std::size_t max_open_files = 0;
  /// parquet_sink_options::origin_label: set by a program that writes rows with their origins.
  std::string origin_label;
  /// The first of these flags given (e.g. "--codec"), so a program can refuse them where they
  /// mean nothing (without --out, with --sink count) naming the flag; empty if none was.
  std::string first_flag;
};

/// If `flag` is one of --out, --codec, --row-group-rows, --file-rows, --max-open-files, reads
/// its value (strictly: an unknown codec, an empty directory, a number out of range is a
/// cli_error naming the flag) into `c` and returns true; returns false for any other flag.
polarway::result<bool, cli_error> parse_parquet_flag(std::string_view flag, arg_reader& r, parquet_output_config& c);

/// The usage lines of those flags but --out (each program says what its --out does), with the
/// descriptions starting at `column`.
std::string parquet_flags_usage(std::size_t column, std::string_view max_open_default);

/// Opens the sink on c.dir (created if missing; locked against a second sink; stale temporary
/// files of a crashed run removed). max_open_files == 0 takes `default_max_open_files`.
polarway::task<polarway::result<parquet_sink, parquet_sink_error>> open_parquet_output(
    parquet_output_config c, std::size_t default_max_open_files);

/// After the run and close(): the sink did not fail, and it committed exactly the ticks the
/// pipeline counted as written (a rejected tick, one the sink would not put in a path, breaks
/// this: it was received but is in no file).
bool parquet_output_complete(const parquet_sink& sink, std::uint64_t ticks_out) noexcept;

}  // namespace ticks::app
