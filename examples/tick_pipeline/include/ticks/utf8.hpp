// ticks::is_valid_utf8: strict UTF-8 validation as RFC 6455 requires of text messages (section
// 8.1) and RFC 3629 defines it: no overlong forms, no UTF-16 surrogates (U+D800..U+DFFF),
// nothing above U+10FFFF, no truncated sequence at the end. Implemented with simdjson's SIMD
// validator (runtime-dispatched), since it runs over every message.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace ticks {

bool is_valid_utf8(std::span<const std::byte> bytes) noexcept;
bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace ticks
