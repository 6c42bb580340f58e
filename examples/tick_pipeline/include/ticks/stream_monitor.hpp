// ticks::stream_monitor: per-stream decode counters and a rate-limited error log, so that bad
// input is counted, reported and surfaced (DESIGN.md hard rule 7) without a broken feed
// flooding the log. Each stream may log at most max_lines_per_second lines per one-second
// window; further errors are counted as suppressed, and the count is logged when the window
// ends. A stream that has produced errors and not a single good tick is flagged
// (only_errors()), which is the case the application must report loudly: it usually means a
// schema change upstream, not a transient glitch.
//
// Sans-I/O like the rest of the codec: the caller passes the clock (now_ns, monotonic) and the
// sink that receives log lines (stderr by default). Not thread-safe: one per connection task,
// or guarded by the caller. The number of tracked streams is bounded (max_streams); beyond it,
// new names share one "(other streams)" entry.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/option.hpp>
#include <polarway/result.hpp>

#include "ticks/decoder.hpp"

namespace ticks {

struct stream_counters {
  std::uint64_t decoded = 0;
  std::uint64_t errors = 0;         // every failed decode
  std::uint64_t schema_errors = 0;  // of which schema errors
  std::uint64_t suppressed_lines = 0;

  /// Errors and never a good tick: report it loudly.
  bool only_errors() const noexcept { return decoded == 0 && errors > 0; }
};

struct monitor_options {
  std::uint32_t max_lines_per_second = 5;
  std::size_t max_streams = 1024;
};

class stream_monitor {
 public:
  using sink = std::function<void(std::string_view line)>;

  /// With no sink, lines go to stderr.
  explicit stream_monitor(monitor_options options = {}, sink log = {});

  void record_ok(std::string_view stream);
  /// Counts the error and logs it unless the stream's budget for this second is spent.
  void record_error(std::string_view stream, const decode_error& e, std::int64_t now_ns);
  /// Records a decode result: on a combined stream the stream named in the message, else
  /// `connection_label` (e.g. "btcusdt@trade" for a raw stream).
  void record(std::string_view connection_label, const polarway::result<decoded, decode_error>& r, std::int64_t now_ns);
  /// Logs the suppressed counts of windows that have ended (call it now and then, and at exit).
  void flush(std::int64_t now_ns);

  polarway::option<stream_counters> counters(std::string_view stream) const;
  /// Streams with errors and no good tick, in name order.
  std::vector<std::string> streams_with_only_errors() const;
  stream_counters totals() const;

 private:
  struct entry {
    stream_counters counters;
    std::int64_t window_start_ns = 0;
    std::uint32_t lines_in_window = 0;
    std::uint64_t suppressed_in_window = 0;
    bool window_open = false;
  };
  using map = std::map<std::string, entry, std::less<>>;
  map::iterator lookup(std::string_view stream);
  void close_window(const std::string& name, entry& e);

  // Every message looks its stream up: with 20 streams, the map's string comparisons (or, in
  // an unordered_map, hashing and a division) were 8% of ingest's CPU. A direct-mapped cache
  // of map entries (whose iterators stay valid) keyed by a cheap hash answers most lookups
  // with one comparison; a miss, or a collision, falls back to the map.
  struct cached {
    std::uint64_t hash = 0;
    map::iterator it;
    bool used = false;
  };
  std::array<cached, 64> cache_{};

  monitor_options options_;
  sink log_;
  map streams_;
};

}  // namespace ticks
