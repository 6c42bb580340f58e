// ticks::inline_string<N>: at most N characters stored inline, for short labels (stream names)
// that travel inside error values and counters without allocating. Longer input is truncated,
// which is what a label wants: an error report must never fail because its label was long.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

namespace ticks {

template <std::size_t N>
class inline_string {
  static_assert(N < 256, "the length is kept in one byte");

 public:
  constexpr inline_string() noexcept = default;
  constexpr inline_string(std::string_view s) noexcept { assign(s); }

  constexpr void assign(std::string_view s) noexcept {
    const std::uint8_t old = size_;
    size_ = static_cast<std::uint8_t>(std::min(s.size(), N));
    std::copy_n(s.data(), size_, chars_.data());
    // Unused characters are kept zero (== compares whole arrays), so only those the old value
    // used beyond the new one need clearing: none when a decoder assigns the same stream name
    // message after message (clearing the whole tail was a memset call per message).
    if (old > size_) std::fill(chars_.begin() + size_, chars_.begin() + old, '\0');
  }
  constexpr std::string_view view() const noexcept { return {chars_.data(), size_}; }
  constexpr bool empty() const noexcept { return size_ == 0; }

  friend constexpr bool operator==(const inline_string&, const inline_string&) = default;

 private:
  std::array<char, N> chars_{};
  std::uint8_t size_ = 0;
};

}  // namespace ticks
