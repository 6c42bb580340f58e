// A small WebSocket client for the socket tests, built from the codec and polarway's TCP
// stream: connect + handshake, send text (masked, as a client must), send raw bytes (for
// hostile frames), and read until the peer closes, returning the close code it sent.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <polarway/runtime.hpp>

#include "ticks/ws_connection.hpp"
#include "ticks/ws_handshake.hpp"
#include "ws_io.hpp"

namespace ticks::app::test {

namespace pw = polarway;

struct ws_client {
  pw::net::tcp_stream sock;
  ws::connection conn;

  pw::task<pw::result<void>> flush() {
    const auto out = conn.output();
    if (out.empty()) co_return pw::ok();
    auto w = co_await sock.write_all(out);
    if (!w) co_return pw::err(w.error());
    conn.consume_output(out.size());
    co_return pw::ok();
  }
  pw::task<pw::result<void>> send_text(std::string_view text) {
    if (!conn.send_text(text)) co_return pw::err(pw::error(pw::errc::closed, "send_text"));
    co_return co_await flush();
  }
  pw::task<pw::result<void>> send_raw(std::span<const std::byte> bytes) { co_return co_await sock.write_all(bytes); }

  /// Reads until the peer's close frame (or end of stream) and returns its code; 0 if the
  /// stream ended without one. Echoes the close as a client should.
  pw::task<std::uint16_t> read_close() {
    for (;;) {
      for (;;) {
        auto ev = conn.poll();
        if (!ev || !*ev) break;
        if ((*ev)->kind == ws::event_kind::close) {
          (void)co_await flush();
          co_return (*ev)->code;
        }
      }
      auto room = conn.read_buffer(4096);
      auto n = co_await sock.read(room);
      if (!n || *n == 0) co_return 0;
      if (!conn.commit_read(*n)) co_return 0;
    }
  }
};

inline pw::task<pw::result<ws_client, std::string>> ws_connect(pw::net::socket_addr addr, std::string target) {
  auto s = co_await pw::net::tcp_stream::connect(addr);
  if (!s) co_return pw::err("connect: " + s.error().message());
  auto hs = ws::client_handshake::create(addr.to_string(), target);
  if (!hs) co_return pw::err(hs.error().message());
  auto rest = co_await client_upgrade(*s, *hs);
  if (!rest) co_return pw::err(rest.error().message());
  auto conn = ws::connection::create(ws::role::client);
  if (!conn) co_return pw::err(conn.error().message());
  if (!rest->empty()) (void)conn->feed(*rest);
  co_return ws_client{std::move(*s), std::move(*conn)};
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
