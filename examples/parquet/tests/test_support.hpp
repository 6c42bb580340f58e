// Helpers shared by the Parquet writer's tests: hex rendering of byte vectors (expected bytes
// are written as "15 00 2c" so that a failure shows where the bytes differ), and a small
// Thrift compact-protocol *decoder* that turns a footer into a tree of field id -> value, so
// that tests can check the metadata a writer produced without another Parquet library; and the
// reader tests' helpers: an error check naming the failed check, writing and reading a whole
// file.
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

class compact_reader {
 public:
  explicit compact_reader(std::span<const std::byte> in) : in_(in) {}

  tvalue read_struct() {
    tvalue s;
    s.kind = tvalue::structure;
    int last = 0;
    for (;;) {
      const auto h = byte();
      if (h == 0) return s;
      const int type = h & 0x0F;
      const int delta = h >> 4;
      const int id = delta != 0 ? last + delta : static_cast<int>(unzigzag(varint()));
      last = id;
      s.fields[id] = std::make_shared<tvalue>(read_value(type));
    }
  }
  std::size_t position() const { return pos_; }
  bool ok() const { return !overrun_; }

 private:
  tvalue read_value(int type) {
    tvalue v;
    switch (type) {
      case 1: v.i = 1; break;  // bool true in a field header
      case 2: v.i = 0; break;  // bool false
      case 3: v.i = static_cast<std::int8_t>(byte()); break;
      case 4: case 5: case 6: v.i = unzigzag(varint()); break;
      case 8: {
        v.kind = tvalue::binary;
        const auto n = static_cast<std::size_t>(varint());
        for (std::size_t k = 0; k < n; ++k) v.bin += static_cast<char>(byte());
        break;
      }
      case 9: {
        v.kind = tvalue::list;
        const auto h = byte();
        std::size_t n = h >> 4;
        if (n == 15) n = static_cast<std::size_t>(varint());
        const int et = h & 0x0F;
        for (std::size_t k = 0; k < n; ++k) {
          if (et == 1 || et == 2) {
            tvalue b;
            b.i = byte() == 1 ? 1 : 0;
            v.items.push_back(b);
          } else {
            v.items.push_back(read_value(et));
          }
        }
        break;
      }
      case 12: v = read_struct(); break;
      default: overrun_ = true; break;
    }
    return v;
  }
  unsigned byte() {
    if (pos_ >= in_.size()) {
      overrun_ = true;
      return 0;
    }
    return static_cast<unsigned>(in_[pos_++]);
  }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const auto b = byte();
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) break;
    }
    return v;
  }
  static std::int64_t unzigzag(std::uint64_t v) {
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
  }

  std::span<const std::byte> in_;
  std::size_t pos_ = 0;
  bool overrun_ = false;
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
