// The ingest engine's connection tasks: one per --connect URL (connect, handshake, messages,
// reconnect with capped, jittered exponential back-off) and the accept loop of --listen, each
// session decoding its messages into tick batches sent to the sink's channel (see ingest.hpp
// for the pipeline and how it stops).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <polarway/net/tcp_listener.hpp>
#include <polarway/net/tls_config.hpp>
#include <polarway/sync/cancellation_token.hpp>
#include <polarway/sync/mpsc.hpp>
#include <polarway/task.hpp>

#include "ingest.hpp"
#include "rate_limited_log.hpp"
#include "ticks/tick.hpp"
#include "ws_url.hpp"

namespace ticks::app {

using tick_batch = std::vector<ticks::tick>;

/// What every connection task of one run shares.
struct session_ctx {
  log_limiter* log;
  std::atomic<std::uint64_t>* seed;  // back-off jitter: each client loop takes its own stream
  ingest_counters* c;
  const ingest_config* cfg;
  polarway::mpsc::sender<tick_batch> tx;
  std::size_t batch_max;  // ticks per channel message
  polarway::cancellation_token stop;
  const polarway::net::tls_config* tls;  // for wss:// URLs; null when there are none
};

/// One feed we connect to, for the whole run: until stopped, or with --once until one session
/// has ended, or until our own request proves invalid. A wss:// URL connects over TLS; a
/// failed TLS handshake (certificate verify, hostname mismatch, protocol, deadline) is
/// counted and logged with the host and the reason, delivers no tick, and is retried with the
/// same back-off as a failed connect (the certificate may be renewed meanwhile). There is no
/// fallback to plain ws://.
polarway::task<void> client_loop(ws_url url, session_ctx ctx);

/// Accepts feeds on `l` (--listen) until stopped, at most cfg->max_connections at once.
polarway::task<void> accept_feeds(polarway::net::tcp_listener& l, session_ctx ctx);

}  // namespace ticks::app
