// pw::result<T, E>: a value or an error, the return type of every fallible polarway operation.
// It follows std::expected (and is stored in one where the standard library has it), adds the
// Rust-flavoured names Tokio users reach for (is_ok, map, map_err, unwrap, unwrap_or), and never
// throws: value() and unwrap() on an error print the error and abort, since an error that the
// caller did not check is a bug, not a condition to recover from.
//
// Monadic members (and_then, transform/map, or_else, transform_error/map_err) short-circuit: on
// the other alternative the function is never called. They obey the functor and monad laws,
// which tests/result_test.cpp checks.
#pragma once

#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>

#include "polarway/detail/expected.hpp"
#include "polarway/detail/panic.hpp"
#include "polarway/error.hpp"
#include "polarway/option.hpp"

namespace polarway {

template <class T, class E = error>
class result;

/// The success half of a result under construction: `return pw::ok(v);`
template <class T>
struct ok_value {
  T value;
};
template <>
struct ok_value<void> {};

/// The failure half of a result under construction: `return pw::err(e);`
template <class E>
struct err_value {
  E value;
};

template <class T>
constexpr ok_value<std::decay_t<T>> ok(T&& v) {
  return {std::forward<T>(v)};
}
constexpr ok_value<void> ok() noexcept { return {}; }
template <class E>
constexpr err_value<std::decay_t<E>> err(E&& e) {
  return {std::forward<E>(e)};
}

namespace detail {
template <class X>
struct is_result : std::false_type {};
template <class T, class E>
struct is_result<result<T, E>> : std::true_type {};
template <class X>
inline constexpr bool is_result_v = is_result<std::remove_cvref_t<X>>::value;

// Calls f with the result's value, or with nothing when the value type is void.
template <class F, class V>
constexpr decltype(auto) invoke_with_value(F&& f, V&& v) {
  if constexpr (std::is_void_v<std::remove_cvref_t<decltype(*std::forward<V>(v))>>)
    return std::invoke(std::forward<F>(f));
  else
    return std::invoke(std::forward<F>(f), *std::forward<V>(v));
}
}  // namespace detail

template <class T, class E>
class [[nodiscard]] result {
  static_assert(!std::is_reference_v<T>, "result<T&> is not supported; use result<T*>");
  static_assert(!std::is_void_v<E> && !std::is_reference_v<E>, "E must be an object type");

  using storage = detail::expected<T, E>;

 public:
  using value_type = T;
  using error_type = E;

  /// A default-constructed result holds a value-initialized T (as std::expected does).
  constexpr result() requires(std::is_void_v<T> || std::is_default_constructible_v<T>) = default;

  template <class U>
    requires(!std::is_void_v<T> && std::is_constructible_v<T, U>)
  constexpr result(ok_value<U> v) : s_(std::in_place, std::move(v.value)) {}
  constexpr result(ok_value<void>) requires std::is_void_v<T> : s_() {}
  template <class G>
    requires std::is_constructible_v<E, G>
  constexpr result(err_value<G> e) : s_(detail::unexpect, std::move(e.value)) {}

  /// Implicit from a value, as std::expected allows: `result<int> r = 3;`
  template <class U = T>
    requires(!std::is_void_v<T> && std::is_constructible_v<T, U> &&
             !detail::is_result_v<U> && !std::is_same_v<std::remove_cvref_t<U>, std::in_place_t>)
  constexpr result(U&& v) : s_(std::in_place, std::forward<U>(v)) {}

  template <class... Args>
  constexpr explicit result(std::in_place_t, Args&&... args)
      : s_(std::in_place, std::forward<Args>(args)...) {}
  template <class... Args>
  constexpr explicit result(detail::unexpect_t, Args&&... args)
      : s_(detail::unexpect, std::forward<Args>(args)...) {}

  constexpr bool has_value() const noexcept { return s_.has_value(); }
  constexpr explicit operator bool() const noexcept { return s_.has_value(); }
  constexpr bool is_ok() const noexcept { return s_.has_value(); }
  constexpr bool is_err() const noexcept { return !s_.has_value(); }

  /// The value; on an error, prints it and aborts.
  constexpr decltype(auto) value() & { return checked(*this); }
  constexpr decltype(auto) value() const& { return checked(*this); }
  constexpr decltype(auto) value() && { return checked(std::move(*this)); }
  /// Same as value(): the Rust name.
  constexpr decltype(auto) unwrap() & { return checked(*this); }
  constexpr decltype(auto) unwrap() const& { return checked(*this); }
  constexpr decltype(auto) unwrap() && { return checked(std::move(*this)); }

  /// Unchecked access: the caller has tested has_value().
  constexpr decltype(auto) operator*() & noexcept { return *s_; }
  constexpr decltype(auto) operator*() const& noexcept { return *s_; }
  constexpr decltype(auto) operator*() && noexcept { return *std::move(s_); }
  constexpr auto* operator->() noexcept requires(!std::is_void_v<T>) { return &*s_; }
  constexpr auto* operator->() const noexcept requires(!std::is_void_v<T>) { return &*s_; }

  /// The error; the caller has tested is_err().
  constexpr E& error() & noexcept { return s_.error(); }
  constexpr const E& error() const& noexcept { return s_.error(); }
  constexpr E&& error() && noexcept { return std::move(s_).error(); }

