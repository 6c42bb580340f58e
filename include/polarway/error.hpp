// pw::error: the runtime's error value. An std::error_code (errno values use the system
// category, runtime conditions such as a timeout use polarway's own category) plus a static
// string naming the operation that failed ("tcp_stream::read"). It is two words and a pointer,
// so copying it is as cheap as copying the code; the context must be a string literal or
// otherwise outlive every copy.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace polarway {

// Conditions that are not errno values. Those with a standard counterpart compare equal to it
// (`code == std::errc::timed_out`): timed_out, cancelled (operation_canceled) and invalid_input
// (invalid_argument). The rest have none and compare equal only to themselves.
enum class errc {
  timed_out = 1,      // a pw::timeout deadline passed first
  cancelled,          // the operation was cancelled (task aborted, token cancelled)
  closed,             // the channel, semaphore or resource was closed
  runtime_shut_down,  // the runtime no longer accepts work
  invalid_input,      // the caller passed something malformed (an address, a flag)
  unexpected_eof,     // the stream ended before the requested bytes arrived (read_exact)
  write_zero,         // the stream accepted no bytes (write_all)
};

namespace detail {
class polarway_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "polarway"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::timed_out: return "operation timed out";
      case errc::cancelled: return "operation cancelled";
      case errc::closed: return "closed";
      case errc::runtime_shut_down: return "runtime is shut down";
      case errc::invalid_input: return "invalid input";
      case errc::unexpected_eof: return "unexpected end of stream";
      case errc::write_zero: return "the stream accepted no bytes";
    }
    return "unknown polarway error " + std::to_string(value);
  }
  // The standard condition a code stands for, where there is one, so that comparisons with
  // std::errc, the idiom a C++ user writes first, hold.
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::timed_out: return std::errc::timed_out;
      case errc::cancelled: return std::errc::operation_canceled;
      case errc::invalid_input: return std::errc::invalid_argument;
      default: return {value, *this};
    }
  }
};
}  // namespace detail

/// The category of polarway::errc codes.
inline const std::error_category& polarway_category() noexcept {
  static const detail::polarway_category_impl category;
  return category;
}

/// Lets `std::error_code ec = pw::errc::timed_out;` work.
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), polarway_category()};
}

}  // namespace polarway

template <>
struct std::is_error_code_enum<polarway::errc> : std::true_type {};

namespace polarway {

class error {
 public:
  /// An error with no code; only useful as a placeholder to assign over.
  error() noexcept = default;
  /// An error for `code`, raised by the operation named by `context` (a static string).
  error(std::error_code code, const char* context = "") noexcept
      : code_(code), context_(context ? context : "") {}
  error(errc code, const char* context = "") noexcept : error(make_error_code(code), context) {}
  error(std::errc code, const char* context = "") noexcept
      : error(std::make_error_code(code), context) {}

  /// The error for an errno value (the system category).
  static error from_errno(int errnum, const char* context) noexcept {
    return {std::error_code(errnum, std::system_category()), context};
  }

  /// The code, comparable with std::errc and pw::errc values.
  const std::error_code& code() const noexcept { return code_; }
  /// The operation that failed, e.g. "tcp_stream::connect"; empty if none was given.
  const char* context() const noexcept { return context_; }
  /// "context: description", or the description alone when there is no context.
  std::string message() const {
    std::string text = code_.message();
    if (*context_ == '\0') return text;
    return std::string(context_) + ": " + text;
  }

  friend bool operator==(const error& a, const error& b) noexcept {
    return a.code_ == b.code_ && std::strcmp(a.context_, b.context_) == 0;
  }
  friend bool operator==(const error& a, std::errc b) noexcept { return a.code_ == b; }
  friend bool operator==(const error& a, errc b) noexcept { return a.code_ == make_error_code(b); }

 private:
  std::error_code code_{};
  const char* context_ = "";
};

}  // namespace polarway
