// ticks::app::bus_sink: polarway-sink's work. A durable pull consumer of the bus's stream
// (jetstream_consumer) feeds the Parquet sink; messages are acknowledged only once every row
// they carried is in a committed file, and every file records the bus positions of its rows, so
// that the output holds each row exactly once across crashes and redeliveries.
//
// Order: messages are taken in stream order, each once, from the start position on: the
// largest settled sequence the output's files record (read_committed_origins, resume_sequence),
// where the consumer is created. The stream's sequence numbers have no holes (its one subject filter is
// the consumer's), so a message further on than the next one expected means the server
// delivered messages this sink never saw: the consumer is created again at the one expected.
// If the server then still skips it, the bus no longer holds those messages (a retention limit):
// they are counted (bus_gaps), logged, and make the exit status 1. A message before the one
// expected was taken already in this run (a redelivery) and is passed over.
//
// Per message (one Arrow IPC stream of one kind and symbol, ticks/arrow_ipc_reader.hpp):
//   - with --partition i/N, a message whose subject names a symbol of another partition
//     (symbol_partition) is passed over unread;
//   - the rest is read strictly; one that cannot be read, whose subject is not
//     ticks.<kind>.<SYMBOL>, or whose rows are not of the kind and symbol its subject names, is
//     counted (bad_messages), logged, and terminated (never delivered again): one bad message
//     stops nothing else, and makes the exit status 1;
//   - a trade or aggTrade row that comes after its partition's last committed origin and whose
//     id the output holds already (taken earlier in this run, or in a committed file whose rows
//     fill its id range) was published twice under other message ids: it is skipped, counted
//     (duplicate_rows) and logged;
//   - the other rows go to parquet_sink::write_from at origin {stream sequence, row}: rows at
//     or before their partition's last written origin (what the files of an earlier run hold,
//     read at start by read_committed_origins) are skipped.
// After each commit of every open file, the next sequence expected is settled: it goes into the
// output's position file (save_bus_position) and into every file committed later
// (parquet_sink::set_settled_origin), and a restart reads the bus again from there.
// Acknowledgements: the consumer acknowledges "all" (a message and every one before it). After
// each fetch, everything delivered with a sequence below the oldest origin still in an
// uncommitted file is acknowledged. Files are committed when they roll, and all at once every
// commit_interval, or sooner when the unacknowledged messages reach three quarters of the
// consumer's cap (the server would stop delivering at the cap). A message delivered again after
// it was taken (its acknowledgement lost with a server, or the consumer made again from an
// earlier sequence) is not written again but acknowledged again, with the rest.
//
// Exactly once, and where it stops: rows are written once per bus position, and trade and
// aggTrade rows once per id as far as the output's ids are known. The bus itself stores a
// re-sent batch once (the publisher's Nats-Msg-Id, within the stream's duplicate window); trade
// and aggTrade rows published twice under different ids are skipped by their ids, except where
// the first copy is only in a committed file with holes in its id range (read at a restart).
// bookTicker rows have no such id: published twice, they are two positions and are written
// twice.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <polarway/result.hpp>
#include <polarway/sync/cancellation_token.hpp>
#include <polarway/task.hpp>

#include "cli.hpp"
#include "committed_origins.hpp"
#include "jetstream_consumer.hpp"
#include "parquet_output.hpp"
#include "ticks/parquet_sink.hpp"

namespace ticks::app {

struct bus_sink_config {
  bus_options bus;            // --from, --nats-stream
  consumer_options consumer;  // --consumer and the consumer's knobs
  parquet_output_config parquet;
  std::uint32_t partition = 0;   // --partition i/N
  std::uint32_t partitions = 1;
  std::uint64_t commit_interval_ms = 10'000;
  std::uint64_t duration_ms = 0;   // 0: no limit
  std::uint64_t idle_exit_ms = 0;  // stop after this long with nothing delivered (0: never)
  std::uint64_t expect_rows = 0;   // stop once this many rows were taken (0: no limit)
  std::string json_summary;
};

/// Which of `partitions` a symbol belongs to: FNV-1a (64-bit) of its text, modulo partitions.
/// Every kind of a symbol goes to the same partition.
std::uint32_t symbol_partition(std::string_view symbol, std::uint32_t partitions) noexcept;

struct bus_sink_counters {
  std::atomic<std::uint64_t> messages{0};              // delivered (redeliveries included)
  std::atomic<std::uint64_t> redelivered{0};           // of those, not their first delivery
  std::atomic<std::uint64_t> rows_taken{0};            // rows of this partition's messages
  std::atomic<std::uint64_t> other_partition{0};       // messages of symbols another sink owns
  std::atomic<std::uint64_t> bad_messages{0};
  std::atomic<std::uint64_t> commits{0};               // commit-all rounds (interval or cap)
  std::atomic<std::uint64_t> repositions{0};           // consumer created again after a skip
  std::atomic<std::uint64_t> bus_gaps{0};              // messages the bus no longer held
  std::atomic<std::uint64_t> duplicate_rows{0};        // rows whose trade or aggTrade id the output held
  std::atomic<std::uint64_t> acknowledgements{0};
};

struct bus_sink_report {
  bool stopped_by_signal = false;
  std::string last_bad_message;  // why the last bad message was refused
};

/// The stream sequence a run starts from, after what `resume` (the output's committed files and
/// position file, read_committed_origins) says is settled.
std::uint64_t resume_sequence(const committed_origins& resume) noexcept;

/// Runs from resume_sequence(resume) (where `consumer` was created) until `stop`, the duration,
/// idleness or the expected rows; then commits everything and acknowledges it. `resume` is what
/// the output held when `sink` was opened: each partition resumes after its last origin
/// (parquet_sink::resume_after), and its last id is held. An error is final: the consumer's
/// connection closed, or the sink failed.
polarway::task<polarway::result<bus_sink_report, std::string>> run_bus_sink(jetstream_consumer& consumer,
                                                                            parquet_sink& sink,
                                                                            const bus_sink_config& cfg,
                                                                            const committed_origins& resume,
                                                                            polarway::cancellation_token stop,
                                                                            bus_sink_counters& counters,
                                                                            const jetstream_publisher::log_fn& log);

/// polarway-sink's flags and usage.
polarway::result<bus_sink_config, cli_error> parse_bus_sink_args(std::span<const char* const> args);
std::string bus_sink_usage();

}  // namespace ticks::app
