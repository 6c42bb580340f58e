#include "ticks/ws_connection.hpp"

#include <wslay/wslay.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "random_bytes.hpp"
#include "ticks/byte_buffer.hpp"
#include "ticks/utf8.hpp"

namespace ticks::ws {

namespace pw = polarway;

std::string_view to_string(ws_errc code) noexcept {
  switch (code) {
    case ws_errc::protocol_error:
      return "protocol error";
    case ws_errc::invalid_utf8:
      return "invalid UTF-8 in text";
    case ws_errc::message_too_big:
      return "message too big";
    case ws_errc::input_overflow:
      return "too much unpolled input";
    case ws_errc::closed:
      return "connection closed";
    case ws_errc::invalid_argument:
      return "invalid argument";
    case ws_errc::internal:
      return "internal error";
  }
  return "unknown websocket error";
}

std::string_view to_string(violation what) noexcept {
  switch (what) {
    case violation::none:
      return "";
    case violation::reserved_bits:
      return "reserved bits set";
    case violation::unknown_opcode:
      return "unknown opcode";
    case violation::fragmented_control:
      return "fragmented control frame";
    case violation::control_too_long:
      return "control frame over 125 bytes";
    case violation::unmasked_frame:
      return "unmasked client frame";
    case violation::masked_frame:
      return "masked server frame";
    case violation::non_minimal_length:
      return "non-minimal length encoding";
    case violation::length_high_bit:
      return "64-bit length with the high bit set";
    case violation::unexpected_continuation:
      return "continuation without a message";
    case violation::expected_continuation:
      return "new message inside a fragmented one";
    case violation::bad_close_payload:
      return "malformed close frame";
    case violation::invalid_utf8:
      return "invalid UTF-8";
    case violation::message_too_big:
      return "message too big";
    case violation::other:
      return "rejected by the framing layer";
  }
  return "";
}

std::string ws_error::message() const {
  std::string text = "websocket: ";
  text += to_string(code);
  if (what != violation::none && what != violation::invalid_utf8 && what != violation::message_too_big) {
    text += " (";
    text += to_string(what);
    text += ')';
  }
  if (close_code) text += ", closed with " + std::to_string(close_code);
  return text;
}

namespace {

constexpr std::uint8_t op_continuation = 0x0, op_text = 0x1, op_binary = 0x2, op_close = 0x8, op_ping = 0x9,
                       op_pong = 0xA;

bool valid_close_code_to_send(std::uint16_t code) noexcept {
  // RFC 6455 7.4: 1004-1006 and 1015 are reserved and never sent; 1012-1014 are IANA-registered.
  return (code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006) ||
         (code >= 3000 && code <= 4999);
}

// What a peer may send (RFC 6455 7.4): the same rule wslay applies, so the two never disagree.
bool valid_close_code_to_receive(std::uint16_t code) noexcept {
  return (code >= 1000 && code <= 1011 && code != 1004 && code != 1005 && code != 1006) ||
         (code >= 3000 && code <= 4999);
}

// What the header guard found at the front of the input.
struct header_check {
  enum class status : std::uint8_t { need_more, ok, bad } state;
  violation what = violation::none;
  std::uint64_t frame_size = 0;  // header plus payload, when ok
  std::uint64_t payload = 0;
  std::uint8_t opcode = 0;
  bool fin = false;
};

}  // namespace

struct connection::impl {
  impl(role r, const connection_options& o)
      : side(r), options(o), input(o.message_padding), message(o.message_padding), control(o.message_padding) {}
  ~impl() { wslay_event_context_free(ctx); }
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  role side;
  connection_options options;
  wslay_event_context_ptr ctx = nullptr;
  byte_buffer input;    // padded like `message`: a whole frame's payload can be lent out in place
  byte_buffer output;
  byte_buffer message;  // the data message being reassembled, padded
  byte_buffer control;  // the last ping/pong/close payload, padded

  // Header guard: where the next frame boundary is, and the fragmentation state it implies.
  std::uint64_t frame_remaining = 0;  // bytes of the current frame not yet handed to wslay
  bool in_fragmented = false;         // a data message started and its FIN frame has not come
  std::uint64_t message_bytes = 0;    // payload announced so far for the current data message

