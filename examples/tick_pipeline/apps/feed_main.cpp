// polarway-feed: a Binance-format WebSocket feed simulator (see feed_server.hpp). Serves until
// SIGINT/SIGTERM, then closes every connection with 1001 and prints what it sent.
// Exit status: 0, 1 if it cannot start (bind, --metrics bind, replay file), 2 for bad flags
// (and a --tls-cert / --tls-key that cannot be loaded).
#include <cstdio>
#include <span>

#include "feed_program.hpp"

namespace app = ticks::app;

int main(int argc, char** argv) {
  auto cfg = app::parse_feed_args(std::span<const char* const>(argv + 1, static_cast<std::size_t>(argc - 1)));
  if (!cfg) {
    if (cfg.error().help) {
      std::fputs(app::feed_usage().c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "polarway-feed: %s\n(polarway-feed --help lists the options)\n", cfg.error().message.c_str());
    return 2;
  }
  if (auto tls = app::load_feed_tls(*cfg); !tls) {
    std::fprintf(stderr, "polarway-feed: %s\n", tls.error().c_str());
    return 2;
  }
  return app::run_feed_program("polarway-feed", *cfg, polarway::none);
}
