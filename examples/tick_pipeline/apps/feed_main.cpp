// polarway-feed: a Binance-format WebSocket feed simulator (see feed_server.hpp). Serves until
// SIGINT/SIGTERM, then closes every connection with 1001 and prints what it sent.
// Exit status: 0, 1 if it cannot start (bind, --metrics bind, replay file), 2 for bad flags
// (and a --tls-cert / --tls-key that cannot be loaded).
#include <cstdio>
#include <memory>
#include <span>
#include <string>

#include <polarway/runtime.hpp>

#include "feed_metrics.hpp"
#include "feed_server.hpp"
#include "metrics_endpoint.hpp"
#include "runtime_debug.hpp"
#include "signals.hpp"

namespace pw = polarway;
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
  app::stop_signals signals;
  app::task_dump_signal dump_signal;
  pw::runtime rt(pw::runtime_options{.on_stall = app::stall_log("polarway-feed"),
                                     .flight_recorder = static_cast<std::size_t>(cfg->flight_recorder)});
  pw::cancellation_token stop;
  int status = 0;
  {
    auto watcher = rt.spawn(signals.watch(stop));
    auto dumper = rt.spawn(dump_signal.watch(rt, "polarway-feed"));
    status = rt.block_on([](pw::runtime& rt, app::feed_config cfg, pw::cancellation_token stop) -> pw::task<int> {
      auto server = app::feed_server::create(cfg);
      if (!server) {
        std::fprintf(stderr, "polarway-feed: %s\n", server.error().c_str());
        co_return 1;
      }
      std::fprintf(stderr, "polarway-feed: listening on %s (%s)\n", (*server)->local_addr().to_string().c_str(),
                   cfg.tls_cert.empty() ? "ws://" : "wss://");
      const auto& c = (*server)->counters();
      // --metrics: served for as long as the feed runs, on a listener of its own.
      std::unique_ptr<app::metrics_server> metrics;
      if (!cfg.metrics_listen.empty()) {
        auto started = app::metrics_server::start(
            "polarway-feed", cfg.metrics_listen,
            app::runtime_pages(rt, [&rt, &c] { return app::feed_metrics_page(rt.metrics(), c); },
                               cfg.flight_recorder != 0));
        if (!started) {
          std::fprintf(stderr, "polarway-feed: %s\n", started.error().c_str());
          co_return 1;
        }
        metrics = std::move(*started);
      }
      co_await (*server)->run(stop);
      if (metrics) co_await metrics->stop();
      const auto t = (*server)->totals();
      std::fprintf(stderr,
                   "polarway-feed: %llu connections, %llu messages, %llu bytes sent; totals count %llu price_sum %llu "
                   "quantity_sum %llu\n",
                   static_cast<unsigned long long>(c.connections.load()), static_cast<unsigned long long>(c.messages.load()),
                   static_cast<unsigned long long>(c.bytes.load()), static_cast<unsigned long long>(t.count),
                   static_cast<unsigned long long>(t.price_sum), static_cast<unsigned long long>(t.quantity_sum));
      for (const auto& m : (*server)->market_totals())
        std::fprintf(stderr, "polarway-feed: market %s produced %llu messages; totals price_sum %llu quantity_sum %llu\n",
                     std::string(ticks::to_string(m.kind)).c_str(), static_cast<unsigned long long>(m.totals.count),
                     static_cast<unsigned long long>(m.totals.price_sum),
                     static_cast<unsigned long long>(m.totals.quantity_sum));
      std::fprintf(stderr,
                   "polarway-feed: %llu control requests (%llu errors); %llu clients closed for more than 5 messages/s, "
                   "%llu for a missed pong\n",
                   static_cast<unsigned long long>(c.control_requests.load()),
                   static_cast<unsigned long long>(c.control_errors.load()),
                   static_cast<unsigned long long>(c.rate_limited.load()),
                   static_cast<unsigned long long>(c.pong_timeouts.load()));
      if (cfg.disconnect_every != 0)
        std::fprintf(stderr, "polarway-feed: %llu connections reset after %llu messages\n",
                     static_cast<unsigned long long>(c.resets.load()),
                     static_cast<unsigned long long>(cfg.disconnect_every));
      if (cfg.stall_ms != 0)
        std::fprintf(stderr, "polarway-feed: %llu stalls of %llu ms\n", static_cast<unsigned long long>(c.stalls.load()),
                     static_cast<unsigned long long>(cfg.stall_ms));
      if (cfg.session_max_ms != 0)
        std::fprintf(stderr, "polarway-feed: %llu connections closed at --session-max-s\n",
                     static_cast<unsigned long long>(c.sessions_expired.load()));
      if (!cfg.tls_cert.empty())
        std::fprintf(stderr, "polarway-feed: %llu TLS handshakes failed\n",
                     static_cast<unsigned long long>(c.tls_handshake_failures.load()));
      co_return 0;
    }(rt, *cfg, stop));
    watcher.abort();
    dumper.abort();
  }
  return status;
}