  // State set from wslay's callbacks during one poll().
  bool frame_is_control = false;
  std::uint8_t frame_opcode = 0;
  byte_buffer close_payload;  // the close frame being received, checked before wslay echoes it
  event_kind message_kind = event_kind::binary;
  bool ready = false;
  event pending;
  bool release_message = false;  // the last event lent out `message`
  pw::option<ws_error> failure;

  // The next event, field by field: assigning a whole temporary event made the copy's wide
  // loads wait on the narrow stores that built it (a store-forwarding stall on every message).
  void set_pending(event_kind kind, byte_view payload, std::size_t padding, std::uint16_t code = 0) noexcept {
    pending.kind = kind;
    pending.payload = payload;
    pending.padding = padding;
    pending.code = code;
    ready = true;
  }

  std::array<std::uint8_t, 256> mask_pool{};
  std::size_t mask_used = mask_pool.size();

  static impl& self(void* user) { return *static_cast<impl*>(user); }

  // Marks the connection failed and queues the close frame that tells the peer why.
  void fail(ws_errc code, std::uint16_t close, violation what) {
    if (failure) return;
    const auto reason = to_string(what);
    const int rv = wslay_event_queue_close(ctx, close, reinterpret_cast<const std::uint8_t*>(reason.data()),
                                           std::min<std::size_t>(reason.size(), 123));
    failure = ws_error{code, rv == 0 ? close : std::uint16_t{0}, what};
    wslay_event_shutdown_read(ctx);
  }

  // RFC 6455 5.2 rules that can be checked from the header alone, before wslay sees the frame.
  header_check check_header() const {
    using st = header_check::status;
    const auto in = input.view();
    if (in.empty()) return {st::need_more};
    const auto b0 = std::to_integer<std::uint8_t>(in[0]);
    const bool fin = b0 & 0x80;
    const std::uint8_t opcode = b0 & 0x0F;
    if (b0 & 0x70) return {st::bad, violation::reserved_bits};
    const bool is_control = opcode & 0x08;
    if (opcode > op_binary && opcode != op_close && opcode != op_ping && opcode != op_pong)
      return {st::bad, violation::unknown_opcode};
    if (is_control && !fin) return {st::bad, violation::fragmented_control};
    if (!is_control) {
      if (opcode == op_continuation && !in_fragmented) return {st::bad, violation::unexpected_continuation};
      if (opcode != op_continuation && in_fragmented) return {st::bad, violation::expected_continuation};
    }
    if (in.size() < 2) return {st::need_more};
    const auto b1 = std::to_integer<std::uint8_t>(in[1]);
    const bool masked = b1 & 0x80;
    if (side == role::server && !masked) return {st::bad, violation::unmasked_frame};
    if (side == role::client && masked) return {st::bad, violation::masked_frame};
    const std::uint8_t len7 = b1 & 0x7F;
    if (is_control && len7 > 125) return {st::bad, violation::control_too_long};

    std::size_t header = 2 + (masked ? 4 : 0);
    std::uint64_t payload = len7;
    if (len7 >= 126) {
      const std::size_t ext = len7 == 126 ? 2 : 8;
      if (in.size() < 2 + ext) return {st::need_more};
      payload = 0;
      for (std::size_t i = 0; i < ext; ++i) payload = payload << 8 | std::to_integer<std::uint8_t>(in[2 + i]);
      if (ext == 8 && (payload >> 63)) return {st::bad, violation::length_high_bit};
      if ((ext == 2 && payload < 126) || (ext == 8 && payload <= 0xFFFF))
        return {st::bad, violation::non_minimal_length};
      header += ext;
    }
    if (!is_control) {
      const std::uint64_t so_far = opcode == op_continuation ? message_bytes : 0;
      if (payload > options.max_message_size || so_far + payload > options.max_message_size)
        return {st::bad, violation::message_too_big};
    }
    return {st::ok, violation::none, header + payload, payload, opcode, fin};
  }

  // Commits the fragmentation state of a frame the guard accepted.
  void note_frame_start(const header_check& h) {
    if (h.opcode & 0x08) return;  // control frames may interleave; they do not touch it
    message_bytes = (h.opcode == op_continuation ? message_bytes : 0) + h.payload;
    in_fragmented = !h.fin;
  }

