#include "ticks/utf8.hpp"

#include <simdjson.h>

namespace ticks {

// simdjson's validator: the same rules, checked 32 or 64 bytes per step with the instruction set
// chosen at run time. The byte-at-a-time loop it replaced cost as much as a message's JSON
// decoding; every text frame and every message the feed sends passes through here.
bool is_valid_utf8(std::span<const std::byte> bytes) noexcept {
  return simdjson::validate_utf8(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

bool is_valid_utf8(std::string_view text) noexcept { return simdjson::validate_utf8(text.data(), text.size()); }

}  // namespace ticks
