#include "ingest_metrics.hpp"

#include <array>
#include <cstdint>

#include "prometheus_text.hpp"
#include "runtime_prometheus.hpp"
#include "summary.hpp"
#include "ticks/tick.hpp"

namespace ticks::app {

namespace {

constexpr std::array<message_kind, 3> kinds{message_kind::trade, message_kind::agg_trade, message_kind::book_ticker};

// The latency histogram's bounds, in seconds: from a loopback hop to a stalled sink.
constexpr std::array<double, 17> latency_bounds{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};

}  // namespace

std::string ingest_metrics_page(const polarway::runtime_metrics& runtime, const ingest_metrics_sources& s) {
  prometheus_text out;
  append_runtime_metrics(out, runtime);
  append_ingest_metrics(out, s);
  append_process_metrics(out);
  return out.text();
}

void append_ingest_metrics(prometheus_text& out, const ingest_metrics_sources& s) {
  const ingest_counters& c = *s.counters;
  const counting_sink& sink = *s.sink;

  const std::uint64_t in = c.ticks_in.load();
  out.single("polarway_ticks_received_total", "counter", "Ticks decoded from the feeds.", in);
  const auto written = sink.per_kind();
  out.family("polarway_ticks_written_total", "counter", "Ticks the sink took, per kind.");
  std::uint64_t out_total = 0;
  for (const message_kind k : kinds) {
    const auto n = written[static_cast<std::size_t>(k)];
    out_total += n;
    out.sample("polarway_ticks_written_total", {{"kind", to_string(k)}}, n);
  }
  if (s.streams) {
    const auto rows = s.streams->snapshot();
    out.family("polarway_stream_ticks_received_total", "counter", "Ticks decoded from the feeds, per stream.");
    for (const auto& r : rows)
      out.sample("polarway_stream_ticks_received_total", {{"symbol", r.symbol}, {"kind", to_string(r.kind)}}, r.received);
    out.family("polarway_stream_ticks_written_total", "counter", "Ticks the sink took, per stream.");
    for (const auto& r : rows)
      out.sample("polarway_stream_ticks_written_total", {{"symbol", r.symbol}, {"kind", to_string(r.kind)}}, r.written);
  }
  // Decoded or backfilled, less the duplicates dropped, less what was written. The counters are
  // read one after the other while ticks move: clamped at zero.
  const std::uint64_t entered = in + c.backfill.ticks_backfilled.load() - c.backfill.duplicates_dropped.load();
  out.single("polarway_ticks_in_flight", "gauge", "Ticks decoded or backfilled and not yet written.",
             entered > out_total ? entered - out_total : 0);
  if (s.engine) {
    const auto channels = s.engine->channels();
    out.family("polarway_channel_batches", "gauge", "Batches waiting in a channel of the pipeline now.");
    for (const auto& ch : channels) out.sample("polarway_channel_batches", {{"channel", ch.name}}, std::uint64_t{ch.batches});
    out.family("polarway_channel_capacity_batches", "gauge", "The batches a channel of the pipeline holds at most.");
    for (const auto& ch : channels)
      out.sample("polarway_channel_capacity_batches", {{"channel", ch.name}}, std::uint64_t{ch.capacity});
  }
  out.single("polarway_messages_received_total", "counter", "WebSocket data messages received.", c.messages.load());
  out.single("polarway_binary_messages_received_total", "counter", "Of which binary.", c.binary_messages.load());
  out.single("polarway_sessions_total", "counter", "WebSocket sessions established.", c.sessions.load());
  out.single("polarway_reconnects_total", "counter", "Reconnects after a session ended or an attempt failed.",
             c.reconnects.load());
  out.single("polarway_rotations_total", "counter", "Sessions handed over to their replacement (--rotate-before).",
             c.rotations.load());

  out.family("polarway_errors_total", "counter", "Errors by kind.");
  const std::pair<const char*, const std::atomic<std::uint64_t>*> errors[] = {
      {"connect_failure", &c.connect_failures},     {"handshake_failure", &c.handshake_failures},
      {"handshake_timeout", &c.handshake_timeouts}, {"tls_failure", &c.tls_failures},
      {"idle_timeout", &c.idle_timeouts},           {"connection_error", &c.connection_errors},
      {"rejected_connection", &c.rejected_connections}, {"malformed_json", &c.malformed_json},
      {"schema_error", &c.schema_errors},           {"too_large", &c.too_large},
      {"dropped_at_stop", &c.dropped_at_stop},      {"control_error", &c.control_errors}};
  for (const auto& [kind, n] : errors) out.sample("polarway_errors_total", {{"kind", kind}}, n->load());
  out.family("polarway_websocket_errors_total", "counter", "WebSocket protocol violations by the peer, by kind.");
  for (std::size_t i = 0; i < ingest_counters::violations; ++i)
    out.sample("polarway_websocket_errors_total", {{"violation", ws_violation_key(i)}}, c.ws_errors[i].load());

  const backfill_counters& b = c.backfill;
  out.single("polarway_backfill_gaps_found_total", "counter", "Gaps in a stream's ids (--backfill).",
             b.gaps_found.load());
  out.single("polarway_backfill_ids_missing_total", "counter", "Ids those gaps missed.", b.ids_missing.load());
  out.single("polarway_backfill_ticks_total", "counter", "Ticks fetched over REST to fill gaps.",
             b.ticks_backfilled.load());
  out.single("polarway_backfill_gaps_unfilled_total", "counter", "Gaps given up.", b.gaps_unfilled.load());
  out.single("polarway_backfill_duplicates_dropped_total", "counter", "Ticks received twice, dropped.",
             b.duplicates_dropped.load());
  out.single("polarway_backfill_requests_total", "counter", "REST requests made.", b.requests.load());
  out.single("polarway_backfill_request_failures_total", "counter", "REST requests that failed.",
             b.request_failures.load());
  out.single("polarway_backfill_rate_limited_total", "counter",
             "REST answers 429 or 418 (rate limited), each pausing every fetch.", b.rate_limited.load());

  if (s.parquet) {
    const char* names[] = {"polarway_parquet_rows_written_total", "polarway_parquet_files_written_total",
                           "polarway_parquet_bytes_written_total"};
    const char* helps[] = {"Rows in committed Parquet files, per kind.", "Parquet files committed, per kind.",
                           "Bytes of committed Parquet files, per kind."};
    for (int f = 0; f < 3; ++f) {
      out.family(names[f], "counter", helps[f]);
      for (const message_kind k : kinds) {
        const auto n = s.parquet->committed(k);
        out.sample(names[f], {{"kind", to_string(k)}}, f == 0 ? n.rows : f == 1 ? n.files : n.bytes);
      }
    }
  }

  if (const publisher_counters* p = s.published) {
    out.single("polarway_publish_subscribers", "gauge", "Subscribers of --publish now.", p->active.load());
    for (const publisher_total& t : publisher_totals)
      out.single(std::string("polarway_publish_") + t.metric + "_total", "counter", t.help, (p->*t.value).load());
  }

  const latency_histogram& h = sink.latency();
  std::array<std::uint64_t, latency_bounds.size()> cumulative{};
  for (std::size_t i = 0; i < latency_bounds.size(); ++i)
    cumulative[i] = h.count_at_most(static_cast<std::uint64_t>(latency_bounds[i] * 1e9));
  out.family("polarway_tick_latency_seconds", "histogram",
             "From the feed's send time (pw_ts) to the sink; each bucket may miss values within about 3% below its "
             "bound.");
  out.histogram("polarway_tick_latency_seconds", {}, latency_bounds, cumulative, static_cast<double>(h.sum()) * 1e-9,
                h.count());
}

}  // namespace ticks::app
