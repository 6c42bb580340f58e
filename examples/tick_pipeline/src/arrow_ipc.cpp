// The Arrow IPC encoder. The flatbuffer tables are those of the Arrow format's Schema.fbs and
// Message.fbs, addressed by vtable slot (arrow_ipc_format.hpp has the numbers, shared with the
// reader). Only what tick streams use is written: no dictionaries, no nested types; a body
// compressed, when asked, with Zstandard only.
#include "ticks/arrow_ipc.hpp"

#include <flatbuffers/flatbuffers.h>
#include <zstd.h>

#include <array>
#include <cstring>
#include <variant>

#include "arrow_ipc_format.hpp"

namespace ticks::arrow_ipc {

namespace fb = flatbuffers;
using namespace format;

namespace {

void append_bytes(std::vector<std::byte>& out, const void* p, std::size_t n) {
  const auto* b = static_cast<const std::byte*>(p);
  out.insert(out.end(), b, b + n);
}

void append_u32(std::vector<std::byte>& out, std::uint32_t v) { append_bytes(out, &v, sizeof v); }

void append_zeros(std::vector<std::byte>& out, std::size_t n) { out.resize(out.size() + n, std::byte{0}); }

fb::Offset<fb::Vector<fb::Offset<void>>> key_values(fb::FlatBufferBuilder& b, std::span<const key_value> kv) {
  std::vector<fb::Offset<void>> tables;
  tables.reserve(kv.size());
  for (const key_value& e : kv) {
    const auto key = b.CreateString(e.key.data(), e.key.size());
    const auto value = b.CreateString(e.value.data(), e.value.size());
    const auto start = b.StartTable();
    b.AddOffset(slot(key_value_field::key), key);
    b.AddOffset(slot(key_value_field::value), value);
    tables.push_back(fb::Offset<void>(b.EndTable(start)));
  }
  return b.CreateVector(tables);
}

// The type table of a column and its Type union tag.
std::pair<std::uint8_t, fb::Offset<void>> type_table(fb::FlatBufferBuilder& b, column_type t) {
  switch (t) {
    case column_type::int64: {
      const auto start = b.StartTable();
      b.AddElement<std::int32_t>(slot(int_field::bit_width), 64, 0);
      b.AddElement<std::uint8_t>(slot(int_field::is_signed), 1, 0);
      return {type_int, fb::Offset<void>(b.EndTable(start))};
    }
    case column_type::utf8:
      return {type_utf8, fb::Offset<void>(b.EndTable(b.StartTable()))};
    case column_type::boolean:
      return {type_bool, fb::Offset<void>(b.EndTable(b.StartTable()))};
    case column_type::decimal_18_8: {
      const auto start = b.StartTable();
      b.AddElement<std::int32_t>(slot(decimal_field::precision), decimal_precision, 0);
      b.AddElement<std::int32_t>(slot(decimal_field::scale), decimal_scale, 0);
      // Written although it is the default.
      b.AddElement<std::int32_t>(slot(decimal_field::bit_width), decimal_bit_width, 0);
      return {type_decimal, fb::Offset<void>(b.EndTable(start))};
    }
    case column_type::timestamp_ms:
    case column_type::timestamp_ns: {
      const auto tz = b.CreateString(utc.data(), utc.size());
      const auto start = b.StartTable();
      b.AddElement<std::int16_t>(slot(timestamp_field::unit),
                                 t == column_type::timestamp_ms ? unit_millisecond : unit_nanosecond, -1);
      b.AddOffset(slot(timestamp_field::timezone), tz);
      return {type_timestamp, fb::Offset<void>(b.EndTable(start))};
    }
  }
  return {type_utf8, fb::Offset<void>(b.EndTable(b.StartTable()))};
}

fb::Offset<void> field_table(fb::FlatBufferBuilder& b, const column_spec& c) {
  const auto name = b.CreateString(c.name.data(), c.name.size());
  const auto [tag, type] = type_table(b, c.type);
  // Readers expect a children vector even for primitive types.
  const auto children = b.CreateVector(std::vector<fb::Offset<void>>{});
  const auto start = b.StartTable();
  b.AddOffset(slot(field_field::name), name);
  b.AddElement<std::uint8_t>(slot(field_field::nullable), c.nullable ? 1 : 0, 0);
  b.AddElement<std::uint8_t>(slot(field_field::type_type), tag, 0);
  b.AddOffset(slot(field_field::type), type);
  b.AddOffset(slot(field_field::children), children);
  return fb::Offset<void>(b.EndTable(start));
}

// Finishes a Message around `header` and appends it encapsulated, leaving the body to the caller.
void append_message(std::vector<std::byte>& out, fb::FlatBufferBuilder& b, std::uint8_t header_type,
                    fb::Offset<void> header, std::int64_t body_length, std::span<const key_value> metadata) {
  fb::Offset<fb::Vector<fb::Offset<void>>> custom;
  if (!metadata.empty()) custom = key_values(b, metadata);
  const auto start = b.StartTable();
  b.AddElement<std::int16_t>(slot(message_field::version), metadata_v5, 0);
  b.AddElement<std::uint8_t>(slot(message_field::header_type), header_type, 0);
  b.AddOffset(slot(message_field::header), header);
  b.AddElement<std::int64_t>(slot(message_field::body_length), body_length, 0);
  if (!metadata.empty()) b.AddOffset(slot(message_field::custom_metadata), custom);
  b.Finish(fb::Offset<void>(b.EndTable(start)));
  const std::size_t size = b.GetSize();
  // The 8 bytes of marker and length plus the padded metadata keep the body 8-byte aligned.
  const std::size_t padded = pad8(size);
  append_u32(out, continuation_marker);
  append_u32(out, static_cast<std::uint32_t>(padded));
  append_bytes(out, b.GetBufferPointer(), size);
  append_zeros(out, padded - size);
}

void append_schema_message(std::vector<std::byte>& out, std::span<const column_spec> columns,
                           std::span<const key_value> metadata) {
  fb::FlatBufferBuilder b(1024);
  std::vector<fb::Offset<void>> fields;
  fields.reserve(columns.size());
  for (const column_spec& c : columns) fields.push_back(field_table(b, c));
  const auto field_vector = b.CreateVector(fields);
  fb::Offset<fb::Vector<fb::Offset<void>>> custom;
  if (!metadata.empty()) custom = key_values(b, metadata);
  const auto start = b.StartTable();
  b.AddOffset(slot(schema_field::fields), field_vector);  // endianness stays the default, Little
  if (!metadata.empty()) b.AddOffset(slot(schema_field::custom_metadata), custom);
  append_message(out, b, header_schema, fb::Offset<void>(b.EndTable(start)), 0, {});
}

}  // namespace

std::span<const column_spec> tick_schema(message_kind kind) noexcept {
  switch (kind) {
    case message_kind::trade: return trade_columns;
    case message_kind::agg_trade: return agg_trade_columns;
    case message_kind::book_ticker: return book_ticker_columns;
  }
  return trade_columns;
}

void append_schema(std::vector<std::byte>& out, message_kind kind, std::span<const key_value> metadata) {
  append_schema_message(out, tick_schema(kind), metadata);
}

void append_empty_schema(std::vector<std::byte>& out, std::span<const key_value> metadata) {
  append_schema_message(out, {}, metadata);
}

void append_end_of_stream(std::vector<std::byte>& out) {
  append_u32(out, continuation_marker);
  append_u32(out, 0);
}

namespace {

// The size of the schema message `stream` starts with (it has no body), or 0 if it does not
// start with an encapsulated message.
std::size_t schema_message_size(std::span<const std::byte> stream) noexcept {
  std::uint32_t marker = 0, length = 0;
  if (stream.size() < 8) return 0;
  std::memcpy(&marker, stream.data(), 4);
  std::memcpy(&length, stream.data() + 4, 4);
  if (marker != continuation_marker || length == 0 || length > stream.size() - 8) return 0;
  return 8 + static_cast<std::size_t>(length);
}

bool ends_with_end_of_stream(std::span<const std::byte> stream, std::size_t after) noexcept {
  std::uint32_t marker = 0, length = 1;
  if (stream.size() < after + 8) return false;
  std::memcpy(&marker, stream.data() + stream.size() - 8, 4);
  std::memcpy(&length, stream.data() + stream.size() - 4, 4);
  return marker == continuation_marker && length == 0;
}

}  // namespace

bool append_batches_of(std::vector<std::byte>& stream, std::span<const std::byte> later) {
  const std::size_t schema = schema_message_size(stream);
  if (schema == 0 || !ends_with_end_of_stream(stream, schema) || !ends_with_end_of_stream(later, schema) ||
      schema_message_size(later) != schema || std::memcmp(stream.data(), later.data(), schema) != 0)
    return false;
  stream.resize(stream.size() - 8);
  stream.insert(stream.end(), later.begin() + static_cast<std::ptrdiff_t>(schema), later.end());
  return true;
}

batch_builder::batch_builder(message_kind kind, body_compression compression)
    : kind_(kind), zstd_(nullptr, [](void* c) { ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(c)); }) {
  if (compression == body_compression::zstd) zstd_.reset(ZSTD_createCCtx());
  for (const column_spec& c : tick_schema(kind)) {
    column col;
    col.type = c.type;
    if (c.type == column_type::utf8) col.offsets.push_back(0);
    columns_.push_back(std::move(col));
  }
}

