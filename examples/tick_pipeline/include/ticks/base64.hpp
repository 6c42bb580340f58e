// ticks::base64: RFC 4648 base64 (the standard alphabet, with '=' padding), as the WebSocket
// handshake needs it: encoding a 16-byte key and a 20-byte digest, and strictly decoding a
// peer's key to check that it is 16 bytes. Decoding rejects anything that is not padded base64
// (whitespace, missing or misplaced padding, characters outside the alphabet); like most
// decoders it ignores the unused low bits of the last character before the padding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/option.hpp>

namespace ticks {

/// Padded base64 of the bytes.
std::string base64_encode(std::span<const std::uint8_t> bytes);

/// The decoded bytes, or none when `text` is not valid padded base64.
polarway::option<std::vector<std::uint8_t>> base64_decode(std::string_view text);

}  // namespace ticks