  // The common case, taken without wslay: a whole unfragmented text or binary frame already in
  // the input, while wslay sits at a frame boundary with no message in progress (so skipping
  // it leaves wslay's state exactly as if it had read the frame). wslay's event layer checks
  // UTF-8 one byte at a time and copies every payload, which cost more than the JSON decoding;
  // here the guard has already checked the header, the payload is unmasked in place, checked
  // with is_valid_utf8 (unless the consumer checks it: check_text_utf8) and lent out of
  // `input` itself (its padding covers the tail). Fragmented
  // messages and control frames still go through wslay. Returns false when it did not apply.
  bool poll_whole_frame() {
    if (frame_remaining != 0 || in_fragmented) return false;
    const auto check = check_header();
    if (check.state != header_check::status::ok || !check.fin ||
        (check.opcode != op_text && check.opcode != op_binary) || check.frame_size > input.size())
      return false;
    note_frame_start(check);
    const std::size_t header = static_cast<std::size_t>(check.frame_size - check.payload);
    const std::size_t length = static_cast<std::size_t>(check.payload);
    auto* payload = const_cast<std::byte*>(input.data()) + header;
    if (side == role::server) unmask(payload, length, input.data() + header - 4);
    // Bytes readable past the payload; the input's own padding guarantees message_padding.
    const std::size_t padding = input.capacity() - header - length;
    // consume() only moves indices: the bytes stay in place until the next feed()/read_buffer(),
    // which the caller may only call after poll() has returned none.
    input.consume(header + length);
    const byte_view bytes{payload, length};
    const event_kind kind = check.opcode == op_text ? event_kind::text : event_kind::binary;
    if (kind == event_kind::text && options.check_text_utf8 && !is_valid_utf8(bytes)) {
      fail(ws_errc::invalid_utf8, close_code::invalid_payload, violation::invalid_utf8);
      return true;
    }
    set_pending(kind, bytes, padding);
    return true;
  }

  // RFC 6455 5.3: payload byte i is XORed with key[i % 4]; eight bytes at a time.
  static void unmask(std::byte* p, std::size_t n, const std::byte* key_bytes) noexcept {
    std::uint32_t key32;
    std::memcpy(&key32, key_bytes, 4);
    const std::uint64_t key64 = (std::uint64_t{key32} << 32) | key32;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      w ^= key64;
      std::memcpy(p + i, &w, 8);
    }
    for (; i < n; ++i) p[i] ^= key_bytes[i % 4];
  }

  // ---- wslay callbacks ---------------------------------------------------------------------

