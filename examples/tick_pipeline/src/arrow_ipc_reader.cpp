// The Arrow IPC reader for tick streams (ticks/arrow_ipc_reader.hpp has what it accepts).
//
// The input is walked message by message. A message's metadata is copied into an 8-byte aligned
// scratch buffer (the input may sit at any address, and flatbuffers reads its scalars in place),
// verified there with flatbuffers::Verifier field by field before each field is read, and the
// body is only ever read through spans whose bounds were checked against it, with memcpy (so the
// body's alignment in memory does not matter either). Lengths are compared by subtraction from
// what is known to be in range, never by adding untrusted numbers.
#include "ticks/arrow_ipc_reader.hpp"

#include <flatbuffers/flatbuffers.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <memory>
#include <variant>

#include <polarway/option.hpp>

#include "arrow_ipc_format.hpp"

namespace ticks::arrow_ipc {

namespace fb = flatbuffers;
using namespace format;

static_assert(std::endian::native == std::endian::little, "the stream's integers are read in place as little-endian");

std::string_view to_string(read_errc e) noexcept {
  switch (e) {
    case read_errc::truncated:
      return "truncated";
    case read_errc::missing_end_of_stream:
      return "missing end-of-stream";
    case read_errc::bad_framing:
      return "bad framing";
    case read_errc::bad_metadata:
      return "bad metadata";
    case read_errc::unexpected_message:
      return "unexpected message";
    case read_errc::unsupported:
      return "unsupported";
    case read_errc::not_our_schema:
      return "not a tick schema";
    case read_errc::bad_batch:
      return "bad record batch";
    case read_errc::bad_value:
      return "bad value";
    case read_errc::trailing_bytes:
      return "trailing bytes";
  }
  return "unknown read error";
}

std::string read_error::message() const {
  std::string m(to_string(code));
  m += ": ";
  m += detail;
  return m;
}

namespace {

using table_vector = fb::Vector<fb::Offset<fb::Table>>;
using struct_vector = fb::Vector<const two_longs*>;

// The most rows a compressed record batch may have (an uncompressed one is bounded by its body):
// far more than any batch polarway writes, and what it may decompress to stays a few MiB.
constexpr std::uint64_t max_compressed_rows = std::uint64_t{1} << 16;

constexpr std::size_t max_columns =
    std::max({trade_columns.size(), agg_trade_columns.size(), book_ticker_columns.size()});

// Untrusted text quoted for a detail: at most 64 bytes, anything but printable ASCII as \xNN.
std::string quoted(std::string_view s) {
  constexpr std::size_t shown = 64;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < shown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (s.size() > shown) out += "...";
  out += '"';
  return out;
}

std::string_view type_name(column_type t) noexcept {
  switch (t) {
    case column_type::int64:
      return "int64";
    case column_type::utf8:
      return "utf8";
    case column_type::decimal_18_8:
      return "decimal128(18, 8)";
    case column_type::timestamp_ms:
      return "timestamp[ms, tz=UTC]";
    case column_type::timestamp_ns:
      return "timestamp[ns, tz=UTC]";
    case column_type::boolean:
      return "bool";
  }
  return "?";
}

// The Type union's members by tag, for details about types tick streams do not use.
std::string arrow_type_name(std::uint8_t tag) {
  constexpr std::array<std::string_view, 27> names{"NONE",          "Null",      "Int",           "FloatingPoint",
                                                   "Binary",        "Utf8",      "Bool",          "Decimal",
                                                   "Date",          "Time",      "Timestamp",     "Interval",
                                                   "List",          "Struct",    "Union",         "FixedSizeBinary",
                                                   "FixedSizeList", "Map",       "Duration",      "LargeBinary",
                                                   "LargeUtf8",     "LargeList", "RunEndEncoded", "BinaryView",
                                                   "Utf8View",      "ListView",  "LargeListView"};
  if (tag < names.size()) return std::string(names[tag]);
  return "type tag " + std::to_string(tag);
}

// The MessageHeader union's members by tag.
std::string header_name(std::uint8_t tag) {
  constexpr std::array<std::string_view, 6> names{"NONE",        "Schema", "DictionaryBatch",
                                                  "RecordBatch", "Tensor", "SparseTensor"};
  if (tag < names.size()) return std::string(names[tag]);
  return "header type " + std::to_string(tag);
}

template <class T>
T load(const std::byte* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

bool bit(std::span<const std::byte> bits, std::size_t i) noexcept {
  return (std::to_integer<unsigned>(bits[i / 8]) >> (i % 8)) & 1u;
}

// The zero bits among the first `n` bits of `bits` (which holds at least n bits).
std::size_t zero_bits(std::span<const std::byte> bits, std::size_t n) noexcept {
  std::size_t ones = 0;
  for (std::size_t i = 0; i < n / 8; ++i)
    ones += static_cast<std::size_t>(std::popcount(std::to_integer<unsigned>(bits[i])));
  if (n % 8 != 0) {
    const unsigned mask = (1u << (n % 8)) - 1;
    ones += static_cast<std::size_t>(std::popcount(std::to_integer<unsigned>(bits[n / 8]) & mask));
  }
  return n - ones;
}

// A verified view of one message's metadata. Every accessor verifies what it reads first and
// returns false when the flatbuffer does not hold it; a table is only ever reached through an
// offset that the verifier checked.
class metadata {
 public:
  metadata(const std::uint8_t* buf, std::size_t size) : buf_(buf), v_(buf, size) {}

  // The table an offset at `at` (a position in the buffer) points to, its vtable verified.
  const fb::Table* table_at(std::size_t at) {
    const fb::uoffset_t o = v_.VerifyOffset(at);
    if (o == 0) return nullptr;
    const auto* t = reinterpret_cast<const fb::Table*>(buf_ + at + o);
    if (!t->VerifyTableStart(v_)) return nullptr;
    v_.EndTable();  // the depth limit guards recursion, and this reader's walk is flat
    return t;
  }

  const fb::Table* root() { return table_at(0); }

  template <class T>
  bool scalar(const fb::Table* t, int field, T fallback, T& out) const {
    if (!t->VerifyField<T>(v_, slot(field), sizeof(T))) return false;
    out = t->GetField<T>(slot(field), fallback);
    return true;
  }

  bool present(const fb::Table* t, int field) const { return t->GetOptionalFieldOffset(slot(field)) != 0; }

  // An optional table field: nullptr in `out` when absent.
  bool table(const fb::Table* t, int field, const fb::Table*& out) {
    out = nullptr;
    const fb::voffset_t at = t->GetOptionalFieldOffset(slot(field));
    if (at == 0) return true;
    out = table_at(position(t) + at);
    return out != nullptr;
  }

  bool string(const fb::Table* t, int field, const fb::String*& out) const {
    out = nullptr;
    if (!t->VerifyOffset(v_, slot(field))) return false;
    out = t->GetPointer<const fb::String*>(slot(field));
    return v_.VerifyString(out);
  }

  template <class V>
  bool vector(const fb::Table* t, int field, const V*& out) const {
    out = nullptr;
    if (!t->VerifyOffset(v_, slot(field))) return false;
    out = t->GetPointer<const V*>(slot(field));
    return v_.VerifyVector(out);
  }

  // Element i of a verified vector of tables.
  const fb::Table* element(const table_vector* v, fb::uoffset_t i) {
    return table_at(position(v->Data()) + std::size_t{i} * sizeof(fb::uoffset_t));
  }

  // Element i of a verified vector of Buffer or FieldNode structs, copied out.
  static two_longs element(const struct_vector* v, fb::uoffset_t i) noexcept {
    two_longs s;
    std::memcpy(&s, v->Data() + std::size_t{i} * sizeof(two_longs), sizeof s);
    return s;
  }

  // A verified vector of KeyValue tables (absent: none), each with its key and value, appended
  // to `out` when it is not null.
  bool key_values(const fb::Table* t, int field, std::vector<std::pair<std::string, std::string>>* out) {
    const table_vector* kvs = nullptr;
    if (!vector(t, field, kvs)) return false;
    if (kvs == nullptr) return true;
    for (fb::uoffset_t i = 0; i < kvs->size(); ++i) {
      const fb::Table* kv = element(kvs, i);
      const fb::String* key = nullptr;
      const fb::String* value = nullptr;
      if (kv == nullptr || !string(kv, key_value_field::key, key) || !string(kv, key_value_field::value, value) ||
          key == nullptr || value == nullptr)
        return false;
      if (out != nullptr) out->emplace_back(key->string_view(), value->string_view());
    }
    return true;
  }

 private:
  std::size_t position(const void* p) const noexcept {
    return static_cast<std::size_t>(static_cast<const std::uint8_t*>(p) - buf_);
  }

  const std::uint8_t* buf_;
  fb::Verifier v_;
};

// A schema field as read: its type is one of column_type, or `type` is none and `type_text`
// says what it is instead.
struct field_seen {
  std::string_view name;
  bool nullable = false;
  polarway::option<column_type> type;
  std::string type_text;
};

// The first difference between the fields and a kind's columns: the number of leading columns
// that agree, and what differs after them (empty when nothing does).
struct schema_difference {
  std::size_t agreeing = 0;
  std::string what;
};

schema_difference compare(std::span<const field_seen> fields, std::span<const column_spec> columns) {
  schema_difference d;
  for (; d.agreeing < fields.size() && d.agreeing < columns.size(); ++d.agreeing) {
    const field_seen& f = fields[d.agreeing];
    const column_spec& c = columns[d.agreeing];
    const std::string at = "column " + std::to_string(d.agreeing) + " ";
    if (f.name != c.name) {
      d.what = at + quoted(f.name) + ", expected " + quoted(c.name);
    } else if (f.type != c.type) {
      d.what = at + quoted(f.name) + " is " + (f.type ? std::string(type_name(*f.type)) : f.type_text) + ", expected " +
               std::string(type_name(c.type));
    } else if (f.nullable != c.nullable) {
      d.what = at + quoted(f.name) +
               (f.nullable ? " is nullable, expected non-nullable" : " is non-nullable, expected nullable");
    }
    if (!d.what.empty()) return d;
  }
  if (fields.size() != columns.size())
    d.what = std::to_string(fields.size()) + " columns, expected " + std::to_string(columns.size());
  return d;
}

// A record batch column's buffers, bounds-checked against the body and the rows.
struct column_view {
  std::span<const std::byte> validity;  // empty: no nulls
  std::span<const std::byte> offsets;   // utf8: rows + 1 int32 (or nothing, with no rows)
  std::span<const std::byte> values;

  bool is_null(std::size_t row) const noexcept { return !validity.empty() && !bit(validity, row); }
  std::int64_t i64(std::size_t row) const noexcept { return load<std::int64_t>(values.data() + row * 8); }
  bool boolean(std::size_t row) const noexcept { return bit(values, row); }
  std::string_view text(std::size_t row) const noexcept {
    const auto begin = static_cast<std::size_t>(load<std::int32_t>(offsets.data() + row * 4));
    const auto end = static_cast<std::size_t>(load<std::int32_t>(offsets.data() + row * 4 + 4));
    return {reinterpret_cast<const char*>(values.data()) + begin, end - begin};
  }
};

class stream_reader {
 public:
  explicit stream_reader(std::span<const std::byte> bytes) noexcept : bytes_(bytes) {}

  polarway::result<tick_rows, read_error> run();

 private:
  // The failure of the current message.
  polarway::err_value<read_error> fail(read_errc code, const std::string& what) const {
    return polarway::err(
        read_error{code, "message " + std::to_string(index_) + " at byte " + std::to_string(at_) + ": " + what});
  }
  polarway::result<void, read_error> read_schema(metadata& m, const fb::Table* schema);
  polarway::result<field_seen, read_error> read_field(metadata& m, const fb::Table* field, std::size_t i);
  polarway::result<void, read_error> read_batch(metadata& m, const fb::Table* batch, std::span<const std::byte> body);
  polarway::result<void, read_error> append_rows(std::span<const column_view> columns, std::size_t rows);
  polarway::result<void, read_error> inflate(std::span<std::span<const std::byte>> buffers, std::size_t rows);

  std::span<const std::byte> bytes_;
  std::size_t at_ = 0;     // where the current message starts
  std::size_t index_ = 0;  // the current message's number, from 0
  std::vector<std::uint64_t> scratch_;
  std::vector<std::byte> inflated_;  // a compressed batch's buffers, decompressed
  std::span<const column_spec> columns_;
  tick_rows out_;
};

polarway::result<tick_rows, read_error> stream_reader::run() {
  for (;; ++index_) {
    const std::size_t left = bytes_.size() - at_;
    if (left == 0) {
      if (index_ == 0) return fail(read_errc::truncated, "no bytes");
      return fail(read_errc::missing_end_of_stream, "the stream ends without the end-of-stream marker");
    }
    if (left >= 4) {
      const auto marker = load<std::uint32_t>(bytes_.data() + at_);
      if (marker != continuation_marker)
        return fail(read_errc::bad_framing,
                    "continuation marker " + std::to_string(marker) + ", expected 0xFFFFFFFF (4294967295)");
    }
    if (left < 8) return fail(read_errc::truncated, std::to_string(left) + " bytes, a message prefix needs 8");
    const auto meta_length = load<std::int32_t>(bytes_.data() + at_ + 4);
    if (meta_length == 0) {
      if (index_ == 0) return fail(read_errc::unexpected_message, "end-of-stream before the schema");
      const std::size_t end = at_ + 8;
      if (end != bytes_.size())
        return fail(read_errc::trailing_bytes,
                    std::to_string(bytes_.size() - end) + " bytes after the end-of-stream marker");
      return polarway::ok(std::move(out_));
    }
    if (meta_length < 0 || meta_length % 8 != 0)
      return fail(read_errc::bad_framing,
                  "metadata length " + std::to_string(meta_length) + " is not a positive multiple of 8");
    const auto meta_size = static_cast<std::size_t>(meta_length);
    if (meta_size > left - 8)
      return fail(read_errc::truncated,
                  "metadata of " + std::to_string(meta_size) + " bytes, " + std::to_string(left - 8) + " left");
    const std::size_t body_at = at_ + 8 + meta_size;

    scratch_.assign(meta_size / 8, 0);
    std::memcpy(scratch_.data(), bytes_.data() + at_ + 8, meta_size);
    metadata m(reinterpret_cast<const std::uint8_t*>(scratch_.data()), meta_size);
    const auto bad = [this](std::string_view what) {
      return fail(read_errc::bad_metadata, "the Message flatbuffer does not verify: " + std::string(what));
    };
    const fb::Table* message = m.root();
    if (message == nullptr) return bad("root table");
    std::int16_t version = 0;
    std::uint8_t header_type = 0;
    std::int64_t body_length = 0;
    const fb::Table* header = nullptr;
    if (!m.scalar(message, message_field::version, std::int16_t{0}, version)) return bad("version");
    if (!m.scalar(message, message_field::header_type, std::uint8_t{0}, header_type)) return bad("header_type");
    if (!m.table(message, message_field::header, header)) return bad("header");
    if (!m.scalar(message, message_field::body_length, std::int64_t{0}, body_length)) return bad("bodyLength");
    if (!m.key_values(message, message_field::custom_metadata, nullptr)) return bad("custom_metadata");
    if (version != metadata_v5)
      return fail(read_errc::bad_metadata, "metadata version " + std::to_string(version) + ", expected V5 (4)");
    if (header == nullptr) return fail(read_errc::bad_metadata, "a Message without a header");
    if (body_length < 0 || body_length % 8 != 0)
      return fail(read_errc::bad_framing, "body length " + std::to_string(body_length) + " is not a multiple of 8");
    if (static_cast<std::uint64_t>(body_length) > bytes_.size() - body_at)
      return fail(read_errc::truncated, "body of " + std::to_string(body_length) + " bytes, " +
                                            std::to_string(bytes_.size() - body_at) + " left");
    const auto body = bytes_.subspan(body_at, static_cast<std::size_t>(body_length));

    if (header_type == header_dictionary_batch)
      return fail(read_errc::unsupported, "a dictionary batch (tick streams have no dictionary-encoded columns)");
    if (index_ == 0) {
      if (header_type != header_schema)
        return fail(read_errc::unexpected_message, "a " + header_name(header_type) + " before the schema");
      if (!body.empty()) return fail(read_errc::bad_metadata, "a schema message with a body");
      if (auto r = read_schema(m, header); !r) return polarway::err(std::move(r).error());
    } else {
      if (header_type == header_schema) return fail(read_errc::unexpected_message, "a second schema");
      if (header_type != header_record_batch)
        return fail(read_errc::unexpected_message, "a " + header_name(header_type) + ", expected a RecordBatch");
      if (auto r = read_batch(m, header, body); !r) return polarway::err(std::move(r).error());
    }
    at_ = body_at + body.size();
  }
}

polarway::result<field_seen, read_error> stream_reader::read_field(metadata& m, const fb::Table* field, std::size_t i) {
  const auto bad = [&](std::string_view what) {
    return fail(read_errc::bad_metadata,
                "the Schema's field " + std::to_string(i) + " does not verify: " + std::string(what));
  };
  field_seen f;
  const fb::String* name = nullptr;
  std::uint8_t nullable = 0;
  std::uint8_t tag = 0;
  const fb::Table* type = nullptr;
  const fb::Table* dictionary = nullptr;
  const table_vector* children = nullptr;
  if (!m.string(field, field_field::name, name)) return bad("name");
  if (!m.scalar(field, field_field::nullable, std::uint8_t{0}, nullable)) return bad("nullable");
  if (!m.scalar(field, field_field::type_type, std::uint8_t{0}, tag)) return bad("type_type");
  if (!m.table(field, field_field::type, type)) return bad("type");
  if (!m.table(field, field_field::dictionary, dictionary)) return bad("dictionary");
  if (!m.vector(field, field_field::children, children)) return bad("children");
  if (!m.key_values(field, field_field::custom_metadata, nullptr)) return bad("custom_metadata");
  if (name != nullptr) f.name = name->string_view();
  f.nullable = nullable != 0;
  const std::string which = "column " + std::to_string(i) + " " + quoted(f.name);
  if (dictionary != nullptr) return fail(read_errc::unsupported, which + " is dictionary-encoded");
  if (children != nullptr && children->size() != 0) return fail(read_errc::not_our_schema, which + " has child fields");
  if (type == nullptr) {
    f.type_text = arrow_type_name(tag) + " without its type table";
    return polarway::ok(std::move(f));
  }
  switch (tag) {
    case type_int: {
      std::int32_t width = 0;
      std::uint8_t is_signed = 0;
      if (!m.scalar(type, int_field::bit_width, std::int32_t{0}, width)) return bad("Int.bitWidth");
      if (!m.scalar(type, int_field::is_signed, std::uint8_t{0}, is_signed)) return bad("Int.is_signed");
      if (width == 64 && is_signed != 0)
        f.type = column_type::int64;
      else
        f.type_text = (is_signed != 0 ? "int" : "uint") + std::to_string(width);
      break;
    }
    case type_utf8:
      f.type = column_type::utf8;
      break;
    case type_bool:
      f.type = column_type::boolean;
      break;
    case type_decimal: {
      std::int32_t precision = 0;
      std::int32_t scale = 0;
      std::int32_t width = 0;
      if (!m.scalar(type, decimal_field::precision, std::int32_t{0}, precision)) return bad("Decimal.precision");
      if (!m.scalar(type, decimal_field::scale, std::int32_t{0}, scale)) return bad("Decimal.scale");
      if (!m.scalar(type, decimal_field::bit_width, decimal_bit_width, width)) return bad("Decimal.bitWidth");
      if (precision == decimal_precision && scale == decimal_scale && width == decimal_bit_width)
        f.type = column_type::decimal_18_8;
      else
        f.type_text =
            "decimal" + std::to_string(width) + "(" + std::to_string(precision) + ", " + std::to_string(scale) + ")";
      break;
    }
    case type_timestamp: {
      std::int16_t unit = 0;
      const fb::String* tz = nullptr;
      if (!m.scalar(type, timestamp_field::unit, std::int16_t{0}, unit)) return bad("Timestamp.unit");
      if (!m.string(type, timestamp_field::timezone, tz)) return bad("Timestamp.timezone");
      const std::string_view zone = tz != nullptr ? tz->string_view() : std::string_view();
      if (zone == utc && unit == unit_millisecond)
        f.type = column_type::timestamp_ms;
      else if (zone == utc && unit == unit_nanosecond)
        f.type = column_type::timestamp_ns;
      else
        f.type_text =
            "timestamp[unit " + std::to_string(unit) + ", tz=" + (tz != nullptr ? quoted(zone) : "none") + "]";
      break;
    }
    default:
      f.type_text = arrow_type_name(tag);
      break;
  }
  return polarway::ok(std::move(f));
}

polarway::result<void, read_error> stream_reader::read_schema(metadata& m, const fb::Table* schema) {
  const auto bad = [this](std::string_view what) {
    return fail(read_errc::bad_metadata, "the Schema does not verify: " + std::string(what));
  };
  std::int16_t endianness = 0;
  const table_vector* fields = nullptr;
  const fb::Vector<std::int64_t>* features = nullptr;
  if (!m.scalar(schema, schema_field::endianness, std::int16_t{0}, endianness)) return bad("endianness");
  if (!m.vector(schema, schema_field::fields, fields)) return bad("fields");
  if (!m.key_values(schema, schema_field::custom_metadata, &out_.schema_metadata)) return bad("custom_metadata");
  if (!m.vector(schema, schema_field::features, features)) return bad("features");
  if (endianness != 0) return fail(read_errc::unsupported, "a big-endian schema");
  if (features != nullptr && features->size() != 0) return fail(read_errc::unsupported, "a schema declaring features");

  polarway::option<message_kind> announced;
  for (const auto& [key, value] : out_.schema_metadata) {
    if (key != "polarway.kind") continue;
    const auto k = parse_message_kind(value);
    if (!k) return fail(read_errc::not_our_schema, "polarway.kind " + quoted(value) + " is not a tick kind");
    if (announced && *announced != *k) return fail(read_errc::not_our_schema, "two different polarway.kind entries");
    announced = k;
  }

  if (fields == nullptr || fields->size() == 0) {
    std::string what = "a schema without fields";
    for (const auto& [key, value] : out_.schema_metadata)
      if (key == "polarway.error") what += " (polarway.error " + quoted(value) + ")";
    return fail(read_errc::not_our_schema, what);
  }
  if (fields->size() > max_columns)
    return fail(read_errc::not_our_schema,
                std::to_string(fields->size()) + " columns, no tick kind has more than " + std::to_string(max_columns));
  std::vector<field_seen> seen;
  seen.reserve(fields->size());
  for (fb::uoffset_t i = 0; i < fields->size(); ++i) {
    const fb::Table* field = m.element(fields, i);
    if (field == nullptr) return bad("field " + std::to_string(i));
    auto f = read_field(m, field, i);
    if (!f) return polarway::err(std::move(f).error());
    seen.push_back(std::move(*f));
  }

  constexpr std::array kinds{message_kind::trade, message_kind::agg_trade, message_kind::book_ticker};
  if (announced) {
    const schema_difference d = compare(seen, tick_schema(*announced));
    if (!d.what.empty())
      return fail(read_errc::not_our_schema,
                  "not the " + std::string(to_string(*announced)) + " schema polarway.kind names: " + d.what);
    out_.kind = *announced;
  } else {
    polarway::option<message_kind> closest;
    schema_difference closest_difference;
    for (message_kind k : kinds) {
      schema_difference d = compare(seen, tick_schema(k));
      if (d.what.empty()) {
        closest = polarway::none;
        out_.kind = k;
        break;
      }
      if (!closest || d.agreeing > closest_difference.agreeing) {
        closest = k;
        closest_difference = std::move(d);
      }
    }
    if (closest)
      return fail(read_errc::not_our_schema, "no tick kind's schema; closest, " + std::string(to_string(*closest)) +
                                                 ": " + closest_difference.what);
  }
  columns_ = tick_schema(out_.kind);
  return polarway::ok();
}

polarway::result<void, read_error> stream_reader::read_batch(metadata& m, const fb::Table* batch,
                                                             std::span<const std::byte> body) {
  const auto bad = [this](std::string_view what) {
    return fail(read_errc::bad_metadata, "the RecordBatch does not verify: " + std::string(what));
  };
  std::int64_t length = 0;
  const struct_vector* nodes = nullptr;
  const struct_vector* buffers = nullptr;
  const fb::Vector<std::int64_t>* variadic = nullptr;
  if (!m.scalar(batch, record_batch_field::length, std::int64_t{0}, length)) return bad("length");
  if (!m.vector(batch, record_batch_field::nodes, nodes)) return bad("nodes");
  if (!m.vector(batch, record_batch_field::buffers, buffers)) return bad("buffers");
  if (!m.vector(batch, record_batch_field::variadic_buffer_counts, variadic)) return bad("variadicBufferCounts");
  const fb::Table* compression = nullptr;
  if (!m.table(batch, record_batch_field::compression, compression)) return bad("compression");
  if (compression != nullptr) {
    std::int8_t codec = codec_lz4_frame;
    std::int8_t method = method_buffer;
    if (!m.scalar(compression, body_compression_field::codec, codec_lz4_frame, codec)) return bad("compression codec");
    if (!m.scalar(compression, body_compression_field::method, method_buffer, method)) return bad("compression method");
    if (codec != codec_zstd)
      return fail(read_errc::unsupported, codec == codec_lz4_frame ? std::string("a body compressed with LZ4_FRAME")
                                                                   : "compression codec " + std::to_string(codec));
    if (method != method_buffer) return fail(read_errc::unsupported, "compression method " + std::to_string(method));
  }
  if (variadic != nullptr && variadic->size() != 0) return fail(read_errc::unsupported, "variadic buffer counts");

  // Every kind has int64 columns of 8 bytes a row: uncompressed, a length beyond body / 8 cannot
  // be laid out; compressed, no more than max_compressed_rows are read. Bounding it here keeps
  // every product below in range.
  const std::uint64_t most_rows = compression != nullptr ? max_compressed_rows : body.size() / 8;
  if (length < 0 || static_cast<std::uint64_t>(length) > most_rows)
    return fail(read_errc::bad_batch, "length " + std::to_string(length) + " in a " +
                                          (compression != nullptr ? "compressed " : "") + "body of " +
                                          std::to_string(body.size()) + " bytes");
  const auto rows = static_cast<std::size_t>(length);
  std::size_t buffer_count = 0;
  for (const column_spec& c : columns_) buffer_count += buffers_per_column(c.type);
  if (nodes == nullptr || nodes->size() != columns_.size())
    return fail(read_errc::bad_batch, std::to_string(nodes != nullptr ? nodes->size() : 0) + " field nodes for " +
                                          std::to_string(columns_.size()) + " columns");
  if (buffers == nullptr || buffers->size() != buffer_count)
    return fail(read_errc::bad_batch, std::to_string(buffers != nullptr ? buffers->size() : 0) + " buffers, expected " +
                                          std::to_string(buffer_count));

  // Every buffer's bytes in the body, column by column; decompressed when the body is.
  std::array<std::span<const std::byte>, max_columns * 3> all_spans;
  const std::span<std::span<const std::byte>> spans_in_body = std::span(all_spans).first(buffer_count);
  {
    fb::uoffset_t next = 0;
    for (const column_spec& spec : columns_) {
      for (std::size_t b = 0; b < buffers_per_column(spec.type); ++b, ++next) {
        const two_longs buf = metadata::element(buffers, next);
        const std::int64_t offset = buf.first;
        const std::int64_t size = buf.second;
        const std::string which = "column " + std::string(spec.name) + ": buffer " + std::to_string(b);
        if (offset < 0 || size < 0 || static_cast<std::uint64_t>(offset) > body.size() ||
            static_cast<std::uint64_t>(size) > body.size() - static_cast<std::uint64_t>(offset))
          return fail(read_errc::bad_batch, which + " (offset " + std::to_string(offset) + ", length " +
                                                std::to_string(size) + ") is not inside the body of " +
                                                std::to_string(body.size()) + " bytes");
        if (offset % static_cast<std::int64_t>(alignment) != 0)
          return fail(read_errc::bad_batch,
                      which + " at offset " + std::to_string(offset) + " is not 8-byte aligned");
        spans_in_body[next] = body.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(size));
      }
    }
  }
  if (compression != nullptr) {
    if (auto inflated = inflate(spans_in_body, rows); !inflated) return inflated;
  }

  std::array<column_view, max_columns> views;
  fb::uoffset_t next_buffer = 0;
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    const column_spec& spec = columns_[c];
    const std::string which = "column " + std::string(spec.name) + ": ";
    const auto broken = [&](const std::string& what) { return fail(read_errc::bad_batch, which + what); };
    const two_longs node = metadata::element(nodes, static_cast<fb::uoffset_t>(c));
    if (node.first != length)
      return broken("field node length " + std::to_string(node.first) + ", batch length " + std::to_string(length));
    if (node.second < 0 || node.second > length) return broken("null count " + std::to_string(node.second));
    const auto null_count = static_cast<std::size_t>(node.second);

    std::array<std::span<const std::byte>, 3> spans;
    for (std::size_t b = 0; b < buffers_per_column(spec.type); ++b) spans[b] = spans_in_body[next_buffer++];
    column_view& v = views[c];
    v.validity = spans[0];
    v.values = spans[buffers_per_column(spec.type) - 1];
    if (spec.type == column_type::utf8) v.offsets = spans[1];

    const std::size_t bitmap_bytes = (rows + 7) / 8;
    if (!v.validity.empty()) {
      if (v.validity.size() < bitmap_bytes)
        return broken("validity bitmap of " + std::to_string(v.validity.size()) + " bytes for " + std::to_string(rows) +
                      " rows");
      const std::size_t nulls = zero_bits(v.validity, rows);
      if (nulls != null_count)
        return broken("null count " + std::to_string(null_count) + ", validity bitmap has " + std::to_string(nulls));
    } else if (null_count != 0) {
      return broken("null count " + std::to_string(null_count) + " without a validity bitmap");
    }
    if (null_count != 0 && !spec.nullable) {
      std::size_t row = 0;
      while (!v.is_null(row)) ++row;
      return fail(read_errc::bad_value, "column " + std::string(spec.name) + " row " + std::to_string(row) +
                                            ": null in a non-nullable column");
    }

    if (spec.type != column_type::utf8) {
      // The rows the values buffer holds: bits for booleans, 16 bytes a decimal, 8 otherwise.
      const std::size_t have = spec.type == column_type::boolean        ? v.values.size() * 8
                               : spec.type == column_type::decimal_18_8 ? v.values.size() / 16
                                                                        : v.values.size() / 8;
      if (have < rows)
        return broken("values buffer of " + std::to_string(v.values.size()) + " bytes for " + std::to_string(rows) +
                      " rows");
    } else if (!(rows == 0 && v.offsets.empty())) {
      if (v.offsets.size() / 4 <= rows)
        return broken("offsets buffer of " + std::to_string(v.offsets.size()) + " bytes for " + std::to_string(rows) +
                      " rows");
      std::int32_t previous = load<std::int32_t>(v.offsets.data());
      if (previous != 0) return broken("offsets start at " + std::to_string(previous) + ", not 0");
      for (std::size_t r = 1; r <= rows; ++r) {
        const auto o = load<std::int32_t>(v.offsets.data() + r * 4);
        if (o < previous)
          return broken("offset " + std::to_string(r) + " (" + std::to_string(o) + ") is below the one before it (" +
                        std::to_string(previous) + ")");
        previous = o;
      }
      if (static_cast<std::size_t>(previous) > v.values.size())
        return broken("offsets end at " + std::to_string(previous) + ", past the data's " +
                      std::to_string(v.values.size()) + " bytes");
    }
  }
  return append_rows(std::span(views).first(columns_.size()), rows);
}

// The most bytes a buffer of `rows` rows may decompress to: what the rows need (for utf8 data,
// the longest symbol in every row), and 64 bytes of slack for writers that pad their buffers.
std::size_t inflated_cap(column_type type, std::size_t buffer, std::size_t rows) noexcept {
  constexpr std::size_t slack = 64;
  if (buffer == 0) return (rows + 7) / 8 + slack;  // validity
  if (type == column_type::utf8) return buffer == 1 ? (rows + 1) * 4 + slack : rows * symbol::max_size + slack;
  if (type == column_type::boolean) return (rows + 7) / 8 + slack;
  return rows * (type == column_type::decimal_18_8 ? 16 : 8) + slack;
}

// Replaces each compressed buffer of a batch (its uncompressed length, int64, then a zstd frame,
// or -1 then the bytes as they are) with its bytes, decompressed into inflated_. A length is
// checked against what `rows` rows can need before anything is allocated for it.
polarway::result<void, read_error> stream_reader::inflate(std::span<std::span<const std::byte>> buffers,
                                                          std::size_t rows) {
  struct zstd_dctx_free {
    void operator()(ZSTD_DCtx* c) const noexcept { ZSTD_freeDCtx(c); }
  };
  thread_local std::unique_ptr<ZSTD_DCtx, zstd_dctx_free> dctx(ZSTD_createDCtx());
  if (dctx == nullptr) return fail(read_errc::unsupported, "no memory for a zstd decompression context");
  std::array<std::int64_t, max_columns * 3> lengths{};
  std::size_t total = 0;
  std::size_t i = 0;
  for (const column_spec& spec : columns_) {
    for (std::size_t b = 0; b < buffers_per_column(spec.type); ++b, ++i) {
      const std::span<const std::byte> in = buffers[i];
      const std::string which = "column " + std::string(spec.name) + ": compressed buffer " + std::to_string(b);
      if (in.empty()) continue;  // an empty buffer is not compressed
      if (in.size() < 8)
        return fail(read_errc::bad_batch, which + " of " + std::to_string(in.size()) +
                                              " bytes, too short for its uncompressed length");
      lengths[i] = load<std::int64_t>(in.data());
      if (lengths[i] == uncompressed_marker) continue;
      const std::size_t cap = inflated_cap(spec.type, b, rows);
      if (lengths[i] < 0 || static_cast<std::uint64_t>(lengths[i]) > cap)
        return fail(read_errc::bad_batch, which + " claims " + std::to_string(lengths[i]) +
                                              " bytes uncompressed; " + std::to_string(rows) + " rows need at most " +
                                              std::to_string(cap));
      total += pad8(static_cast<std::size_t>(lengths[i]));
    }
  }
  inflated_.resize(total);
  std::size_t at = 0;
  i = 0;
  for (const column_spec& spec : columns_) {
    for (std::size_t b = 0; b < buffers_per_column(spec.type); ++b, ++i) {
      const std::span<const std::byte> in = buffers[i];
      if (in.empty()) continue;
      const std::span<const std::byte> frame = in.subspan(8);
      if (lengths[i] == uncompressed_marker) {
        buffers[i] = frame;
        continue;
      }
      const auto want = static_cast<std::size_t>(lengths[i]);
      const std::size_t got =
          ZSTD_decompressDCtx(dctx.get(), inflated_.data() + at, want, frame.data(), frame.size());
      if (ZSTD_isError(got) != 0 || got != want)
        return fail(read_errc::bad_batch,
                    "column " + std::string(spec.name) + ": compressed buffer " + std::to_string(b) +
                        (ZSTD_isError(got) != 0 ? std::string(" does not decompress: ") + ZSTD_getErrorName(got)
                                                : " decompresses to " + std::to_string(got) + " bytes, not the " +
                                                      std::to_string(want) + " its length says"));
      buffers[i] = std::span<const std::byte>(inflated_.data() + at, want);
      at += pad8(want);
    }
  }
  return polarway::ok();
}

// Reads one row's fields; the first bad value is kept and the row is then discarded.
class row_reader {
 public:
  row_reader(std::span<const column_view> columns, std::span<const column_spec> specs) noexcept
      : columns_(columns), specs_(specs) {}

