// The C++ half of the python-websockets interop test (interop_test.py drives it). It speaks a
// trivial chunk protocol on stdin/stdout, 4-byte big-endian length + bytes: every chunk read is
// wire bytes from the Python peer, and every chunk written is what our side sends back. No
// sockets: both ends are sans-I/O, so this checks the bytes themselves.
//
// usage: tick_interop_peer client|server
// As a client it first writes its upgrade request. Text messages are decoded as ticks and
// answered with "ack <symbol> <price>" (or "err <message>"); binary messages are echoed.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "ticks/decoder.hpp"
#include "ticks/ws_connection.hpp"
#include "ticks/ws_handshake.hpp"

namespace ws = ticks::ws;

namespace {

bool read_chunk(std::string& out) {
  unsigned char len[4];
  if (std::fread(len, 1, 4, stdin) != 4) return false;
  const std::size_t n = std::size_t{len[0]} << 24 | std::size_t{len[1]} << 16 | std::size_t{len[2]} << 8 | len[3];
  out.resize(n);
  return n == 0 || std::fread(out.data(), 1, n, stdin) == n;
}

void write_chunk(std::string_view bytes) {
  const unsigned char len[4] = {
      static_cast<unsigned char>(bytes.size() >> 24), static_cast<unsigned char>(bytes.size() >> 16),
      static_cast<unsigned char>(bytes.size() >> 8), static_cast<unsigned char>(bytes.size())};
  std::fwrite(len, 1, 4, stdout);
  std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  std::fflush(stdout);
}

int fail(const std::string& why) {
  std::fprintf(stderr, "interop_peer: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return fail("usage: tick_interop_peer client|server");
  const bool client = std::string_view(argv[1]) == "client";

  polarway::option<ws::client_handshake> chs;
  ws::server_handshake shs;
  if (client) {
    auto hs = ws::client_handshake::create("localhost:9000", "/ws/btcusdt@trade");
    if (!hs) return fail(hs.error().message());
    write_chunk(hs->request());
    chs = std::move(*hs);
  }
  auto conn = ws::connection::create(client ? ws::role::client : ws::role::server).value();
  ticks::decoder decoder;
  bool upgraded = false;

  std::string chunk;
  while (read_chunk(chunk)) {
    std::string out;
    ticks::byte_view bytes = ticks::as_bytes(chunk);
    if (!upgraded) {
      auto p = client ? chs->feed(bytes) : shs.feed(bytes);
      if (!client) out += shs.response();
      if (!p) {
        write_chunk(out);
        return fail(p.error().message());
      }
      bytes = bytes.subspan(p->consumed);
      upgraded = p->done;
    }
    if (upgraded) {
      if (auto fed = conn.feed(bytes); !fed) return fail(fed.error().message());
      while (true) {
        auto ev = conn.poll();
        if (!ev) {
          std::fprintf(stderr, "interop_peer: %s\n", ev.error().message().c_str());
          break;
        }
        if (!*ev) break;
        const auto& e = **ev;
        if (e.kind == ws::event_kind::text) {
          auto r = decoder.decode(e.text(), e.padding);
          std::string reply;
          if (r) {
            const auto& sym = ticks::symbol_of(r->tick);
            const auto* t = std::get_if<ticks::trade>(&r->tick);
            reply = "ack " + std::string(sym.view()) + " " + (t ? t->price.to_string() : std::string("-"));
          } else {
            reply = "err " + r.error().message();
          }
          (void)conn.send_text(reply);
        } else if (e.kind == ws::event_kind::binary) {
          (void)conn.send_binary(e.payload);
        }
      }
      const auto o = conn.take_output();
      out.append(ticks::as_chars(o));
    }
    write_chunk(out);
  }
  return 0;
}
