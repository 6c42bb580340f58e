// The JSON summary polarway-ingest (and the demo) prints at exit: counts in and out, rate,
// errors by kind, end-to-end latency percentiles and peak RSS; with --out, the Parquet output
// (directory, codec, files, bytes and rows written, per stream, and the sink's failure naming
// its partition file); with --publish, what the subscribers and the bus were sent. One object on one line, so a script can parse the last line of stdout
// (or the --json-summary file).
#pragma once

#include <cstddef>
#include <iterator>
#include <string>

#include "counting_sink.hpp"
#include "ingest.hpp"
#include "jetstream_sink.hpp"
#include "ticks/feed_generator.hpp"
#include "ticks/parquet_sink.hpp"

namespace ticks::app {

/// The name of ws::violation `i` (in enum order) in the JSON summary and the metrics: the
/// codec's to_string is prose, with spaces.
constexpr const char* ws_violation_key(std::size_t i) noexcept {
  constexpr const char* keys[] = {
      "other_ws_error",   "reserved_bits",      "unknown_opcode",          "fragmented_control",
      "control_too_long", "unmasked_frame",     "masked_frame",            "non_minimal_length",
      "length_high_bit",  "unexpected_continuation", "expected_continuation", "bad_close_payload",
      "invalid_utf8",     "message_too_big",    "rejected_by_wslay"};
  static_assert(std::size(keys) == ingest_counters::violations);
  return keys[i];
}

/// What a summary reports besides the engine's counters and the counting sink; each optional.
struct summary_extras {
  const parquet_sink* parquet = nullptr;  // --out: the sink, after close()
  const feed_totals* feed_sent = nullptr;  // polarway-demo: what its feed sent
  const publisher_counters* published = nullptr;  // --publish: what the subscribers were sent
  const jetstream_sink* bus = nullptr;            // --publish nats://: what went to the bus
};

/// The Parquet output's part of a summary: directory, codec, whether it holds exactly
/// `ticks_out` rows, files, bytes and rows (written, rejected, lost, already written) overall
/// and per stream, the failure and the last rejection.
std::string parquet_output_json(const parquet_sink& p, std::uint64_t ticks_out);

std::string ingest_summary_json(const ingest_counters& c, const ingest_report& r, const counting_sink& sink,
                                const summary_extras& extras = {});
/// The human-readable closing lines (for stderr).
std::string ingest_summary_text(const ingest_counters& c, const ingest_report& r, const counting_sink& sink,
                                const summary_extras& extras = {});

}  // namespace ticks::app