  // Hands wslay the input, never past the end of the current frame: after each frame wslay's own
  // buffer is empty, so once a message is complete we can stop it by reporting "would block".
  static ssize_t on_recv(wslay_event_context_ptr ctx, std::uint8_t* buf, std::size_t len, int, void* user) {
    auto& c = self(user);
    const auto would_block = [&] {
      wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
      return ssize_t{-1};
    };
    if (c.ready || c.failure) return would_block();
    if (c.frame_remaining == 0) {
      const auto check = c.check_header();
      if (check.state == header_check::status::need_more) return would_block();
      if (check.state == header_check::status::bad) {
        if (check.what == violation::message_too_big)
          c.fail(ws_errc::message_too_big, close_code::message_too_big, check.what);
        else
          c.fail(ws_errc::protocol_error, close_code::protocol_error, check.what);
        return would_block();
      }
      c.note_frame_start(check);
      c.frame_remaining = check.frame_size;
    }
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>({len, c.frame_remaining, c.input.size()}));
    if (n == 0) return would_block();
    std::memcpy(buf, c.input.data(), n);
    c.input.consume(n);
    c.frame_remaining -= n;
    return static_cast<ssize_t>(n);
  }

  static ssize_t on_send(wslay_event_context_ptr, const std::uint8_t* data, std::size_t len, int, void* user) {
    self(user).output.append({reinterpret_cast<const std::byte*>(data), len});
    return static_cast<ssize_t>(len);
  }

  static int on_genmask(wslay_event_context_ptr, std::uint8_t* buf, std::size_t len, void* user) {
    auto& c = self(user);
    // One getrandom call per 64 masks: masks must be unpredictable (RFC 6455 10.3), and a
    // syscall per frame would cost more than the frame.
    for (std::size_t i = 0; i < len; ++i) {
      if (c.mask_used == c.mask_pool.size()) {
        if (!detail::fill_random(c.mask_pool)) return -1;
        c.mask_used = 0;
      }
      buf[i] = c.mask_pool[c.mask_used++];
    }
    return 0;
  }

  static void on_frame_start(wslay_event_context_ptr, const wslay_event_on_frame_recv_start_arg* arg, void* user) {
    auto& c = self(user);
    c.frame_opcode = arg->opcode;
    c.frame_is_control = wslay_is_ctrl_frame(arg->opcode);
    if (c.frame_is_control) {
      c.close_payload.clear();
      return;
    }
    if (arg->opcode != op_continuation) {
      c.message.clear();
      c.message_kind = arg->opcode == op_text ? event_kind::text : event_kind::binary;
    }
    // The guard bounded payload_length by max_message_size; reserving now makes the chunks
    // copies without reallocation, and gives an empty message its padding too.
    (void)c.message.prepare(static_cast<std::size_t>(arg->payload_length));
  }

  static void on_frame_chunk(wslay_event_context_ptr, const wslay_event_on_frame_recv_chunk_arg* arg, void* user) {
    auto& c = self(user);
    if (c.failure) return;
    const byte_view chunk{reinterpret_cast<const std::byte*>(arg->data), arg->data_length};
    if (!c.frame_is_control)
      c.message.append(chunk);
    else if (c.frame_opcode == op_close)
      c.close_payload.append(chunk);  // at most 125 bytes: the guard checked the length
  }

  // A close frame is complete but not yet acted on (wslay queues its echo after this returns),
  // so this is where a malformed one can still be answered with the right code.
  static void on_frame_end(wslay_event_context_ptr, void* user) {
    auto& c = self(user);
    if (c.failure || c.frame_opcode != op_close) return;
    const auto payload = c.close_payload.view();
    if (payload.empty()) return;
    if (payload.size() == 1) {  // RFC 6455 5.5.1: a body starts with a 2-byte code
      c.fail(ws_errc::protocol_error, close_code::protocol_error, violation::bad_close_payload);
      return;
    }
    const auto code = static_cast<std::uint16_t>(std::to_integer<std::uint8_t>(payload[0]) << 8 |
                                                 std::to_integer<std::uint8_t>(payload[1]));
    if (!valid_close_code_to_receive(code)) {
      c.fail(ws_errc::protocol_error, close_code::protocol_error, violation::bad_close_payload);
      return;
    }
    if (!is_valid_utf8(payload.subspan(2)))
      c.fail(ws_errc::invalid_utf8, close_code::invalid_payload, violation::invalid_utf8);
  }

  static void on_message(wslay_event_context_ptr, const wslay_event_on_msg_recv_arg* arg, void* user) {
    auto& c = self(user);
    if (c.failure) return;
    if (!wslay_is_ctrl_frame(arg->opcode)) {
      // wslay checks UTF-8 as frames arrive too; this check is the codec's own guarantee, so a
      // text event is valid UTF-8 whatever the framing library does.
      if (c.message_kind == event_kind::text && !is_valid_utf8(c.message.view())) {
        c.fail(ws_errc::invalid_utf8, close_code::invalid_payload, violation::invalid_utf8);
        return;
      }
      c.set_pending(c.message_kind, c.message.view(), c.message.capacity() - c.message.size());
      c.release_message = true;
      return;
    }
    c.control.clear();
    (void)c.control.prepare(arg->msg_length);
    if (arg->opcode == op_close) {
      const std::size_t skip = arg->msg_length >= 2 ? 2 : 0;
      c.control.append({reinterpret_cast<const std::byte*>(arg->msg) + skip, arg->msg_length - skip});
      c.set_pending(event_kind::close, c.control.view(), c.control.capacity() - c.control.size(),
                    arg->status_code ? arg->status_code : close_code::no_status);
    } else {
      c.control.append({reinterpret_cast<const std::byte*>(arg->msg), arg->msg_length});
      c.set_pending(arg->opcode == op_ping ? event_kind::ping : event_kind::pong, c.control.view(),
                    c.control.capacity() - c.control.size());
    }
  }

  // A final frame's header (FIN, opcode, unmasked), with the shortest length encoding:
  // 7 bits, or 126 and 16 bits, or 127 and 64 bits, big-endian (RFC 6455 5.2).
  void append_frame_header(std::uint8_t opcode, std::uint64_t length) {
    std::byte h[10];
    std::size_t n = 2;
    h[0] = static_cast<std::byte>(0x80 | opcode);
    if (length < 126) {
      h[1] = static_cast<std::byte>(length);
    } else if (length <= 0xFFFF) {
      h[1] = std::byte{126};
      n = 4;
    } else {
      h[1] = std::byte{127};
      n = 10;
    }
    for (std::size_t i = n - 1; i >= 2; --i, length >>= 8) h[i] = static_cast<std::byte>(length & 0xFF);
    output.append({h, n});
  }

  // Moves whatever wslay has queued (pongs, close replies, our messages) into `output`.
  void flush() {
    if (wslay_event_send(ctx) != 0 && !failure) failure = ws_error{ws_errc::internal, 0, violation::other};
  }

  pw::result<void, ws_error> queue(std::uint8_t opcode, byte_view data) {
    if (failure) return pw::err(ws_error{ws_errc::closed});
    // A server's data message with nothing of wslay's still queued: framed here, straight into
    // `output` (servers do not mask, RFC 6455 5.1). Through wslay, each message was a malloc'd
    // copy in its queue, framed into `output` by a second copy and freed: at the feed's rates,
    // a fifth of its CPU. Whatever wslay has queued (a pong, a close) goes first, through wslay,
    // and once our close is out a message is refused there, so the order on the wire holds.
    if (side == role::server && (opcode == op_text || opcode == op_binary) &&
        wslay_event_get_queued_msg_count(ctx) == 0 && !wslay_event_get_close_sent(ctx)) {
      append_frame_header(opcode, data.size());
      output.append(data);
      return pw::ok();
    }
    const wslay_event_msg msg{opcode, reinterpret_cast<const std::uint8_t*>(data.data()), data.size()};
    const int rv = wslay_event_queue_msg(ctx, &msg);
    if (rv == WSLAY_ERR_NO_MORE_MSG) return pw::err(ws_error{ws_errc::closed});
    if (rv == WSLAY_ERR_INVALID_ARGUMENT) return pw::err(ws_error{ws_errc::invalid_argument});
    if (rv != 0) return pw::err(ws_error{ws_errc::internal});
    flush();
    return pw::ok();
  }
};

