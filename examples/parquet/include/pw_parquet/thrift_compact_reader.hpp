// A bounded pull decoder for Thrift's compact protocol, the counterpart of thrift_compact.hpp,
// for reading Parquet's footer and page headers from untrusted bytes. The caller walks a struct
// with begin_struct() / next_field() and reads each field's value with the read_* call for its
// type, or skip()s it; unknown fields are skipped, so newer writers' additions do no harm.
//
// Invariants, whatever the input:
// - nothing is read past the end of the span: every varint, fixed-width value and binary length
//   is checked against the bytes left (errc::truncated);
// - a list, set or map announces at most as many elements as there are bytes left (each element
//   takes at least one byte), so a count can never make a caller allocate more than the input
//   justifies (errc::truncated: the bytes end before the elements they announce);
// - structs, lists and maps nest at most max_depth deep, skipped values included, so recursion
//   is bounded (errc::limit_exceeded);
// - a varint longer than its type allows, an integer outside its type's range, a field id
//   outside i16 or an unknown type nibble is errc::malformed_metadata.
// After an error the reader's position is unspecified; callers stop at the first error.
// latched_reader wraps it for code that walks a known struct as plain loops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <polarway/option.hpp>

#include <polarway/error.hpp>
#include <polarway/result.hpp>

#include "pw_parquet/errc.hpp"
#include "pw_parquet/thrift_compact.hpp"