std::span<const std::byte> batch_builder::column::data() const noexcept {
  switch (type) {
    case column_type::utf8: return std::as_bytes(std::span(text));
    case column_type::boolean: return std::as_bytes(std::span(bits));
    default: return std::as_bytes(std::span(words));
  }
}

void batch_builder::push_i64(std::size_t c, std::int64_t v) { columns_[c].words.push_back(v); }

void batch_builder::push_decimal(std::size_t c, std::int64_t raw) {
  // Little-endian 128-bit two's complement: the int64, then its sign extended.
  column& col = columns_[c];
  col.words.push_back(raw);
  col.words.push_back(raw < 0 ? -1 : 0);
}

void batch_builder::push_text(std::size_t c, std::string_view s) {
  column& col = columns_[c];
  col.text.insert(col.text.end(), s.begin(), s.end());
  col.offsets.push_back(static_cast<std::int32_t>(col.text.size()));
}

void batch_builder::push_bool(std::size_t c, bool v) {
  column& col = columns_[c];
  if (rows_ % 8 == 0) col.bits.push_back(0);
  if (v) col.bits.back() |= static_cast<std::uint8_t>(1u << (rows_ % 8));
}

void batch_builder::push_optional_i64(std::size_t c, const polarway::option<std::int64_t>& v) {
  column& col = columns_[c];
  if (rows_ % 8 == 0) col.validity.push_back(0);
  if (v) {
    col.validity.back() |= static_cast<std::uint8_t>(1u << (rows_ % 8));
    col.words.push_back(*v);
  } else {
    ++col.null_count;
    col.words.push_back(0);
  }
}

