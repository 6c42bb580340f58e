// ticks::parquet_sink_error: what the Parquet sink reports when it cannot do its job. It names
// the partition file the failure belongs to (the path the file would have had once committed,
// e.g. out/trade/symbol=BTCUSDT/date=2026-11-22/part-00003.parquet; the output root for
// failures that belong to no partition) and carries the runtime's pw::error, so the caller can
// both log a useful line and branch on the errno (ENOSPC, EIO, EFBIG, ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <polarway/error.hpp>

namespace ticks {

struct parquet_sink_error {
  /// The partition file (final name) or, for sink-wide failures, the output root.
  std::string partition;
  /// The underlying error: errno-based for I/O, pw_parquet::errc for encoding, pw::errc otherwise.
  polarway::error error;
  /// Rows that were accepted into the failed file and are gone with it (its temporary file is
  /// removed, so no reader ever sees them half-written).
  std::uint64_t rows_lost = 0;
  /// In the failing write(batch): the index of the tick being written when the fault hit. Ticks
  /// before it were accepted (and are committed or counted lost); it and later ones were not.
  std::size_t batch_index = 0;

  /// "<partition>: <operation>: <reason>".
  std::string message() const { return partition + ": " + error.message(); }
};

}  // namespace ticks
