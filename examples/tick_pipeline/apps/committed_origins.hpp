// ticks::app::committed_origins: where polarway-sink picks up the output an earlier run left in
// its --out directory: for each partition (stream, symbol, UTC day), the last origin (the bus's
// sequence number and row, ticks::row_origin) its committed part files hold, read from the
// footers' key-value metadata that the Parquet sink writes with each file, and for trade and
// aggTrade the ids they hold (the id column's statistics, read_part_file_ids); never from the
// rows.
// The sink resumes each partition after it (parquet_sink::resume_after), so what the bus
// delivers again after a crash is skipped row for row; and it reads the bus again from the
// largest settled sequence number the files record (parquet_sink::set_settled_origin).
//
// Every committed part file under the directory must come from the same origin
// (polarway.origin equal to `label`, e.g. "nats:TICKS") and name its partition and its last
// origin: a file that does not (another program's, another stream's, a damaged footer) is an
// error naming it, because positions of two origins cannot be compared. Only the sink's layout
// is read (scan_previous_output); temporaries are skipped (the sink's open() sweeps them).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <polarway/option.hpp>
#include <polarway/result.hpp>
#include <polarway/task.hpp>

#include "ticks/parquet_sink.hpp"
#include "ticks/tick.hpp"

namespace ticks::app {

struct committed_origin {
  message_kind kind{};
  symbol sym;
  std::int32_t day = 0;  // days since 1970-01-01 (UTC)
  row_origin last;       // the partition's last committed origin
  // trade and aggTrade: the ids [first, last] of each committed file whose rows fill that range
  // (its id column's statistics and its row count); a file whose range has holes is left out.
  // A file that held some id twice and missed as many others would pass for full.
  std::vector<std::pair<std::int64_t, std::int64_t>> full_id_ranges;
};

/// polarway-sink's position on the bus, in its output's root: "<label>\n<settled>\n", replaced
/// (temporary file, fsync, rename, directory fsync) after each commit of every open file. It
/// moves the restart position past what the files alone can say (a file records the settled
/// sequence declared before its own commit began).
inline constexpr const char* bus_position_file = ".polarway-bus-position";

/// Records `settled` for `label` in `dir`'s position file (on the blocking pool).
polarway::task<polarway::result<void, std::string>> save_bus_position(std::string dir, std::string label,
                                                                      std::uint64_t settled);

struct committed_origins {
  std::vector<committed_origin> partitions;  // one per partition, in no particular order
  std::uint64_t files = 0;                   // part files read
  // The largest settled sequence any file (polarway.origin.settled) or the position file
  // records: every message before it is in the files already (or had no rows for them). 0 when
  // none records one.
  std::uint64_t settled = 0;
};

/// Reads the origins of the part files under `dir`, and its position file. A missing or empty
/// directory holds none; a position file of another label, or unreadable, is an error.
polarway::task<polarway::result<committed_origins, std::string>> read_committed_origins(std::string dir,
                                                                                        std::string label);

}  // namespace ticks::app
