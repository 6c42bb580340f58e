// Helpers shared by the Parquet tests: hex rendering of byte vectors (expected bytes are
// written as "15 00 2c" so that a failure shows where the bytes differ); a tree view of a Thrift
// struct (field id -> value) over the reader's compact decoder, so that the writer's tests can
// check the metadata it produced field by field; an error check naming the failed check; and
// writing and reading a whole file.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <cstring>
#include <fstream>
#include <iterator>

#include <polarway/result.hpp>

#include "pw_parquet/bytes.hpp"
#include "pw_parquet/errc.hpp"
#include "pw_parquet/file_writer.hpp"
#include "pw_parquet/thrift_compact_reader.hpp"

// doctest's REQUIRE needs exceptions to stop a test; these tests also run with -fno-exceptions,
// so a failed precondition is reported as a failed check and then ends the process.
#define PQ_REQUIRE(...)                                      \
  do {                                                       \
    if (!static_cast<bool>(__VA_ARGS__)) {                   \
      FAIL_CHECK("required: " #__VA_ARGS__);                 \
      std::fflush(stdout);                                   \
      std::abort();                                          \
    }                                                        \
  } while (0)
#define PQ_REQUIRE_OK(...)                                                            \
  do {                                                                                \
    auto&& pq_result_ = (__VA_ARGS__);                                                \
    if (!pq_result_) {                                                                \
      FAIL_CHECK("required ok: " #__VA_ARGS__ " -> " << pq_result_.error().message()); \
      std::fflush(stdout);                                                            \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

namespace pq_test {

inline std::string hex(std::span<const std::byte> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i != 0) out += ' ';
    const auto b = static_cast<unsigned>(bytes[i]);
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// A decoded Thrift value: an integer (all int types and bools), a binary, a list, or a struct.
struct tvalue {
  enum kind_t { integer, binary, list, structure } kind = integer;
  std::int64_t i = 0;
  std::string bin;
  std::vector<tvalue> items;                         // list elements
  std::map<int, std::shared_ptr<tvalue>> fields;     // struct fields by id

  const tvalue& operator[](int id) const {
    static const tvalue missing{};
    auto it = fields.find(id);
    return it == fields.end() ? missing : *it->second;
  }
  bool has(int id) const { return fields.count(id) != 0; }
};

// A whole Thrift struct as a tree, read with the reader's own compact decoder
// (thrift_compact_reader.hpp), so that tests look at any field without a schema for it.
class compact_reader {
 public:
  explicit compact_reader(std::span<const std::byte> in) : r_(in) {}

  tvalue read_struct() {
    tvalue s;
    s.kind = tvalue::structure;
    if (!r_.begin_struct()) {
      ok_ = false;
      return s;
    }
    for (;;) {
      auto h = r_.next_field();
      if (!h) {
        ok_ = false;
        return s;
      }
      if (h->stop) return s;
      s.fields[h->id] = std::make_shared<tvalue>(read_value(h->value_type, false));
    }
  }
  std::size_t position() const { return r_.position(); }
  bool ok() const { return ok_; }

 private:
  // A value of type `t`; a bool is its field header's type, but a byte of its own in a list.
  tvalue read_value(pw_parquet::thrift::type t, bool element) {
    using pw_parquet::thrift::type;
    tvalue v;
    switch (t) {
      case type::bool_true:
      case type::bool_false:
        if (!element) {
          v.i = t == type::bool_true ? 1 : 0;
        } else if (auto b = r_.read_bool()) {
          v.i = *b ? 1 : 0;
        } else {
          ok_ = false;
        }
        break;
      case type::i16:
      case type::i32:
      case type::i64:
        if (auto i = r_.read_i64()) v.i = *i;
        else ok_ = false;
        break;
      case type::binary:
        v.kind = tvalue::binary;
        if (auto b = r_.read_binary()) v.bin = std::string(pw_parquet::as_string_view(*b));
        else ok_ = false;
        break;
      case type::list:
      case type::set: {
        v.kind = tvalue::list;
        auto h = r_.read_list_header();
        if (!h) {
          ok_ = false;
          break;
        }
        for (std::size_t k = 0; k < h->size && ok_; ++k) v.items.push_back(read_value(h->element, true));
        break;
      }
      case type::struct_: v = read_struct(); break;
      default: ok_ = r_.skip(t, element).has_value(); break;  // no Parquet field is a byte, double or map
    }
    return v;
  }

  pw_parquet::thrift::compact_reader r_;
  bool ok_ = true;
};

// The FileMetaData of a complete file image, decoded.
inline tvalue read_footer(std::span<const std::byte> file, bool* ok) {
  *ok = false;
  if (file.size() < 12) return {};
  std::uint32_t len = 0;
  for (int k = 0; k < 4; ++k) len |= static_cast<std::uint32_t>(file[file.size() - 8 + static_cast<std::size_t>(k)]) << (8 * k);
  if (len > file.size() - 12) return {};
  compact_reader r(file.subspan(file.size() - 8 - len, len));
  tvalue meta = r.read_struct();
  *ok = r.ok() && r.position() == len;
  return meta;
}

// Whether `r` failed with `code` and a context that mentions `context_part`; says what it got if not.
template <class T>
bool fails_naming(const polarway::result<T>& r, pw_parquet::errc code, std::string_view context_part) {
  if (r) {
    FAIL_CHECK("expected an error containing '" << context_part << "', got a value");
    return false;
  }
  const bool ok = r.error().code() == code && std::string_view(r.error().context()).find(context_part) != std::string_view::npos;
  if (!ok) FAIL_CHECK("expected '" << context_part << "', got " << r.error().message());
  return ok;
}

// The bytes of a file of schema `s` holding `rows`, written with `o`; ends the test on an error.
inline pw_parquet::byte_vector write_whole_file(const pw_parquet::schema& s,
                                                const std::vector<std::vector<pw_parquet::value>>& rows,
                                                pw_parquet::writer_options o) {
  auto w = pw_parquet::file_writer::create(s, std::move(o));
  PQ_REQUIRE_OK(w);
  pw_parquet::byte_vector out;
  for (const auto& r : rows) PQ_REQUIRE_OK(w->append_row(r, out));
  PQ_REQUIRE_OK(w->finish(out));
  return out;
}

// The bytes of a file; ends the test if it cannot be opened.
inline pw_parquet::byte_vector read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  PQ_REQUIRE(in.good());
  const std::vector<char> chars{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  pw_parquet::byte_vector bytes(chars.size());
  if (!chars.empty()) std::memcpy(bytes.data(), chars.data(), chars.size());
  return bytes;
}

}  // namespace pq_test
