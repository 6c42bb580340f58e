// libFuzzer target: untrusted bytes -> (optional server handshake) -> server connection ->
// messages -> decoder, the path every byte from a feed takes. The first input byte picks the
// options (handshake or not, raw or combined decoding, the kind hint, how the bytes are split
// into reads); the rest is the wire.
//
// Besides the sanitizers' checks it asserts the codec's own promises: an error is sticky and
// leaves the connection closed, text events are valid UTF-8, events carry their padding,
// decoded prices print and re-parse to the same value, and memory stays within the configured
// bounds. It polls and decodes as polarway-ingest does (poll_ref, decode_into one reused
// decoded), and holds every result to what decode() gives on a fresh one.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "ticks/decoder.hpp"
#include "ticks/utf8.hpp"
#include "ticks/ws_connection.hpp"
#include "ticks/ws_handshake.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_tick(const ticks::tick& t) {
  std::visit(
      [](const auto& v) {
        check(!v.symbol.empty());
        check(ticks::symbol::parse(v.symbol.view()).is_ok());
      },
      t);
  const auto round_trips = [](ticks::price p) {
    auto again = ticks::parse_decimal<ticks::price::scale>(p.to_string());
    check(again.is_ok() && *again == p);
  };
  if (const auto* tr = std::get_if<ticks::trade>(&t)) {
    round_trips(tr->price);
    round_trips(tr->quantity);
  } else if (const auto* bt = std::get_if<ticks::book_ticker>(&t)) {
    round_trips(bt->bid_price);
    round_trips(bt->ask_quantity);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  ticks::byte_view wire{reinterpret_cast<const std::byte*>(data + 1), size - 1};

  const bool handshake_first = mode & 1;
  const bool combined = mode & 2;
  const int kind_hint = (mode >> 2) & 3;  // 0: infer, 1..3: trade, aggTrade, bookTicker
  const std::size_t read_size = 1 + static_cast<std::size_t>(mode >> 4) * 61;

  namespace ws = ticks::ws;
  ticks::decoder_options dopt{
      .format = combined ? ticks::stream_format::combined : ticks::stream_format::raw,
      .kind = kind_hint == 0 ? polarway::option<ticks::message_kind>()
                             : polarway::option<ticks::message_kind>(static_cast<ticks::message_kind>(kind_hint - 1)),
      .max_message_size = 1 << 16};
  ticks::decoder decoder(dopt);
  ticks::decoder reference(dopt);  // decode() into a fresh result, message by message
  ticks::decoded reused;
  const ws::connection_options copt{
      .max_message_size = 1 << 16, .message_padding = 64, .max_buffered_input = 1 << 20, .max_pending_output = 1 << 12};
  auto conn = ws::connection::create(ws::role::server, copt).value();
  ws::server_handshake hs(ws::handshake_options{.max_head_size = 1024});

  bool failed = false;
  while (!wire.empty() && !failed) {
    auto piece = wire.first(std::min(read_size, wire.size()));
    wire = wire.subspan(piece.size());
    if (handshake_first && !hs.done()) {
      auto p = hs.feed(piece);
      if (!p) {
        check(!hs.response().empty());
        return 0;
      }
      piece = piece.subspan(p->consumed);
      if (!p->done) continue;
      check(hs.response().starts_with("HTTP/1.1 101 "));
    }
    check(conn.feed(piece).is_ok());
    while (true) {
      auto ev = conn.poll_ref();
      if (!ev) {
        failed = true;
        check(conn.is_closed());
        check(conn.poll().error() == ev.error());
        check(conn.poll_ref().error() == ev.error());
        break;
      }
      if (!*ev) break;
      const auto& e = **ev;
      check(e.padding >= 64);
      if (e.kind == ws::event_kind::text) check(ticks::is_valid_utf8(e.payload));
      if (e.kind != ws::event_kind::text && e.kind != ws::event_kind::binary) continue;
      check(e.payload.size() <= copt.max_message_size);
      auto r = decoder.decode_into(e.text(), e.padding, reused);
      auto fresh = reference.decode(e.text(), e.padding);
      check(r.is_ok() == fresh.is_ok());
      if (r) {
        check(reused.tick == fresh->tick && reused.stream == fresh->stream);
        check_tick(reused.tick);
      } else {
        check(r.error().message() == fresh.error().message());
      }
    }
    // Pretend the socket took everything, as a writer task would.
    check(conn.output().size() <= copt.max_pending_output + 256);
    conn.consume_output(conn.output().size());
  }
  return 0;
}
