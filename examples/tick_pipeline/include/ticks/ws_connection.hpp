// ticks::ws::connection: one side of an established WebSocket connection (RFC 6455 after the
// handshake), sans-I/O. It owns no socket: the connection task feeds it the bytes it read,
// polls it for events, and writes out the bytes it produced.
//
//     auto conn = ws::connection::create(ws::role::client).value();
//     conn.feed(bytes_after_handshake);
//     while (true) {
//       auto ev = conn.poll();                  // result<option<event>, ws_error>
//       if (!ev) { /* typed error; the close frame is already in output() */ break; }
//       if (!*ev) break;                        // need more input (or output is backed up)
//       handle(**ev);                           // text/binary message, ping, pong or close
//     }
//     write_all(conn.output()); conn.consume_output(n);   // pongs, close replies, our sends
//
// Framing is wslay's (Debian libwslay, event API in no-buffering mode); this class binds its
// recv/send callbacks to in-memory buffers, reassembles fragmented messages into one padded
// buffer (so the JSON decoder can parse in place), and guards the input: every frame header is
// checked before wslay sees it, so each violation gets its own typed error and the right close
// code (1002 protocol, 1007 bad UTF-8, 1009 too big) instead of wslay's generic handling.
// The common frame, a whole unfragmented text or binary message already in the input, skips
// wslay: the guard has checked its header, and its payload is lent out of the input buffer in
// place (see poll_whole_frame in the .cpp: wslay's per-byte UTF-8 check and payload copy cost
// more than decoding the JSON). Fragments, control frames and everything we send go through wslay.
//
// Invariants and bounds:
// - poll() returns at most one event and stops reading right after it, so the caller can await
//   (back-pressure) between messages; the event's bytes stay valid until the next poll().
// - Memory per connection is bounded: one message (max_message_size, default 1 MiB) plus
//   padding, one control payload (125 bytes), unpolled input up to max_buffered_input, and
//   output: while more than max_pending_output bytes wait to be written, poll() reads nothing,
//   so a peer flooding pings cannot make pongs pile up.
// - Pings are answered with a pong as soon as they are read (the pong is in output() when poll()
//   returns the ping event). A received close is answered with a close echoing its code.
// - After a protocol error the connection is failed for good: poll() keeps returning the same
//   error, a close frame with the matching code is in output(), and nothing more is read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/option.hpp>
#include <polarway/result.hpp>

#include "ticks/bytes.hpp"

namespace ticks::ws {

enum class role : std::uint8_t { client, server };

/// RFC 6455 section 7.4.1 status codes the codec sends or reports.
namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
inline constexpr std::uint16_t no_status = 1005;  // reported, never sent
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t message_too_big = 1009;
inline constexpr std::uint16_t internal_error = 1011;
}  // namespace close_code

enum class ws_errc : std::uint8_t {
  protocol_error,    // the peer broke the framing rules (we close with 1002)
  invalid_utf8,      // a text message or close reason is not UTF-8 (1007)
  message_too_big,   // a message would exceed max_message_size (1009)
  input_overflow,    // feed() past max_buffered_input: the caller stopped polling
  closed,            // sending after the close handshake started or the connection failed
  invalid_argument,  // a send the protocol forbids (control payload > 125 bytes, bad close code)
  internal,          // wslay could not allocate or failed unexpectedly (1011)
};

/// Which framing rule the peer broke, for protocol_error (and the size / UTF-8 errors).
enum class violation : std::uint8_t {
  none,
  reserved_bits,            // RSV1-3 set without a negotiated extension
  unknown_opcode,           // opcodes 3-7 and 0xB-0xF
  fragmented_control,       // a control frame without FIN
  control_too_long,         // a control frame with more than 125 bytes of payload
  unmasked_frame,           // server: a client frame without a mask
  masked_frame,             // client: a server frame with a mask
  non_minimal_length,       // a 16- or 64-bit length that would have fit a shorter form
  length_high_bit,          // a 64-bit length with its most significant bit set
  unexpected_continuation,  // a continuation frame with no message in progress
  expected_continuation,    // a new text/binary frame in the middle of a fragmented message
  bad_close_payload,        // a close frame with a 1-byte payload or an invalid code
  invalid_utf8,             // see ws_errc::invalid_utf8
  message_too_big,          // see ws_errc::message_too_big
  other,                    // rejected inside wslay
};

std::string_view to_string(ws_errc code) noexcept;
std::string_view to_string(violation what) noexcept;

struct ws_error {
  ws_errc code;
  std::uint16_t close_code = 0;  // the code of the close frame we queued; 0 if none was
  violation what = violation::none;

