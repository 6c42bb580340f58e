// ticks::app::sequencing_stage: with --backfill, the ingest stage between the connection tasks
// and the sink that makes each trade and aggTrade stream arrive in id order, exactly once, with
// the ids a disconnect or a stall lost fetched from the exchange's REST API.
//
//   connections --batches--> stage (owns a ticks::sequencer) --ordered batches--> sink
//                              |  a gap: one GET of up to 1000 ids from its first id
//                              +--> backfill tasks (http_client, at most max_in_flight) --rows--+
//                              ^-----------------------------------------------------------------+
//
// The sequencer lives in this one task, so it needs no lock. A page that brings no new id of
// its gap (an error, or ids the exchange no longer has) counts as a failed attempt; after
// max_attempts in a row the gap is given up (counted unfilled) and the ticks held behind it
// go on. A transient failure (transport, 5xx) also pauses every fetch, for a time that doubles
// while such failures follow one another, so that the attempts outlast a short outage. A trade
// gap needs an API key (historicalTrades); without one it is given up at once, said once in the
// log. A 429 or 418 answer (rate limited, banned) is no stream's failure: every fetch pauses for
// its Retry-After and the page is asked again after it. A stopping stage waits out a pause only
// up to a limit (the pauses' lengths are constants in sequencing_stage.cpp). When the
// sequencer's hold is full the stage stops reading batches
// until a backfill answers: that back-pressure reaches the sockets through the bounded
// channel. When the input ends (the connections are done), the stage finishes the backfills
// it can, gives up the rest, and only then ends the sink's channel: nothing held is lost.
// A resumed stream (resume_at) starts with an open gap after its resume point (a catch-up,
// sequencer.hpp); a stopping stage does not go on catching up, as the next run resumes there.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <polarway/sync/mpsc.hpp>
#include <polarway/task.hpp>

#include "rate_limited_log.hpp"
#include "ticks/sequencer.hpp"
#include "ticks/tick.hpp"

namespace ticks::app {

using tick_batch = std::vector<ticks::tick>;

struct backfill_options {
  std::string rest_url;  // "https://api.binance.com", "http://127.0.0.1:9443": no trailing slash
  std::string api_key;   // empty: trade gaps cannot be filled
  std::string ca_file;   // https: trust exactly these CAs; empty: the system store
  std::size_t max_in_flight = 4;
  unsigned max_attempts = 5;
  std::size_t batch_max = 256;  // ticks per batch sent on to the sink
  // Where streams an earlier run committed pick up (committed_ids.hpp): each stream's first
  // expected id. Lower ids are dropped as duplicates. Each such stream catches up at once,
  // fetching pages from that id until one comes back short, so a quiet stream's missed ids do
  // not wait for its next live tick; a live tick ends the catch-up and bounds the gap as usual.
  std::vector<std::pair<stream_key, std::int64_t>> resume_at;
};

/// What the stage did, for the summary (relaxed atomics, read at any time).
struct backfill_counters {
  std::atomic<std::uint64_t> gaps_found{0};
  std::atomic<std::uint64_t> ids_missing{0};
  std::atomic<std::uint64_t> ticks_backfilled{0};
  std::atomic<std::uint64_t> gaps_unfilled{0};
  std::atomic<std::uint64_t> ids_unfilled{0};
  std::atomic<std::uint64_t> duplicates_dropped{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> request_failures{0};
  std::atomic<std::uint64_t> rate_limited{0};        // 429 / 418 answers, each followed by a pause
  std::atomic<std::uint64_t> resumed_streams{0};     // streams started after what --out or the bus held
  std::atomic<std::uint64_t> output_ids_missing{0};  // ids missing inside those streams' output
};

/// Runs until `in` ends and every gap is filled or given up; `out` is dropped at the end.
polarway::task<void> run_sequencing_stage(polarway::mpsc::receiver<tick_batch> in, polarway::mpsc::sender<tick_batch> out,
                                          backfill_options options, backfill_counters& counters, log_limiter& log);

/// --rest-url's default for a stream URL: Binance's REST host for its stream hosts, else the
/// stream's own host and port over http (ws://) or https (wss://).
std::string default_rest_url(bool tls, const std::string& host, const std::string& host_header);

}  // namespace ticks::app
