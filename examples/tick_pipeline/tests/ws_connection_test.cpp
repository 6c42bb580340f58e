#include "ticks/ws_connection.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "ws_test_support.hpp"

namespace pw = polarway;
namespace ws = ticks::ws;
using ticks::as_bytes;
using ws::event_kind;
using ws::violation;
using ws::ws_errc;

namespace {

ws::connection make(ws::role r, ws::connection_options o = {}) { return ws::connection::create(r, o).value(); }

// Moves everything `from` wrote into `to` and collects `to`'s events.
test::drive_result pump(ws::connection& from, ws::connection& to) {
  const auto bytes = from.take_output();
  return test::drive(to, ticks::as_chars(bytes));
}

// The single close frame a connection wrote.
std::pair<std::uint16_t, std::string> sent_close(ws::connection& c) {
  const auto out = c.take_output();
  const auto frames = test::parse_frames(out);
  REQUIRE(frames.size() >= 1);
  CHECK(frames.back().opcode == 0x8);
  return test::close_payload(frames.back());
}

// Feeds hostile bytes to a fresh server one byte at a time and returns the error, checking
// that it is sticky and that exactly one close frame with the expected code went out.
ws::ws_error server_rejects(std::string_view bytes, std::uint16_t expected_close, ws::connection_options o = {}) {
  auto s = make(ws::role::server, o);
  auto r = test::drive_bytewise(s, bytes);
  REQUIRE(r.error.is_some());
  CHECK(r.error->close_code == expected_close);
  CHECK(s.is_closed());
  CHECK(s.poll().error() == *r.error);  // sticky
  CHECK(sent_close(s).first == expected_close);
  CHECK(s.feed(as_bytes("\x81\x80")).is_ok());  // more input is harmless
  CHECK(s.poll().error() == *r.error);
  return *r.error;
}

}  // namespace

TEST_CASE("client and server exchange text and binary messages") {
  auto c = make(ws::role::client);
  auto s = make(ws::role::server);
  REQUIRE(c.send_text("hello").is_ok());
  REQUIRE(c.send_binary(as_bytes(std::string("\x00\x01\xFF", 3))).is_ok());
  // What the client wrote is masked.
  for (const auto& f : test::parse_frames(c.output())) CHECK(f.masked);
  auto got = pump(c, s);
  CHECK_FALSE(got.error);
  REQUIRE(got.events.size() == 2);
  CHECK(got.events[0].kind == event_kind::text);
  CHECK(got.events[0].payload == "hello");
  CHECK(got.events[1].kind == event_kind::binary);
  CHECK(got.events[1].payload == std::string("\x00\x01\xFF", 3));

  REQUIRE(s.send_text(R"({"e":"trade"})").is_ok());
  for (const auto& f : test::parse_frames(s.output())) CHECK_FALSE(f.masked);
  auto back = pump(s, c);
  REQUIRE(back.events.size() == 1);
  CHECK(back.events[0].payload == R"({"e":"trade"})");
}

TEST_CASE("messages of every length encoding arrive intact, with padding") {
  auto c = make(ws::role::client);
  auto s = make(ws::role::server);
  for (std::size_t len : {0u, 1u, 125u, 126u, 127u, 65535u, 65536u, 300000u}) {
    std::string msg(len, 'x');
    for (std::size_t i = 0; i < len; ++i) msg[i] = static_cast<char>('a' + i % 26);
    REQUIRE(s.send_text(msg).is_ok());
    REQUIRE(c.feed(s.output()).is_ok());
    s.consume_output(s.output().size());
    auto ev = c.poll();
    REQUIRE(ev.is_ok());
    REQUIRE(ev->is_some());
    CHECK((*ev)->text() == msg);
    CHECK((*ev)->padding >= 64);
    CHECK((*ev)->payload.data() != nullptr);
    CHECK(c.poll().value().is_none());
  }
}

