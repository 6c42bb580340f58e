// fmt support: `fmt::format("{}", err)` prints a pw::error as its message(). Kept out of
// error.hpp so that the library itself does not depend on fmt; include this header where you
// format errors.
#pragma once

#include <fmt/format.h>

#include "polarway/error.hpp"

template <>
struct fmt::formatter<polarway::error> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(const polarway::error& e, FormatContext& ctx) const {
    const std::string text = e.message();
    return fmt::formatter<std::string_view>::format(text, ctx);
  }
};
