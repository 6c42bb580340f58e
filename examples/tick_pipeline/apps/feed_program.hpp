// ticks::app::run_feed_program: the body of polarway-feed and polarway-replay, which serve the
// same protocol from different sources. It runs the feed server (feed_server.hpp) until SIGINT
// or SIGTERM, with --metrics and the task-dump signal, then prints what it sent to stderr under
// the program's name. Exit status: 0, or 1 if it cannot start (bind, --metrics bind, the
// replay file, the recording).
#pragma once

#include "feed_server.hpp"
#include "tick_recording.hpp"

namespace ticks::app {

/// What polarway-replay serves: the part files under `dir`, read under `filter`.
struct recording_source {
  std::string dir;
  recording_filter filter;
};

/// Runs the feed described by `config` (with `recording`, a replay of that recording) and
/// returns the exit status. `program` prefixes every line it prints.
int run_feed_program(const char* program, const feed_config& config, polarway::option<recording_source> recording);

}  // namespace ticks::app