namespace pw_parquet::thrift {

/// The header of one struct field. `stop` is true at the struct's end (no id, no value).
struct field_header {
  std::int16_t id = 0;
  type value_type = type::bool_true;
  bool stop = false;
};

/// A list or set header: `size` elements of type `element` follow.
struct list_header {
  type element = type::i32;
  std::size_t size = 0;
};

/// ZigZag decoding, the inverse of zigzag32 / zigzag64.
constexpr std::int64_t unzigzag(std::uint64_t v) noexcept {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

class compact_reader {
 public:
  static constexpr std::size_t default_max_depth = 32;

  explicit compact_reader(std::span<const std::byte> in, std::size_t max_depth = default_max_depth) noexcept
      : in_(in), max_depth_(max_depth) {}

  /// Bytes consumed so far.
  std::size_t position() const noexcept { return pos_; }
  /// Bytes not yet consumed.
  std::size_t remaining() const noexcept { return in_.size() - pos_; }

  /// Enters a struct: the top-level message, a struct field or a struct list element.
  polarway::result<void> begin_struct() {
    if (stack_.size() >= max_depth_) return fail(errc::limit_exceeded, "thrift: structs nested too deep");
    stack_.push_back(last_id_);
    last_id_ = 0;
    return {};
  }

  /// The next field of the innermost open struct. At the stop byte the struct is closed (the
  /// enclosing struct's field ids continue) and the header says `stop`.
  polarway::result<field_header> next_field() {
    if (stack_.empty()) return fail(errc::malformed_metadata, "thrift: field read outside a struct");
    auto b = byte();
    if (!b) return polarway::err(b.error());
    field_header h;
    if (*b == 0) {
      h.stop = true;
      last_id_ = stack_.back();
      stack_.pop_back();
      return h;
    }
    const unsigned t = *b & 0x0Fu;
    if (t == 0 || t > static_cast<unsigned>(type::struct_)) return fail(errc::malformed_metadata, "thrift: unknown field type");
    h.value_type = static_cast<type>(t);
    const unsigned delta = *b >> 4;
    std::int64_t id = 0;
    if (delta != 0) {
      id = static_cast<std::int64_t>(last_id_) + delta;
    } else {
      auto v = varint(3);
      if (!v) return polarway::err(v.error());
      id = unzigzag(*v);
    }
    if (id < INT16_MIN || id > INT16_MAX) return fail(errc::malformed_metadata, "thrift: field id out of range");
    h.id = static_cast<std::int16_t>(id);
    last_id_ = h.id;
    return h;
  }

  /// The value of a bool field, which the header's type carries.
  polarway::result<bool> field_bool(const field_header& h) const {
    if (h.value_type == type::bool_true) return true;
    if (h.value_type == type::bool_false) return false;
    return fail(errc::malformed_metadata, "thrift: field is not a bool");
  }
  /// A bool list element: a whole byte, 1 true, 2 false (0 is accepted as false, as Thrift does).
  polarway::result<bool> read_bool() {
    auto b = byte();
    if (!b) return polarway::err(b.error());
    if (*b > 2) return fail(errc::malformed_metadata, "thrift: bool element is not 0, 1 or 2");
    return *b == 1;
  }
  polarway::result<std::int16_t> read_i16() {
    auto v = signed_varint(3, INT16_MIN, INT16_MAX);
    if (!v) return polarway::err(v.error());
    return static_cast<std::int16_t>(*v);
  }
  polarway::result<std::int32_t> read_i32() {
    auto v = signed_varint(5, INT32_MIN, INT32_MAX);
    if (!v) return polarway::err(v.error());
    return static_cast<std::int32_t>(*v);
  }
  polarway::result<std::int64_t> read_i64() { return signed_varint(10, INT64_MIN, INT64_MAX); }
  /// A binary or string: its bytes, a view into the input (valid as long as the input is).
  polarway::result<std::span<const std::byte>> read_binary() {
    auto n = varint(10);
    if (!n) return polarway::err(n.error());
    if (*n > remaining()) return fail(errc::truncated, "thrift: binary length runs past the end");
    const auto out = in_.subspan(pos_, static_cast<std::size_t>(*n));
    pos_ += out.size();
    return out;
  }
  /// A list or set header; the caller reads `size` elements next (or skips them).
  polarway::result<list_header> read_list_header() {
    auto b = byte();
    if (!b) return polarway::err(b.error());
    list_header h;
    const unsigned t = *b & 0x0Fu;
    if (t == 0 || t > static_cast<unsigned>(type::struct_)) return fail(errc::malformed_metadata, "thrift: unknown list element type");
    h.element = static_cast<type>(t);
    std::uint64_t n = *b >> 4;
    if (n == 15) {
      auto v = varint(5);
      if (!v) return polarway::err(v.error());
      n = *v;
    }
    // Every element takes at least one byte: a count beyond the bytes left is a lie.
    if (n > remaining()) return fail(errc::truncated, "thrift: list count exceeds the bytes left");
    h.size = static_cast<std::size_t>(n);
    return h;
  }

  /// Skips one value of type `t` (a field's value, or a list element when `element` is true:
  /// bools are a byte there but live in the header of a field).
  polarway::result<void> skip(type t, bool element = false) { return skip_value(t, element, stack_.size()); }

 private:
  static polarway::error fail_error(errc code, const char* what) { return polarway::error(code, what); }
  static polarway::err_value<polarway::error> fail(errc code, const char* what) { return polarway::err(fail_error(code, what)); }

  polarway::result<unsigned> byte() {
    if (pos_ >= in_.size()) return fail(errc::truncated, "thrift: input ends inside a value");
    return static_cast<unsigned>(in_[pos_++]);
  }
  // ULEB128 of at most max_bytes bytes; the last byte may not carry bits beyond 64.
  polarway::result<std::uint64_t> varint(int max_bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < max_bytes; ++i) {
      auto b = byte();
      if (!b) return polarway::err(b.error());
      const std::uint64_t bits = *b & 0x7Fu;
      if (i == 9 && bits > 1) return fail(errc::malformed_metadata, "thrift: varint overflows 64 bits");
      v |= bits << (7 * i);
      if ((*b & 0x80u) == 0) return v;
    }
    return fail(errc::malformed_metadata, "thrift: varint too long for its type");
  }
  polarway::result<std::int64_t> signed_varint(int max_bytes, std::int64_t lo, std::int64_t hi) {
    auto v = varint(max_bytes);
    if (!v) return polarway::err(v.error());
    const std::int64_t s = unzigzag(*v);
    if (s < lo || s > hi) return fail(errc::malformed_metadata, "thrift: integer out of range for its type");
    return s;
  }

  polarway::result<void> skip_value(type t, bool element, std::size_t depth) {
    switch (t) {
      case type::bool_true:
      case type::bool_false:
        if (!element) return {};
        if (auto b = read_bool(); !b) return polarway::err(b.error());
        return {};
      case type::byte_:
        if (auto b = byte(); !b) return polarway::err(b.error());
        return {};
      case type::i16:
      case type::i32:
      case type::i64:
        if (auto v = varint(10); !v) return polarway::err(v.error());
        return {};
      case type::double_:
        if (remaining() < 8) return fail(errc::truncated, "thrift: input ends inside a double");
        pos_ += 8;
        return {};
      case type::binary:
        if (auto v = read_binary(); !v) return polarway::err(v.error());
        return {};
      case type::list:
      case type::set: {
        if (depth >= max_depth_) return fail(errc::limit_exceeded, "thrift: lists nested too deep");
        auto h = read_list_header();
        if (!h) return polarway::err(h.error());
        for (std::size_t i = 0; i < h->size; ++i)
          if (auto r = skip_value(h->element, true, depth + 1); !r) return r;
        return {};
      }
      case type::map: {
        if (depth >= max_depth_) return fail(errc::limit_exceeded, "thrift: maps nested too deep");
        auto n = varint(5);
        if (!n) return polarway::err(n.error());
        if (*n == 0) return {};
        if (*n > remaining()) return fail(errc::truncated, "thrift: map count exceeds the bytes left");
        auto kv = byte();
        if (!kv) return polarway::err(kv.error());
        const unsigned kt = *kv >> 4, vt = *kv & 0x0Fu;
        if (kt == 0 || kt > 12 || vt == 0 || vt > 12) return fail(errc::malformed_metadata, "thrift: unknown map element type");
        for (std::uint64_t i = 0; i < *n; ++i) {
          if (auto r = skip_value(static_cast<type>(kt), true, depth + 1); !r) return r;
          if (auto r = skip_value(static_cast<type>(vt), true, depth + 1); !r) return r;
        }
        return {};
      }
      case type::struct_: {
        if (auto r = begin_struct(); !r) return r;
        for (;;) {
          auto f = next_field();
          if (!f) return polarway::err(f.error());
          if (f->stop) return {};
          if (auto r = skip_value(f->value_type, false, depth + 1); !r) return r;
        }
      }
    }
    return fail(errc::malformed_metadata, "thrift: unknown type");
  }

  std::span<const std::byte> in_;
  std::size_t pos_ = 0;
  std::size_t max_depth_;
  std::int16_t last_id_ = 0;
  std::vector<std::int16_t> stack_;  // the enclosing structs' last field ids
};

/// The compact reader with a latch, for walking a known struct (a footer, a page header) as
/// plain loops: the first error sticks, later reads return zeros or empty spans, and
/// next_field() says "no more fields" so that every loop ends. The typed reads check the
/// field's wire type (errc::malformed_metadata otherwise). Spans point into the input.
class latched_reader {
 public:
  latched_reader(std::span<const std::byte> in, std::size_t max_depth) : r_(in, max_depth) {}

