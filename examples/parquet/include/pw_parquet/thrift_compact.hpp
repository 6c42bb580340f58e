// A write-only encoder for Thrift's compact protocol, just enough to serialize Parquet's footer
// and page headers: structs, i16/i32/i64 (zigzag varints), bools (folded into the field
// header), binary/string (varint length + bytes) and lists. Field headers carry the id as a
// 4-bit delta from the previous field of the same struct when it fits (1..15), else the full
// id as a zigzag varint; that is why each open struct keeps its own "last id" on a stack.
//
// The encoder does not check that fields are written in increasing id order or that required
// fields are present: the callers (metadata.cpp) are the schema, and the unit tests pin their
// bytes. It appends to a caller-owned vector and never fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "pw_parquet/bytes.hpp"

namespace pw_parquet::thrift {

/// Compact-protocol type ids, as they appear in field headers and list headers.
enum class type : std::uint8_t {
  bool_true = 1, bool_false = 2, byte_ = 3, i16 = 4, i32 = 5, i64 = 6, double_ = 7, binary = 8,
  list = 9, set = 10, map = 11, struct_ = 12,
};

/// ZigZag maps signed to unsigned so that small magnitudes get short varints: 0,-1,1,-2 -> 0,1,2,3.
constexpr std::uint32_t zigzag32(std::int32_t v) noexcept {
  return (static_cast<std::uint32_t>(v) << 1) ^ static_cast<std::uint32_t>(v >> 31);
}
constexpr std::uint64_t zigzag64(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

/// ULEB128: seven bits per byte, least significant group first, high bit set on all but the last.
inline void append_varint(byte_vector& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<std::byte>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::byte>(v));
}

class compact_writer {
 public:
  /// Appends to `out`, which must outlive the writer.
  explicit compact_writer(byte_vector& out) : out_(&out) {}

  /// Opens a struct that is not a field: the top-level message or a list element.
  void begin_struct() {
    stack_.push_back(last_id_);
    last_id_ = 0;
  }
  /// Closes the innermost struct with its stop byte.
  void end_struct() {
    out_->push_back(std::byte{0});
    last_id_ = stack_.empty() ? 0 : stack_.back();
    if (!stack_.empty()) stack_.pop_back();
  }

  /// A struct-valued field; write its fields, then end_struct().
  void field_struct(std::int16_t id) {
    field_header(id, type::struct_);
    begin_struct();
  }
  /// A bool field: the value is the header's type nibble, no payload byte follows.
  void field_bool(std::int16_t id, bool v) { field_header(id, v ? type::bool_true : type::bool_false); }
  void field_i16(std::int16_t id, std::int16_t v) {
    field_header(id, type::i16);
    append_varint(*out_, zigzag32(v));
  }
  void field_i32(std::int16_t id, std::int32_t v) {
    field_header(id, type::i32);
    write_i32(v);
  }
  void field_i64(std::int16_t id, std::int64_t v) {
    field_header(id, type::i64);
    write_i64(v);
  }
  void field_binary(std::int16_t id, std::span<const std::byte> v) {
    field_header(id, type::binary);
    write_binary(v);
  }
  void field_string(std::int16_t id, std::string_view v) { field_binary(id, as_bytes(v)); }
  /// A list-valued field of `size` elements of type `element`; write the elements next (for
  /// struct elements: begin_struct() ... end_struct() each).
  void field_list(std::int16_t id, type element, std::size_t size) {
    field_header(id, type::list);
    list_header(element, size);
  }

  // List elements (no field header).
  void write_i32(std::int32_t v) { append_varint(*out_, zigzag32(v)); }
  void write_i64(std::int64_t v) { append_varint(*out_, zigzag64(v)); }
  void write_binary(std::span<const std::byte> v) {
    append_varint(*out_, v.size());
    append_bytes(*out_, v);
  }
  void write_string(std::string_view v) { write_binary(as_bytes(v)); }
  /// A bool list element is a whole byte (1 true, 2 false), unlike a bool field.
  void write_bool(bool v) { out_->push_back(static_cast<std::byte>(v ? type::bool_true : type::bool_false)); }

  /// Depth of open structs; 0 once the top-level struct is closed (used by tests).
  std::size_t depth() const noexcept { return stack_.size(); }

 private:
  void field_header(std::int16_t id, type t) {
    const int delta = id - last_id_;
    if (delta > 0 && delta <= 15) {
      out_->push_back(static_cast<std::byte>((delta << 4) | static_cast<int>(t)));
    } else {
      // Long form: the type alone, then the absolute id as a zigzag i16.
      out_->push_back(static_cast<std::byte>(t));
      append_varint(*out_, zigzag32(id));
    }
    last_id_ = id;
  }
  void list_header(type element, std::size_t size) {
    if (size < 15) {
      out_->push_back(static_cast<std::byte>((size << 4) | static_cast<std::size_t>(element)));
    } else {
      out_->push_back(static_cast<std::byte>(0xF0 | static_cast<int>(element)));
      append_varint(*out_, size);
    }
  }

  byte_vector* out_;
  std::int16_t last_id_ = 0;
  std::vector<std::int16_t> stack_;  // the enclosing structs' last ids
};

}  // namespace pw_parquet::thrift