  std::string message() const;
  friend bool operator==(const ws_error&, const ws_error&) = default;
};

enum class event_kind : std::uint8_t { text, binary, ping, pong, close };

struct event {
  event_kind kind = event_kind::binary;
  /// The message, the ping/pong data, or the close reason. Valid until the next poll().
  byte_view payload;
  /// Bytes readable (and owned by the connection) past the end of payload: at least
  /// connection_options::message_padding, so simdjson can parse the message in place.
  std::size_t padding = 0;
  /// For close: the peer's status code, close_code::no_status when it sent none.
  std::uint16_t code = 0;

  std::string_view text() const noexcept { return as_chars(payload); }
};

struct connection_options {
  std::size_t max_message_size = std::size_t{1} << 20;
  /// Readable bytes guaranteed after every event payload (simdjson needs SIMDJSON_PADDING, 64).
  std::size_t message_padding = 64;
  /// feed() refuses to hold more unpolled input than this.
  std::size_t max_buffered_input = std::size_t{2} << 20;
  /// poll() reads nothing while more output than this waits to be written.
  std::size_t max_pending_output = std::size_t{1} << 20;
  /// Whether a text message that arrives in one frame is checked for UTF-8 before it is handed
  /// out. Turn it off only if every text event is checked anyway (simdjson validates UTF-8 as
  /// it parses) and the consumer calls fail_invalid_utf8() for one that is not valid: the
  /// connection then ends with 1007 as the check would have ended it. Fragmented messages are
  /// always checked (wslay checks them as they arrive).
  bool check_text_utf8 = true;
  /// Whether send_text() checks that its text is UTF-8 (RFC 6455 allows nothing else in a
  /// text message). Turn it off only where every text sent is valid by construction, such as
  /// generated ASCII or lines checked once when they were loaded: the peer fails the connection
  /// (1007) on anything else.
  bool check_sent_utf8 = true;
};

class connection {
 public:
  /// A connection for one side. Clients mask what they send and require unmasked input;
  /// servers require masked input.
  static polarway::result<connection, ws_error> create(role side, connection_options options = {});

  connection(connection&&) noexcept;
  connection& operator=(connection&&) noexcept;
  ~connection();

  /// Appends received bytes (a copy). Poll until none before feeding the next read.
  polarway::result<void, ws_error> feed(byte_view bytes);
  /// Room to receive at least min_size bytes into directly (no copy); then commit_read(n).
  std::span<std::byte> read_buffer(std::size_t min_size = 16 * 1024);
  polarway::result<void, ws_error> commit_read(std::size_t n);

  /// The next event, none when more input is needed, or the connection's error.
  polarway::result<polarway::option<event>, ws_error> poll();

  /// poll() without the copy: the next event where the connection keeps it (valid until the
  /// next poll), nullptr when more input is needed. For loops that poll message after message:
  /// copying the event out cost a store-forwarding stall per message (the copy's wide loads
  /// waited on the narrow stores that had just filled it in).
  polarway::result<const event*, ws_error> poll_ref();

  /// Queue a message; its bytes are in output() on return.
  polarway::result<void, ws_error> send_text(std::string_view text);
  polarway::result<void, ws_error> send_binary(byte_view data);
  polarway::result<void, ws_error> send_ping(byte_view data = {});
  polarway::result<void, ws_error> send_pong(byte_view data = {});
  /// Starts the close handshake (code 0 sends a close frame without a code).
  polarway::result<void, ws_error> close(std::uint16_t code = close_code::normal, std::string_view reason = {});
  /// The text event just polled is not valid UTF-8 (found by the consumer, with
  /// check_text_utf8 off): fails the connection with invalid_utf8 and queues the close frame
  /// (1007) in output(). poll() returns that error from now on.
  void fail_invalid_utf8();

  /// Bytes to write to the socket, oldest first; consume_output() what was written.
  byte_view output() const noexcept;
  void consume_output(std::size_t n) noexcept;
  /// output() as an owned vector, consumed.
  std::vector<std::byte> take_output();
  bool wants_write() const noexcept { return !output().empty(); }

  bool close_sent() const noexcept;
  bool close_received() const noexcept;
  /// No more events will come: the close handshake finished, or the connection failed. Write
  /// out output() and close the socket.
  bool is_closed() const noexcept;
  /// The error that failed the connection, if any.
  polarway::option<ws_error> error() const noexcept;
  role side() const noexcept;

 private:
  struct impl;
  explicit connection(std::unique_ptr<impl> p) noexcept;
  std::unique_ptr<impl> impl_;
};

}  // namespace ticks::ws
