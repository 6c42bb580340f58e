// ticks::arrow_ipc: decoded ticks as an Arrow IPC stream (the streaming format of the Arrow
// columnar specification), so that pyarrow, Polars, DuckDB or Arrow JS read what the pipeline
// publishes with no code of ours. Sans-I/O: everything is appended to a byte vector.
//
// A stream is one schema message, then record batch messages, then the end-of-stream marker.
// Each message is encapsulated as the specification says: the continuation marker 0xFFFFFFFF,
// the metadata's length (int32, little-endian, padded so that the body starts 8-byte aligned),
// the Message flatbuffer (metadata version V5, built with flatbuffers' builder), then the body,
// every buffer of which starts at a multiple of 8 and is zero-padded to one.
//
// One schema per tick kind, with the Parquet files' columns and logical types (tick_schema()):
// exact decimal128(18, 8) prices and quantities, UTC timestamps in milliseconds, the symbol as
// utf8, the ids as int64; then two columns Parquet does not have: sent_time, the feed
// simulator's send time ("pw_ts", nanoseconds, null when the exchange sent none), and
// recv_time, when the pipeline took the tick (nanoseconds). A bookTicker without an exchange
// event time is stamped with recv_time's millisecond, as the Parquet sink stamps it with its
// clock. Every column but sent_time is non-nullable; a validity buffer is written only when a
// column has nulls, as the format allows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include <polarway/option.hpp>

#include "ticks/tick.hpp"

namespace ticks::arrow_ipc {

/// A key and value of Arrow custom metadata (schema or message level).
struct key_value {
  std::string_view key;
  std::string_view value;
};

/// The columns' physical and logical types.
enum class column_type : std::uint8_t {
  int64,
  utf8,
  decimal_18_8,     // decimal128(18, 8), little-endian two's complement
  timestamp_ms,     // timestamp[ms, tz=UTC]
  timestamp_ns,     // timestamp[ns, tz=UTC]
  boolean,
};

struct column_spec {
  std::string_view name;
  column_type type;
  bool nullable;
};

/// The columns of a kind's stream, in order.
std::span<const column_spec> tick_schema(message_kind kind) noexcept;

/// Appends a schema message for `kind` with `metadata` as the schema's custom metadata.
void append_schema(std::vector<std::byte>& out, message_kind kind, std::span<const key_value> metadata);
/// Appends a schema message without fields: a stream that carries only its metadata (a refusal).
void append_empty_schema(std::vector<std::byte>& out, std::span<const key_value> metadata);
/// Appends the end-of-stream marker.
void append_end_of_stream(std::vector<std::byte>& out);
/// Makes `stream` one stream with its own record batches, then those of `later`: both must be
/// whole streams of this writer (a schema message, record batches, the end-of-stream marker)
/// with byte-identical schema messages. False, with `stream` left as it was, otherwise.
bool append_batches_of(std::vector<std::byte>& stream, std::span<const std::byte> later);

/// The largest decimal a decimal128(18, 8) column holds, in units of 10^-8 (18 nines).
inline constexpr std::int64_t max_decimal_raw = 999'999'999'999'999'999;

/// How a record batch's body is written: as is, or each buffer compressed with Zstandard as the
/// format's BodyCompression (codec ZSTD, method BUFFER) lays it out: the buffer's uncompressed
/// length (int64, little-endian) then its zstd frame, or -1 then the bytes themselves when
/// compressing would not make the buffer smaller. pyarrow and Polars read either; Arrow JS
/// reads only the uncompressed one. Without memory for a zstd context the body is written
/// uncompressed, which is still a valid stream.
enum class body_compression : std::uint8_t { none, zstd };

/// Builds one kind's record batches: add() rows, append() the message, and the builder is empty
/// again with its buffers' capacity kept, so a steady stream allocates nothing.
class batch_builder {
 public:
  explicit batch_builder(message_kind kind, body_compression compression = body_compression::none);

  message_kind kind() const noexcept { return kind_; }
  std::size_t rows() const noexcept { return rows_; }

  /// Adds `t` (which must be of this builder's kind) as taken at `recv_ns`. False, adding
  /// nothing, when a price or quantity exceeds 18 digits: decimal128(18, 8) cannot hold it.
  bool add(const tick& t, std::int64_t recv_ns);

  /// Appends a record batch message of the rows added (possibly none) with `metadata` as the
  /// message's custom metadata, and empties the builder.
  void append(std::vector<std::byte>& out, std::span<const key_value> metadata = {});

 private:
  // A column's buffers, typed so that adding a value is a push_back.
  struct column {
    column_type type{};
    std::vector<std::int64_t> words;     // int64 and timestamps: one per row; decimals: two
    std::vector<char> text;              // utf8: the bytes
    std::vector<std::int32_t> offsets;   // utf8: rows + 1 offsets into text
    std::vector<std::uint8_t> bits;      // boolean: the values, one bit per row
    std::vector<std::uint8_t> validity;  // nullable columns: one bit per row, 1 = valid
    std::size_t null_count = 0;

    // The values buffer as the format lays it out.
    std::span<const std::byte> data() const noexcept;
  };
  void push_i64(std::size_t c, std::int64_t v);
  void push_decimal(std::size_t c, std::int64_t raw);
  void push_text(std::size_t c, std::string_view s);
  void push_bool(std::size_t c, bool v);
  void push_optional_i64(std::size_t c, const polarway::option<std::int64_t>& v);
  void clear() noexcept;

  // Appends `buffer` to `body` as a compressed buffer: its uncompressed length then its zstd
  // frame, or -1 then its bytes when the frame would not be smaller; an empty buffer stays empty.
  void compress_into(std::vector<std::byte>& body, std::span<const std::byte> buffer);

  message_kind kind_;
  std::size_t rows_ = 0;
  std::vector<column> columns_;
  // With zstd: the compression context (ZSTD_CCtx, reused batch after batch; null when the body
  // is written uncompressed) and the compressed body.
  std::unique_ptr<void, void (*)(void*)> zstd_;
  std::vector<std::byte> compressed_;
};

}  // namespace ticks::arrow_ipc