  template <class U>
    requires(!std::is_void_v<T>)
  constexpr T value_or(U&& fallback) const& {
    return has_value() ? *s_ : static_cast<T>(std::forward<U>(fallback));
  }
  template <class U>
    requires(!std::is_void_v<T>)
  constexpr T value_or(U&& fallback) && {
    return has_value() ? std::move(*s_) : static_cast<T>(std::forward<U>(fallback));
  }
  template <class U>
    requires(!std::is_void_v<T>)
  constexpr T unwrap_or(U&& fallback) const& { return value_or(std::forward<U>(fallback)); }
  template <class U>
    requires(!std::is_void_v<T>)
  constexpr T unwrap_or(U&& fallback) && { return std::move(*this).value_or(std::forward<U>(fallback)); }

  /// The value as an option, dropping the error.
  constexpr option<T> ok() const& requires(!std::is_void_v<T>) {
    return has_value() ? option<T>(*s_) : option<T>();
  }
  constexpr option<T> ok() && requires(!std::is_void_v<T>) {
    return has_value() ? option<T>(std::move(*s_)) : option<T>();
  }

  /// f(value) -> result<U, E>; an error passes through without calling f.
  template <class F> constexpr auto and_then(F&& f) & { return and_then_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto and_then(F&& f) const& { return and_then_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto and_then(F&& f) && { return and_then_impl(std::move(*this), std::forward<F>(f)); }

  /// f(value) -> U gives result<U, E>; an error passes through without calling f.
  template <class F> constexpr auto transform(F&& f) & { return transform_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto transform(F&& f) const& { return transform_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto transform(F&& f) && { return transform_impl(std::move(*this), std::forward<F>(f)); }
  template <class F> constexpr auto map(F&& f) & { return transform_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto map(F&& f) const& { return transform_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto map(F&& f) && { return transform_impl(std::move(*this), std::forward<F>(f)); }

  /// f(error) -> result<T, G>; a value passes through without calling f.
  template <class F> constexpr auto or_else(F&& f) & { return or_else_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto or_else(F&& f) const& { return or_else_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto or_else(F&& f) && { return or_else_impl(std::move(*this), std::forward<F>(f)); }

  /// f(error) -> G gives result<T, G>; a value passes through without calling f.
  template <class F> constexpr auto transform_error(F&& f) & { return transform_error_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto transform_error(F&& f) const& { return transform_error_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto transform_error(F&& f) && { return transform_error_impl(std::move(*this), std::forward<F>(f)); }
  template <class F> constexpr auto map_err(F&& f) & { return transform_error_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto map_err(F&& f) const& { return transform_error_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto map_err(F&& f) && { return transform_error_impl(std::move(*this), std::forward<F>(f)); }

  template <class U, class G>
  friend constexpr bool operator==(const result& a, const result<U, G>& b) {
    if (a.has_value() != b.has_value()) return false;
    if (!a.has_value()) return a.error() == b.error();
    if constexpr (std::is_void_v<T>) return true;
    else return *a == *b;
  }

 private:
  template <class U, class G>
  friend class result;

  template <class Self>
  static constexpr decltype(auto) checked(Self&& self) {
    if (!self.has_value()) [[unlikely]]
      detail::panic("called unwrap() or value() on an error", detail::describe(self.s_.error()));
    return *std::forward<Self>(self).s_;
  }

  template <class Self, class F>
  static constexpr auto and_then_impl(Self&& self, F&& f) {
    using R = std::remove_cvref_t<decltype(detail::invoke_with_value(std::forward<F>(f), std::forward<Self>(self).s_))>;
    static_assert(detail::is_result_v<R>, "and_then: f must return a pw::result");
    static_assert(std::is_same_v<typename R::error_type, E>, "and_then: f must keep the error type");
    if (!self.has_value()) return R(detail::unexpect, std::forward<Self>(self).s_.error());
    return detail::invoke_with_value(std::forward<F>(f), std::forward<Self>(self).s_);
  }

  template <class Self, class F>
  static constexpr auto transform_impl(Self&& self, F&& f) {
    using U = std::remove_cv_t<decltype(detail::invoke_with_value(std::forward<F>(f), std::forward<Self>(self).s_))>;
    using R = result<U, E>;
    if (!self.has_value()) return R(detail::unexpect, std::forward<Self>(self).s_.error());
    if constexpr (std::is_void_v<U>) {
      detail::invoke_with_value(std::forward<F>(f), std::forward<Self>(self).s_);
      return R();
    } else {
      return R(std::in_place, detail::invoke_with_value(std::forward<F>(f), std::forward<Self>(self).s_));
    }
  }

  template <class Self, class F>
  static constexpr auto or_else_impl(Self&& self, F&& f) {
    using R = std::remove_cvref_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).s_.error())>>;
    static_assert(detail::is_result_v<R>, "or_else: f must return a pw::result");
    static_assert(std::is_same_v<typename R::value_type, T>, "or_else: f must keep the value type");
    if (self.has_value()) {
      if constexpr (std::is_void_v<T>) return R();
      else return R(std::in_place, *std::forward<Self>(self).s_);
    }
    return std::invoke(std::forward<F>(f), std::forward<Self>(self).s_.error());
  }

  template <class Self, class F>
  static constexpr auto transform_error_impl(Self&& self, F&& f) {
    using G = std::remove_cv_t<std::invoke_result_t<F, decltype(std::forward<Self>(self).s_.error())>>;
    using R = result<T, G>;
    if (!self.has_value())
      return R(detail::unexpect, std::invoke(std::forward<F>(f), std::forward<Self>(self).s_.error()));
    if constexpr (std::is_void_v<T>) return R();
    else return R(std::in_place, *std::forward<Self>(self).s_);
  }

  storage s_;
};

}  // namespace polarway