  void seek(std::size_t row) noexcept { row_ = row; }
  const polarway::option<std::string>& problem() const noexcept { return problem_; }

  std::int64_t i64(std::size_t c) const noexcept { return columns_[c].i64(row_); }
  bool boolean(std::size_t c) const noexcept { return columns_[c].boolean(row_); }
  polarway::option<std::int64_t> optional_i64(std::size_t c) const noexcept {
    if (columns_[c].is_null(row_)) return polarway::none;
    return columns_[c].i64(row_);
  }

  ticks::symbol symbol(std::size_t c) {
    const std::string_view text = columns_[c].text(row_);
    auto s = symbol::parse(text);
    if (!s) {
      // Not symbol.cpp's to_string(): tick_arrow does without tick_codec.
      report(c, quoted(text) + " is not a symbol (1 to 20 uppercase letters and digits)");
      return {};
    }
    return *s;
  }

  // decimal128(18, 8) -> ticks::price: the writer stores price::raw (units of 10^-8, the column's
  // scale) as the low 64 bits and their sign extension as the high ones.
  price decimal(std::size_t c) {
    const std::byte* p = columns_[c].values.data() + row_ * 16;
    const auto low = load<std::int64_t>(p);
    const auto high = load<std::int64_t>(p + 8);
    if (high != (low < 0 ? -1 : 0)) {
      report(c, "a decimal128 beyond 18 digits");
      return {};
    }
    if (low > max_decimal_raw || low < -max_decimal_raw) {
      report(c, price::from_raw(low).to_string() + " is beyond decimal128(18, 8)'s 18 digits");
      return {};
    }
    return price::from_raw(low);
  }