// A server frames its data messages itself (not through wslay's queue): the header bytes must
// be exactly RFC 6455's, with the shortest length encoding, and the order with the control
// frames wslay writes (pong, close) must hold.
TEST_CASE("a server's data frames: exact headers, and in order with pongs and the close") {
  auto s = make(ws::role::server);
  const std::pair<std::size_t, std::string> cases[] = {
      {0, std::string("\x81\x00", 2)},
      {125, "\x81\x7d"},
      {126, std::string("\x81\x7e\x00\x7e", 4)},
      {65535, "\x81\x7e\xff\xff"},
      {65536, std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10)},
  };
  for (const auto& c : cases) {
    const std::size_t len = c.first;  // not a structured binding: clang 14's CAPTURE cannot take one
    const std::string& header = c.second;
    CAPTURE(len);
    REQUIRE(s.send_text(std::string(len, 'a')).is_ok());
    const auto out = ticks::as_chars(s.output());
    REQUIRE(out.size() == header.size() + len);
    CHECK(out.substr(0, header.size()) == header);
    s.consume_output(out.size());
  }
  REQUIRE(s.send_binary(as_bytes(std::string("\x00\xff", 2))).is_ok());
  CHECK(ticks::as_chars(s.output()) == std::string("\x82\x02\x00\xff", 4));
  s.consume_output(s.output().size());

  // A ping from the client: its pong goes out before the message sent after it.
  auto c = make(ws::role::client);
  REQUIRE(c.send_ping(as_bytes("p1")).is_ok());
  auto got = pump(c, s);
  REQUIRE(got.events.size() == 1);
  REQUIRE(s.send_text("after the ping").is_ok());
  REQUIRE(s.close(ws::close_code::normal).is_ok());
  CHECK(s.send_text("after the close").error().code == ws_errc::closed);
  const auto frames = test::parse_frames(s.output());
  REQUIRE(frames.size() == 3);
  CHECK(frames[0].opcode == 0xA);  // pong
  CHECK(frames[0].payload == "p1");
  CHECK(frames[1].opcode == 0x1);
  CHECK(frames[1].payload == "after the ping");
  CHECK(frames[2].opcode == 0x8);
}

// Whole frames already in the input are unmasked and lent out in place, without wslay; frames
// that arrive in pieces, fragments and control frames go through wslay. Both must agree.
TEST_CASE("whole and partial frames give the same messages, every mask offset and length") {
  std::string wire;
  std::vector<std::string> expected;
  for (std::size_t len : {0u, 1u, 3u, 7u, 8u, 9u, 15u, 17u, 125u, 126u, 1001u}) {
    std::string msg(len, ' ');
    for (std::size_t i = 0; i < len; ++i) msg[i] = static_cast<char>('!' + (i * 7 + len) % 90);
    wire += test::build_frame({.opcode = 0x1, .key = {0x01, 0x80, 0xFF, static_cast<std::uint8_t>(len)}, .payload = msg});
    expected.push_back(msg);
    if (len == 9) {  // a fragmented message with a ping inside, between whole frames
      wire += test::client_text("frag", false, 0x1) + test::build_frame({.opcode = 0x9, .payload = "p"}) +
              test::client_text("mented", true, 0x0);
      expected.push_back("p");
      expected.push_back("fragmented");
    }
  }
  for (auto mode : {0, 1}) {
    auto srv = make(ws::role::server);
    auto r = mode == 0 ? test::drive(srv, wire) : test::drive_bytewise(srv, wire);
    CHECK_FALSE(r.error);
    REQUIRE(r.events.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(r.events[i].payload == expected[i]);
  }
}

TEST_CASE("fragmented messages are reassembled, with control frames in between") {
  auto s = make(ws::role::server);
  const std::string wire = test::client_text("{\"e\":", false, 0x1) +
                           test::build_frame({.opcode = 0x9, .payload = "mid"}) +  // ping between fragments
                           test::client_text("\"trade\"", false, 0x0) + test::client_text("}", true, 0x0) +
                           test::build_frame({.fin = false, .opcode = 0x2, .payload = "ab"}) +
                           test::build_frame({.opcode = 0x0, .payload = ""});  // empty final fragment
  for (auto mode : {0, 1}) {
    auto srv = make(ws::role::server);
    auto r = mode == 0 ? test::drive(srv, wire) : test::drive_bytewise(srv, wire);
    CHECK_FALSE(r.error);
    REQUIRE(r.events.size() == 3);
    CHECK(r.events[0].kind == event_kind::ping);
    CHECK(r.events[0].payload == "mid");
    CHECK(r.events[1].kind == event_kind::text);
    CHECK(r.events[1].payload == "{\"e\":\"trade\"}");
    CHECK(r.events[2].kind == event_kind::binary);
    CHECK(r.events[2].payload == "ab");
    // The ping was answered while the message was still incomplete.
    const auto out = srv.take_output();
    const auto frames = test::parse_frames(out);
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].opcode == 0xA);
    CHECK(frames[0].payload == "mid");
  }
  (void)s;
}

