// ticks::app::feed_metrics_page: what polarway-feed's GET /metrics answers (--metrics ADDR), in
// the Prometheus text format: the runtime's families and the process's memory
// (runtime_prometheus.hpp), then the feed's counters (feed_counters), each a
// polarway_feed_*_total counter: connections accepted, messages and bytes sent, connections
// rejected, completed, reset (--disconnect-every), expired (--session-max-s), closed for the
// 5-a-second rule or a missed pong, handshake timeouts, TLS handshake failures, REST and control
// requests (and control errors), and stalls (--stall-ms).
#pragma once

#include <string>

#include <polarway/runtime/runtime_metrics.hpp>

#include "feed_server.hpp"
#include "prometheus_text.hpp"

namespace ticks::app {

std::string feed_metrics_page(const polarway::runtime_metrics& runtime, const feed_counters& c);
/// The feed's families alone, for a page that serves more (polarway-demo's).
void append_feed_metrics(prometheus_text& out, const feed_counters& c);

}  // namespace ticks::app
