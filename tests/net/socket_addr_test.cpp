#include "polarway/net/socket_addr.hpp"

#include <doctest/doctest.h>

namespace pw = polarway;
using pw::net::socket_addr;

TEST_CASE("IPv4, IPv6 and localhost parse and print back") {
  auto a = socket_addr::parse("127.0.0.1:41234");
  REQUIRE(a.is_ok());
  CHECK(a->is_ipv4());
  CHECK(a->port() == 41234);
  CHECK(a->to_string() == "127.0.0.1:41234");
  auto b = socket_addr::parse("[::1]:80");
  REQUIRE(b.is_ok());
  CHECK(b->is_ipv6());
  CHECK(b->to_string() == "[::1]:80");
  CHECK(socket_addr::parse("localhost:9000")->to_string() == "127.0.0.1:9000");
  CHECK(socket_addr::parse("[2001:db8::7]:65535")->port() == 65535);
  CHECK(socket_addr::parse("0.0.0.0:0")->port() == 0);
}

TEST_CASE("malformed addresses are invalid_input errors that say why") {
  for (const char* bad : {"", ":", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80x",
                          "256.0.0.1:80", "1.2.3:80", "::1:80", "[::1]", "[::1]80", "[::1:80", "[zz::1]:80",
                          "example.com:80", "127.0.0.1:99999999999999999999", " 127.0.0.1:80"}) {
    auto r = socket_addr::parse(bad);
    CHECK_MESSAGE(r.is_err(), bad);
    if (r.is_err()) {
      CHECK(r.error() == pw::errc::invalid_input);
      CHECK(std::string(r.error().context()).find("socket_addr::parse") == 0);
    }
  }
}
