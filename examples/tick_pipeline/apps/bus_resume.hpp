// ticks::app::bus_resume: where a --backfill polarway-ingest that publishes to the bus picks up
// after a restart (kill -9, a redeploy): for each trade and aggTrade subject of the stream
// (ticks.<kind>.<SYMBOL>) whose last stored message this ingest published (its --nats-source
// opens the message's Nats-Msg-Id, <source>/<kind>/<SYMBOL>/<first>-<last>), the last id that
// message holds. The sequencing stage starts each such stream at that id + 1 and fetches from
// the REST API what the bus did not store, so the stream holds every id once, as long as the
// exchange still has it. The last message is enough because jetstream_publisher stores a
// subject's messages in the order it published them: when one is stored, every earlier one is.
//
// The last message of a subject decides: one of another source belongs to another ingest's
// shard and is left to it (counted). A subject of a sequenced kind whose last message has no
// such id, or names another kind or symbol than its subject, is an error naming the subject:
// the run does not guess where to resume. Other subjects (bookTicker, which has no ids to
// resume from, and anything outside ticks.<kind>.<SYMBOL>) are passed over.
//
// What it cannot see: a publish of the previous run still on its way to the stream's leader
// when the last messages are read is stored after, and its rows then come twice. Publishes are
// taken in, or lost, within milliseconds of the connection's end; a restart takes longer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/result.hpp>
#include <polarway/sync/cancellation_token.hpp>
#include <polarway/task.hpp>

#include "committed_ids.hpp"
#include "jetstream_publisher.hpp"

namespace ticks::app {

struct bus_positions {
  std::vector<committed_stream> streams;  // first_id, last_id: those of the last message
  std::uint64_t subjects = 0;             // subjects whose last message was read
  std::uint64_t other_sources = 0;        // sequenced subjects left to another source
};

/// The positions `source` resumes from, given each subject's last message.
polarway::result<bus_positions, std::string> bus_positions_of(const std::vector<last_stored_message>& last,
                                                              std::string_view source);

/// Reads the stream's last messages (jetstream_publisher::last_messages, waiting for a cluster
/// between leaders until `stop` fires) and keeps `source`'s.
polarway::task<polarway::result<bus_positions, std::string>> read_bus_positions(jetstream_publisher& bus,
                                                                               std::string source,
                                                                               polarway::cancellation_token stop);

}  // namespace ticks::app
