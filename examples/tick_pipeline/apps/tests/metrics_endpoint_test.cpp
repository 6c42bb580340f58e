// metrics_response: GET /metrics renders the page with the exposition's content type, GET
// /debug/tasks the task dump as plain text; every other request head gets its error status and
// never renders. ingest_metrics_page: counters
// land under their names and labels, per-stream counts under their symbol and kind. (The socket side, promtool and a real Prometheus server:
// metrics_e2e.py.)
#include <doctest/doctest.h>

#include <span>
#include <string>
#include <vector>

#include <polarway/runtime/runtime_metrics.hpp>

#include "counting_sink.hpp"
#include "ingest.hpp"
#include "ingest_metrics.hpp"
#include "metrics_endpoint.hpp"
#include "stream_tick_counts.hpp"

using namespace ticks::app;

namespace {

std::string status_of(const std::string& response) { return response.substr(0, response.find("\r\n")); }

}  // namespace

TEST_CASE("metrics_response: GET /metrics is rendered, with the exposition's content type") {
  int renders = 0;
  const std::function<std::string()> render = [&] {
    ++renders;
    return std::string("x_total 1\n");
  };
  const std::string r = metrics_response("GET /metrics HTTP/1.1\r\nHost: h\r\n\r\n", http_pages{render, {}});
  CHECK(status_of(r) == "HTTP/1.1 200 OK");
  CHECK(r.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != std::string::npos);
  CHECK(r.find("\r\nContent-Length: 10\r\n") != std::string::npos);
  CHECK(r.ends_with("\r\n\r\nx_total 1\n"));
  CHECK(renders == 1);
}

TEST_CASE("metrics_response: GET /debug/tasks is the task dump in plain text, 404 when there is none") {
  const http_pages pages{[] { return std::string("x_total 1\n"); }, [] { return std::string("task dump: 0 tasks\n"); }};
  const std::string r = metrics_response("GET /debug/tasks HTTP/1.1\r\nHost: h\r\n\r\n", pages);
  CHECK(status_of(r) == "HTTP/1.1 200 OK");
  CHECK(r.find("\r\nContent-Type: text/plain; charset=utf-8\r\n") != std::string::npos);
  CHECK(r.ends_with("\r\n\r\ntask dump: 0 tasks\n"));
  const std::string head = "GET /debug/tasks HTTP/1.1\r\nHost: h\r\n\r\n";
  CHECK(status_of(metrics_response(head, http_pages{pages.metrics, {}})) == "HTTP/1.1 404 Not Found");
  const std::string longer = "GET /debug/tasksx HTTP/1.1\r\nHost: h\r\n\r\n";
  CHECK(status_of(metrics_response(longer, pages)) == "HTTP/1.1 404 Not Found");
  const std::string post = "POST /debug/tasks HTTP/1.1\r\nHost: h\r\n\r\n";
  CHECK(status_of(metrics_response(post, pages)) == "HTTP/1.1 400 Bad Request");
}

TEST_CASE("metrics_response: GET /debug/trace is the flight recorder's JSON, 404 when it is off") {
  http_pages pages{[] { return std::string(); }, [] { return std::string(); }, {}};
  const std::string head = "GET /debug/trace HTTP/1.1\r\nHost: h\r\n\r\n";
  CHECK(status_of(metrics_response(head, pages)) == "HTTP/1.1 404 Not Found");
  pages.trace = [] { return std::string("{\"traceEvents\":[]}"); };
  const std::string r = metrics_response(head, pages);
  CHECK(status_of(r) == "HTTP/1.1 200 OK");
  CHECK(r.find("\r\nContent-Type: application/json\r\n") != std::string::npos);
  CHECK(r.ends_with("\r\n\r\n{\"traceEvents\":[]}"));
}

