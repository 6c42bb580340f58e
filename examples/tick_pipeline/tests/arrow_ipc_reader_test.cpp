// arrow_ipc_reader: streams from the writer (ticks/arrow_ipc.hpp) read back to the same ticks
// and recv times, for every kind, over several batches, empty ones and heartbeat-style ones;
// and hostile input refused with the right read_errc: every prefix of a valid stream, a flipped
// byte at every position (an error or a stream that re-encodes to itself, never a crash), bad
// framing, lengths beyond the input, schemas that are not a tick kind's, record batches whose
// layout or values are wrong (patched in place in a writer's stream), what tick streams never
// carry (dictionaries, LZ4 compression), and bytes after or instead of the end-of-stream marker;
// zstd-compressed bodies read back, and ones whose lengths or frames lie refused.
#include <doctest/doctest.h>

#include <flatbuffers/flatbuffers.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "arrow_ipc_frames.hpp"
#include "ticks/arrow_ipc.hpp"
#include "ticks/arrow_ipc_reader.hpp"

namespace {

namespace ipc = ticks::arrow_ipc;
namespace fb = flatbuffers;
using ipc::read_errc;
using ipc::testing::slot;
using ticks::message_kind;

constexpr message_kind all_kinds[] = {message_kind::trade, message_kind::agg_trade, message_kind::book_ticker};

struct row {
  ticks::tick tick;
  std::int64_t recv_ns = 0;
};

ticks::price px(std::int64_t raw) { return ticks::price::from_raw(raw); }

// Row i of a kind, every value derived from i: decimal extremes and negatives, sent_time null
// on every fourth row, a bookTicker without event time on every fifth.
row make_row(message_kind k, std::int64_t i) {
  const ticks::symbol s = ticks::symbol::parse(i % 3 == 0   ? "BTCUSDT"
                                               : i % 3 == 1 ? "ETH"
                                                            : "A1B2C3D4E5F6G7H8I9J0")
                              .value();
  const std::int64_t t = 1'700'000'000'000 + i;
  const polarway::option<std::int64_t> sent =
      i % 4 == 3 ? polarway::option<std::int64_t>() : polarway::option<std::int64_t>(t * 1'000'000 + 7);
  const std::int64_t p = i == 0   ? ipc::max_decimal_raw
                         : i == 1 ? -ipc::max_decimal_raw
                         : i == 2 ? -1
                                  : 2'500'000'000'000 + i;
  const std::int64_t q = i == 2 ? -123'456'789 : 1 + i * 997;
  // Negative recv times too: a stamped event time is their floor millisecond.
  const std::int64_t recv = i % 7 == 6 ? -1'234'567 * i : 1'700'000'123'456'789'000 + i * 333'333;
  switch (k) {
    case message_kind::trade:
      return {ticks::trade{s, t, 1000 + i, px(p), px(q), t - 1, i % 2 == 0, sent}, recv};
    case message_kind::agg_trade:
      return {ticks::agg_trade{s, t, 5000 + i, px(p), px(q), 10 * i, 10 * i + 9, t - 2, i % 2 == 1, sent}, recv};
    case message_kind::book_ticker: {
      const polarway::option<std::int64_t> e =
          i % 5 == 4 ? polarway::option<std::int64_t>() : polarway::option<std::int64_t>(t);
      return {ticks::book_ticker{s, 9000 + i, px(p), px(q), px(-p), px(q + 2), e, sent}, recv};
    }
  }
  return {};
}

std::vector<row> rows_of(message_kind k, std::int64_t from, std::int64_t count) {
  std::vector<row> out;
  for (std::int64_t i = from; i < from + count; ++i) out.push_back(make_row(k, i));
  return out;
}

// What the reader gives back for a row: a bookTicker without event time has recv_time's floor
// millisecond as its event time, as the writer stamped it.
ticks::tick read_back(const row& r) {
  ticks::tick t = r.tick;
  if (auto* q = std::get_if<ticks::book_ticker>(&t); q != nullptr && !q->event_time_ms) {
    const std::int64_t ns = r.recv_ns;
    q->event_time_ms = ns >= 0 ? ns / 1'000'000 : -((-ns + 999'999) / 1'000'000);
  }
  return t;
}

struct batch {
  std::vector<row> rows;
  std::vector<ipc::key_value> metadata;
};

std::vector<std::byte> stream_of(message_kind k, const std::vector<batch>& batches,
                                 const std::vector<ipc::key_value>& schema_metadata,
                                 ipc::body_compression compression = ipc::body_compression::none) {
  std::vector<std::byte> s;
  ipc::append_schema(s, k, schema_metadata);
  ipc::batch_builder b(k, compression);
  for (const batch& bt : batches) {
    for (const row& r : bt.rows) REQUIRE(b.add(r.tick, r.recv_ns));
    b.append(s, bt.metadata);
  }
  ipc::append_end_of_stream(s);
  return s;
}

std::vector<std::byte> kind_stream(message_kind k, std::vector<batch> batches,
                                   ipc::body_compression compression = ipc::body_compression::none) {
  const ipc::key_value meta[] = {{"polarway.kind", ticks::to_string(k)}};
  return stream_of(k, batches, {std::begin(meta), std::end(meta)}, compression);
}

// One batch of `n` rows, the usual metadata.
std::vector<std::byte> simple_stream(message_kind k, std::int64_t n) {
  return kind_stream(k, {{rows_of(k, 0, n), {}}});
}

polarway::result<ipc::tick_rows, ipc::read_error> read(const std::vector<std::byte>& s) {
  return ipc::read_tick_stream(s);
}

// The stream the writer makes of what the reader returned.
std::vector<std::byte> reencode(const ipc::tick_rows& rows) {
  std::vector<ipc::key_value> meta;
  for (const auto& [k, v] : rows.schema_metadata) meta.push_back({k, v});
  std::vector<std::byte> s;
  ipc::append_schema(s, rows.kind, meta);
  ipc::batch_builder b(rows.kind);
  for (std::size_t i = 0; i < rows.ticks.size(); ++i) REQUIRE(b.add(rows.ticks[i], rows.recv_ns[i]));
  b.append(s);
  ipc::append_end_of_stream(s);
  return s;
}

bool same(const ipc::tick_rows& a, const ipc::tick_rows& b) {
  return a.kind == b.kind && a.ticks == b.ticks && a.recv_ns == b.recv_ns && a.schema_metadata == b.schema_metadata;
}

void check_error(const std::vector<std::byte>& s, read_errc code, std::string_view mentions = {}) {
  const auto r = read(s);
  REQUIRE(r.is_err());
  INFO(r.error().message());
  CHECK(r.error().code == code);
  CHECK(r.error().detail.find(mentions) != std::string::npos);
  CHECK(r.error().message().starts_with(std::string(ipc::to_string(code)) + ": message "));
}

// ---- byte patching: positions in a writer's stream, found through its flatbuffers ----

std::size_t at(const std::vector<std::byte>& s, const void* p) {
  return static_cast<std::size_t>(static_cast<const std::byte*>(p) - s.data());
}

template <class T>
void put(std::vector<std::byte>& s, std::size_t pos, T v) {
  REQUIRE(pos + sizeof v <= s.size());
  std::memcpy(s.data() + pos, &v, sizeof v);
}

// A copy of `s` with `v` written at `pos`.
template <class T>
std::vector<std::byte> patched(const std::vector<std::byte>& s, std::size_t pos, T v) {
  auto out = s;
  put(out, pos, v);
  return out;
}

template <class T>
T get(const std::vector<std::byte>& s, std::size_t pos) {
  T v;
  std::memcpy(&v, s.data() + pos, sizeof v);
  return v;
}

struct two {
  std::int64_t a, b;
};

// Where the parts of a stream's messages are (positions in the stream).
struct layout {
  std::vector<ipc::testing::frame> frames;
  const std::vector<std::byte>* s;

  explicit layout(const std::vector<std::byte>& bytes) : s(&bytes) {
    auto split = ipc::testing::split(bytes);
    REQUIRE(split.end_of_stream);
    frames = std::move(split.frames);
  }
  std::size_t message_field(std::size_t m, int field) const {
    const auto* p = frames[m].root->GetAddressOf(slot(field));
    REQUIRE(p != nullptr);
    return at(*s, p);
  }
  const fb::Table* header(std::size_t m) const { return frames[m].root->GetPointer<const fb::Table*>(slot(2)); }
  const fb::Table* field(std::size_t i) const {
    return header(0)->GetPointer<const fb::Vector<fb::Offset<fb::Table>>*>(slot(1))->Get(static_cast<fb::uoffset_t>(i));
  }
  // The position of FieldNode (vector 1) or Buffer (vector 2) i of record batch message m.
  std::size_t batch_struct(std::size_t m, int vector, std::size_t i) const {
    const auto* v = header(m)->GetPointer<const fb::Vector<const two*>*>(slot(vector));
    REQUIRE(i < v->size());
    return at(*s, v->Data() + i * 16);
  }
  std::size_t node(std::size_t m, std::size_t c) const { return batch_struct(m, 1, c); }
  std::size_t buffer(std::size_t m, std::size_t b) const { return batch_struct(m, 2, b); }
  // Where buffer b's bytes start in the stream.
  std::size_t buffer_data(std::size_t m, std::size_t b) const {
    return frames[m].body_offset + static_cast<std::size_t>(get<std::int64_t>(*s, buffer(m, b)));
  }
};

// A trade batch's buffers: per column validity, (offsets,) values.
constexpr std::size_t trade_symbol_offsets = 3, trade_symbol_data = 4, trade_price_values = 8;
constexpr std::size_t trade_sent_validity = 15, trade_recv_validity = 17;

}  // namespace

TEST_CASE("every kind reads back to the ticks and recv times written, over several batches") {
  for (message_kind k : all_kinds) {
    CAPTURE(ticks::to_string(k));
    const std::vector<batch> batches{
        {rows_of(k, 0, 3), {}},
        {{}, {{"polarway.heartbeat", "1700000000000000000"}}},
        {rows_of(k, 3, 40), {}},
        {{}, {}},
        {rows_of(k, 43, 1), {{"polarway.lagged", "2"}}},
        {{}, {{"polarway.closed", "ingest stopped"}}},
    };
    const std::vector<ipc::key_value> meta{
        {"polarway.kind", ticks::to_string(k)}, {"polarway.heartbeat_ms", "100"}, {"polarway.policy", "block"}};
    const auto s = stream_of(k, batches, meta);
    const auto r = read(s);
    REQUIRE_MESSAGE(r.is_ok(), r.error().message());
    CHECK(r->kind == k);
    std::vector<ticks::tick> want;
    std::vector<std::int64_t> recv;
    for (const batch& b : batches)
      for (const row& x : b.rows) {
        want.push_back(read_back(x));
        recv.push_back(x.recv_ns);
      }
    REQUIRE(r->ticks.size() == 44);
    CHECK(r->ticks == want);
    CHECK(r->recv_ns == recv);
    const std::vector<std::pair<std::string, std::string>> want_meta{
        {"polarway.kind", std::string(ticks::to_string(k))},
        {"polarway.heartbeat_ms", "100"},
        {"polarway.policy", "block"}};
    CHECK(r->schema_metadata == want_meta);
    // What came back writes the same stream (one batch) and reads back the same again.
    const auto again = read(reencode(*r));
    REQUIRE(again.is_ok());
    CHECK(same(*again, *r));
  }
}

TEST_CASE("sent_time nulls and the bookTicker event time") {
  // All sent times null, then none null: the validity bitmap both ways.
  ticks::trade t = std::get<ticks::trade>(make_row(message_kind::trade, 5).tick);
  t.sent_ns = polarway::none;
  std::vector<row> rows(9, row{t, 1});
  auto r = read(kind_stream(message_kind::trade, {{rows, {}}}));
  REQUIRE(r.is_ok());
  for (const auto& x : r->ticks) CHECK_FALSE(std::get<ticks::trade>(x).sent_ns);
  t.sent_ns = 0;
  rows.assign(9, row{t, 1});
  r = read(kind_stream(message_kind::trade, {{rows, {}}}));
  REQUIRE(r.is_ok());
  for (const auto& x : r->ticks) CHECK(std::get<ticks::trade>(x).sent_ns == polarway::option<std::int64_t>(0));

  // Without an event time a bookTicker comes back with recv_time's floor millisecond.
  ticks::book_ticker q = std::get<ticks::book_ticker>(make_row(message_kind::book_ticker, 4).tick);
  REQUIRE_FALSE(q.event_time_ms);
  // The extremes too: the floor of the lowest int64 must not negate it.
  constexpr std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t highest = std::numeric_limits<std::int64_t>::max();
  const std::vector<row> quotes{{q, 1'700'000'000'123'999'999}, {q, -1}, {q, -1'000'000}, {q, 0},
                                {q, lowest}, {q, highest}};
  const auto b = read(kind_stream(message_kind::book_ticker, {{quotes, {}}}));
  REQUIRE(b.is_ok());
  REQUIRE(b->ticks.size() == 6);
  const std::int64_t want[] = {1'700'000'000'123, -1, -1, 0, -9'223'372'036'855, 9'223'372'036'854};
  for (std::size_t i = 0; i < 6; ++i)
    CHECK(std::get<ticks::book_ticker>(b->ticks[i]).event_time_ms == polarway::option<std::int64_t>(want[i]));
}

TEST_CASE("a stream of only empty batches, or none, and the kind without polarway.kind") {
  for (message_kind k : all_kinds) {
    auto r = read(kind_stream(k, {}));
    REQUIRE(r.is_ok());
    CHECK(r->kind == k);
    CHECK(r->ticks.empty());
    r = read(kind_stream(k, {{{}, {{"polarway.heartbeat", "1"}}}, {{}, {}}}));
    REQUIRE(r.is_ok());
    CHECK(r->ticks.empty());
    // The columns alone say the kind.
    r = read(stream_of(k, {{rows_of(k, 0, 5), {}}}, {}));
    REQUIRE(r.is_ok());
    CHECK(r->kind == k);
    CHECK(r->ticks.size() == 5);
    CHECK(r->schema_metadata.empty());
  }
}

TEST_CASE("every proper prefix of a stream is refused") {
  for (message_kind k : all_kinds) {
    const auto s = kind_stream(k, {{rows_of(k, 0, 5), {}}, {{}, {{"polarway.heartbeat", "1"}}}});
    const layout l(s);
    std::vector<std::size_t> boundaries;
    for (const auto& f : l.frames) boundaries.push_back(f.body_offset + static_cast<std::size_t>(f.body_length));
    for (std::size_t n = 0; n < s.size(); ++n) {
      CAPTURE(n);
      const auto r = ipc::read_tick_stream(std::span(s).first(n));
      REQUIRE(r.is_err());
      const bool boundary = std::find(boundaries.begin(), boundaries.end(), n) != boundaries.end();
      CHECK(r.error().code == (boundary ? read_errc::missing_end_of_stream : read_errc::truncated));
    }
  }
}

TEST_CASE("a flipped byte anywhere gives an error or a stream that re-encodes to itself") {
  for (message_kind k : all_kinds) {
    const auto s =
        kind_stream(k, {{rows_of(k, 0, 6), {}}, {{}, {{"polarway.heartbeat", "1"}}}, {rows_of(k, 6, 3), {}}});
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      for (unsigned flip : {0x01u, 0x80u, 0xFFu}) {
        auto bad = s;
        bad[i] ^= std::byte(flip);
        const auto r = read(bad);
        if (r.is_err()) {
          CHECK_FALSE(r.error().detail.empty());
          continue;
        }
        ++accepted;
        const auto again = read(reencode(*r));
        REQUIRE(again.is_ok());
        CHECK(same(*again, *r));
      }
    }
    // Padding, ids and times take any value: some flips are still valid streams.
    CHECK(accepted > 0);
  }
}

TEST_CASE("framing: continuation markers, metadata and body lengths") {
  const auto s = simple_stream(message_kind::trade, 3);
  const layout l(s);
  const std::size_t second = l.frames[0].body_offset;  // the record batch's prefix

  check_error(patched<std::uint32_t>(s, 0, 0x0000FFFF), read_errc::bad_framing,
              "message 0 at byte 0: continuation marker");
  check_error(patched<std::uint32_t>(s, second, 0xFFFFFFFE), read_errc::bad_framing,
              "message 1 at byte " + std::to_string(second));
  // The end-of-stream marker of the pre-1.0 format (a bare zero length).
  auto bad = s;
  bad.resize(s.size() - 4);
  put<std::uint32_t>(bad, s.size() - 8, 0);
  check_error(bad, read_errc::bad_framing, "continuation marker 0,");

  // Metadata lengths: not a multiple of 8, negative, beyond the input.
  const auto meta_len = get<std::int32_t>(s, 4);
  for (std::int32_t len : {meta_len - 4, meta_len + 1, -8, -1})
    check_error(patched<std::int32_t>(s, 4, len), read_errc::bad_framing, "metadata length");
  for (std::int32_t len : {0x7FFFFFF8, static_cast<std::int32_t>(s.size())})
    check_error(patched<std::int32_t>(s, 4, len), read_errc::truncated, "metadata of");

  // Body lengths: huge, negative, unaligned.
  const std::size_t body_length = l.message_field(1, 3);
  for (std::int64_t len : {std::int64_t{1} << 40, INT64_MAX - 7, static_cast<std::int64_t>(s.size())})
    check_error(patched<std::int64_t>(s, body_length, len), read_errc::truncated, "body of");
  for (std::int64_t len : {std::int64_t{-8}, INT64_MIN, l.frames[1].body_length + 4})
    check_error(patched<std::int64_t>(s, body_length, len), read_errc::bad_framing, "body length");
}

TEST_CASE("the end-of-stream marker: required, and nothing after it") {
  auto s = simple_stream(message_kind::agg_trade, 2);
  auto bad = s;
  bad.resize(s.size() - 8);
  check_error(bad, read_errc::missing_end_of_stream, "message 2");
  bad = s;
  bad.push_back(std::byte{0});
  check_error(bad, read_errc::trailing_bytes, "1 bytes after");
  bad = s;
  ipc::append_end_of_stream(bad);
  check_error(bad, read_errc::trailing_bytes, "8 bytes after");
  bad = s;
  ipc::append_schema(bad, message_kind::agg_trade, {});
  check_error(bad, read_errc::trailing_bytes);
  // End-of-stream alone, or first.
  bad.clear();
  ipc::append_end_of_stream(bad);
  check_error(bad, read_errc::unexpected_message, "before the schema");
  check_error({}, read_errc::truncated, "no bytes");
}

TEST_CASE("the Message flatbuffer: verified, V5, its header in order") {
  const auto s = simple_stream(message_kind::book_ticker, 2);
  const layout l(s);

  check_error(patched<std::int16_t>(s, l.message_field(0, 0), 3), read_errc::bad_metadata, "metadata version 3");

  // The root offset pointing outside the metadata, or at garbage.
  for (std::uint32_t root : {0xFFFFFFF0u, 0u, 3u})
    check_error(patched<std::uint32_t>(s, 8, root), read_errc::bad_metadata, "does not verify");

  // A dictionary batch, a tensor, a record batch first, a second schema.
  check_error(patched<std::uint8_t>(s, l.message_field(1, 1), 2), read_errc::unsupported, "dictionary batch");
  check_error(patched<std::uint8_t>(s, l.message_field(1, 1), 4), read_errc::unexpected_message,
              "a Tensor, expected a RecordBatch");
  check_error(patched<std::uint8_t>(s, l.message_field(0, 1), 3), read_errc::unexpected_message,
              "a RecordBatch before the schema");
  check_error(patched<std::uint8_t>(s, l.message_field(1, 1), 1), read_errc::unexpected_message, "a second schema");
  auto bad = s;
  bad.resize(s.size() - 8);
  ipc::append_schema(bad, message_kind::book_ticker, {});
  ipc::append_end_of_stream(bad);
  check_error(bad, read_errc::unexpected_message, "message 2");
}

namespace {

// A record batch message built here, for what the writer never writes: `columns` field nodes
// of 0 rows, `buffers` empty buffers, and a BodyCompression table if `compressed`.
std::vector<std::byte> empty_batch_message(std::size_t columns, std::size_t buffers, bool compressed) {
  fb::FlatBufferBuilder b;
  const std::vector<two> zeros_n(columns, two{0, 0});
  const std::vector<two> zeros_b(buffers, two{0, 0});
  const auto nodes = b.CreateVectorOfStructs(zeros_n.data(), zeros_n.size());
  const auto bufs = b.CreateVectorOfStructs(zeros_b.data(), zeros_b.size());
  fb::Offset<void> compression;
  if (compressed) compression = fb::Offset<void>(b.EndTable(b.StartTable()));  // LZ4_FRAME, BUFFER
  auto start = b.StartTable();
  b.AddElement<std::int64_t>(slot(0), 0, -1);
  b.AddOffset(slot(1), nodes);
  b.AddOffset(slot(2), bufs);
  if (compressed) b.AddOffset(slot(3), compression);
  const auto rb = b.EndTable(start);
  start = b.StartTable();
  b.AddElement<std::int16_t>(slot(0), 4, 0);
  b.AddElement<std::uint8_t>(slot(1), 3, 0);
  b.AddOffset(slot(2), fb::Offset<void>(rb));
  b.Finish(fb::Offset<void>(b.EndTable(start)));
  std::vector<std::byte> out(8);
  const std::size_t padded = (b.GetSize() + 7) & ~std::size_t{7};
  put<std::uint32_t>(out, 0, 0xFFFFFFFFu);
  put<std::uint32_t>(out, 4, static_cast<std::uint32_t>(padded));
  const auto* p = reinterpret_cast<const std::byte*>(b.GetBufferPointer());
  out.insert(out.end(), p, p + b.GetSize());
  out.resize(8 + padded);
  return out;
}

std::vector<std::byte> with_message(message_kind k, const std::vector<std::byte>& message) {
  std::vector<std::byte> s;
  ipc::append_schema(s, k, {});
  s.insert(s.end(), message.begin(), message.end());
  ipc::append_end_of_stream(s);
  return s;
}

}  // namespace

TEST_CASE("no compression; an empty batch may leave its offsets buffer empty") {
  // 9 columns, one of them utf8: 19 buffers, all empty (the offsets too, as pyarrow may write).
  const auto plain = read(with_message(message_kind::trade, empty_batch_message(9, 19, false)));
  REQUIRE_MESSAGE(plain.is_ok(), plain.error().message());
  CHECK(plain->ticks.empty());
  check_error(with_message(message_kind::trade, empty_batch_message(9, 19, true)), read_errc::unsupported,
              "compressed");
  check_error(with_message(message_kind::trade, empty_batch_message(9, 18, false)), read_errc::bad_batch,
              "18 buffers, expected 19");
  check_error(with_message(message_kind::trade, empty_batch_message(11, 23, false)), read_errc::bad_batch,
              "11 field nodes");
}

TEST_CASE("a zstd-compressed body reads back to what was written, smaller") {
  for (message_kind k : all_kinds) {
    CAPTURE(ticks::to_string(k));
    // A one-row batch's 8-byte buffers do not shrink: they are written as they are (length -1).
    const std::vector<batch> batches{
        {rows_of(k, 0, 1), {}}, {{}, {{"polarway.heartbeat", "1"}}}, {rows_of(k, 1, 1000), {}}, {{}, {}}};
    const auto zstd = kind_stream(k, batches, ipc::body_compression::zstd);
    const auto plain = kind_stream(k, batches);
    const auto r = read(zstd);
    REQUIRE_MESSAGE(r.is_ok(), r.error().message());
    const auto want = read(plain);
    REQUIRE(want.is_ok());
    CHECK(same(*r, *want));
    CHECK(r->ticks.size() == 1001);
    CHECK(zstd.size() * 2 < plain.size());
    // Both kinds of buffer are there: compressed ones and ones kept as they were.
    const layout l(zstd);
    const auto lengths = [&](std::size_t m) {
      std::vector<std::int64_t> out;
      const auto* v = l.header(m)->GetPointer<const fb::Vector<const two*>*>(slot(2));
      for (fb::uoffset_t b = 0; b < v->size(); ++b)
        if (v->Get(b)->b != 0) out.push_back(get<std::int64_t>(zstd, l.buffer_data(m, b)));
      return out;
    };
    const auto one_row = lengths(1);
    CHECK(std::find(one_row.begin(), one_row.end(), -1) != one_row.end());
    const auto thousand = lengths(3);
    CHECK(std::all_of(thousand.begin(), thousand.end(), [](std::int64_t n) { return n > 0; }));
  }
}

TEST_CASE("a compressed body that lies is refused before anything is allocated for it") {
  const auto s = kind_stream(message_kind::trade, {{rows_of(message_kind::trade, 0, 200), {}}},
                             ipc::body_compression::zstd);
  REQUIRE(read(s).is_ok());
  const layout l(s);
  const std::size_t price = l.buffer_data(1, trade_price_values);
  const auto price_length = get<std::int64_t>(s, price);
  REQUIRE(price_length == 200 * 16);
  // An uncompressed length beyond what the rows need: a decompression bomb.
  check_error(patched(s, price, std::int64_t{1} << 40), read_errc::bad_batch, "claims 1099511627776 bytes");
  check_error(patched(s, price, std::int64_t{-2}), read_errc::bad_batch, "claims -2 bytes");
  // A length that is not what the frame holds, either way.
  check_error(patched(s, price, price_length - 16), read_errc::bad_batch, "price: compressed buffer 1 does not decompress");
  check_error(patched(s, price, price_length + 16), read_errc::bad_batch, "decompresses to 3200 bytes, not the 3216");
  // A frame whose bytes are damaged (its magic number).
  check_error(patched(s, price + 8, std::uint32_t{0}), read_errc::bad_batch, "does not decompress");
  // Too short to hold the length, and a batch length beyond what a compressed batch may have.
  check_error(patched(s, l.buffer(1, trade_price_values) + 8, std::int64_t{4}), read_errc::bad_batch, "too short");
  check_error(patched(s, at(s, l.header(1)->GetAddressOf(slot(0))), std::int64_t{1} << 17), read_errc::bad_batch,
              "length 131072 in a compressed body");
  // Codecs other than ZSTD are valid Arrow that this reader does not read.
  check_error(with_message(message_kind::trade, empty_batch_message(9, 19, true)), read_errc::unsupported, "LZ4_FRAME");
}

TEST_CASE("a flipped byte in a compressed stream gives an error or a stream that re-encodes to itself") {
  const auto s = kind_stream(message_kind::agg_trade, {{rows_of(message_kind::agg_trade, 0, 40), {}}},
                             ipc::body_compression::zstd);
  std::size_t refused = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto bad = s;
    bad[i] ^= std::byte{0x5A};
    const auto r = read(bad);
    if (r.is_err()) {
      ++refused;
      CHECK_FALSE(r.error().detail.empty());
      continue;
    }
    const auto again = read(reencode(*r));
    REQUIRE(again.is_ok());
    CHECK(same(*again, *r));
  }
  CHECK(refused > 0);
}

