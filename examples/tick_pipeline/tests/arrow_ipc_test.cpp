// arrow_ipc: the encapsulation and layout rules of the Arrow IPC format, checked on the bytes
// (continuation markers, 8-byte aligned metadata and body, bodyLength equal to the buffers laid
// out, one field node and two or three buffers per column, validity only with nulls), the
// Message table's fields read back with flatbuffers, a zstd body's compression table and buffer
// lengths, and the rows a builder refuses.
// The values themselves are checked by independent readers (interop/arrow_ipc_verify.*).
#include <doctest/doctest.h>

#include <flatbuffers/flatbuffers.h>

#include <cstring>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "arrow_ipc_frames.hpp"
#include "ticks/arrow_ipc.hpp"
#include "ticks/arrow_ipc_reader.hpp"

namespace {

namespace ipc = ticks::arrow_ipc;
namespace fb = flatbuffers;
using ipc::testing::slot;

// Splits a whole stream, which must end with the end-of-stream marker.
std::vector<ipc::testing::frame> split(const std::vector<std::byte>& s) {
  auto r = ipc::testing::split(s);
  CHECK(r.end_of_stream);
  CHECK(r.consumed == s.size());
  return std::move(r.frames);
}

ticks::trade trade_row(std::int64_t i, bool with_sent) {
  ticks::trade t;
  t.symbol = ticks::symbol::parse(i % 2 ? "BTCUSDT" : "ETH").value();
  t.event_time_ms = 1'700'000'000'000 + i;
  t.trade_id = i;
  t.price = ticks::price::from_raw(100 + i);
  t.quantity = ticks::price::from_raw(-5 - i);
  t.trade_time_ms = t.event_time_ms;
  t.buyer_is_maker = i % 3 == 0;
  if (with_sent) t.sent_ns = 42;
  return t;
}

// A whole stream of the trades first..last, under the given kind metadata.
std::vector<std::byte> trade_stream(std::int64_t first, std::int64_t last, std::string_view kind_meta = "trade") {
  std::vector<std::byte> s;
  const ipc::key_value meta[] = {{"polarway.kind", kind_meta}};
  ipc::append_schema(s, ticks::message_kind::trade, meta);
  ipc::batch_builder b(ticks::message_kind::trade);
  for (std::int64_t i = first; i <= last; ++i) REQUIRE(b.add(trade_row(i, false), 1000 + i));
  b.append(s);
  ipc::append_end_of_stream(s);
  return s;
}

// A Buffer or FieldNode struct: two int64.
struct two {
  std::int64_t a, b;
};

// Buffers in order, each 8-byte aligned, and the body exactly as long as they are, padded.
void check_laid_out(const fb::Vector<const two*>* buffers, std::int64_t body_length) {
  std::int64_t end = 0;
  for (fb::uoffset_t i = 0; i < buffers->size(); ++i) {
    const two* buf = buffers->Get(i);
    CHECK(buf->a % 8 == 0);
    CHECK(buf->a >= end);
    end = buf->a + ((buf->b + 7) & ~std::int64_t{7});
  }
  CHECK(end == body_length);
}

// The RecordBatch table of a record batch message.
const fb::Table* record_batch(const ipc::testing::frame& m) {
  CHECK(m.root->GetField<std::uint8_t>(slot(1), 0) == 3);  // MessageHeader.RecordBatch
  return m.root->GetPointer<const fb::Table*>(slot(2));
}

}  // namespace