TEST_CASE("metrics_response: anything else gets its status and is not rendered") {
  int renders = 0;
  const std::function<std::string()> render = [&] {
    ++renders;
    return std::string();
  };
  struct hostile {
    const char* head;
    const char* status;
  };
  const hostile cases[] = {
      {"GET /metricsx HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 404 Not Found"},
      {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 404 Not Found"},
      {"GET /metrics?a=b HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 200 OK"},  // a query changes nothing
      {"POST /metrics HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"GET /metrics HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"GET /met\"rics HTTP/1.1\r\nHost: h\r\n\r\n", "HTTP/1.1 404 Not Found"},
      {"GET  /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"GET /metrics\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"\r\n\r\n", "HTTP/1.1 400 Bad Request"},
      {"", "HTTP/1.1 400 Bad Request"},
  };
  int rendered = 0;
  for (const hostile& c : cases) {
    CAPTURE(c.head);
    const std::string r = metrics_response(c.head, http_pages{render, render});
    CHECK(status_of(r) == c.status);
    if (status_of(r) != "HTTP/1.1 200 OK") CHECK(r.find("Connection: close") != std::string::npos);
    rendered += status_of(r) == "HTTP/1.1 200 OK";
  }
  CHECK(renders == rendered);
}

TEST_CASE("ingest_metrics_page: the counters under their names and labels") {
  ingest_counters c;
  c.ticks_in.store(12345);
  c.reconnects.store(3);
  c.malformed_json.store(2);
  c.ws_errors[1].store(7);
  c.backfill.ticks_backfilled.store(10);
  counting_sink sink;
  polarway::runtime_metrics rt;
  rt.workers.resize(2);
  rt.workers[1].polls = 99;
  rt.live_tasks = 4;
  const std::string page = ingest_metrics_page(rt, ingest_metrics_sources{&c, &sink, nullptr});
  const auto has = [&](const std::string& line) { return page.find("\n" + line + "\n") != std::string::npos; };
  CHECK(has("polarway_ticks_received_total 12345"));
  CHECK(has("polarway_reconnects_total 3"));
  CHECK(has("polarway_errors_total{kind=\"malformed_json\"} 2"));
  CHECK(has("polarway_websocket_errors_total{violation=\"reserved_bits\"} 7"));
  CHECK(has("polarway_backfill_ticks_total 10"));
  // Received and backfilled, nothing written yet.
  CHECK(has("polarway_ticks_in_flight 12355"));
  CHECK(has("polarway_ticks_written_total{kind=\"trade\"} 0"));
  CHECK(has("polarway_runtime_worker_polls_total{worker=\"1\"} 99"));
  CHECK(has("polarway_runtime_live_tasks 4"));
  CHECK(has("polarway_tick_latency_seconds_count 0"));
  CHECK(page.find("polarway_parquet_") == std::string::npos);  // no --out
  CHECK(page.find("polarway_publish_") == std::string::npos);  // no --publish
  // Each family once: one TYPE line per name.
  CHECK(page.find("# TYPE polarway_errors_total counter") == page.rfind("# TYPE polarway_errors_total counter"));
}

TEST_CASE("ingest_metrics_page: per-stream counts, labelled by symbol and kind") {
  ingest_counters c;
  counting_sink sink;
  stream_tick_counts streams;
  {
    ticks::tick t;
    t.emplace<ticks::agg_trade>().symbol = *ticks::symbol::parse("BTCUSDT");
    const std::vector<ticks::tick> batch(3, t);
    stream_tick_counts::writer received(streams, stream_tick_counts::column::received);
    stream_tick_counts::writer written(streams, stream_tick_counts::column::written);
    received.add(batch);
    written.add(std::span(batch).first(2));
  }
  const std::string page = ingest_metrics_page(polarway::runtime_metrics{}, ingest_metrics_sources{&c, &sink, nullptr, &streams});
  const auto has = [&](const std::string& line) { return page.find("\n" + line + "\n") != std::string::npos; };
  CHECK(has("polarway_stream_ticks_received_total{symbol=\"BTCUSDT\",kind=\"aggTrade\"} 3"));
  CHECK(has("polarway_stream_ticks_written_total{symbol=\"BTCUSDT\",kind=\"aggTrade\"} 2"));
  CHECK(page.find("polarway_channel_") == std::string::npos);  // no engine
  const std::string without = ingest_metrics_page(polarway::runtime_metrics{}, ingest_metrics_sources{&c, &sink, nullptr});
  CHECK(without.find("polarway_stream_") == std::string::npos);
}

TEST_CASE("ingest_metrics_page: the publisher's counters with --publish") {
  ingest_counters c;
  counting_sink sink;
  publisher_counters p;
  p.active.store(2);
  p.subscribed.store(5);
  p.stalled.store(1);
  p.lagged_batches.store(40);
  p.ticks_sent.store(123456);
  const std::string page =
      ingest_metrics_page(polarway::runtime_metrics{}, ingest_metrics_sources{&c, &sink, nullptr, nullptr, nullptr, &p});
  const auto has = [&](const std::string& line) { return page.find("\n" + line + "\n") != std::string::npos; };
  CHECK(has("polarway_publish_subscribers 2"));
  CHECK(has("polarway_publish_subscribed_total 5"));
  CHECK(has("polarway_publish_stalled_total 1"));
  CHECK(has("polarway_publish_lagged_batches_total 40"));
  CHECK(has("polarway_publish_ticks_sent_total 123456"));
  CHECK(has("polarway_publish_gone_total 0"));
  CHECK(has("# TYPE polarway_publish_heartbeats_total counter"));
}