bool batch_builder::add(const tick& t, std::int64_t recv_ns) {
  auto fits = [](const price& p) { return p.raw <= max_decimal_raw && p.raw >= -max_decimal_raw; };
  if (const auto* v = std::get_if<trade>(&t)) {
    if (!fits(v->price) || !fits(v->quantity)) return false;
    push_i64(0, v->event_time_ms);
    push_text(1, v->symbol.view());
    push_i64(2, v->trade_id);
    push_decimal(3, v->price.raw);
    push_decimal(4, v->quantity.raw);
    push_i64(5, v->trade_time_ms);
    push_bool(6, v->buyer_is_maker);
    push_optional_i64(7, v->sent_ns);
    push_i64(8, recv_ns);
  } else if (const auto* a = std::get_if<agg_trade>(&t)) {
    if (!fits(a->price) || !fits(a->quantity)) return false;
    push_i64(0, a->event_time_ms);
    push_text(1, a->symbol.view());
    push_i64(2, a->agg_trade_id);
    push_decimal(3, a->price.raw);
    push_decimal(4, a->quantity.raw);
    push_i64(5, a->first_trade_id);
    push_i64(6, a->last_trade_id);
    push_i64(7, a->trade_time_ms);
    push_bool(8, a->buyer_is_maker);
    push_optional_i64(9, a->sent_ns);
    push_i64(10, recv_ns);
  } else {
    const auto& q = std::get<book_ticker>(t);
    if (!fits(q.bid_price) || !fits(q.bid_quantity) || !fits(q.ask_price) || !fits(q.ask_quantity)) return false;
    push_i64(0, q.update_id);
    push_text(1, q.symbol.view());
    push_decimal(2, q.bid_price.raw);
    push_decimal(3, q.bid_quantity.raw);
    push_decimal(4, q.ask_price.raw);
    push_decimal(5, q.ask_quantity.raw);
    // Floor division, so a time before the epoch still lands in its own millisecond (no
    // negation: -INT64_MIN does not exist).
    const std::int64_t recv_ms = recv_ns / 1'000'000 - (recv_ns % 1'000'000 < 0 ? 1 : 0);
    push_i64(6, q.event_time_ms ? *q.event_time_ms : recv_ms);
    push_optional_i64(7, q.sent_ns);
    push_i64(8, recv_ns);
  }
  ++rows_;
  return true;
}

