#include "polarway/result.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "support/death.hpp"

namespace pw = polarway;

#ifdef POLARWAY_TEST_EXPECT_STD_EXPECTED
static_assert(pw::detail::uses_std_expected, "this build should sit on std::expected");
#endif

namespace {

enum class parse_failure { empty = 1, overflow };

// Each case names a value type and an error type, a few sample values of each, and three
// functions over values (f, g: T -> T, and a Kleisli arrow k: T -> result<T, E>) for the laws.
struct int_case {
  using T = int;
  using E = pw::error;
  static std::vector<T> values() { return {0, 1, -7, 1 << 20}; }
  static std::vector<E> errors() { return {pw::error(pw::errc::closed, "a"), pw::error(std::errc::io_error, "b")}; }
  static T f(T x) { return x * 3; }
  static T g(T x) { return x - 11; }
  static pw::result<T, E> k1(T x) {
    if (x < 0) return pw::err(pw::error(std::errc::invalid_argument, "k1"));
    return x / 2;
  }
  static pw::result<T, E> k2(T x) {
    if (x % 2 != 0) return pw::err(pw::error(std::errc::result_out_of_range, "k2"));
    return x + 1;
  }
};

struct string_case {
  using T = std::string;
  using E = std::string;
  static std::vector<T> values() { return {"", "tick", std::string(100, 'x')}; }
  static std::vector<E> errors() { return {"bad", ""}; }
  static T f(T x) { return x + "!"; }
  static T g(T x) { return "<" + x + ">"; }
  static pw::result<T, E> k1(T x) {
    if (x.empty()) return pw::err(std::string("empty"));
    return x.substr(1);
  }
  static pw::result<T, E> k2(T x) {
    if (x.size() > 50) return pw::err(std::string("long"));
    return x + x;
  }
};

struct vector_case {
  using T = std::vector<int>;
  using E = parse_failure;
  static std::vector<T> values() { return {{}, {1}, {1, 2, 3}}; }
  static std::vector<E> errors() { return {parse_failure::empty, parse_failure::overflow}; }
  static T f(T x) {
    x.push_back(9);
    return x;
  }
  static T g(T x) {
    for (int& v : x) v *= 2;
    return x;
  }
  static pw::result<T, E> k1(T x) {
    if (x.empty()) return pw::err(parse_failure::empty);
    x.pop_back();
    return x;
  }
  static pw::result<T, E> k2(T x) {
    if (x.size() > 1) return pw::err(parse_failure::overflow);
    x.push_back(4);
    return x;
  }
};

template <class C>
std::vector<pw::result<typename C::T, typename C::E>> samples() {
  std::vector<pw::result<typename C::T, typename C::E>> out;
  for (auto& v : C::values()) out.emplace_back(pw::ok(v));
  for (auto& e : C::errors()) out.emplace_back(pw::err(e));
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE("result obeys the functor laws", C, int_case, string_case, vector_case) {
  using T = typename C::T;
  for (const auto& m : samples<C>()) {
    CHECK(m.map([](const T& x) { return x; }) == m);                                         // identity
    CHECK(m.map([](const T& x) { return C::g(C::f(x)); }) == m.map(C::f).map(C::g));         // composition
    CHECK(m.transform(C::f) == m.map(C::f));
  }
}

TEST_CASE_TEMPLATE("result obeys the monad laws", C, int_case, string_case, vector_case) {
  using T = typename C::T;
  using E = typename C::E;
  auto unit = [](const T& x) { return pw::result<T, E>(pw::ok(x)); };
  for (const auto& a : C::values()) {
    CHECK(unit(a).and_then(C::k1) == C::k1(a));  // left identity
  }
  for (const auto& m : samples<C>()) {
    CHECK(m.and_then(unit) == m);  // right identity
    CHECK(m.and_then(C::k1).and_then(C::k2) ==
          m.and_then([](const T& x) { return C::k1(x).and_then(C::k2); }));  // associativity
  }
}

TEST_CASE_TEMPLATE("the error side obeys the same laws", C, int_case, string_case, vector_case) {
  using T = typename C::T;
  using E = typename C::E;
  auto unit_err = [](const E& e) { return pw::result<T, E>(pw::err(e)); };
  auto recover = [](const E&) { return pw::result<T, E>(pw::ok(C::values().back())); };
  for (const auto& m : samples<C>()) {
    CHECK(m.map_err([](const E& e) { return e; }) == m);
    CHECK(m.or_else(unit_err) == m);
    CHECK(m.or_else(recover).is_ok());
  }
  for (const auto& e : C::errors()) CHECK(unit_err(e).or_else(recover) == recover(e));
}

TEST_CASE("monadic members never call f on the other alternative") {
  int calls = 0;
  auto count = [&calls](int x) {
    ++calls;
    return x;
  };
  auto count_r = [&calls](int x) -> pw::result<int> {
    ++calls;
    return x;
  };
  auto count_e = [&calls](const pw::error& e) {
    ++calls;
    return e;
  };
  pw::result<int> bad = pw::err(pw::error(pw::errc::closed, "x"));
  const auto out = bad.map(count).and_then(count_r).map(count).and_then(count_r);
  CHECK(calls == 0);
  CHECK(out.is_err());
  CHECK(out.error() == pw::errc::closed);

  pw::result<int> good = 5;
  auto kept = good.map_err(count_e).or_else([&](const pw::error&) -> pw::result<int> {
    ++calls;
    return 0;
  });
  CHECK(calls == 0);
  CHECK(*kept == 5);
}

TEST_CASE("result<void> works as ok-or-error") {
  pw::result<void> fine = pw::ok();
  pw::result<void> broken = pw::err(pw::error(std::errc::broken_pipe, "write"));
  CHECK(fine.is_ok());
  CHECK(broken.is_err());
  int ran = 0;
  CHECK(fine.and_then([&]() -> pw::result<void> {
              ++ran;
              return pw::ok();
            }).is_ok());
  CHECK(broken.and_then([&]() -> pw::result<void> {
                ++ran;
                return pw::ok();
              }).is_err());
  CHECK(ran == 1);
  const pw::result<int> n = fine.map([] { return 42; });
  CHECK(n.value() == 42);
  CHECK(broken.map([] { return 42; }).error() == std::errc::broken_pipe);
  pw::result<void> via_map = pw::result<int>(3).map([](int) {});
  CHECK(via_map.is_ok());
  CHECK(fine == pw::result<void>(pw::ok()));
  CHECK_FALSE(fine == broken);
}

TEST_CASE("move-only payloads move through the chain") {
  pw::result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  auto doubled = std::move(r).map([](std::unique_ptr<int> p) {
    *p *= 2;
    return p;
  });
  REQUIRE(doubled.is_ok());
  CHECK(**doubled == 14);
  std::unique_ptr<int> taken = std::move(doubled).unwrap();
  CHECK(*taken == 14);

  pw::result<int, std::unique_ptr<std::string>> e = pw::err(std::make_unique<std::string>("why"));
  auto described = std::move(e).map_err([](std::unique_ptr<std::string> s) { return *s + "?"; });
  CHECK(described.error() == "why?");
}

TEST_CASE("accessors and conversions") {
  pw::result<std::string> r = std::string("abc");
  CHECK(r->size() == 3);
  CHECK(r.unwrap_or("zz") == "abc");
  pw::result<std::string> e = pw::err(pw::error(pw::errc::closed, "x"));
  CHECK(e.unwrap_or("zz") == "zz");
  CHECK(e.value_or("yy") == "yy");
  CHECK(r.ok() == pw::some(std::string("abc")));
  CHECK(e.ok().is_none());
  CHECK(static_cast<bool>(r));
  CHECK_FALSE(static_cast<bool>(e));
  pw::result<int> copy_src = 4;
  pw::result<int> copy = copy_src;
  copy = pw::err(pw::error(pw::errc::cancelled));
  CHECK(copy.is_err());
  copy = copy_src;
  CHECK(*copy == 4);
}

TEST_CASE("result is usable in constant expressions") {
  constexpr auto r = pw::result<int, int>(pw::ok(20)).map([](int x) { return x + 1; }).and_then([](int x) {
    return pw::result<int, int>(x * 2);
  });
  static_assert(*r == 42);
  constexpr auto e = pw::result<int, int>(pw::err(3)).map([](int x) { return x + 1; });
  static_assert(e.error() == 3);
  CHECK(*r == 42);
}

TEST_CASE("unwrap on an error aborts and prints the error") {
  const auto d = pw_test::run_in_child([] {
    pw::result<int> r = pw::err(pw::error::from_errno(ECONNRESET, "tcp_stream::read"));
    (void)r.unwrap();
  });
  CHECK(d.aborted);
  CHECK(d.stderr_text.find("tcp_stream::read") != std::string::npos);
  CHECK(d.stderr_text.find(std::generic_category().message(ECONNRESET)) != std::string::npos);

  const auto d2 = pw_test::run_in_child([] {
    pw::result<int, parse_failure> r = pw::err(parse_failure::overflow);
    (void)r.value();
  });
  CHECK(d2.aborted);
  CHECK(d2.stderr_text.find("unwrap") != std::string::npos);

  const auto alive = pw_test::run_in_child([] {
    pw::result<int> r = 1;
    (void)r.unwrap();
  });
  CHECK_FALSE(alive.aborted);
}