TEST_CASE("schemas that are not a tick kind's") {
  const auto s = simple_stream(message_kind::trade, 2);
  const layout l(s);

  // A column renamed, in place: "price" -> "prize".
  auto bad = s;
  const auto* name = l.field(3)->GetPointer<const fb::String*>(slot(0));
  REQUIRE(name->str() == "price");
  put<char>(bad, at(s, name->c_str()) + 3, 'z');
  check_error(bad, read_errc::not_our_schema, "column 3 \"prize\", expected \"price\"");
  // The same without polarway.kind: the closest kind is named.
  auto plain = stream_of(message_kind::trade, {{rows_of(message_kind::trade, 0, 2), {}}}, {});
  const layout lp(plain);
  const auto* pname = lp.field(3)->GetPointer<const fb::String*>(slot(0));
  put<char>(plain, at(plain, pname->c_str()) + 3, 'z');
  check_error(plain, read_errc::not_our_schema, "closest, trade: column 3 \"prize\"");

  // A type changed: the price's Decimal tag read as Int (its precision becomes a bit width).
  check_error(patched<std::uint8_t>(s, at(s, l.field(3)->GetAddressOf(slot(2))), 2), read_errc::not_our_schema,
              "column 3 \"price\" is int18, expected decimal128(18, 8)");
  // Timestamp units: the event time in nanoseconds.
  bad = s;
  const auto* ts = l.field(0)->GetPointer<const fb::Table*>(slot(3));
  put<std::int16_t>(bad, at(s, ts->GetAddressOf(slot(0))), 3);
  check_error(bad, read_errc::not_our_schema, "is timestamp[ns, tz=UTC], expected timestamp[ms, tz=UTC]");
  // Another time zone.
  bad = s;
  const auto* tz = ts->GetPointer<const fb::String*>(slot(1));
  put<char>(bad, at(s, tz->c_str()), 'X');
  check_error(bad, read_errc::not_our_schema, "tz=\"XTC\"");
  // A type Arrow has and ticks do not: Utf8 -> LargeUtf8 for the symbol.
  check_error(patched<std::uint8_t>(s, at(s, l.field(1)->GetAddressOf(slot(2))), 20), read_errc::not_our_schema,
              "is LargeUtf8");

  // Nullability: sent_time written nullable, patched to non-nullable.
  check_error(patched<std::uint8_t>(s, at(s, l.field(7)->GetAddressOf(slot(1))), 0), read_errc::not_our_schema,
              "column 7 \"sent_time\" is non-nullable, expected nullable");

  // polarway.kind disagreeing with the columns, or naming no kind.
  std::vector<ipc::key_value> meta{{"polarway.kind", "aggTrade"}};
  check_error(stream_of(message_kind::trade, {}, meta), read_errc::not_our_schema,
              "not the aggTrade schema polarway.kind names");
  meta = {{"polarway.kind", "depth"}};
  check_error(stream_of(message_kind::trade, {}, meta), read_errc::not_our_schema,
              "polarway.kind \"depth\" is not a tick kind");
  meta = {{"polarway.kind", "trade"}, {"polarway.kind", "bookTicker"}};
  check_error(stream_of(message_kind::trade, {}, meta), read_errc::not_our_schema, "two different polarway.kind");

  // A refusal: no fields.
  std::vector<std::byte> refused;
  const ipc::key_value why[] = {{"polarway.error", "unknown kind\n"}};
  ipc::append_empty_schema(refused, why);
  ipc::append_end_of_stream(refused);
  check_error(refused, read_errc::not_our_schema, "without fields (polarway.error \"unknown kind\\x0a\")");

  // A schema alone is fine, with the right fields.
  CHECK(read(stream_of(message_kind::book_ticker, {}, {})).is_ok());
}

