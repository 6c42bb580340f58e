// ticks::arrow_ipc::format: the numbers of the Arrow IPC format that the encoder (arrow_ipc.cpp)
// and the reader (arrow_ipc_reader.cpp) share, so that the two cannot disagree on a vtable slot,
// a union tag or the body's layout. Internal to tick_arrow.
//
// The flatbuffer tables are those of the format's Message.fbs and Schema.fbs, read and written
// without generated code: a table's field is addressed by its vtable slot, 4 + 2 * (its index in
// the table's declaration), a union by its type field (the slot just before its value). The
// *_field constants below are those indices, as the .fbs files declare them.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ticks/arrow_ipc.hpp"

namespace ticks::arrow_ipc::format {

constexpr flatbuffers::voffset_t slot(int field_index) noexcept {
  return static_cast<flatbuffers::voffset_t>(4 + 2 * field_index);
}

/// Every encapsulated message starts with it; followed by a zero length it ends the stream.
inline constexpr std::uint32_t continuation_marker = 0xFFFFFFFFu;
/// Metadata and body sizes, and every buffer's offset in a body, are multiples of this.
inline constexpr std::size_t alignment = 8;
constexpr std::size_t pad8(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }

// MetadataVersion.V5.
inline constexpr std::int16_t metadata_v5 = 4;

// The MessageHeader union's tags.
inline constexpr std::uint8_t header_schema = 1;
inline constexpr std::uint8_t header_dictionary_batch = 2;
inline constexpr std::uint8_t header_record_batch = 3;

// The Type union's tags that tick streams use.
inline constexpr std::uint8_t type_int = 2;
inline constexpr std::uint8_t type_utf8 = 5;
inline constexpr std::uint8_t type_bool = 6;
inline constexpr std::uint8_t type_decimal = 7;
inline constexpr std::uint8_t type_timestamp = 10;

// TimeUnit values.
inline constexpr std::int16_t unit_millisecond = 1;
inline constexpr std::int16_t unit_nanosecond = 3;

// The timestamps' time zone, and decimal128(18, 8).
inline constexpr std::string_view utc = "UTC";
inline constexpr std::int32_t decimal_precision = 18;
inline constexpr std::int32_t decimal_scale = 8;
inline constexpr std::int32_t decimal_bit_width = 128;

// Field indices of the tables, in declaration order.
namespace message_field {
inline constexpr int version = 0, header_type = 1, header = 2, body_length = 3, custom_metadata = 4;
}
namespace schema_field {
inline constexpr int endianness = 0, fields = 1, custom_metadata = 2, features = 3;
}
namespace field_field {
inline constexpr int name = 0, nullable = 1, type_type = 2, type = 3, dictionary = 4, children = 5, custom_metadata = 6;
}
namespace record_batch_field {
inline constexpr int length = 0, nodes = 1, buffers = 2, compression = 3, variadic_buffer_counts = 4;
}
namespace body_compression_field {
inline constexpr int codec = 0, method = 1;
}
/// BodyCompression's CompressionType (LZ4_FRAME is 0) and BodyCompressionMethod (BUFFER).
inline constexpr std::int8_t codec_lz4_frame = 0, codec_zstd = 1;
inline constexpr std::int8_t method_buffer = 0;
/// A compressed buffer's leading length when the bytes after it are not compressed.
inline constexpr std::int64_t uncompressed_marker = -1;
/// The Zstandard level the writer uses: the fastest of the standard levels.
inline constexpr int zstd_level = 1;
namespace key_value_field {
inline constexpr int key = 0, value = 1;
}
namespace int_field {
inline constexpr int bit_width = 0, is_signed = 1;
}
namespace decimal_field {
inline constexpr int precision = 0, scale = 1, bit_width = 2;
}
namespace timestamp_field {
inline constexpr int unit = 0, timezone = 1;
}

/// The Buffer and FieldNode structs of the format: two little-endian int64 each (Buffer: offset,
/// length; FieldNode: length, null_count).
struct alignas(8) two_longs {
  std::int64_t first;
  std::int64_t second;
};
static_assert(sizeof(two_longs) == 16);

/// The columns of each kind's schema (tick_schema() returns them), in order.
inline constexpr std::array<column_spec, 9> trade_columns{{
    {"event_time", column_type::timestamp_ms, false},
    {"symbol", column_type::utf8, false},
    {"trade_id", column_type::int64, false},
    {"price", column_type::decimal_18_8, false},
    {"quantity", column_type::decimal_18_8, false},
    {"trade_time", column_type::timestamp_ms, false},
    {"is_buyer_maker", column_type::boolean, false},
    {"sent_time", column_type::timestamp_ns, true},
    {"recv_time", column_type::timestamp_ns, false},
}};
inline constexpr std::array<column_spec, 11> agg_trade_columns{{
    {"event_time", column_type::timestamp_ms, false},
    {"symbol", column_type::utf8, false},
    {"agg_trade_id", column_type::int64, false},
    {"price", column_type::decimal_18_8, false},
    {"quantity", column_type::decimal_18_8, false},
    {"first_trade_id", column_type::int64, false},
    {"last_trade_id", column_type::int64, false},
    {"trade_time", column_type::timestamp_ms, false},
    {"is_buyer_maker", column_type::boolean, false},
    {"sent_time", column_type::timestamp_ns, true},
    {"recv_time", column_type::timestamp_ns, false},
}};
inline constexpr std::array<column_spec, 9> book_ticker_columns{{
    {"update_id", column_type::int64, false},
    {"symbol", column_type::utf8, false},
    {"bid_price", column_type::decimal_18_8, false},
    {"bid_qty", column_type::decimal_18_8, false},
    {"ask_price", column_type::decimal_18_8, false},
    {"ask_qty", column_type::decimal_18_8, false},
    {"event_time", column_type::timestamp_ms, false},
    {"sent_time", column_type::timestamp_ns, true},
    {"recv_time", column_type::timestamp_ns, false},
}};

// Never defined: reached only for a name that is not a column, where it stops compilation.
void no_such_column() noexcept;

/// The index of the column called `name` in `columns`, at compile time.
template <std::size_t N>
consteval std::size_t column_index(const std::array<column_spec, N>& columns, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i)
    if (columns[i].name == name) return i;
  no_such_column();
  return N;
}

/// A column's buffers in a record batch body, in this order: its validity bitmap (empty when
/// the column has no nulls), its int32 offsets (utf8 only), its values.
constexpr std::size_t buffers_per_column(column_type t) noexcept { return t == column_type::utf8 ? 3 : 2; }

}  // namespace ticks::arrow_ipc::format
