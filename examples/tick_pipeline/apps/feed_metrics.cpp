#include "feed_metrics.hpp"

#include <atomic>
#include <cstdint>

#include "prometheus_text.hpp"
#include "runtime_prometheus.hpp"

namespace ticks::app {

std::string feed_metrics_page(const polarway::runtime_metrics& runtime, const feed_counters& c) {
  prometheus_text out;
  append_runtime_metrics(out, runtime);
  append_process_metrics(out);
  append_feed_metrics(out, c);
  return out.text();
}

void append_feed_metrics(prometheus_text& out, const feed_counters& c) {
  struct family {
    const char* name;
    const char* help;
    const std::atomic<std::uint64_t>& value;
  };
  const family families[] = {
      {"polarway_feed_connections_total", "WebSocket connections accepted.", c.connections},
      {"polarway_feed_messages_sent_total", "Messages sent.", c.messages},
      {"polarway_feed_bytes_sent_total", "Bytes sent.", c.bytes},
      {"polarway_feed_rejected_total", "Connections refused: bad handshake, unknown stream, too many connections.",
       c.rejected},
      {"polarway_feed_handshake_timeouts_total", "Handshakes not complete in time.", c.handshake_timeouts},
      {"polarway_feed_completed_total", "Connections that sent their count and closed with 1000.", c.completed},
      {"polarway_feed_tls_handshake_failures_total", "TLS handshakes that failed or stalled.",
       c.tls_handshake_failures},
      {"polarway_feed_rest_requests_total", "REST requests answered (errors included).", c.rest_requests},
      {"polarway_feed_rest_rate_limited_total", "REST requests answered 429 (--rest-limit).", c.rest_rate_limited},
      {"polarway_feed_control_requests_total", "Control messages answered (errors included).", c.control_requests},
      {"polarway_feed_control_errors_total", "Control messages answered with an error.", c.control_errors},
      {"polarway_feed_rate_limited_total", "Clients closed for sending more than 5 messages a second.",
       c.rate_limited},
      {"polarway_feed_pong_timeouts_total", "Clients closed for not answering a ping in time.", c.pong_timeouts},
      {"polarway_feed_sessions_expired_total", "Connections closed at --session-max-s.", c.sessions_expired},
      {"polarway_feed_resets_total", "Connections reset after --disconnect-every messages.", c.resets},
      {"polarway_feed_stalls_total", "Silences of --stall-ms.", c.stalls},
  };
  for (const family& f : families) out.single(f.name, "counter", f.help, f.value.load(std::memory_order_relaxed));
}

}  // namespace ticks::app