 private:
  void report(std::size_t c, std::string what) {
    if (!problem_)
      problem_ = "column " + std::string(specs_[c].name) + " row " + std::to_string(row_) + ": " + std::move(what);
  }

  std::span<const column_view> columns_;
  std::span<const column_spec> specs_;
  std::size_t row_ = 0;
  polarway::option<std::string> problem_;
};

// Row r's tick of `kind`, its columns at their places in the kind's schema.
tick read_tick(row_reader& r, message_kind kind) {
  switch (kind) {
    case message_kind::trade: {
      constexpr const auto& k = trade_columns;
      return trade{
          .symbol = r.symbol(column_index(k, "symbol")),
          .event_time_ms = r.i64(column_index(k, "event_time")),
          .trade_id = r.i64(column_index(k, "trade_id")),
          .price = r.decimal(column_index(k, "price")),
          .quantity = r.decimal(column_index(k, "quantity")),
          .trade_time_ms = r.i64(column_index(k, "trade_time")),
          .buyer_is_maker = r.boolean(column_index(k, "is_buyer_maker")),
          .sent_ns = r.optional_i64(column_index(k, "sent_time")),
      };
    }
    case message_kind::agg_trade: {
      constexpr const auto& k = agg_trade_columns;
      return agg_trade{
          .symbol = r.symbol(column_index(k, "symbol")),
          .event_time_ms = r.i64(column_index(k, "event_time")),
          .agg_trade_id = r.i64(column_index(k, "agg_trade_id")),
          .price = r.decimal(column_index(k, "price")),
          .quantity = r.decimal(column_index(k, "quantity")),
          .first_trade_id = r.i64(column_index(k, "first_trade_id")),
          .last_trade_id = r.i64(column_index(k, "last_trade_id")),
          .trade_time_ms = r.i64(column_index(k, "trade_time")),
          .buyer_is_maker = r.boolean(column_index(k, "is_buyer_maker")),
          .sent_ns = r.optional_i64(column_index(k, "sent_time")),
      };
    }
    case message_kind::book_ticker: {
      constexpr const auto& k = book_ticker_columns;
      return book_ticker{
          .symbol = r.symbol(column_index(k, "symbol")),
          .update_id = r.i64(column_index(k, "update_id")),
          .bid_price = r.decimal(column_index(k, "bid_price")),
          .bid_quantity = r.decimal(column_index(k, "bid_qty")),
          .ask_price = r.decimal(column_index(k, "ask_price")),
          .ask_quantity = r.decimal(column_index(k, "ask_qty")),
          // Present even where the writer stamped recv_time's millisecond (the header says why).
          .event_time_ms = r.i64(column_index(k, "event_time")),
          .sent_ns = r.optional_i64(column_index(k, "sent_time")),
      };
    }
  }
  return {};
}

// recv_time, which no tick holds, is every schema's last column.
static_assert(column_index(trade_columns, "recv_time") == trade_columns.size() - 1 &&
              column_index(agg_trade_columns, "recv_time") == agg_trade_columns.size() - 1 &&
              column_index(book_ticker_columns, "recv_time") == book_ticker_columns.size() - 1);

polarway::result<void, read_error> stream_reader::append_rows(std::span<const column_view> columns, std::size_t rows) {
  row_reader r(columns, columns_);
  const std::size_t recv_time = columns_.size() - 1;
  // A detail names the message and the row within it, counted from 0 in each batch.
  out_.ticks.reserve(out_.ticks.size() + rows);
  out_.recv_ns.reserve(out_.recv_ns.size() + rows);
  for (std::size_t row = 0; row < rows; ++row) {
    r.seek(row);
    out_.ticks.push_back(read_tick(r, out_.kind));
    out_.recv_ns.push_back(r.i64(recv_time));
    if (r.problem()) return fail(read_errc::bad_value, *r.problem());
  }
  return polarway::ok();
}

}  // namespace

polarway::result<tick_rows, read_error> read_tick_stream(std::span<const std::byte> bytes) {
  return stream_reader(bytes).run();
}

}  // namespace ticks::arrow_ipc
