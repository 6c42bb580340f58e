// Kernel randomness for WebSocket keys and masks (getrandom(2)). Private to the codec.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ticks::detail {

/// Fills `out` from the kernel CSPRNG; false only if the kernel refuses (never short-reads).
bool fill_random(std::span<std::uint8_t> out) noexcept;

}  // namespace ticks::detail