TEST_CASE("a ping is answered with a pong right away") {
  auto c = make(ws::role::client);
  auto s = make(ws::role::server);
  REQUIRE(s.send_ping(as_bytes("42")).is_ok());
  REQUIRE(c.feed(s.output()).is_ok());
  s.consume_output(s.output().size());
  auto ev = c.poll().value();
  REQUIRE(ev.is_some());
  CHECK(ev->kind == event_kind::ping);
  CHECK(ev->text() == "42");
  // The pong is already waiting when poll() hands out the ping.
  const auto frames = test::parse_frames(c.output());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].opcode == 0xA);
  CHECK(frames[0].masked);
  CHECK(frames[0].payload == "42");
  auto back = pump(c, s);
  REQUIRE(back.events.size() == 1);
  CHECK(back.events[0].kind == event_kind::pong);
  CHECK(back.events[0].payload == "42");

  CHECK(c.send_ping(as_bytes(std::string(126, 'p'))).error().code == ws_errc::invalid_argument);
  CHECK(c.send_pong(as_bytes("unsolicited")).is_ok());
}

TEST_CASE("the close handshake, started by either side, with code and reason") {
  for (auto starter : {ws::role::client, ws::role::server}) {
    auto c = make(ws::role::client);
    auto s = make(ws::role::server);
    auto& a = starter == ws::role::client ? c : s;
    auto& b = starter == ws::role::client ? s : c;
    REQUIRE(a.close(ws::close_code::going_away, "bye").is_ok());
    CHECK(a.close_sent());
    CHECK_FALSE(a.is_closed());
    CHECK(a.send_text("late").error().code == ws_errc::closed);
    CHECK(a.close().error().code == ws_errc::closed);

    auto at_b = pump(a, b);
    REQUIRE(at_b.events.size() == 1);
    CHECK(at_b.events[0].kind == event_kind::close);
    CHECK(at_b.events[0].code == 1001);
    CHECK(at_b.events[0].payload == "bye");
    CHECK(b.close_received());
    CHECK(b.close_sent());  // echoed automatically
    CHECK(b.is_closed());
    CHECK_FALSE(b.error());

    auto at_a = pump(b, a);
    REQUIRE(at_a.events.size() == 1);
    CHECK(at_a.events[0].code == 1001);
    CHECK(a.is_closed());
    CHECK(a.poll().value().is_none());
  }
}

TEST_CASE("a close without a code reports 1005") {
  auto s = make(ws::role::server);
  auto r = test::drive(s, test::build_frame({.opcode = 0x8, .payload = ""}));
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].code == ws::close_code::no_status);
  CHECK(s.is_closed());
}

TEST_CASE("close codes we may not send are refused") {
  auto c = make(ws::role::client);
  CHECK(c.close(1005).error().code == ws_errc::invalid_argument);
  CHECK(c.close(999).error().code == ws_errc::invalid_argument);
  CHECK(c.close(0, "reason without code").error().code == ws_errc::invalid_argument);
  CHECK(c.close(1000, std::string(124, 'r')).error().code == ws_errc::invalid_argument);
  CHECK(c.close(1000, "\xFF").error().code == ws_errc::invalid_utf8);
  CHECK(c.send_text("\xC0\x80").error().code == ws_errc::invalid_utf8);
  CHECK(c.close(4000, "custom").is_ok());
}

