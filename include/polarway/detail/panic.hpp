// Stopping the process with a readable message: what `unwrap` on an error, `value()` on an
// empty option and broken internal invariants do instead of throwing. The message goes to
// stderr before abort() so a death test (or a user reading a core dump's log) sees why.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace polarway::detail {

[[noreturn]] inline void panic(std::string_view what, std::string_view detail = {}) noexcept {
  if (detail.empty())
    std::fprintf(stderr, "polarway panic: %.*s\n", static_cast<int>(what.size()), what.data());
  else
    std::fprintf(stderr, "polarway panic: %.*s: %.*s\n", static_cast<int>(what.size()), what.data(),
                 static_cast<int>(detail.size()), detail.data());
  std::fflush(stderr);
  std::abort();
}

// For an awaiter's move constructor. Awaiters are movable until awaited, so that pw::race and
// pw::timeout can move them into a task of their own; once awaited they are linked into a
// waiter list or the kernel's hands, and moving one is a bug.
inline void check_awaiter_movable(bool awaited, const char* what) noexcept {
  if (awaited) [[unlikely]]
    panic(what, "an awaiter was moved after it was awaited");
}

// Best-effort text for an arbitrary error value, so that unwrap() can say what went wrong
// whatever E is.
template <class E>
std::string describe(const E& e) {
  if constexpr (requires { std::string_view(e.message()); }) {
    return std::string(e.message());
  } else if constexpr (std::is_convertible_v<const E&, std::string_view>) {
    return std::string(std::string_view(e));
  } else if constexpr (std::is_error_code_enum_v<E>) {
    return make_error_code(e).message();
  } else if constexpr (std::is_error_condition_enum_v<E>) {
    return make_error_condition(e).message();
  } else if constexpr (std::is_enum_v<E>) {
    return "enum value " + std::to_string(static_cast<long long>(e));
  } else if constexpr (std::is_arithmetic_v<E>) {
    return std::to_string(e);
  } else {
    return "an error value of a type that cannot be printed";
  }
}

}  // namespace polarway::detail