void batch_builder::append(std::vector<std::byte>& out, std::span<const key_value> metadata) {
  // The body's layout: per column, its validity buffer (empty without nulls), then its offsets
  // (utf8), then its values, each at an 8-byte aligned offset.
  std::vector<two_longs> nodes;
  std::vector<std::span<const std::byte>> raw;
  nodes.reserve(columns_.size());
  raw.reserve(columns_.size() * 3);
  for (const column& c : columns_) {
    nodes.push_back({static_cast<std::int64_t>(rows_), static_cast<std::int64_t>(c.null_count)});
    raw.push_back(c.null_count != 0 ? std::as_bytes(std::span(c.validity)) : std::span<const std::byte>());
    if (c.type == column_type::utf8) raw.push_back(std::as_bytes(std::span(c.offsets)));
    raw.push_back(c.data());
  }
  const bool zstd = zstd_ != nullptr;
  std::vector<two_longs> buffers;
  buffers.reserve(raw.size());
  std::int64_t body = 0;
  if (zstd) {
    compressed_.clear();
    for (std::span<const std::byte> r : raw) {
      const std::size_t at = compressed_.size();
      compress_into(compressed_, r);
      buffers.push_back({static_cast<std::int64_t>(at), static_cast<std::int64_t>(compressed_.size() - at)});
      append_zeros(compressed_, pad8(compressed_.size()) - compressed_.size());
    }
    body = static_cast<std::int64_t>(compressed_.size());
  } else {
    for (std::span<const std::byte> r : raw) {
      buffers.push_back({body, static_cast<std::int64_t>(r.size())});
      body += static_cast<std::int64_t>(pad8(r.size()));
    }
  }

  fb::FlatBufferBuilder b(512);
  const auto node_vector = b.CreateVectorOfStructs(nodes.data(), nodes.size());
  const auto buffer_vector = b.CreateVectorOfStructs(buffers.data(), buffers.size());
  fb::Offset<void> compression;
  if (zstd) {
    const auto start = b.StartTable();
    // The codec is written (its default is LZ4_FRAME); the method is BUFFER, the default.
    b.AddElement<std::int8_t>(slot(body_compression_field::codec), codec_zstd, -1);
    compression = fb::Offset<void>(b.EndTable(start));
  }
  const auto start = b.StartTable();
  // The length is always written (its default is 0).
  b.AddElement<std::int64_t>(slot(record_batch_field::length), static_cast<std::int64_t>(rows_), -1);
  b.AddOffset(slot(record_batch_field::nodes), node_vector);
  b.AddOffset(slot(record_batch_field::buffers), buffer_vector);
  if (zstd) b.AddOffset(slot(record_batch_field::compression), compression);
  append_message(out, b, header_record_batch, fb::Offset<void>(b.EndTable(start)), body, metadata);

  if (zstd) {
    append_bytes(out, compressed_.data(), compressed_.size());
  } else {
    out.reserve(out.size() + static_cast<std::size_t>(body));
    for (std::span<const std::byte> r : raw) {
      append_bytes(out, r.data(), r.size());
      append_zeros(out, pad8(r.size()) - r.size());
    }
  }
  clear();
}

void batch_builder::compress_into(std::vector<std::byte>& body, std::span<const std::byte> buffer) {
  // An empty buffer stays empty: readers take a zero length as nothing to decompress.
  if (buffer.empty()) return;
  const std::size_t at = body.size();
  const std::size_t bound = ZSTD_compressBound(buffer.size());
  body.resize(at + 8 + bound);
  const std::size_t got = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(zstd_.get()), body.data() + at + 8, bound,
                                            buffer.data(), buffer.size(), zstd_level);
  std::int64_t length = static_cast<std::int64_t>(buffer.size());
  if (ZSTD_isError(got) != 0 || got >= buffer.size()) {
    length = uncompressed_marker;
    body.resize(at + 8);
    append_bytes(body, buffer.data(), buffer.size());
  } else {
    body.resize(at + 8 + got);
  }
  std::memcpy(body.data() + at, &length, sizeof length);
}

void batch_builder::clear() noexcept {
  for (column& c : columns_) {
    c.words.clear();
    c.text.clear();
    c.bits.clear();
    c.validity.clear();
    c.null_count = 0;
    if (c.type == column_type::utf8) {
      c.offsets.clear();
      c.offsets.push_back(0);
    }
  }
  rows_ = 0;
}

}  // namespace ticks::arrow_ipc