TEST_CASE("hostile input: each violation closes with its code and a typed error") {
  SUBCASE("unmasked client frame -> 1002") {
    auto e = server_rejects(test::build_frame({.mask = false, .payload = "hi"}), 1002);
    CHECK(e.code == ws_errc::protocol_error);
    CHECK(e.what == violation::unmasked_frame);
  }
  SUBCASE("reserved bits -> 1002") {
    for (std::uint8_t rsv : {1, 2, 4, 7}) {
      auto e = server_rejects(test::build_frame({.rsv = rsv, .payload = "hi"}), 1002);
      CHECK(e.what == violation::reserved_bits);
    }
  }
  SUBCASE("unknown opcodes -> 1002") {
    for (std::uint8_t op : {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
      auto e = server_rejects(test::build_frame({.opcode = op, .payload = "x"}), 1002);
      CHECK(e.what == violation::unknown_opcode);
    }
  }
  SUBCASE("invalid UTF-8 text -> 1007, also when split across fragments") {
    auto e = server_rejects(test::client_text("bad \xC0\x80 text"), 1007);
    CHECK(e.code == ws_errc::invalid_utf8);
    // A 2-byte sequence split between fragments is fine; a truncated one at the end is not.
    auto s = make(ws::role::server);
    auto ok = test::drive(s, test::client_text("\xC3", false) + test::client_text("\xA9", true, 0));
    CHECK_FALSE(ok.error);
    REQUIRE(ok.events.size() == 1);
    CHECK(ok.events[0].payload == "\xC3\xA9");
    CHECK(server_rejects(test::client_text("ok\xE2\x82"), 1007).code == ws_errc::invalid_utf8);
    CHECK(server_rejects(test::client_text("\xED\xA0\x80"), 1007).code == ws_errc::invalid_utf8);  // surrogate
  }
  SUBCASE("oversized message -> 1009, single frame or summed fragments") {
    ws::connection_options small{.max_message_size = 1000};
    auto e = server_rejects(test::client_text(std::string(1001, 'a')), 1009, small);
    CHECK(e.code == ws_errc::message_too_big);
    std::string frags;
    for (int i = 0; i < 4; ++i) frags += test::client_text(std::string(300, 'a'), i == 3, i == 0 ? 1 : 0);
    CHECK(server_rejects(frags, 1009, small).code == ws_errc::message_too_big);
    // Exactly the limit is fine.
    auto s = make(ws::role::server, small);
    auto r = test::drive(s, test::client_text(std::string(1000, 'a')));
    CHECK_FALSE(r.error);
    CHECK(r.events.size() == 1);
  }
  SUBCASE("a huge declared length is refused from the header, before any payload") {
    auto s = make(ws::role::server);
    auto r = test::drive_bytewise(s, test::build_frame({.payload = "", .declared_length = 1ull << 40}));
    REQUIRE(r.error);
    CHECK(r.error->code == ws_errc::message_too_big);
    CHECK(r.error_at == 2 + 8);  // decided once the 64-bit length was in
    CHECK(server_rejects(test::build_frame({.payload = "", .declared_length = 1ull << 63}), 1002).what ==
          violation::length_high_bit);
  }
  SUBCASE("control frames: too long, fragmented, malformed close") {
    CHECK(server_rejects(test::build_frame({.opcode = 0x9, .payload = std::string(126, 'p')}), 1002).what ==
          violation::control_too_long);
    CHECK(server_rejects(test::build_frame({.fin = false, .opcode = 0x9, .payload = "p"}), 1002).what ==
          violation::fragmented_control);
    CHECK(server_rejects(test::build_frame({.opcode = 0x8, .payload = "x"}), 1002).what ==
          violation::bad_close_payload);
    CHECK(server_rejects(test::build_frame({.opcode = 0x8, .payload = std::string("\x03\xE7", 2)}), 1002).what ==
          violation::bad_close_payload);  // code 999
    CHECK(server_rejects(test::build_frame({.opcode = 0x8, .payload = std::string("\x03\xED", 2)}), 1002).what ==
          violation::bad_close_payload);  // 1005 may not be sent
    CHECK(server_rejects(test::build_frame({.opcode = 0x8, .payload = std::string("\x03\xE8\xFF", 3)}), 1007).code ==
          ws_errc::invalid_utf8);
  }
  SUBCASE("fragmentation order") {
    CHECK(server_rejects(test::client_text("orphan", true, 0x0), 1002).what == violation::unexpected_continuation);
    CHECK(server_rejects(test::client_text("a", false) + test::client_text("b"), 1002).what ==
          violation::expected_continuation);
  }
  SUBCASE("non-minimal length encodings") {
    CHECK(server_rejects(test::build_frame({.payload = "short", .length_form = 126}), 1002).what ==
          violation::non_minimal_length);
    CHECK(server_rejects(test::build_frame({.payload = "short", .length_form = 127}), 1002).what ==
          violation::non_minimal_length);
  }
  SUBCASE("a client refuses masked server frames") {
    auto c = make(ws::role::client);
    auto r = test::drive_bytewise(c, test::build_frame({.mask = true, .payload = "x"}));
    REQUIRE(r.error);
    CHECK(r.error->what == violation::masked_frame);
    const auto frames = test::parse_frames(c.output());
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].masked);  // the client's own close is masked
    CHECK(test::close_payload(frames[0]).first == 1002);
  }
}