TEST_CASE("a schema message, then record batches, then end-of-stream") {
  std::vector<std::byte> s;
  const ipc::key_value meta[] = {{"polarway.kind", "trade"}};
  ipc::append_schema(s, ticks::message_kind::trade, meta);
  ipc::batch_builder b(ticks::message_kind::trade);
  for (int i = 0; i < 11; ++i) REQUIRE(b.add(trade_row(i, true), 1000 + i));
  CHECK(b.rows() == 11);
  b.append(s);
  CHECK(b.rows() == 0);
  ipc::append_end_of_stream(s);

  const auto msgs = split(s);
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[0].root->GetField<std::uint8_t>(slot(1), 0) == 1);  // MessageHeader.Schema
  CHECK(msgs[0].body_length == 0);
  const auto* schema = msgs[0].root->GetPointer<const fb::Table*>(slot(2));
  const auto* fields = schema->GetPointer<const fb::Vector<fb::Offset<fb::Table>>*>(slot(1));
  REQUIRE(fields != nullptr);
  CHECK(fields->size() == ipc::tick_schema(ticks::message_kind::trade).size());
  CHECK(fields->Get(0)->GetPointer<const fb::String*>(slot(0))->str() == "event_time");
  const auto* custom = schema->GetPointer<const fb::Vector<fb::Offset<fb::Table>>*>(slot(2));
  REQUIRE(custom != nullptr);
  CHECK(custom->Get(0)->GetPointer<const fb::String*>(slot(1))->str() == "trade");

  const fb::Table* rb = record_batch(msgs[1]);
  CHECK(rb->GetField<std::int64_t>(slot(0), 0) == 11);
  const auto* nodes = rb->GetPointer<const fb::Vector<const two*>*>(slot(1));
  const auto* buffers = rb->GetPointer<const fb::Vector<const two*>*>(slot(2));
  REQUIRE(nodes != nullptr);
  REQUIRE(buffers != nullptr);
  CHECK(nodes->size() == 9);
  // Two buffers per column, three for the utf8 symbol; no nulls, so no validity bytes.
  CHECK(buffers->size() == 9 * 2 + 1);
  check_laid_out(buffers, msgs[1].body_length);
  CHECK(buffers->Get(0)->b == 0);            // event_time validity
  CHECK(buffers->Get(1)->b == 11 * 8);       // event_time values
  CHECK(buffers->Get(3)->b == 12 * 4);       // symbol offsets
  CHECK(buffers->Get(4)->b == 5 * 7 + 6 * 3);  // symbol bytes
  CHECK(buffers->Get(8)->b == 11 * 16);      // quantity decimals
  CHECK(buffers->Get(14)->b == 2);           // is_buyer_maker bits
  for (fb::uoffset_t i = 0; i < nodes->size(); ++i) CHECK(nodes->Get(i)->b == 0);
}

TEST_CASE("a zstd body: BodyCompression (ZSTD, BUFFER), each buffer's length before its frame") {
  std::vector<std::byte> s;
  ipc::append_schema(s, ticks::message_kind::trade, {});
  ipc::batch_builder b(ticks::message_kind::trade, ipc::body_compression::zstd);
  for (int i = 0; i < 500; ++i) REQUIRE(b.add(trade_row(i, true), 1000 + i));
  b.append(s);
  ipc::append_end_of_stream(s);
  const auto msgs = split(s);
  REQUIRE(msgs.size() == 2);
  const fb::Table* rb = record_batch(msgs[1]);
  CHECK(rb->GetField<std::int64_t>(slot(0), 0) == 500);
  const auto* compression = rb->GetPointer<const fb::Table*>(slot(3));
  REQUIRE(compression != nullptr);
  CHECK(compression->GetField<std::int8_t>(slot(0), 0) == 1);  // CompressionType.ZSTD
  CHECK(compression->GetField<std::int8_t>(slot(1), 0) == 0);  // BodyCompressionMethod.BUFFER
  const auto* buffers = rb->GetPointer<const fb::Vector<const two*>*>(slot(2));
  REQUIRE(buffers != nullptr);
  REQUIRE(buffers->size() == 9 * 2 + 1);
  check_laid_out(buffers, msgs[1].body_length);
  CHECK(buffers->Get(0)->b == 0);  // no nulls: no validity, and an empty buffer stays empty
  // The values of event_time: 500 int64 uncompressed, in fewer bytes than that.
  const two* values = buffers->Get(1);
  std::int64_t uncompressed = 0;
  std::memcpy(&uncompressed, s.data() + msgs[1].body_offset + static_cast<std::size_t>(values->a), 8);
  CHECK(uncompressed == 500 * 8);
  CHECK(values->b < 500 * 8);
}

TEST_CASE("a column with nulls gets a validity buffer and its null count") {
  std::vector<std::byte> s;
  ipc::append_schema(s, ticks::message_kind::trade, {});
  ipc::batch_builder b(ticks::message_kind::trade);
  for (int i = 0; i < 10; ++i) REQUIRE(b.add(trade_row(i, i % 3 != 0), 0));
  b.append(s);
  ipc::append_end_of_stream(s);
  const auto msgs = split(s);
  REQUIRE(msgs.size() == 2);
  const fb::Table* rb = record_batch(msgs[1]);
  const auto* nodes = rb->GetPointer<const fb::Vector<const two*>*>(slot(1));
  const auto* buffers = rb->GetPointer<const fb::Vector<const two*>*>(slot(2));
  CHECK(nodes->Get(7)->b == 4);  // sent_time: rows 0, 3, 6, 9
  const two* validity = buffers->Get(15);
  CHECK(validity->b == 2);
  const auto* body = reinterpret_cast<const std::uint8_t*>(s.data() + msgs[1].body_offset);
  CHECK(body[validity->a] == 0b10110110);
  CHECK(body[validity->a + 1] == 0b00000001);
}

