// Test helpers: build arbitrary (including illegal) WebSocket frames byte by byte, and read the
// frames a connection wrote, so tests can check exactly what went over the wire.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "ticks/bytes.hpp"
#include "ticks/ws_connection.hpp"

namespace test {

struct frame_spec {
  bool fin = true;
  std::uint8_t rsv = 0;  // three bits
  std::uint8_t opcode = 0x1;
  bool mask = true;
  std::array<std::uint8_t, 4> key{0x37, 0xFA, 0x21, 0x3D};
  std::string payload{};
  int length_form = 0;                         // 0: minimal; 126 or 127: force that (possibly non-minimal) encoding
  std::uint64_t declared_length = UINT64_MAX;  // override the length field (lies allowed)
};

inline std::string build_frame(const frame_spec& f) {
  std::string out;
  out += static_cast<char>((f.fin ? 0x80 : 0) | (f.rsv & 7) << 4 | (f.opcode & 0x0F));
  const std::uint64_t len = f.declared_length != UINT64_MAX ? f.declared_length : f.payload.size();
  const int form = f.length_form ? f.length_form : (len < 126 ? 0 : len <= 0xFFFF ? 126 : 127);
  const char mask_bit = f.mask ? static_cast<char>(0x80) : 0;
  if (form == 0) {
    out += static_cast<char>(mask_bit | static_cast<char>(len));
  } else if (form == 126) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(len >> 8);
    out += static_cast<char>(len);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int i = 7; i >= 0; --i) out += static_cast<char>(len >> (8 * i));
  }
  if (f.mask) {
    for (auto b : f.key) out += static_cast<char>(b);
    for (std::size_t i = 0; i < f.payload.size(); ++i)
      out += static_cast<char>(static_cast<std::uint8_t>(f.payload[i]) ^ f.key[i % 4]);
  } else {
    out += f.payload;
  }
  return out;
}

/// A client-to-server (masked) text frame.
inline std::string client_text(std::string_view payload, bool fin = true, std::uint8_t opcode = 0x1) {
  return build_frame({.fin = fin, .opcode = opcode, .payload = std::string(payload)});
}

struct parsed_frame {
  bool fin;
  std::uint8_t rsv;
  std::uint8_t opcode;
  bool masked;
  std::string payload;  // unmasked
};

/// Splits bytes a connection wrote into frames (all of them must be complete).
inline std::vector<parsed_frame> parse_frames(ticks::byte_view bytes) {
  std::vector<parsed_frame> frames;
  const auto s = ticks::as_chars(bytes);
  std::size_t i = 0;
  const auto u = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  while (i + 2 <= s.size()) {
    parsed_frame f{(u(i) & 0x80) != 0,
                   static_cast<std::uint8_t>((u(i) >> 4) & 7),
                   static_cast<std::uint8_t>(u(i) & 0x0F),
                   (u(i + 1) & 0x80) != 0,
                   {}};
    std::uint64_t len = u(i + 1) & 0x7F;
    i += 2;
    if (len == 126) {
      len = std::uint64_t{u(i)} << 8 | u(i + 1);
      i += 2;
    } else if (len == 127) {
      len = 0;
      for (int k = 0; k < 8; ++k) len = len << 8 | u(i + k);
      i += 8;
    }
    std::array<std::uint8_t, 4> key{};
    if (f.masked) {
      for (int k = 0; k < 4; ++k) key[k] = u(i + k);
      i += 4;
    }
    if (i + len > s.size()) break;  // incomplete: the caller checks the count
    for (std::uint64_t k = 0; k < len; ++k) f.payload += static_cast<char>(u(i + k) ^ (f.masked ? key[k % 4] : 0));
    i += len;
    frames.push_back(std::move(f));
  }
  return frames;
}

/// The close code and reason of a close frame payload.
inline std::pair<std::uint16_t, std::string> close_payload(const parsed_frame& f) {
  if (f.payload.size() < 2) return {0, {}};
  return {static_cast<std::uint16_t>(static_cast<std::uint8_t>(f.payload[0]) << 8 |
                                     static_cast<std::uint8_t>(f.payload[1])),
          f.payload.substr(2)};
}

/// An owned copy of an event (events borrow the connection's buffers until the next poll).
struct owned_event {
  ticks::ws::event_kind kind;
  std::string payload{};
  std::uint16_t code;
};

/// Feeds `bytes` one at a time, polling after each, and collects events until an error.
struct drive_result {
  std::vector<owned_event> events;
  polarway::option<ticks::ws::ws_error> error;
  std::size_t error_at = 0;  // bytes fed when the error surfaced
};

inline drive_result drive_bytewise(ticks::ws::connection& c, std::string_view bytes) {
  drive_result r;
  for (std::size_t i = 0; i < bytes.size() && !r.error; ++i) {
    auto fed = c.feed(ticks::as_bytes(bytes.substr(i, 1)));
    REQUIRE(fed.is_ok());
    while (true) {
      auto ev = c.poll();
      if (!ev) {
        r.error = ev.error();
        r.error_at = i + 1;
        break;
      }
      if (!*ev) break;
      r.events.push_back({(*ev)->kind, std::string((*ev)->text()), (*ev)->code});
    }
  }
  return r;
}

/// Feeds everything at once and polls until none or an error.
inline drive_result drive(ticks::ws::connection& c, std::string_view bytes) {
  drive_result r;
  REQUIRE(c.feed(ticks::as_bytes(bytes)).is_ok());
  while (true) {
    auto ev = c.poll();
    if (!ev) {
      r.error = ev.error();
      break;
    }
    if (!*ev) break;
    r.events.push_back({(*ev)->kind, std::string((*ev)->text()), (*ev)->code});
  }
  return r;
}

}  // namespace test