  bool ok() const noexcept { return !failed_; }
  /// Bytes consumed so far.
  std::size_t position() const noexcept { return r_.position(); }
  const polarway::error& failure() const noexcept { return *failed_; }
  void fail(errc code, const char* what) { latch(polarway::error(code, what)); }

  bool begin_struct() { return take(r_.begin_struct()); }
  /// The next field, or false at the struct's end or after an error.
  bool next_field(field_header& h) {
    if (!ok()) return false;
    auto n = r_.next_field();
    if (!n) return latch(n.error());
    h = *n;
    return !h.stop;
  }
  void skip(const field_header& h) { take(r_.skip(h.value_type)); }

  std::int32_t i32(const field_header& h) { return expect(h, type::i32) ? value_or(r_.read_i32(), 0) : 0; }
  std::int64_t i64(const field_header& h) { return expect(h, type::i64) ? value_or(r_.read_i64(), 0) : 0; }
  bool boolean(const field_header& h) {
    if (h.value_type != type::bool_true && h.value_type != type::bool_false) return wrong_type();
    return h.value_type == type::bool_true;
  }
  std::span<const std::byte> binary(const field_header& h) {
    return expect(h, type::binary) ? value_or(r_.read_binary(), std::span<const std::byte>{}) : std::span<const std::byte>{};
  }
  std::string string(const field_header& h) { return std::string(as_string_view(binary(h))); }
  /// Opens a struct-valued field.
  bool struct_field(const field_header& h) { return expect(h, type::struct_) && begin_struct(); }
  /// A list field whose elements must be of type `element`; its element count (0 after an error).
  std::size_t list(const field_header& h, type element) {
    if (!expect(h, type::list)) return 0;
    auto l = r_.read_list_header();
    if (!l) {
      latch(l.error());
      return 0;
    }
    if (l->element != element && l->size != 0) {
      wrong_type();
      return 0;
    }
    return l->size;
  }
  std::int32_t i32_element() { return ok() ? value_or(r_.read_i32(), 0) : 0; }
  std::span<const std::byte> binary_element() {
    return ok() ? value_or(r_.read_binary(), std::span<const std::byte>{}) : std::span<const std::byte>{};
  }

 private:
  bool latch(const polarway::error& e) {
    if (!failed_) failed_ = e;
    return false;
  }
  bool take(const polarway::result<void>& r) { return r ? true : latch(r.error()); }
  template <class T>
  T value_or(polarway::result<T> r, std::type_identity_t<T> fallback) {
    if (!r) {
      latch(r.error());
      return fallback;
    }
    return *r;
  }
  bool wrong_type() { return latch(polarway::error(errc::malformed_metadata, "thrift: a field has the wrong type")); }
  bool expect(const field_header& h, type t) { return ok() && (h.value_type == t || wrong_type()); }

  thrift::compact_reader r_;
  polarway::option<polarway::error> failed_;
};

}  // namespace pw_parquet::thrift
