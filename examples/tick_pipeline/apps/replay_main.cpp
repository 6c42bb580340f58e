// polarway-replay: serves recorded ticks (the Parquet part files polarway-ingest writes) over
// polarway-feed's WebSocket protocol, merged by event time, flat out or at the recorded pace
// times --speed (see replay_cli.cpp for the options, tick_recording.hpp for how it reads).
// Exit status: 0 after SIGINT/SIGTERM, 1 if it cannot start, 2 for bad flags.
#include <cstdio>
#include <span>

#include "feed_program.hpp"
#include "replay_cli.hpp"

namespace app = ticks::app;

int main(int argc, char** argv) {
  auto cfg = app::parse_replay_args(std::span<const char* const>(argv + 1, static_cast<std::size_t>(argc - 1)));
  if (!cfg) {
    if (cfg.error().help) {
      std::fputs(app::replay_usage().c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "polarway-replay: %s\n(polarway-replay --help lists the options)\n",
                 cfg.error().message.c_str());
    return 2;
  }
  if (auto tls = app::load_feed_tls(cfg->feed); !tls) {
    std::fprintf(stderr, "polarway-replay: %s\n", tls.error().c_str());
    return 2;
  }
  return app::run_feed_program("polarway-replay", cfg->feed, std::move(cfg->source));
}
