// pw::option<T>: a value or nothing, for absence that is not an error (a channel that is
// drained and closed, a join_set with no tasks left). A thin layer over std::optional that adds
// the names Tokio users know (is_some, map, filter, ok_or, unwrap). unwrap() and value() on
// none print a message and abort instead of throwing.
#pragma once

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "polarway/detail/panic.hpp"

namespace polarway {

template <class T>
class option;
template <class T, class E>
class result;
template <class E>
struct err_value;

/// The empty option: `return pw::none;`
struct none_t {
  explicit constexpr none_t(int) noexcept {}
};
inline constexpr none_t none{0};

template <class T>
constexpr option<std::decay_t<T>> some(T&& v) {
  return option<std::decay_t<T>>(std::forward<T>(v));
}

namespace detail {
template <class X>
struct is_option : std::false_type {};
template <class T>
struct is_option<option<T>> : std::true_type {};
template <class X>
inline constexpr bool is_option_v = is_option<std::remove_cvref_t<X>>::value;
}  // namespace detail

template <class T>
class [[nodiscard]] option {
  static_assert(!std::is_reference_v<T> && !std::is_void_v<T>, "option<T> needs an object type");

 public:
  using value_type = T;

  constexpr option() noexcept = default;
  constexpr option(none_t) noexcept {}
  template <class U = T>
    requires(std::is_constructible_v<T, U> && !detail::is_option_v<U> &&
             !std::is_same_v<std::remove_cvref_t<U>, none_t> &&
             !std::is_same_v<std::remove_cvref_t<U>, std::in_place_t>)
  constexpr option(U&& v) : o_(std::in_place, std::forward<U>(v)) {}
  template <class... Args>
  constexpr explicit option(std::in_place_t, Args&&... args) : o_(std::in_place, std::forward<Args>(args)...) {}

  constexpr bool is_some() const noexcept { return o_.has_value(); }
  constexpr bool is_none() const noexcept { return !o_.has_value(); }
  constexpr bool has_value() const noexcept { return o_.has_value(); }
  constexpr explicit operator bool() const noexcept { return o_.has_value(); }

  /// The value; on none, aborts with a message.
  constexpr T& value() & { return checked(*this); }
  constexpr const T& value() const& { return checked(*this); }
  constexpr T&& value() && { return std::move(checked(*this)); }
  constexpr T& unwrap() & { return checked(*this); }
  constexpr const T& unwrap() const& { return checked(*this); }
  constexpr T&& unwrap() && { return std::move(checked(*this)); }

  /// Unchecked access: the caller has tested is_some().
  constexpr T& operator*() & noexcept { return *o_; }
  constexpr const T& operator*() const& noexcept { return *o_; }
  constexpr T&& operator*() && noexcept { return std::move(*o_); }
  constexpr T* operator->() noexcept { return &*o_; }
  constexpr const T* operator->() const noexcept { return &*o_; }

  template <class U>
  constexpr T unwrap_or(U&& fallback) const& { return o_ ? *o_ : static_cast<T>(std::forward<U>(fallback)); }
  template <class U>
  constexpr T unwrap_or(U&& fallback) && { return o_ ? std::move(*o_) : static_cast<T>(std::forward<U>(fallback)); }
  template <class U>
  constexpr T value_or(U&& fallback) const& { return unwrap_or(std::forward<U>(fallback)); }
  template <class U>
  constexpr T value_or(U&& fallback) && { return std::move(*this).unwrap_or(std::forward<U>(fallback)); }

  /// f(value) -> U gives option<U>; none passes through without calling f.
  template <class F> constexpr auto map(F&& f) & { return map_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto map(F&& f) const& { return map_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto map(F&& f) && { return map_impl(std::move(*this), std::forward<F>(f)); }
  template <class F> constexpr auto transform(F&& f) & { return map_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto transform(F&& f) const& { return map_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto transform(F&& f) && { return map_impl(std::move(*this), std::forward<F>(f)); }

  /// f(value) -> option<U>; none passes through without calling f.
  template <class F> constexpr auto and_then(F&& f) & { return and_then_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto and_then(F&& f) const& { return and_then_impl(*this, std::forward<F>(f)); }
  template <class F> constexpr auto and_then(F&& f) && { return and_then_impl(std::move(*this), std::forward<F>(f)); }

  /// f() -> option<T>, called only on none.
  template <class F>
  constexpr option or_else(F&& f) const& { return o_ ? *this : std::invoke(std::forward<F>(f)); }
  template <class F>
  constexpr option or_else(F&& f) && { return o_ ? std::move(*this) : std::invoke(std::forward<F>(f)); }

  /// Keeps the value only if pred(value) holds.
  template <class P>
  constexpr option filter(P&& pred) const& { return (o_ && std::invoke(std::forward<P>(pred), *o_)) ? *this : option(); }
  template <class P>
  constexpr option filter(P&& pred) && {
    return (o_ && std::invoke(std::forward<P>(pred), std::as_const(*o_))) ? std::move(*this) : option();
  }

  /// The value as a result, or err(e) on none.
  template <class E>
  constexpr result<T, std::decay_t<E>> ok_or(E&& e) const& {
    if (o_) return result<T, std::decay_t<E>>(std::in_place, *o_);
    return err_value<std::decay_t<E>>{std::forward<E>(e)};
  }
  template <class E>
  constexpr result<T, std::decay_t<E>> ok_or(E&& e) && {
    if (o_) return result<T, std::decay_t<E>>(std::in_place, std::move(*o_));
    return err_value<std::decay_t<E>>{std::forward<E>(e)};
  }

  /// Moves the value out, leaving none.
  constexpr option take() {
    option out(std::move(*this));
    o_.reset();
    return out;
  }
  template <class... Args>
  constexpr T& emplace(Args&&... args) { return o_.emplace(std::forward<Args>(args)...); }
  constexpr void reset() noexcept { o_.reset(); }

  friend constexpr bool operator==(const option& a, const option& b) { return a.o_ == b.o_; }
  friend constexpr bool operator==(const option& a, none_t) noexcept { return !a.o_; }

 private:
  template <class Self>
  static constexpr auto& checked(Self& self) {
    if (!self.o_) [[unlikely]]
      detail::panic("called unwrap() or value() on none");
    return *self.o_;
  }
  template <class Self, class F>
  static constexpr auto map_impl(Self&& self, F&& f) {
    using U = std::remove_cv_t<std::invoke_result_t<F, decltype(*std::forward<Self>(self).o_)>>;
    if (!self.o_) return option<U>();
    return option<U>(std::in_place, std::invoke(std::forward<F>(f), *std::forward<Self>(self).o_));
  }
  template <class Self, class F>
  static constexpr auto and_then_impl(Self&& self, F&& f) {
    using R = std::remove_cvref_t<std::invoke_result_t<F, decltype(*std::forward<Self>(self).o_)>>;
    static_assert(detail::is_option_v<R>, "and_then: f must return a pw::option");
    if (!self.o_) return R();
    return std::invoke(std::forward<F>(f), *std::forward<Self>(self).o_);
  }

  std::optional<T> o_;
};

}  // namespace polarway

// ok_or() returns a result: bring its definition in for users who include only this header.
// (result.hpp includes this file first, so the pair works in either order.)
#include "polarway/result.hpp"
