// ticks::app::ingest_metrics_page: what polarway-ingest's GET /metrics answers (--metrics ADDR),
// in the Prometheus text format. The runtime's families (runtime_prometheus.hpp), then the
// pipeline's, all named polarway_*:
//   polarway_ticks_received_total          ticks decoded from the feeds (the summary's ticks_in)
//   polarway_ticks_written_total{kind}      ticks the sink took, per kind (trade, aggTrade, bookTicker)
//   polarway_stream_ticks_received_total{symbol,kind}, polarway_stream_ticks_written_total{symbol,kind}
//                                           the same per stream: received counts what the sessions
//                                           decoded and sent on (ticks_in, plus any dropped at stop)
//   polarway_ticks_in_flight               decoded (or backfilled) and not yet written: what the
//                                           channels and the sequencing stage hold
//   polarway_channel_batches{channel}, polarway_channel_capacity_batches{channel}
//                                           each channel's fill and size, in batches, while the
//                                           run goes on (ingest_engine::channels)
//   polarway_messages_received_total, polarway_binary_messages_received_total
//   polarway_sessions_total, polarway_reconnects_total, polarway_rotations_total
//   polarway_errors_total{kind}             connection, handshake, TLS, timeout and decode errors
//   polarway_websocket_errors_total{violation}
//   polarway_backfill_*_total               --backfill: gaps, ids, ticks fetched, requests
//   polarway_parquet_{rows,files,bytes}_written_total{kind}   --out: what committed files hold
//   polarway_publish_*                      --publish: subscribers now, subscriptions, refusals,
//                                           stalled and gone subscribers, lagged batches, ticks,
//                                           messages and heartbeats sent (tick_publisher.hpp)
//   polarway_tick_latency_seconds            histogram of feed send time to the sink
//   polarway_process_resident_memory_bytes, polarway_process_peak_resident_memory_bytes
// Every value is read from counters that any thread may read while the run goes on.
#pragma once

#include <string>

#include <polarway/runtime/runtime_metrics.hpp>

#include "counting_sink.hpp"
#include "ingest.hpp"
#include "parquet_tick_sink.hpp"
#include "prometheus_text.hpp"
#include "stream_tick_counts.hpp"

namespace ticks::app {

struct ingest_metrics_sources {
  const ingest_counters* counters = nullptr;
  const counting_sink* sink = nullptr;
  const parquet_tick_sink* parquet = nullptr;  // none without --out
  const stream_tick_counts* streams = nullptr;  // none: no per-stream families
  const ingest_engine* engine = nullptr;        // none: no channel families
  const publisher_counters* published = nullptr;  // none without --publish
};

/// The whole page: the runtime's families, the pipeline's, the process's.
std::string ingest_metrics_page(const polarway::runtime_metrics& runtime, const ingest_metrics_sources& s);
/// The pipeline's families alone, for a page that serves more (polarway-demo's).
void append_ingest_metrics(prometheus_text& out, const ingest_metrics_sources& s);

}  // namespace ticks::app
