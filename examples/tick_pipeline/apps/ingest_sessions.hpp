// The ingest engine's connection tasks: one per --connect URL (connect, handshake, messages,
// reconnect with capped, jittered exponential back-off) and the accept loop of --listen, each
// session decoding its messages into tick batches sent to the sink's channel (see ingest.hpp
// for the pipeline and how it stops).
//
// With --streams-file each client loop carries one shard of the file's streams (a
// `subscription`): every session of it subscribes with control messages until the server has
// exactly the shard's streams (UNSUBSCRIBE what it should not have, SUBSCRIBE what it lacks, one
// request in flight at a time, each reply matched by id), then asks LIST_SUBSCRIPTIONS to
// verify; a reload changes the shard's wanted set and wakes the session, which carries out the
// difference on the same connection. A reconnect starts from nothing and subscribes again.
// Everything the session sends counts against Binance's 5 messages a second: requests wait for
// a ticks::rate_limiter of 4 a second with no burst, and each pong the codec sends is charged
// to it, so no one-second window ever holds more than 5. Streams the server refused (an error
// reply) are not asked for again until the wanted set changes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <polarway/net/tcp_listener.hpp>
#include <polarway/net/tls_config.hpp>
#include <polarway/signal/signal.hpp>
#include <polarway/sync/cancellation_token.hpp>
#include <polarway/sync/mpsc.hpp>
#include <polarway/sync/notify.hpp>
#include <polarway/task.hpp>

#include "ingest.hpp"
#include "rate_limited_log.hpp"
#include "stream_tick_counts.hpp"
#include "ticks/tick.hpp"
#include "ws_url.hpp"

namespace ticks::app {

/// One connection's share of a streams file: what it should be subscribed to. The engine
/// changes it (any thread) and notifies; the connection's session carries the change out.
struct subscription {
  std::mutex mu;
  std::vector<std::string> wanted;  // a set; guarded by mu
  std::uint64_t generation = 0;     // bumped at every change; guarded by mu
  polarway::notify changed;
  polarway::cancellation_token stop;  // a child of the run's: cancelled when the shard closes

  void set(std::vector<std::string> streams) {
    {
      std::lock_guard lock(mu);
      wanted = std::move(streams);
      ++generation;
    }
    changed.notify_one();
  }
};

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
  std::shared_ptr<subscription> sub;     // --streams-file: this loop's shard; null otherwise
  std::atomic<bool>* established = nullptr;  // set once the session's WebSocket handshake is done
  stream_tick_counts* streams = nullptr;     // ticks received per stream, when counted
};

/// One feed we connect to, for the whole run: until stopped, or with --once until one session
/// has ended, or until our own request proves invalid. A wss:// URL connects over TLS; a
/// failed TLS handshake (certificate verify, hostname mismatch, protocol, deadline) is
/// counted and logged with the host and the reason, delivers no tick, and is retried with the
/// same back-off as a failed connect (the certificate may be renewed meanwhile). There is no
/// fallback to plain ws://. With --rotate-before each session is replaced before the server's
/// session limit ends it, the two overlapping (see rotating_client_loop in the .cpp).
polarway::task<void> client_loop(ws_url url, session_ctx ctx);

/// --streams-file: shards `initial` over client loops to `base` (connections of at most 1024
/// streams, stable under change: ticks/stream_shards.hpp), then until stopped re-reads the
/// file at every SIGHUP and hands each loop its new share, opening and closing loops as the
/// sharding says. A file that cannot be read or parsed is reported and the old set kept.
/// `hup` is the SIGHUP listener, created before the file was first read.
polarway::task<void> streams_file_loop(ws_url base, std::vector<std::string> initial, polarway::signal::listener& hup,
                                       session_ctx ctx);

/// Accepts feeds on `l` (--listen) until stopped, at most cfg->max_connections at once.
polarway::task<void> accept_feeds(polarway::net::tcp_listener& l, session_ctx ctx);

}  // namespace ticks::app
