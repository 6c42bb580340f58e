// polarway-replay's command line: polarway-replay DIR [options]. DIR, the recording (a
// directory of part files, or one file), comes first; then the replay's own flags (--speed,
// --from, --to, --symbol) and the polarway-feed flags that apply to a replay, parsed strictly as
// the other programs' are (cli.hpp). A feed flag that does not apply (--rate, --kind, ...) is
// refused by name.
#pragma once

#include <span>
#include <string>

#include <polarway/result.hpp>

#include "cli.hpp"
#include "feed_program.hpp"
#include "feed_server.hpp"

namespace ticks::app {

struct replay_config {
  recording_source source;
  feed_config feed;  // feed.speed: 0 = flat out
};

std::string replay_usage();
/// Parses argv without argv[0].
polarway::result<replay_config, cli_error> parse_replay_args(std::span<const char* const> args);

}  // namespace ticks::app
