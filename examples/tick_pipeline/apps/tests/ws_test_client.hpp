// A small WebSocket client for the socket tests, a ws_session over polarway's TCP stream:
// connect + handshake, send text (masked, as a client must), send raw bytes (for
// hostile frames), and read until the peer closes, returning the close code it sent.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <polarway/runtime.hpp>

#include "ticks/ws_connection.hpp"
#include "ticks/ws_handshake.hpp"
#include "ws_session.hpp"

namespace ticks::app::test {

namespace pw = polarway;

struct ws_client {
  ws_session<pw::net::tcp_stream> session;

  ws::connection& conn() noexcept { return session.connection(); }
  pw::task<pw::result<void>> send_text(std::string_view text) {
    if (!conn().send_text(text)) co_return pw::err(pw::error(pw::errc::closed, "send_text"));
    auto w = co_await session.flush();
    if (!w) co_return pw::err(pw::error(pw::errc::closed, "flush"));
    co_return pw::ok();
  }
  pw::task<pw::result<void>> send_raw(std::span<const std::byte> bytes) {
    co_return co_await session.transport().write_all(bytes);
  }

  /// Reads until the peer's close frame (or end of stream) and returns its code; 0 if the
  /// stream ended without one. Echoes the close as a client should.
  pw::task<std::uint16_t> read_close() {
    const pw::cancellation_token never;
    for (;;) {
      for (;;) {
        auto ev = session.next_event();
        if (!ev || !*ev) break;
        if ((*ev)->kind == ws::event_kind::close) {
          (void)co_await session.flush();
          co_return (*ev)->code;
        }
      }
      const input_wait in = co_await session.read_more(never, 0, 4096);
      if (in.end != input_end::data) co_return 0;
    }
  }
};

inline pw::task<pw::result<ws_client, std::string>> ws_connect(pw::net::socket_addr addr, std::string target) {
  auto s = co_await pw::net::tcp_stream::connect(addr);
  if (!s) co_return pw::err("connect: " + s.error().message());
  auto hs = ws::client_handshake::create(addr.to_string(), target);
  if (!hs) co_return pw::err(hs.error().message());
  // Created outside the co_await: g++ 12 mishandles temporaries in a co_await expression.
  auto connecting = connect_ws(std::move(*s), std::move(*hs), std::chrono::seconds(10), ws::connection_options{});
  auto session = co_await std::move(connecting);
  if (!session) co_return pw::err(session.error().message());
  co_return ws_client{std::move(*session)};
}

/// Everything the peer sends until it closes (bounded by `limit` bytes).
inline pw::task<std::string> read_to_end(pw::net::tcp_stream& s, std::size_t limit = 1 << 16) {
  std::string all;
  std::vector<std::byte> buf(4096);
  while (all.size() < limit) {
    auto n = co_await s.read(buf);
    if (!n || *n == 0) break;
    all.append(reinterpret_cast<const char*>(buf.data()), *n);
  }
  co_return all;
}

}  // namespace ticks::app::test
