#include "polarway/option.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "support/death.hpp"

namespace pw = polarway;

namespace {

struct int_case {
  using T = int;
  static std::vector<pw::option<T>> samples() { return {pw::some(0), pw::some(5), pw::some(-3), pw::none}; }
  static T f(T x) { return x + 4; }
  static T g(T x) { return x * x; }
  static pw::option<T> k1(T x) { return x > 0 ? pw::option<T>(x - 1) : pw::none; }
  static pw::option<T> k2(T x) { return x % 2 == 0 ? pw::option<T>(x / 2) : pw::none; }
};

struct string_case {
  using T = std::string;
  static std::vector<pw::option<T>> samples() { return {pw::some(std::string()), pw::some(std::string("ab")), pw::none}; }
  static T f(T x) { return x + "c"; }
  static T g(T x) { return x + x; }
  static pw::option<T> k1(T x) { return x.empty() ? pw::option<T>() : pw::option<T>(x.substr(1)); }
  static pw::option<T> k2(T x) { return x.size() < 3 ? pw::option<T>(x + "z") : pw::none; }
};

}  // namespace

TEST_CASE_TEMPLATE("option obeys the functor laws", C, int_case, string_case) {
  using T = typename C::T;
  for (const auto& m : C::samples()) {
    CHECK(m.map([](const T& x) { return x; }) == m);
    CHECK(m.map([](const T& x) { return C::g(C::f(x)); }) == m.map(C::f).map(C::g));
  }
}

TEST_CASE_TEMPLATE("option obeys the monad laws", C, int_case, string_case) {
  using T = typename C::T;
  auto unit = [](const T& x) { return pw::some(x); };
  for (const auto& m : C::samples()) {
    if (m) CHECK(unit(*m).and_then(C::k1) == C::k1(*m));  // left identity
    CHECK(m.and_then(unit) == m);                          // right identity
    CHECK(m.and_then(C::k1).and_then(C::k2) ==
          m.and_then([](const T& x) { return C::k1(x).and_then(C::k2); }));  // associativity
  }
}

TEST_CASE("option short-circuits on none") {
  int calls = 0;
  pw::option<int> n = pw::none;
  auto out = n.map([&](int x) {
                ++calls;
                return x;
              })
                 .and_then([&](int x) -> pw::option<int> {
                   ++calls;
                   return x;
                 })
                 .filter([&](int) {
                   ++calls;
                   return true;
                 });
  CHECK(calls == 0);
  CHECK(out.is_none());
  CHECK(pw::some(3).or_else([&] {
                     ++calls;
                     return pw::option<int>(9);
                   }) == pw::some(3));
  CHECK(calls == 0);
  CHECK(n.or_else([] { return pw::option<int>(9); }) == pw::some(9));
}

TEST_CASE("filter, unwrap_or, ok_or, take") {
  CHECK(pw::some(4).filter([](int x) { return x % 2 == 0; }) == pw::some(4));
  CHECK(pw::some(5).filter([](int x) { return x % 2 == 0; }).is_none());
  CHECK(pw::option<int>().unwrap_or(8) == 8);
  CHECK(pw::some(1).unwrap_or(8) == 1);
  const pw::result<int> r = pw::option<int>().ok_or(pw::error(pw::errc::closed, "recv"));
  CHECK(r.error() == pw::errc::closed);
  CHECK(*pw::some(6).ok_or(pw::error()) == 6);
  pw::option<std::string> s = std::string("v");
  auto t = s.take();
  CHECK(s.is_none());
  CHECK(*t == "v");
  CHECK(t == pw::some(std::string("v")));
  CHECK(s == pw::none);
}

TEST_CASE("move-only values") {
  pw::option<std::unique_ptr<int>> p = std::make_unique<int>(3);
  auto q = std::move(p).map([](std::unique_ptr<int> x) { return *x + 1; });
  CHECK(q == pw::some(4));
  pw::option<std::unique_ptr<int>> p2 = std::make_unique<int>(5);
  std::unique_ptr<int> got = std::move(p2).unwrap();
  CHECK(*got == 5);
}

TEST_CASE("option in constant expressions") {
  constexpr auto o = pw::some(20).map([](int x) { return x + 1; }).and_then([](int x) { return pw::some(x * 2); });
  static_assert(*o == 42);
  CHECK(*o == 42);
}

TEST_CASE("unwrap on none aborts with a message") {
  const auto d = pw_test::run_in_child([] {
    pw::option<int> n;
    (void)n.unwrap();
  });
  CHECK(d.aborted);
  CHECK(d.stderr_text.find("none") != std::string::npos);
}
