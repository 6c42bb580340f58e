#include "feed_program.hpp"

#include <cstdio>
#include <memory>
#include <string>

#include <polarway/runtime.hpp>

#include "feed_metrics.hpp"
#include "metrics_endpoint.hpp"
#include "runtime_debug.hpp"
#include "signals.hpp"

namespace ticks::app {

namespace pw = polarway;

namespace {

unsigned long long u(std::uint64_t v) { return static_cast<unsigned long long>(v); }

void print_report(const char* program, const feed_config& cfg, const feed_server& server) {
  const auto& c = server.counters();
  const auto t = server.totals();
  std::fprintf(stderr,
               "%s: %llu connections, %llu messages, %llu bytes sent; totals count %llu price_sum %llu "
               "quantity_sum %llu\n",
               program, u(c.connections.load()), u(c.messages.load()), u(c.bytes.load()), u(t.count), u(t.price_sum),
               u(t.quantity_sum));
  for (const auto& m : server.market_totals())
    std::fprintf(stderr, "%s: market %s produced %llu messages; totals price_sum %llu quantity_sum %llu\n", program,
                 std::string(ticks::to_string(m.kind)).c_str(), u(m.totals.count), u(m.totals.price_sum),
                 u(m.totals.quantity_sum));
  std::fprintf(stderr,
               "%s: %llu control requests (%llu errors); %llu clients closed for more than 5 messages/s, "
               "%llu for a missed pong\n",
               program, u(c.control_requests.load()), u(c.control_errors.load()), u(c.rate_limited.load()),
               u(c.pong_timeouts.load()));
  if (cfg.rest_limit_per_s != 0)
    std::fprintf(stderr, "%s: %llu REST requests, %llu answered 429 at --rest-limit %llu/s\n", program,
                 u(c.rest_requests.load()), u(c.rest_rate_limited.load()), u(cfg.rest_limit_per_s));
  if (cfg.disconnect_every != 0)
    std::fprintf(stderr, "%s: %llu connections reset after %llu messages\n", program, u(c.resets.load()),
                 u(cfg.disconnect_every));
  if (cfg.stall_ms != 0)
    std::fprintf(stderr, "%s: %llu stalls of %llu ms\n", program, u(c.stalls.load()), u(cfg.stall_ms));
  if (cfg.session_max_ms != 0)
    std::fprintf(stderr, "%s: %llu connections closed at --session-max-s\n", program, u(c.sessions_expired.load()));
  if (!cfg.tls_cert.empty())
    std::fprintf(stderr, "%s: %llu TLS handshakes failed\n", program, u(c.tls_handshake_failures.load()));
}

pw::task<int> serve_feed(pw::runtime& rt, const char* program, feed_config cfg, pw::option<recording_source> source,
                         pw::cancellation_token stop) {
  std::shared_ptr<const tick_recording> recording;
  if (source) {
    auto scanned = co_await tick_recording::scan(source->dir, source->filter);
    if (!scanned) {
      std::fprintf(stderr, "%s: %s\n", program, scanned.error().c_str());
      co_return 1;
    }
    if (scanned->files().empty()) {
      std::fprintf(stderr, "%s: %s: no rows under --from/--to/--symbol\n", program, source->dir.c_str());
      co_return 1;
    }
    recording = std::make_shared<const tick_recording>(std::move(*scanned));
    if (!cfg.quiet)
      std::fprintf(stderr, "%s: %zu files, %zu streams, %llu rows\n", program, recording->files().size(),
                   recording->streams().size(), u(recording->rows()));
  }
  cfg.program = program;
  auto server = feed_server::create(cfg, recording);
  if (!server) {
    std::fprintf(stderr, "%s: %s\n", program, server.error().c_str());
    co_return 1;
  }
  std::fprintf(stderr, "%s: listening on %s (%s)\n", program, (*server)->local_addr().to_string().c_str(),
               cfg.tls_cert.empty() ? "ws://" : "wss://");
  const auto& c = (*server)->counters();
  // --metrics: served for as long as the feed runs, on a listener of its own.
  std::unique_ptr<metrics_server> metrics;
  if (!cfg.metrics_listen.empty()) {
    auto started = metrics_server::start(
        program, cfg.metrics_listen,
        runtime_pages(rt, [&rt, &c] { return feed_metrics_page(rt.metrics(), c); }, cfg.flight_recorder != 0));
    if (!started) {
      std::fprintf(stderr, "%s: %s\n", program, started.error().c_str());
      co_return 1;
    }
    metrics = std::move(*started);
  }
  co_await (*server)->run(stop);
  if (metrics) co_await metrics->stop();
  print_report(program, cfg, **server);
  co_return 0;
}

}  // namespace

int run_feed_program(const char* program, const feed_config& config, pw::option<recording_source> recording) {
  stop_signals signals;
  task_dump_signal dump_signal;
  pw::runtime rt(pw::runtime_options{.on_stall = stall_log(program),
                                     .flight_recorder = static_cast<std::size_t>(config.flight_recorder)});
  pw::cancellation_token stop;
  int status = 0;
  {
    auto watcher = rt.spawn(signals.watch(stop));
    auto dumper = rt.spawn(dump_signal.watch(rt, program));
    status = rt.block_on(serve_feed(rt, program, config, std::move(recording), stop));
    watcher.abort();
    dumper.abort();
  }
  return status;
}

}  // namespace ticks::app
