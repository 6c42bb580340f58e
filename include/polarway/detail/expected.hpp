// The storage behind pw::result: std::expected where the standard library has it, otherwise a
// small C++20 implementation with the same constructors and accessors. pw::result only uses
// has_value(), operator*, error() and the in_place / unexpect constructors, so either works.
// (g++ 12's C++23 std::expected lacks the monadic members, which is why pw::result implements
// those itself on top of this storage rather than inheriting them.)
#pragma once

#include <memory>
#include <type_traits>
#include <utility>
#if __has_include(<expected>)
#include <expected>
#endif

namespace polarway::detail {

#if defined(__cpp_lib_expected) && __cpp_lib_expected >= 202202L

inline constexpr bool uses_std_expected = true;
template <class T, class E>
using expected = std::expected<T, E>;
using unexpect_t = std::unexpect_t;
inline constexpr unexpect_t unexpect{};

#else

inline constexpr bool uses_std_expected = false;
struct unexpect_t {
  explicit unexpect_t() = default;
};
inline constexpr unexpect_t unexpect{};

template <class T, class E>
class expected {
 public:
  constexpr expected() requires std::is_default_constructible_v<T> : val_(), has_(true) {}
  template <class... Args>
  constexpr explicit expected(std::in_place_t, Args&&... args)
      : val_(std::forward<Args>(args)...), has_(true) {}
  template <class... Args>
  constexpr explicit expected(unexpect_t, Args&&... args)
      : err_(std::forward<Args>(args)...), has_(false) {}

  constexpr expected(const expected& other) : has_(other.has_) {
    if (has_) std::construct_at(&val_, other.val_);
    else std::construct_at(&err_, other.err_);
  }
  constexpr expected(expected&& other) noexcept(
      std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_constructible_v<E>)
      : has_(other.has_) {
    if (has_) std::construct_at(&val_, std::move(other.val_));
    else std::construct_at(&err_, std::move(other.err_));
  }
  constexpr expected& operator=(const expected& other) {
    if (this != &other) assign(other);
    return *this;
  }
  constexpr expected& operator=(expected&& other) noexcept(
      std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_constructible_v<E>) {
    if (this != &other) assign(std::move(other));
    return *this;
  }
  constexpr ~expected() { destroy(); }

  constexpr bool has_value() const noexcept { return has_; }
  constexpr T& operator*() & noexcept { return val_; }
  constexpr const T& operator*() const& noexcept { return val_; }
  constexpr T&& operator*() && noexcept { return std::move(val_); }
  constexpr const T&& operator*() const&& noexcept { return std::move(val_); }
  constexpr E& error() & noexcept { return err_; }
  constexpr const E& error() const& noexcept { return err_; }
  constexpr E&& error() && noexcept { return std::move(err_); }
  constexpr const E&& error() const&& noexcept { return std::move(err_); }

 private:
  constexpr void destroy() noexcept {
    if (has_) std::destroy_at(&val_);
    else std::destroy_at(&err_);
  }
  // Destroy-then-construct: without exceptions a constructor cannot fail half way, and with
  // them this gives the basic guarantee, like the standard's for non-nothrow types.
  template <class Other>
  constexpr void assign(Other&& other) {
    destroy();
    has_ = other.has_;
    if (has_) std::construct_at(&val_, std::forward<Other>(other).val_);
    else std::construct_at(&err_, std::forward<Other>(other).err_);
  }

  union {
    T val_;
    E err_;
  };
  bool has_;
};

template <class E>
class expected<void, E> {
 public:
  constexpr expected() noexcept : dummy_(), has_(true) {}
  constexpr explicit expected(std::in_place_t) noexcept : dummy_(), has_(true) {}
  template <class... Args>
  constexpr explicit expected(unexpect_t, Args&&... args)
      : err_(std::forward<Args>(args)...), has_(false) {}
  constexpr expected(const expected& other) : dummy_(), has_(other.has_) {
    if (!has_) std::construct_at(&err_, other.err_);
  }
  constexpr expected(expected&& other) noexcept(std::is_nothrow_move_constructible_v<E>)
      : dummy_(), has_(other.has_) {
    if (!has_) std::construct_at(&err_, std::move(other.err_));
  }
  constexpr expected& operator=(const expected& other) {
    if (this != &other) assign(other);
    return *this;
  }
  constexpr expected& operator=(expected&& other) noexcept(std::is_nothrow_move_constructible_v<E>) {
    if (this != &other) assign(std::move(other));
    return *this;
  }
  constexpr ~expected() {
    if (!has_) std::destroy_at(&err_);
  }

  constexpr bool has_value() const noexcept { return has_; }
  constexpr void operator*() const noexcept {}
  constexpr E& error() & noexcept { return err_; }
  constexpr const E& error() const& noexcept { return err_; }
  constexpr E&& error() && noexcept { return std::move(err_); }
  constexpr const E&& error() const&& noexcept { return std::move(err_); }

 private:
  template <class Other>
  constexpr void assign(Other&& other) {
    if (!has_) std::destroy_at(&err_);
    has_ = other.has_;
    if (!has_) std::construct_at(&err_, std::forward<Other>(other).err_);
  }

  struct empty {};
  union {
    empty dummy_;
    E err_;
  };
  bool has_;
};

#endif

}  // namespace polarway::detail
