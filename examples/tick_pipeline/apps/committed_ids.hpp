// ticks::app::committed_ids: where a --backfill ingest picks up the output an earlier run left
// in its --out directory: for each trade and aggTrade stream (kind, symbol), the ids its
// committed part files hold, read from the footers (the id column's min/max statistics and the
// row counts), never from the rows.
//
// The sequencing stage starts each such stream at last_id + 1, so after a kill -9, a full disk
// or a redeploy the next run fetches from the REST API what the earlier one received but never
// committed, and drops what it had committed already: every id once, as long as the exchange
// still holds it. Rows that were only in a temporary file when the process died are not in the
// output, and that is exactly what is fetched again.
//
// A stream's files need not hold one run of ids: an earlier run without --backfill, or one that
// died with a partition of an earlier day still open, can leave ids missing between its first
// and last committed ids. Those are counted (ids_missing), not fetched: the run resumes after
// the last committed id.
//
// Only the sink's layout is read (<stream>/symbol=<S>/date=<D>/part-<n>.parquet, checked by
// scan_previous_output). A part file that cannot be read, whose footer is not Parquet, or whose
// id column has no int64 min/max statistics is an error naming the file: the run does not guess
// where to resume. Reads go through pw::fs; the directory walk is a blocking readdir.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <polarway/result.hpp>
#include <polarway/task.hpp>

#include "parquet_file_reader.hpp"
#include "ticks/sequencer.hpp"

namespace ticks::app {

/// The ids one trade or aggTrade part file holds: the lowest and highest (its id column's
/// min/max statistics) and its row count.
struct part_file_ids {
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::uint64_t rows = 0;

  /// How many ids [min, max] spans; the rows fill it exactly when span() == rows.
  std::uint64_t span() const noexcept { return static_cast<std::uint64_t>(max) - static_cast<std::uint64_t>(min) + 1; }
};

/// The ids `file`, a part file of `kind` (trade or aggTrade), holds, read from its footer alone.
/// An error names the file: no int64 id column, a row group without min/max statistics, no rows.
polarway::result<part_file_ids, std::string> read_part_file_ids(const parquet_file_reader& file, message_kind kind);

struct committed_stream {
  stream_key key;
  std::int64_t first_id = 0;       // the lowest id committed
  std::int64_t last_id = 0;        // the highest id committed: the run resumes at last_id + 1
  std::uint64_t rows = 0;          // rows in the stream's part files
  std::uint64_t ids_missing = 0;   // ids in [first_id, last_id] that no part file holds
};

struct committed_ids {
  std::vector<committed_stream> streams;  // in no particular order
  std::uint64_t files = 0;                // part files read (trade and aggTrade)
  std::uint64_t ids_missing = 0;          // the streams' ids_missing, added up
};

/// Reads what the part files under `dir` hold. A missing or empty directory holds nothing.
polarway::task<polarway::result<committed_ids, std::string>> read_committed_ids(std::string dir);

}  // namespace ticks::app