TEST_CASE("record batch layout: lengths, nodes, buffers, null counts, offsets") {
  const auto s = simple_stream(message_kind::trade, 10);  // rows 3 and 7 have no sent_time
  const layout l(s);
  const auto rb_length = at(s, l.header(1)->GetAddressOf(slot(0)));

  auto bad = s;
  for (std::int64_t len : {std::int64_t{-1}, INT64_MAX, std::int64_t{1} << 40})
    check_error(patched<std::int64_t>(s, rb_length, len), read_errc::bad_batch, "length " + std::to_string(len));
  check_error(patched<std::int64_t>(s, rb_length, 11), read_errc::bad_batch, "field node length 10, batch length 11");
  check_error(patched<std::int64_t>(s, l.node(1, 4), 9), read_errc::bad_batch, "column quantity: field node length 9");
  check_error(patched<std::int64_t>(s, l.node(1, 4) + 8, -1), read_errc::bad_batch, "column quantity: null count -1");

  // Buffers outside the body, huge, or unaligned.
  const auto price = l.buffer(1, trade_price_values);
  for (two b : {two{INT64_MAX, 16}, two{0, INT64_MAX}, two{8, l.frames[1].body_length}, two{-8, 8},
                two{l.frames[1].body_length, 8}, two{INT64_MAX - 7, INT64_MAX}}) {
    bad = s;
    put<std::int64_t>(bad, price, b.a);
    put<std::int64_t>(bad, price + 8, b.b);
    check_error(bad, read_errc::bad_batch, "column price: buffer 1");
  }
  check_error(patched<std::int64_t>(s, price, get<std::int64_t>(s, price) + 4), read_errc::bad_batch,
              "not 8-byte aligned");
  check_error(patched<std::int64_t>(s, price + 8, 16 * 10 - 1), read_errc::bad_batch,
              "column price: values buffer of 159 bytes for 10 rows");

  // Null counts against the validity bitmap.
  check_error(patched<std::int64_t>(s, l.node(1, 7) + 8, 3), read_errc::bad_batch,
              "column sent_time: null count 3, validity bitmap has 2");
  check_error(patched<std::int64_t>(s, l.buffer(1, trade_sent_validity) + 8, 0), read_errc::bad_batch,
              "null count 2 without a validity bitmap");
  check_error(patched<std::int64_t>(s, l.node(1, 2) + 8, 1), read_errc::bad_batch,
              "column trade_id: null count 1 without");

  // Utf8 offsets: not from 0, decreasing, past the data.
  const std::size_t offsets = l.buffer_data(1, trade_symbol_offsets);
  check_error(patched<std::int32_t>(s, offsets, 1), read_errc::bad_batch, "column symbol: offsets start at 1");
  check_error(patched<std::int32_t>(s, offsets + 2 * 4, get<std::int32_t>(s, offsets + 4) - 1), read_errc::bad_batch,
              "offset 2");
  check_error(patched<std::int32_t>(s, offsets + 4, -5), read_errc::bad_batch, "is below the one before it");
  bad = s;
  const auto data_length = get<std::int64_t>(s, l.buffer(1, trade_symbol_data) + 8);
  put<std::int32_t>(bad, offsets + 10 * 4, static_cast<std::int32_t>(data_length + 1));
  check_error(bad, read_errc::bad_batch, "past the data's");
  check_error(patched<std::int32_t>(s, offsets + 10 * 4, INT32_MAX), read_errc::bad_batch, "past the data's");
  check_error(patched<std::int64_t>(s, l.buffer(1, trade_symbol_offsets) + 8, 10 * 4), read_errc::bad_batch,
              "offsets buffer of 40 bytes for 10 rows");
}

