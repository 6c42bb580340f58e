// ticks::arrow_ipc::read_tick_stream: an Arrow IPC stream of ticks, as ticks/arrow_ipc.hpp writes
// one, turned back into ticks. What it reads comes from outside (a message bus), so nothing in it
// is trusted: every length, offset and value is checked before it is used, no byte outside the
// input is ever read, nothing is allocated in proportion to a length before that length has been
// checked against the input's size, and every failure is a read_error value (no exceptions).
//
// What is accepted is what the writer produces for one tick kind, and nothing else:
//   - a Schema message whose fields are exactly tick_schema(kind): names, types and nullability,
//     in order, for one of the three kinds. A "polarway.kind" entry in the schema's custom
//     metadata, when present, must name a kind, and the fields must be that kind's; without it
//     the kind is the one whose schema the fields are. Little-endian, no dictionary-encoded or
//     nested fields, no schema features. Fields' own custom metadata is verified and ignored.
//   - zero or more RecordBatch messages, whose rows are concatenated in order. A batch may have
//     no rows (heartbeat-style batches with message metadata: that metadata is verified and
//     ignored). No variadic buffers; a DictionaryBatch is refused. A body may be compressed
//     as the writer's body_compression::zstd does it (codec ZSTD, method BUFFER; LZ4_FRAME is
//     refused as unsupported): each non-empty buffer is its uncompressed length (int64) and a
//     zstd frame that must decompress to exactly that length, or -1 and the bytes themselves. A
//     length is checked against what the batch's rows can need (at most 65,536 rows in a
//     compressed batch) before anything is allocated for it; the checks below then apply to
//     the decompressed buffers.
//   - the end-of-stream marker (0xFFFFFFFF then 0x00000000), which is required: a stream that
//     stops after its last message is missing_end_of_stream, since a sender that stopped
//     mid-stream and one that finished cannot otherwise be told apart. Nothing may follow it.
//
// Framing is checked as the specification sets it and the writer follows it: every message
// starts with the continuation marker (the format before Arrow 0.15, without it, is refused);
// the metadata length is a positive multiple of 8 (0 is the end-of-stream marker); the Message
// flatbuffer passes flatbuffers::Verifier over the whole padded metadata, each field verified
// before it is read (the padding's bytes themselves are not inspected), has metadata version
// V5 and the header type its place calls for; bodyLength is a non-negative multiple of 8 that
// the input holds, and 0 for the schema. In a record batch every buffer lies inside the body
// (overflow-safe) at an 8-byte aligned offset; a buffer may be longer than its rows need (never
// shorter) and may overlap another, as the format allows; there is one field node per column,
// each of the batch's length, and two buffers per column (three for utf8). A validity bitmap may
// be absent only when the null count is 0; when present, its zero bits among the rows number
// the null count. Utf8 offsets start at 0, never decrease, and end within the data buffer; a
// 0-row batch may leave the offsets buffer empty, as other Arrow writers do.
//
// Values: no nulls in non-nullable columns (only sent_time is nullable); every symbol passes
// ticks::symbol::parse; every decimal128 is the sign extension of an int64 within
// ±max_decimal_raw, which is the ticks::price raw value at scale 8 (the writer's mapping,
// inverted exactly); booleans and timestamps are read as they are (every bit pattern is a value).
//
// Writer and reader are not symmetric in one place: a bookTicker without an exchange event time
// is written with recv_time's millisecond (floor) in event_time, and comes back with that
// millisecond as a present event time, since the column cannot say it was stamped. Everything
// else round-trips exactly, sent_time's nulls included.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <polarway/result.hpp>

#include "ticks/arrow_ipc.hpp"
#include "ticks/tick.hpp"

namespace ticks::arrow_ipc {

/// Why a stream was refused.
enum class read_errc : std::uint8_t {
  truncated,              // the bytes end inside a message (its prefix, metadata or body), or are empty
  missing_end_of_stream,  // the bytes end after a whole message, without the end-of-stream marker
  bad_framing,            // no continuation marker, or a negative or unaligned metadata or body length
  bad_metadata,           // the Message flatbuffer fails verification, is not V5, lacks its header
  unexpected_message,     // a message out of order: not a schema first, a second schema, a tensor
  unsupported,            // valid Arrow that tick streams never use: dictionaries, LZ4, big-endian
  not_our_schema,         // the fields are no tick kind's, or disagree with "polarway.kind"
  bad_batch,              // a record batch's layout: nodes, buffers, lengths, null counts, offsets
  bad_value,              // a value no tick holds: a null where none may be, a bad symbol or decimal
  trailing_bytes,         // bytes after the end-of-stream marker
};

std::string_view to_string(read_errc e) noexcept;

struct read_error {
  read_errc code;
  /// Which message, where in the input, and what: "message 1 at byte 344: column price row 3: ...".
  std::string detail;
  /// "<code>: <detail>".
  std::string message() const;
};

/// What one stream carried.
struct tick_rows {
  message_kind kind = message_kind::trade;
  /// The rows of every record batch, in order.
  std::vector<tick> ticks;
  /// The recv_time column, one per tick.
  std::vector<std::int64_t> recv_ns;
  /// The schema's custom metadata, in the order it was written.
  std::vector<std::pair<std::string, std::string>> schema_metadata;
};

/// The ticks of one whole stream (schema, record batches, end-of-stream), or why not.
polarway::result<tick_rows, read_error> read_tick_stream(std::span<const std::byte> bytes);

}  // namespace ticks::arrow_ipc