TEST_CASE("check_text_utf8 off: the consumer's fail_invalid_utf8 closes with 1007") {
  auto s = make(ws::role::server, ws::connection_options{.check_text_utf8 = false});
  auto r = test::drive(s, test::client_text("fine") + test::client_text("bad \xC0\x80 text"));
  CHECK_FALSE(r.error);
  REQUIRE(r.events.size() == 2);  // handed out unchecked
  CHECK(r.events[1].payload == "bad \xC0\x80 text");
  CHECK(s.output().empty());
  s.fail_invalid_utf8();
  CHECK(s.is_closed());
  CHECK(s.poll().error().code == ws_errc::invalid_utf8);
  CHECK(s.poll().error().close_code == 1007);
  CHECK(sent_close(s).first == 1007);
  // A fragmented message is still checked by the connection itself.
  auto f = make(ws::role::server, ws::connection_options{.check_text_utf8 = false});
  auto frag = test::drive(f, test::client_text("bad \xC0", false) + test::client_text("\x80", true, 0));
  REQUIRE(frag.error.is_some());
  CHECK(frag.error->code == ws_errc::invalid_utf8);
}

TEST_CASE("good messages before a violation are still delivered") {
  auto s = make(ws::role::server);
  auto r = test::drive(
      s, test::client_text("one") + test::client_text("two") + test::build_frame({.rsv = 4, .payload = "x"}));
  REQUIRE(r.events.size() == 2);
  CHECK(r.events[1].payload == "two");
  REQUIRE(r.error);
  CHECK(r.error->what == violation::reserved_bits);
}

TEST_CASE("a truncated frame is no error until more bytes come") {
  const std::string frame = test::client_text(std::string(300, 'z'));
  for (std::size_t cut = 0; cut < frame.size(); ++cut) {
    auto s = make(ws::role::server);
    REQUIRE(s.feed(as_bytes(std::string_view(frame).substr(0, cut))).is_ok());
    auto ev = s.poll();
    REQUIRE(ev.is_ok());
    CHECK(ev->is_none());
    CHECK_FALSE(s.is_closed());
    REQUIRE(s.feed(as_bytes(std::string_view(frame).substr(cut))).is_ok());
    auto done = s.poll();
    REQUIRE(done.is_ok());
    REQUIRE(done->is_some());
    CHECK((*done)->text().size() == 300);
  }
}

TEST_CASE("poll() hands out one event at a time and borrows until the next poll") {
  auto s = make(ws::role::server);
  REQUIRE(s.feed(as_bytes(test::client_text("first") + test::client_text("second"))).is_ok());
  auto a = s.poll().value();
  REQUIRE(a.is_some());
  const std::string_view first = a->text();
  CHECK(first == "first");
  auto b = s.poll().value();
  REQUIRE(b.is_some());
  CHECK(b->text() == "second");
  CHECK(s.poll().value().is_none());
}

TEST_CASE("send_text checks UTF-8 unless check_sent_utf8 is off") {
  const std::string bad = "tr\xC3" "(de";  // 0xC3 then a byte that cannot continue it
  auto checked = make(ws::role::server);
  auto r = checked.send_text(bad);
  REQUIRE(r.is_err());
  CHECK(r.error().code == ws_errc::invalid_utf8);
  CHECK(checked.output().empty());
  CHECK(checked.send_text("ok \xE2\x82\xAC").is_ok());
  // Off: the caller vouches for the text, and it goes out as given (a peer that checks would
  // then close with 1007; that is what the option's contract warns about).
  auto trusting = make(ws::role::server, {.check_sent_utf8 = false});
  REQUIRE(trusting.send_text(bad).is_ok());
  const auto frames = test::parse_frames(trusting.take_output());
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].opcode == 0x1);
  CHECK(frames[0].payload == bad);
}