TEST_CASE("values no tick holds") {
  const auto s = simple_stream(message_kind::trade, 10);
  const layout l(s);

  // A lowercase letter in a symbol (row 0 is BTCUSDT), an empty symbol.
  auto bad = s;
  const std::size_t text = l.buffer_data(1, trade_symbol_data);
  REQUIRE(get<char>(s, text) == 'B');
  put<char>(bad, text, 'b');
  check_error(bad, read_errc::bad_value, "column symbol row 0: \"bTCUSDT\" is not a symbol");
  bad = s;
  const std::size_t offsets = l.buffer_data(1, trade_symbol_offsets);
  put<std::int32_t>(bad, offsets + 4, 0);
  check_error(bad, read_errc::bad_value, "column symbol row 0: \"\" is not a symbol");
  // Row 2's symbol is 20 characters: make it 21 by taking one of row 3's.
  check_error(patched<std::int32_t>(s, offsets + 3 * 4, get<std::int32_t>(s, offsets + 3 * 4) + 1),
              read_errc::bad_value, "column symbol row 2: \"A1B2C3D4E5F6G7H8I9J0B\" is not a symbol");

  // Decimals beyond 18 digits, or whose high word is not the low one's sign.
  const std::size_t price = l.buffer_data(1, trade_price_values);
  for (std::int64_t v : {ipc::max_decimal_raw + 1, -ipc::max_decimal_raw - 1, INT64_MAX, INT64_MIN}) {
    bad = s;
    put<std::int64_t>(bad, price + 16 * 4, v);
    put<std::int64_t>(bad, price + 16 * 4 + 8, v < 0 ? -1 : 0);
    check_error(bad, read_errc::bad_value, "column price row 4: ");
  }
  check_error(patched<std::int64_t>(s, price + 16 * 5 + 8, 1), read_errc::bad_value,
              "column price row 5: a decimal128 beyond 18 digits");
  bad = s;
  put<std::int64_t>(bad, price + 16 * 2 + 8, 0);  // row 2's price is -1: its high word must be -1
  check_error(bad, read_errc::bad_value, "column price row 2");

  // A null in a non-nullable column: recv_time given sent_time's validity bitmap and null count.
  bad = s;
  put<std::int64_t>(bad, l.buffer(1, trade_recv_validity), get<std::int64_t>(s, l.buffer(1, trade_sent_validity)));
  put<std::int64_t>(bad, l.buffer(1, trade_recv_validity) + 8, 2);
  put<std::int64_t>(bad, l.node(1, 8) + 8, 2);
  check_error(bad, read_errc::bad_value, "column recv_time row 3: null in a non-nullable column");
  // A validity bitmap on a column without nulls is fine when it says so.
  auto fine = s;
  const std::size_t ones = l.buffer_data(1, trade_sent_validity);
  put<std::uint8_t>(fine, ones, 0xFF);
  put<std::uint8_t>(fine, ones + 1, 0x03);
  put<std::int64_t>(fine, l.node(1, 7) + 8, 0);
  const auto r = read(fine);
  REQUIRE_MESSAGE(r.is_ok(), r.error().message());
  CHECK(std::get<ticks::trade>(r->ticks[3]).sent_ns == polarway::option<std::int64_t>(0));
}
