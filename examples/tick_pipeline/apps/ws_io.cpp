#include "ws_io.hpp"

#include <array>

namespace ticks::app {

namespace pw = polarway;

std::string handshake_failure::message() const {
  switch (what) {
    case kind::io:
      return io ? io->message() : std::string("I/O error");
    case kind::eof:
      return "the peer closed the connection during the handshake";
    case kind::protocol:
      return protocol ? protocol->message() : std::string("handshake error");
  }
  return "handshake failure";
}

namespace {

template <class Handshake>
pw::task<pw::result<std::vector<std::byte>, handshake_failure>> read_head(pw::net::tcp_stream& s, Handshake& hs) {
  std::array<std::byte, 4096> buf;
  for (;;) {
    auto n = co_await s.read(buf);
    if (!n) co_return pw::err(handshake_failure{handshake_failure::kind::io, pw::none, n.error()});
    if (*n == 0) co_return pw::err(handshake_failure{handshake_failure::kind::eof, pw::none, pw::none});
    const byte_view got(buf.data(), *n);
    auto p = hs.feed(got);
    if (!p) co_return pw::err(handshake_failure{handshake_failure::kind::protocol, p.error(), pw::none});
    if (p->done) {
      const auto rest = got.subspan(p->consumed);
      co_return std::vector<std::byte>(rest.begin(), rest.end());
    }
  }
}

}  // namespace

pw::task<pw::result<std::vector<std::byte>, handshake_failure>> read_upgrade_request(pw::net::tcp_stream& s,
                                                                                    ws::server_handshake& hs) {
  co_return co_await read_head(s, hs);
}

pw::task<pw::result<std::vector<std::byte>, handshake_failure>> client_upgrade(pw::net::tcp_stream& s,
                                                                              ws::client_handshake& hs) {
  auto w = co_await s.write_all(as_bytes(hs.request()));
  if (!w) co_return pw::err(handshake_failure{handshake_failure::kind::io, pw::none, w.error()});
  co_return co_await read_head(s, hs);
}

std::string http_error_response(int status, std::string_view reason, std::string_view body) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " ";
  r += reason;
  r += "\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ";
  r += std::to_string(body.size() + 1);
  r += "\r\n\r\n";
  r += body;
  r += '\n';
  return r;
}

}  // namespace ticks::app
