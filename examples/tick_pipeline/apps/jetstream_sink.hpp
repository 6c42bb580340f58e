// ticks::app::jetstream_sink: polarway-ingest's --publish nats:// stage. Each batch is split by
// kind and symbol, keeping the ticks' order; each part (at most max_rows_per_message rows) is
// encoded as a self-contained Arrow IPC stream (the kind's schema, one record batch,
// end-of-stream: the encoding of the Python feed, ticks/arrow_ipc.hpp, so that
// pyarrow.ipc.open_stream reads a message as it is) and published through the
// jetstream_publisher:
//   subject      ticks.<kind>.<SYMBOL>                  e.g. ticks.trade.BTCUSDT
//   Nats-Msg-Id  <source>/<kind>/<SYMBOL>/<first>-<last>  the first and last row's id (trade
//                                                         "t", aggTrade "a", bookTicker "u")
// so that the same rows published again (a re-send) are stored once within the stream's
// duplicate window. With merge_tick_messages() as the publisher's merge, the messages waiting
// behind one of their subject go as one stream of several record batches, named by its first
// and last id. Then the batch goes on downstream (the Parquet sink, with --out).
//
// A tick that decimal128(18, 8) cannot hold is not published: it is counted (unrepresentable)
// and makes the run's exit status 1. flush() waits for every publish to be acknowledged, at
// most the drain timeout: what is not is the sink's error. A failed write or flush keeps the
// publisher's words in failure().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/result.hpp>
#include <polarway/task.hpp>

#include "jetstream_publisher.hpp"
#include "tick_sink.hpp"
#include "ticks/arrow_ipc.hpp"
#include "ticks/tick.hpp"

namespace ticks::app {

/// The subject of a kind's ticks of one symbol: ticks.<kind>.<SYMBOL>.
std::string tick_subject(message_kind kind, const symbol& s);
/// The Nats-Msg-Id of the rows of `kind` and `s` from id `first` to id `last`.
std::string tick_message_id(std::string_view source, message_kind kind, const symbol& s, std::int64_t first,
                            std::int64_t last);
/// What a Nats-Msg-Id made by tick_message_id() names.
struct tick_message_name {
  std::string source;
  message_kind kind = message_kind::trade;
  symbol sym;
  std::int64_t first = 0;
  std::int64_t last = 0;
};
/// Reads an id made by tick_message_id(); none for anything else (four '/'-separated parts,
/// a known kind, a valid symbol, and first <= last, both decimal integers).
polarway::option<tick_message_name> parse_tick_message_id(std::string_view id);
/// A tick's id in its stream: trade "t", aggTrade "a", bookTicker "u".
std::int64_t tick_id(const tick& t) noexcept;
/// The publisher's merge (jetstream_publisher::merge_fn) of two messages this sink made for one
/// subject: one Arrow IPC stream with the record batches of both, named by the earlier's first
/// id and the later's last. Only when both ids name the same source, kind and symbol, the
/// later's first id comes after the earlier's last, and the streams have the same schema.
bool merge_tick_messages(std::string& id, std::vector<std::byte>& payload, std::string_view later_id,
                         std::span<const std::byte> later);

/// Rewrites a stream of this encoding (several record batches, as merge_tick_messages makes)
/// as one record batch of the same rows written with `compression`: one batch's metadata in
/// place of many, and whole columns for zstd to compress. A payload that does not read back is
/// left as it was.
void compact_tick_message(std::vector<std::byte>& payload, arrow_ipc::body_compression compression);

/// How long polarway-ingest waits at the end for the bus to acknowledge what it was sent.
inline constexpr std::chrono::milliseconds bus_drain_timeout{30'000};

class jetstream_sink final : public tick_sink {
 public:
  static constexpr std::size_t max_rows_per_message = 4096;

  jetstream_sink(jetstream_publisher& bus, std::string source, std::chrono::milliseconds drain_timeout,
                 tick_sink* downstream);
  polarway::task<polarway::result<void>> write(std::span<const ticks::tick> batch) override;
  polarway::task<polarway::result<void>> flush() override;

  /// Ticks not published because decimal128(18, 8) cannot hold a price or quantity.
  std::uint64_t unrepresentable() const noexcept { return unrepresentable_.load(std::memory_order_relaxed); }
  const jetstream_publisher& publisher() const noexcept { return bus_; }
  /// Why write() or flush() failed (empty if neither did): the publisher's words.
  const std::string& failure() const noexcept { return failure_; }

 private:
  polarway::task<polarway::result<void>> publish_run(std::span<const ticks::tick> batch,
                                                     std::span<const std::uint32_t> rows, std::int64_t recv_ns);

  jetstream_publisher& bus_;
  std::string source_;
  std::chrono::milliseconds drain_timeout_;
  tick_sink* downstream_;
  std::vector<arrow_ipc::batch_builder> builders_;  // one per kind
  std::vector<std::uint32_t> order_;                // the batch's rows grouped by kind and symbol
  std::vector<std::byte> message_;
  std::atomic<std::uint64_t> unrepresentable_{0};
  std::string failure_;
};

}  // namespace ticks::app
