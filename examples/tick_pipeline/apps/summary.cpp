#include "summary.hpp"

#include <cstdio>
#include <iterator>

#include "json_object.hpp"
#include "parquet_output.hpp"
#include "process_stats.hpp"
#include "ticks/parquet_partition.hpp"

namespace ticks::app {

namespace {

constexpr message_kind kinds[] = {message_kind::trade, message_kind::agg_trade, message_kind::book_ticker};

std::string totals_json(const feed_totals& t) {
  return json_object().num("count", t.count).num("price_sum", t.price_sum).num("quantity_sum", t.quantity_sum).done();
}

std::string rejection_text(const parquet_rejection& r) {
  return r.error.message() + " (" + std::string(partition::stream_dir(r.kind)) + ", symbol '" + r.symbol + "')";
}

}  // namespace

std::string parquet_output_json(const parquet_sink& p, std::uint64_t ticks_out) {
  const parquet_sink_stats& st = p.stats();
  json_object streams;
  for (const message_kind k : kinds) {
    const parquet_stream_counts& s = st.of(k);
    streams.raw(std::string(partition::stream_dir(k)).c_str(), json_object()
                                                                  .num("rows_written", s.rows_written)
                                                                  .num("files_written", s.files_written)
                                                                  .num("bytes_written", s.bytes_written)
                                                                  .num("rows_rejected", s.rows_rejected)
                                                                  .num("rows_lost", s.rows_lost)
                                                                  .done());
  }
  json_object o;
  o.str("dir", p.options().root)
      .str("codec", pw_parquet::to_string(p.options().codec))
      .boolean("complete", parquet_output_complete(p, ticks_out))
      .num("files_written", st.files_written())
      .num("bytes_written", st.bytes_written())
      .num("rows_written", st.rows_written())
      .num("rows_rejected", st.rows_rejected())
      .num("rows_lost", st.rows_lost())
      .num("rows_already_written", st.rows_already_written())
      .raw("streams", streams.done());
  if (p.failure()) o.str("failure", p.failure()->message());
  else o.raw("failure", "null");
  if (p.last_rejection()) o.str("last_rejection", rejection_text(*p.last_rejection()));
  else o.raw("last_rejection", "null");
  return o.done();
}

namespace {

std::string mib(std::uint64_t bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return b;
}

std::string parquet_text(const parquet_sink& p, std::uint64_t ticks_out) {
  const parquet_sink_stats& st = p.stats();
  std::string s = "parquet: " + std::to_string(st.files_written()) + " files, " + mib(st.bytes_written()) + ", " +
                  std::to_string(st.rows_written()) + " rows written (" +
                  (st.rows_written() == ticks_out ? "equal to" : "DIFFERENT FROM") + " the ticks written) in " +
                  p.options().root + " (" + pw_parquet::to_string(p.options().codec) + ")\n";
  for (const message_kind k : kinds) {
    const parquet_stream_counts& c = st.of(k);
    if (c.rows_written + c.files_written + c.rows_rejected + c.rows_lost == 0) continue;
    s += "  " + std::string(partition::stream_dir(k)) + ": " + std::to_string(c.rows_written) + " rows in " +
         std::to_string(c.files_written) + " files, " + mib(c.bytes_written) + "\n";
  }
  if (p.failure())
    s += "parquet sink FAILED: " + p.failure()->message() + "; " + std::to_string(st.rows_lost()) + " rows lost\n";
  if (st.rows_rejected() != 0)
    s += "parquet: " + std::to_string(st.rows_rejected()) + " ticks REJECTED (not written)" +
         (p.last_rejection() ? ", the last: " + rejection_text(*p.last_rejection()) : std::string()) + "\n";
  return s;
}

}  // namespace

std::string ingest_summary_json(const ingest_counters& c, const ingest_report& r, const counting_sink& sink,
                                const summary_extras& extras) {
  const auto& k = sink.per_kind();
  const auto& t = sink.totals();
  const auto& h = sink.latency();
  json_object ws;
  for (std::size_t i = 0; i < ingest_counters::violations; ++i)
    if (const auto n = c.ws_errors[i].load()) ws.num(ws_violation_key(i), n);
  json_object errors;
  errors.num("malformed_json", c.malformed_json.load())
      .num("schema_error", c.schema_errors.load())
      .num("too_large", c.too_large.load())
      .raw("websocket", ws.done())
      .num("handshake_failures", c.handshake_failures.load())
      .num("handshake_timeouts", c.handshake_timeouts.load())
      .num("tls_failures", c.tls_failures.load())
      .num("idle_timeouts", c.idle_timeouts.load())
      .num("connect_failures", c.connect_failures.load())
      .num("connection_errors", c.connection_errors.load())
      .num("rejected_connections", c.rejected_connections.load());
  json_object latency;
  latency.num("samples", h.count())
      .num("p50", h.percentile(0.50))
      .num("p99", h.percentile(0.99))
      .num("p999", h.percentile(0.999))
      .num("max", h.max());
  json_object closes;
  closes.num("normal_1000", c.close_codes_received[0].load())
      .num("going_away_1001", c.close_codes_received[1].load())
      .num("other", c.close_codes_received[2].load())
      .num("no_status", c.close_codes_received[3].load());
  json_object o;
  o.num("ticks_in", r.ticks_in)
      .num("ticks_out", r.ticks_out)
      .boolean("in_equals_out", r.ticks_in == r.ticks_out)
      .real("elapsed_s", r.elapsed_s)
      .real("ticks_per_s", r.elapsed_s > 0 ? static_cast<double>(r.ticks_out) / r.elapsed_s : 0.0)
      .num("messages", c.messages.load())
      .num("binary_messages", c.binary_messages.load())
      .raw("per_kind", json_object().num("trade", k[0]).num("aggTrade", k[1]).num("bookTicker", k[2]).done())
      .raw("feed_totals", totals_json(t))
      .raw("errors", errors.done())
      .num("dropped_at_stop", c.dropped_at_stop.load())
      .raw("latency_ns", latency.done())
      .raw("close_codes_received", closes.done())
      .num("pings_answered", c.pings.load())
      .num("sessions", c.sessions.load())
      .num("reconnects", c.reconnects.load())
      .num("rotations", c.rotations.load())
      .raw("backfill", json_object()
                           .num("gaps_found", c.backfill.gaps_found.load())
                           .num("ids_missing", c.backfill.ids_missing.load())
                           .num("ticks_backfilled", c.backfill.ticks_backfilled.load())
                           .num("gaps_unfilled", c.backfill.gaps_unfilled.load())
                           .num("ids_unfilled", c.backfill.ids_unfilled.load())
                           .num("duplicates_dropped", c.backfill.duplicates_dropped.load())
                           .num("requests", c.backfill.requests.load())
                           .num("request_failures", c.backfill.request_failures.load())
                           .num("rate_limited", c.backfill.rate_limited.load())
                           .num("resumed_streams", c.backfill.resumed_streams.load())
                           .num("output_ids_missing", c.backfill.output_ids_missing.load())
                           .done())
      .raw("control", json_object()
                          .num("requests", c.control_requests.load())
                          .num("replies", c.control_replies.load())
                          .num("errors", c.control_errors.load())
                          .num("lists_verified", c.lists_verified.load())
                          .num("lists_mismatched", c.lists_mismatched.load())
                          .num("reloads", c.reloads.load())
                          .num("reload_failures", c.reload_failures.load())
                          .done())
      .boolean("stopped_by_signal", r.stopped_by_signal);
  if (const std::string tls = c.last_tls_error.get(); !tls.empty()) o.str("last_tls_error", tls);
  else o.raw("last_tls_error", "null");
  if (r.sink_error) o.str("sink_error", r.sink_error->message());
  else o.raw("sink_error", "null");
  if (extras.feed_sent) o.raw("feed_sent", totals_json(*extras.feed_sent));
  if (const publisher_counters* p = extras.published) {
    json_object published;
    for (const publisher_total& t : publisher_totals) published.num(t.key, (p->*t.value).load());
    o.raw("publish", published.done());
  } else {
    o.raw("publish", "null");
  }
  if (const jetstream_sink* b = extras.bus) {
    const bus_counters& n = b->publisher().counters();
    json_object bus;
    bus.str("stream", b->publisher().options().stream)
        .num("messages", n.published.load() - n.merged.load())
        .num("merged", n.merged.load())
        .num("acknowledged", n.acknowledged.load())
        .num("duplicates", n.duplicates.load())
        .num("resent", n.resent.load())
        .num("payload_bytes", n.payload_bytes.load())
        .num("unrepresentable", b->unrepresentable());
    if (b->failure().empty()) bus.raw("failure", "null");
    else bus.str("failure", b->failure());
    o.raw("bus", bus.done());
  } else {
    o.raw("bus", "null");
  }
  o.raw("parquet", extras.parquet ? parquet_output_json(*extras.parquet, r.ticks_out) : std::string("null"))
      .num("peak_rss_kib", peak_rss_kib())
      .num("cpu_ms", process_cpu_ms());
  return o.done();
}

std::string ingest_summary_text(const ingest_counters& c, const ingest_report& r, const counting_sink& sink,
                                const summary_extras& extras) {
  const auto& h = sink.latency();
  char b[768];
  int n = std::snprintf(b, sizeof b,
                        "received %llu ticks, written %llu (%s) in %.2f s: %.2f M ticks/s\n"
                        "errors: %llu decode, %llu websocket, %llu handshake; peak RSS %llu MiB\n",
                        static_cast<unsigned long long>(r.ticks_in), static_cast<unsigned long long>(r.ticks_out),
                        expected_ticks_out(c, r) == r.ticks_out ? "as expected" : "MISMATCH", r.elapsed_s,
                        r.elapsed_s > 0 ? static_cast<double>(r.ticks_out) / r.elapsed_s / 1e6 : 0.0,
                        static_cast<unsigned long long>(c.decode_errors()),
                        static_cast<unsigned long long>(c.ws_error_total()),
                        static_cast<unsigned long long>(c.handshake_failures.load() + c.handshake_timeouts.load()),
                        static_cast<unsigned long long>(peak_rss_kib() / 1024));
  std::string s(b, static_cast<std::size_t>(n));
  if (h.count() > 0) {
    n = std::snprintf(b, sizeof b, "latency (feed send -> sink): p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us\n",
                      static_cast<double>(h.percentile(0.5)) / 1e3, static_cast<double>(h.percentile(0.99)) / 1e3,
                      static_cast<double>(h.percentile(0.999)) / 1e3, static_cast<double>(h.max()) / 1e3);
    s.append(b, static_cast<std::size_t>(n));
  }
  if (const auto gaps = c.backfill.gaps_found.load(); gaps != 0 || c.backfill.duplicates_dropped.load() != 0)
    s += "backfill: " + std::to_string(gaps) + " gaps found, " + std::to_string(c.backfill.ticks_backfilled.load()) +
         " ticks backfilled, " + std::to_string(c.backfill.gaps_unfilled.load()) + " gaps unfilled (" +
         std::to_string(c.backfill.ids_unfilled.load()) + " ids), " +
         std::to_string(c.backfill.duplicates_dropped.load()) + " duplicates dropped\n";
  if (const auto tls = c.tls_failures.load(); tls != 0)
    s += "TLS: " + std::to_string(tls) + " failed handshakes (no tick accepted from them), the last: " +
         c.last_tls_error.get() + "\n";
  if (extras.parquet) s += parquet_text(*extras.parquet, r.ticks_out);
  return s;
}

}  // namespace ticks::app
