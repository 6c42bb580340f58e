// ticks::sha1: the SHA-1 digest (FIPS 180-4), here only because RFC 6455 derives
// Sec-WebSocket-Accept from it. SHA-1 is broken for collision resistance; the handshake uses it
// as a fixed transform, not for security, so do not reach for this for anything else.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace ticks {

using sha1_digest = std::array<std::uint8_t, 20>;

/// Incremental SHA-1: update() any number of times, then finish() once.
class sha1 {
 public:
  sha1() noexcept;
  void update(std::span<const std::byte> data) noexcept;
  void update(std::string_view text) noexcept;
  sha1_digest finish() noexcept;

 private:
  void compress(const std::uint8_t* block) noexcept;

  std::array<std::uint32_t, 5> h_;
  std::array<std::uint8_t, 64> block_{};
  std::size_t fill_ = 0;     // bytes waiting in block_
  std::uint64_t total_ = 0;  // message length in bytes
};

/// SHA-1 of one contiguous input.
sha1_digest sha1_of(std::string_view text) noexcept;

}  // namespace ticks