TEST_CASE("message metadata, and an empty schema for a refusal") {
  std::vector<std::byte> s;
  const ipc::key_value why[] = {{"polarway.error", "no"}};
  ipc::append_empty_schema(s, why);
  ipc::batch_builder b(ticks::message_kind::book_ticker);
  const ipc::key_value hb[] = {{"polarway.heartbeat", "1"}};
  b.append(s, hb);
  ipc::append_end_of_stream(s);
  const auto msgs = split(s);
  REQUIRE(msgs.size() == 2);
  const auto* schema = msgs[0].root->GetPointer<const fb::Table*>(slot(2));
  const auto* fields = schema->GetPointer<const fb::Vector<fb::Offset<fb::Table>>*>(slot(1));
  CHECK(fields->size() == 0);
  const auto* custom = msgs[1].root->GetPointer<const fb::Vector<fb::Offset<fb::Table>>*>(slot(4));
  REQUIRE(custom != nullptr);
  CHECK(custom->Get(0)->GetPointer<const fb::String*>(slot(0))->str() == "polarway.heartbeat");
  CHECK(record_batch(msgs[1])->GetField<std::int64_t>(slot(0), -1) == 0);  // length written as 0
}

TEST_CASE("a decimal beyond 18 digits is refused and adds nothing") {
  ipc::batch_builder b(ticks::message_kind::agg_trade);
  ticks::agg_trade a;
  a.symbol = ticks::symbol::parse("X").value();
  a.price = ticks::price::from_raw(ipc::max_decimal_raw);
  a.quantity = ticks::price::from_raw(-ipc::max_decimal_raw);
  CHECK(b.add(a, 0));
  a.quantity = ticks::price::from_raw(-ipc::max_decimal_raw - 1);
  CHECK_FALSE(b.add(a, 0));
  a.quantity = ticks::price::from_raw(1);
  a.price = ticks::price::from_raw(INT64_MAX);
  CHECK_FALSE(b.add(a, 0));
  CHECK(b.rows() == 1);
}

TEST_CASE("two streams of one schema become one stream with the batches of both; anything else is refused") {
  std::vector<std::byte> merged = trade_stream(1, 3);
  const std::vector<std::byte> later = trade_stream(4, 9);
  REQUIRE(ipc::append_batches_of(merged, later));
  const auto msgs = split(merged);
  REQUIRE(msgs.size() == 3);
  CHECK(record_batch(msgs[1])->GetField<std::int64_t>(slot(0), 0) == 3);
  CHECK(record_batch(msgs[2])->GetField<std::int64_t>(slot(0), 0) == 6);
  auto rows = ipc::read_tick_stream(merged);
  REQUIRE(rows);
  REQUIRE(rows->ticks.size() == 9);
  for (std::size_t i = 0; i < 9; ++i) CHECK(std::get<ticks::trade>(rows->ticks[i]).trade_id == static_cast<std::int64_t>(i + 1));

  const std::vector<std::byte> before = merged;
  const auto refused = [&](std::span<const std::byte> other) {
    std::vector<std::byte> s = before;
    const bool appended = ipc::append_batches_of(s, other);
    CHECK(s == before);  // left as it was
    return !appended;
  };
  CHECK(refused(trade_stream(10, 11, "other")));  // another schema message
  std::vector<std::byte> agg;
  const ipc::key_value meta[] = {{"polarway.kind", "trade"}};
  ipc::append_schema(agg, ticks::message_kind::agg_trade, meta);
  ipc::append_end_of_stream(agg);
  CHECK(refused(agg));                                 // another kind's columns
  std::vector<std::byte> open = later;
  open.resize(open.size() - 8);
  CHECK(refused(open));                                // no end-of-stream marker
  CHECK(refused(std::span(later).first(12)));          // cut inside the schema message
  CHECK(refused({}));
  std::vector<std::byte> empty;
  CHECK(!ipc::append_batches_of(empty, later));        // nothing to append to
  CHECK(empty.empty());
}
