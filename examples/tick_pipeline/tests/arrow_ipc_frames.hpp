// Test support: splits an Arrow IPC stream's bytes into its encapsulated messages, checking the
// encapsulation rules on the way (continuation marker, 8-byte aligned metadata and body, a
// flatbuffer root inside the metadata), and reads the Message table's fields the tests look at.
#pragma once

#include <doctest/doctest.h>

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace ticks::arrow_ipc::testing {

constexpr flatbuffers::voffset_t slot(int i) { return static_cast<flatbuffers::voffset_t>(4 + 2 * i); }

struct frame {
  const flatbuffers::Table* root = nullptr;  // the Message table
  std::size_t body_offset = 0;               // in the stream
  std::int64_t body_length = 0;
  std::uint8_t header_type = 0;  // 1 Schema, 3 RecordBatch
  std::int64_t rows = -1;        // a record batch's length
  std::map<std::string, std::string> metadata;  // the Message's custom metadata
};

struct split_stream {
  std::vector<frame> frames;
  bool end_of_stream = false;  // the end marker was read
  std::size_t consumed = 0;    // bytes of whole messages (and the marker)
};

inline std::map<std::string, std::string> key_values(const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::Table>>* v) {
  std::map<std::string, std::string> out;
  if (v == nullptr) return out;
  for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i)
    out[v->Get(i)->GetPointer<const flatbuffers::String*>(slot(0))->str()] =
        v->Get(i)->GetPointer<const flatbuffers::String*>(slot(1))->str();
  return out;
}

/// The whole messages at the start of `s` (a stream received so far may end mid-message).
inline split_stream split(const std::vector<std::byte>& s) {
  split_stream out;
  std::size_t at = 0;
  auto u32 = [&s](std::size_t i) {
    std::uint32_t v = 0;
    std::memcpy(&v, s.data() + i, 4);
    return v;
  };
  while (at + 8 <= s.size()) {
    CHECK(u32(at) == 0xFFFFFFFFu);
    const std::size_t len = u32(at + 4);
    if (len == 0) {
      out.end_of_stream = true;
      out.consumed = at + 8;
      return out;
    }
    CHECK(len % 8 == 0);
    if (at + 8 + len > s.size()) break;
    const auto* meta = reinterpret_cast<const std::uint8_t*>(s.data() + at + 8);
    flatbuffers::Verifier v(meta, len);
    REQUIRE(flatbuffers::ReadScalar<flatbuffers::uoffset_t>(meta) < len);
    frame f;
    f.root = flatbuffers::GetRoot<flatbuffers::Table>(meta);
    REQUIRE(f.root->VerifyTableStart(v));
    CHECK(f.root->GetField<std::int16_t>(slot(0), 0) == 4);  // MetadataVersion V5
    f.header_type = f.root->GetField<std::uint8_t>(slot(1), 0);
    f.body_offset = at + 8 + len;
    f.body_length = f.root->GetField<std::int64_t>(slot(3), 0);
    CHECK(f.body_length % 8 == 0);
    CHECK(f.body_offset % 8 == 0);
    if (f.body_offset + static_cast<std::size_t>(f.body_length) > s.size()) break;
    if (f.header_type == 3)
      f.rows = f.root->GetPointer<const flatbuffers::Table*>(slot(2))->GetField<std::int64_t>(slot(0), 0);
    f.metadata = key_values(f.root->GetPointer<const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::Table>>*>(slot(4)));
    at = f.body_offset + static_cast<std::size_t>(f.body_length);
    out.frames.push_back(std::move(f));
    out.consumed = at;
  }
  return out;
}

/// The custom metadata of a Schema message.
inline std::map<std::string, std::string> schema_metadata(const frame& f) {
  const auto* schema = f.root->GetPointer<const flatbuffers::Table*>(slot(2));
  return key_values(schema->GetPointer<const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::Table>>*>(slot(2)));
}

}  // namespace ticks::arrow_ipc::testing
