// ticks::app::previous_output: what an earlier run of the Parquet sink left in an output
// directory, so that polarway-demo can start from an empty one (its read-back compares the
// files with this run's feed, so files of an earlier run would make the counts differ).
//
// Only the sink's own layout is recognised: the lock file (and polarway-sink's bus position
// file) at the top, then
// <stream>/symbol=<S>/date=<D>/ directories (stream: trade | aggTrade | bookTicker) holding
// part-<n>.parquet files or .part-<n>.parquet.tmp temporaries. Anything else, anywhere (another
// file, a symlink, a directory of another name), makes the scan fail naming it: a directory that
// holds someone's other files is never cleared, so a mistyped --out cannot delete them.
//
// The scan is a blocking readdir walk (the runtime has none), done before the run starts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <polarway/result.hpp>

namespace ticks::app {

struct previous_output {
  std::vector<std::string> files;  // part files and temporaries
  std::vector<std::string> dirs;   // the partition directories and their parents, deepest first
  std::uint64_t part_files = 0;    // committed ones among `files`
};

/// Scans `dir`. A missing directory is an empty one; a path that is not a directory, an
/// unreadable entry or a foreign one is an error (a message naming the path).
polarway::result<previous_output, std::string> scan_previous_output(const std::string& dir);

/// Removes the files, then the directories that are left empty. Entries already gone are fine
/// (the sink's own open() sweeps temporaries). Call it while holding the sink's lock on the
/// directory, so no other sink is writing there.
polarway::result<void, std::string> remove_previous_output(const previous_output& p);

}  // namespace ticks::app