TEST_CASE("poll_ref() gives what poll() gives, without the copy") {
  // Whole frames (the in-place path), a fragmented message, a ping (through wslay), then a
  // violation: the same events and the same error from both.
  const std::string input = test::client_text("whole") + test::client_text("frag", false) +
                            test::client_text("mented", true, 0x0) + test::build_frame({.opcode = 0x9, .payload = "p"}) +
                            test::client_text("last") + test::build_frame({.rsv = 4, .payload = "x"});
  auto by_value = make(ws::role::server);
  auto by_ref = make(ws::role::server);
  REQUIRE(by_value.feed(as_bytes(input)).is_ok());
  REQUIRE(by_ref.feed(as_bytes(input)).is_ok());
  std::vector<std::pair<event_kind, std::string>> events;
  for (;;) {
    auto a = by_value.poll();
    auto b = by_ref.poll_ref();
    REQUIRE(a.is_ok() == b.is_ok());
    if (!a) {
      CHECK(a.error() == b.error());
      CHECK(a.error().what == violation::reserved_bits);
      break;
    }
    REQUIRE(a->is_some() == (*b != nullptr));
    if (a->is_none()) break;
    const ws::event& e = **b;
    CHECK(e.kind == (*a)->kind);
    CHECK(e.text() == (*a)->text());
    CHECK(e.padding == (*a)->padding);
    events.emplace_back(e.kind, std::string(e.text()));
  }
  CHECK(events == std::vector<std::pair<event_kind, std::string>>{{event_kind::text, "whole"},
                                                                   {event_kind::text, "fragmented"},
                                                                   {event_kind::ping, "p"},
                                                                   {event_kind::text, "last"}});
  // With more input needed: nullptr, not an error.
  auto fresh = make(ws::role::server);
  REQUIRE(fresh.feed(as_bytes(test::client_text("cut").substr(0, 3))).is_ok());
  auto none = fresh.poll_ref();
  REQUIRE(none.is_ok());
  CHECK(*none == nullptr);
}

TEST_CASE("receiving straight into the connection's buffer") {
  auto s = make(ws::role::server);
  const std::string frame = test::client_text("zero copy");
  auto room = s.read_buffer(frame.size());
  REQUIRE(room.size() >= frame.size());
  std::memcpy(room.data(), frame.data(), frame.size());
  REQUIRE(s.commit_read(frame.size()).is_ok());
  auto ev = s.poll().value();
  REQUIRE(ev.is_some());
  CHECK(ev->text() == "zero copy");
}

TEST_CASE("memory stays bounded: unpolled input and unwritten pongs") {
  ws::connection_options o{.max_buffered_input = 4096, .max_pending_output = 256};
  auto s = make(ws::role::server, o);
  CHECK(s.feed(as_bytes(std::string(5000, 'x'))).error().code == ws_errc::input_overflow);

  // A ping flood while nobody writes our output: poll() stops reading instead of queueing pongs.
  std::string flood;
  for (int i = 0; i < 100; ++i) flood += test::build_frame({.opcode = 0x9, .payload = std::string(20, 'p')});
  REQUIRE(s.feed(as_bytes(flood)).is_ok());
  int pings = 0;
  while (auto ev = s.poll().value()) ++pings;
  CHECK(pings > 0);
  CHECK(pings < 100);
  CHECK(s.output().size() <= 256 + 32);
  // Writing the output lets it go on.
  s.consume_output(s.output().size());
  int more = 0;
  while (auto ev = s.poll().value()) ++more;
  CHECK(more > 0);
}

TEST_CASE("connections move without breaking wslay's callbacks") {
  auto c = make(ws::role::client);
  auto s = make(ws::role::server);
  ws::connection moved = std::move(s);
  REQUIRE(c.send_text("after move").is_ok());
  auto r = pump(c, moved);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].payload == "after move");
}