pw::result<connection, ws_error> connection::create(role side, connection_options options) {
  if (options.max_message_size == 0) return pw::err(ws_error{ws_errc::invalid_argument});
  auto p = std::make_unique<impl>(side, options);
  const wslay_event_callbacks callbacks{
      &impl::on_recv,        &impl::on_send,      &impl::on_genmask, &impl::on_frame_start,
      &impl::on_frame_chunk, &impl::on_frame_end, &impl::on_message,
  };
  const int rv = side == role::client ? wslay_event_context_client_init(&p->ctx, &callbacks, p.get())
                                      : wslay_event_context_server_init(&p->ctx, &callbacks, p.get());
  if (rv != 0) return pw::err(ws_error{ws_errc::internal});
  // Reassembly is ours (into the padded buffer); wslay still buffers control frames.
  wslay_event_config_set_no_buffering(p->ctx, 1);
  // Without buffering wslay applies this per frame; the guard applies it per message.
  wslay_event_config_set_max_recv_msg_length(p->ctx, options.max_message_size);
  return pw::ok(connection(std::move(p)));
}

connection::connection(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;
connection::~connection() = default;

pw::result<void, ws_error> connection::feed(byte_view bytes) {
  auto& c = *impl_;
  if (c.input.size() + bytes.size() > c.options.max_buffered_input) return pw::err(ws_error{ws_errc::input_overflow});
  c.input.append(bytes);
  return pw::ok();
}

std::span<std::byte> connection::read_buffer(std::size_t min_size) { return impl_->input.prepare(min_size); }

pw::result<void, ws_error> connection::commit_read(std::size_t n) {
  auto& c = *impl_;
  if (c.input.size() + n > c.options.max_buffered_input) return pw::err(ws_error{ws_errc::input_overflow});
  c.input.commit(n);
  return pw::ok();
}

pw::result<const event*, ws_error> connection::poll_ref() {
  auto& c = *impl_;
  if (c.failure) return pw::err(*c.failure);
  if (c.release_message) {
    c.release_message = false;
    c.message.clear();
    c.message.shrink_if_above(64 * 1024);
  }
  if (!wslay_event_get_read_enabled(c.ctx)) {
    c.flush();
    return nullptr;
  }
  if (c.output.size() > c.options.max_pending_output) return nullptr;

  c.ready = false;
  if (c.poll_whole_frame()) {
    if (c.failure) {
      c.flush();  // the close frame fail() queued
      return pw::err(*c.failure);
    }
    c.ready = false;
    return &c.pending;
  }
  const int rv = wslay_event_recv(c.ctx);
  if (rv != 0 && !c.failure) {
    // wslay's frame layer refused something the guard let through (or could not allocate).
    c.fail(rv == WSLAY_ERR_NOMEM ? ws_errc::internal : ws_errc::protocol_error,
           rv == WSLAY_ERR_NOMEM ? close_code::internal_error : close_code::protocol_error, violation::other);
  }
  c.flush();
  if (!c.failure && !wslay_event_get_read_enabled(c.ctx) && !wslay_event_get_close_received(c.ctx)) {
    // wslay rejected a frame on its own and already sent its close; report what it sent.
    const auto sent = wslay_event_get_status_code_sent(c.ctx);
    const auto code = sent == close_code::invalid_payload   ? ws_errc::invalid_utf8
                      : sent == close_code::message_too_big ? ws_errc::message_too_big
                                                            : ws_errc::protocol_error;
    const auto what = code == ws_errc::invalid_utf8      ? violation::invalid_utf8
                      : code == ws_errc::message_too_big ? violation::message_too_big
                                                         : violation::other;
    c.failure = ws_error{code, sent == close_code::no_status ? std::uint16_t{0} : sent, what};
  }
  if (c.failure) return pw::err(*c.failure);
  if (!c.ready) return nullptr;
  c.ready = false;
  return &c.pending;
}

pw::result<pw::option<event>, ws_error> connection::poll() {
  auto r = poll_ref();
  if (!r) return pw::err(r.error());
  if (!*r) return pw::option<event>{};
  return pw::option<event>(**r);
}

pw::result<void, ws_error> connection::send_text(std::string_view text) {
  if (impl_->options.check_sent_utf8 && !is_valid_utf8(text)) return pw::err(ws_error{ws_errc::invalid_utf8});
  return impl_->queue(op_text, as_bytes(text));
}
pw::result<void, ws_error> connection::send_binary(byte_view data) { return impl_->queue(op_binary, data); }
pw::result<void, ws_error> connection::send_ping(byte_view data) {
  if (data.size() > 125) return pw::err(ws_error{ws_errc::invalid_argument});
  return impl_->queue(op_ping, data);
}
pw::result<void, ws_error> connection::send_pong(byte_view data) {
  if (data.size() > 125) return pw::err(ws_error{ws_errc::invalid_argument});
  return impl_->queue(op_pong, data);
}

pw::result<void, ws_error> connection::close(std::uint16_t code, std::string_view reason) {
  auto& c = *impl_;
  if (code == 0 ? !reason.empty() : !valid_close_code_to_send(code))
    return pw::err(ws_error{ws_errc::invalid_argument});
  if (reason.size() > 123) return pw::err(ws_error{ws_errc::invalid_argument});
  if (!is_valid_utf8(reason)) return pw::err(ws_error{ws_errc::invalid_utf8});
  if (c.failure) return pw::err(ws_error{ws_errc::closed});
  const int rv =
      wslay_event_queue_close(c.ctx, code, reinterpret_cast<const std::uint8_t*>(reason.data()), reason.size());
  if (rv == WSLAY_ERR_NO_MORE_MSG) return pw::err(ws_error{ws_errc::closed});
  if (rv != 0) return pw::err(ws_error{ws_errc::internal});
  c.flush();
  return pw::ok();
}

void connection::fail_invalid_utf8() {
  impl_->fail(ws_errc::invalid_utf8, close_code::invalid_payload, violation::invalid_utf8);
  impl_->flush();
}

byte_view connection::output() const noexcept { return impl_->output.view(); }
void connection::consume_output(std::size_t n) noexcept { impl_->output.consume(n); }
std::vector<std::byte> connection::take_output() {
  const auto out = impl_->output.view();
  std::vector<std::byte> v(out.begin(), out.end());
  impl_->output.clear();
  return v;
}

bool connection::close_sent() const noexcept { return wslay_event_get_close_sent(impl_->ctx) != 0; }
bool connection::close_received() const noexcept { return wslay_event_get_close_received(impl_->ctx) != 0; }
bool connection::is_closed() const noexcept { return impl_->failure.is_some() || (close_sent() && close_received()); }
pw::option<ws_error> connection::error() const noexcept { return impl_->failure; }
role connection::side() const noexcept { return impl_->side; }

}  // namespace ticks::ws
