// ticks::app::ws_session: one established WebSocket over a byte stream, the glue between the
// sans-I/O codec (ticks::ws::connection) and a transport, shared by the feed simulator, the
// ingest client and the ingest server side.
//
// A transport is anything with tcp_stream's member shapes (read, write_all, shutdown, awaited,
// errors as values): pw::net::tcp_stream, or pw::net::tls_stream for wss://. Their error types
// differ (pw::error, pw::net::tls_error); a session keeps a transport's failure as
// transport_failure, the error's message, which for TLS names the peer and OpenSSL's reason.
//
//   accept_ws(stream, deadline, options, admit)  server: upgrade request within the deadline,
//                                                the application's admission of its target,
//                                                then the 101 (or 408 / the handshake's error /
//                                                the refusal, written before giving up, after
//                                                the optional `failed` hook has seen it)
//   connect_ws(stream, handshake, deadline, ...)  client: request and 101 within the deadline
//   session.next_event()                          the next complete event already read
//   session.read_more(stop, idle)                 writes what the codec queued (pongs, close
//                                                echoes, messages), then one read raced against
//                                                the stop token and the idle timeout
//   session.read_more_or_wake(..., wake, after)  the same, also ended by a notify or a delay
//   session.absorb(bytes[, on_event])             input read elsewhere (the feed reads in a
//                                                separate task): pings answered, close noticed,
//                                                the other events handed to on_event
//   session.flush() / session.close(code)         the write side and the close handshake
//
// The bytes that follow a handshake head are the peer's first frames: they are fed to the
// connection before it is handed out, never dropped.
#pragma once

#include <array>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <type_traits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <polarway/error.hpp>
#include <polarway/option.hpp>
#include <polarway/result.hpp>
#include <polarway/runtime/race.hpp>
#include <polarway/sync/cancellation_token.hpp>
#include <polarway/sync/notify.hpp>
#include <polarway/task.hpp>
#include <polarway/time/sleep.hpp>
#include <polarway/time/timeout.hpp>

#include "ticks/bytes.hpp"
#include "ticks/ws_connection.hpp"
#include "ticks/ws_handshake.hpp"

namespace ticks::app {

/// What a WebSocket session needs of its byte stream: tcp_stream's member shapes.
template <class T>
concept ws_transport = requires(T& t, std::span<std::byte> in, std::span<const std::byte> out) {
  { t.read(in) };
  { t.write_all(out) };
  { t.shutdown() };
};

/// A transport's error as the session reports it: its message() ("read: Connection reset by
/// peer", "localhost:9443: TLS protocol error: ..."), whatever the transport's error type.
struct transport_failure {
  std::string text;
  const std::string& message() const noexcept { return text; }
};

template <class E>
transport_failure failure_of(const E& e) {
  return transport_failure{e.message()};
}

/// Why a handshake did not complete.
struct handshake_failure {
  enum class kind : std::uint8_t {
    timed_out,  // the deadline passed first
    io,         // reading or writing failed
    eof,        // the peer closed the connection mid-handshake
    protocol,   // the peer's head is not a valid handshake
    refused,    // server: the application refused the request's target
    plain,      // server: a plain HTTP request (no Upgrade field), handed to the plain handler
  } what;
  polarway::option<ws::handshake_error> protocol;  // for kind::protocol
  polarway::option<transport_failure> io;          // for kind::io
  std::string refusal;                             // for kind::refused: the reason sent
  std::vector<std::byte> after_plain;              // for kind::plain: bytes read past its head

  std::string message() const;
};

/// A server's refusal of a valid upgrade request: the HTTP status and a one-line reason.
struct ws_refusal {
  int status;
  std::string reason;
};

/// "HTTP/1.1 <status> <reason>" with a short text body and Connection: close.
std::string http_error_response(int status, std::string_view reason, std::string_view body);

/// How a wait for input ended.
enum class input_end : std::uint8_t {
  data,         // bytes were read and fed to the connection
  closed,       // the connection is closed (close handshake done, or failed): nothing to read
  stopped,      // the stop token fired first
  idle,         // nothing arrived for the idle timeout
  eof,          // the peer closed the stream without a close handshake
  read_error,   // see `io`
  write_error,  // writing the queued output failed; see `io`
  overflow,     // the codec refused more input (see `ws`): the caller stopped polling
  woken,        // read_more_or_wake: the wake-up came first (nothing was read)
};

struct input_wait {
  input_end end;
  polarway::option<transport_failure> io;
  polarway::option<ws::ws_error> ws;
};

/// What input read elsewhere and handed to absorb() did to the session.
enum class peer_state : std::uint8_t {
  open,    // nothing ended
  closed,  // the peer's close frame came, or it broke the protocol (our close frame is queued)
  gone,    // the codec could not take the bytes
  refused,  // the caller's handler refused an event (see absorb): nothing more was read
};

template <ws_transport Transport>
class ws_session {
 public:
  ws_session(Transport stream, ws::connection conn) noexcept : stream_(std::move(stream)), conn_(std::move(conn)) {}

  Transport& transport() noexcept { return stream_; }
  ws::connection& connection() noexcept { return conn_; }

  /// The next complete event already read (valid until the next call), nullptr when more
  /// input is needed, or the error that failed the connection (its close frame is queued).
  polarway::result<const ws::event*, ws::ws_error> next_event() { return conn_.poll_ref(); }

  /// Writes everything the codec has queued; the bytes written.
  polarway::task<polarway::result<std::size_t, transport_failure>> flush() {
    const byte_view out = conn_.output();
    if (out.empty()) co_return std::size_t{0};
    auto w = co_await stream_.write_all(out);
    if (!w) co_return polarway::err(failure_of(w.error()));
    conn_.consume_output(out.size());
    co_return out.size();
  }

  /// Starts the close handshake with `code` (if not started yet) and writes the close frame.
  polarway::task<polarway::result<std::size_t, transport_failure>> close(std::uint16_t code) {
    // Refused once the close handshake has started or the connection failed: then the close
    // frame is already queued or sent, and only the queued output is left to write.
    (void)conn_.close(code);
    co_return co_await flush();
  }

  /// Writes what is queued, then waits for input: one read into the connection, raced against
  /// `stop` and, if idle_timeout_ms is not 0, the idle timeout. The read is listed first, so
  /// bytes it received as another arm fired are fed, never dropped; a read that received
  /// nothing is cancelled safely. Idle counts time in read() only.
  polarway::task<input_wait> read_more(const polarway::cancellation_token& stop, std::uint64_t idle_timeout_ms,
                                       std::size_t read_size = 64 * 1024) {
    if (auto early = co_await before_read(stop)) co_return std::move(*early);
    const std::span<std::byte> room = conn_.read_buffer(read_size);
    // The transport's own result type: result<size_t, pw::error> or result<size_t, tls_error>.
    using read_result = typename decltype(stream_.read(room))::value_type;
    read_result n = polarway::ok(std::size_t{0});
    if (idle_timeout_ms == 0) {
      auto r = co_await polarway::race(stream_.read(room), stop.cancelled());
      if (r.index() != 0) co_return input_wait{input_end::stopped, polarway::none, polarway::none};
      n = std::move(r).template get<0>();
    } else {
      auto r = co_await polarway::race(stream_.read(room), stop.cancelled(),
                                       polarway::sleep(std::chrono::milliseconds(idle_timeout_ms)));
      if (r.index() == 1) co_return input_wait{input_end::stopped, polarway::none, polarway::none};
      if (r.index() == 2) co_return input_wait{input_end::idle, polarway::none, polarway::none};
      n = std::move(r).template get<0>();
    }
    co_return after_read(n);
  }

  /// read_more(), also ended (input_end::woken) by `wake` being notified or, unless it is
  /// zero, `wake_after` passing: for a session that has something of its own to send at a
  /// time of its choosing (the ingest's paced control messages). The read is still listed first.
  polarway::task<input_wait> read_more_or_wake(const polarway::cancellation_token& stop, std::uint64_t idle_timeout_ms,
                                               std::size_t read_size, polarway::notify& wake,
                                               std::chrono::nanoseconds wake_after) {
    if (auto early = co_await before_read(stop)) co_return std::move(*early);
    const std::span<std::byte> room = conn_.read_buffer(read_size);
    using read_result = typename decltype(stream_.read(room))::value_type;
    read_result n = polarway::ok(std::size_t{0});
    // One timer for both deadlines: whichever comes first says what its firing means.
    const auto idle = std::chrono::nanoseconds(std::chrono::milliseconds(idle_timeout_ms));
    const bool timed = idle_timeout_ms != 0 || wake_after.count() != 0;
    const bool idle_first = idle_timeout_ms != 0 && (wake_after.count() == 0 || idle <= wake_after);
    if (!timed) {
      auto r = co_await polarway::race(stream_.read(room), stop.cancelled(), wake.notified());
      if (r.index() == 1) co_return input_wait{input_end::stopped, polarway::none, polarway::none};
      if (r.index() == 2) co_return input_wait{input_end::woken, polarway::none, polarway::none};
      n = std::move(r).template get<0>();
    } else {
      auto r = co_await polarway::race(stream_.read(room), stop.cancelled(), wake.notified(),
                                       polarway::sleep(idle_first ? idle : wake_after));
      if (r.index() == 1) co_return input_wait{input_end::stopped, polarway::none, polarway::none};
      if (r.index() == 2) co_return input_wait{input_end::woken, polarway::none, polarway::none};
      if (r.index() == 3)
        co_return input_wait{idle_first ? input_end::idle : input_end::woken, polarway::none, polarway::none};
      n = std::move(r).template get<0>();
    }
    co_return after_read(n);
  }

  /// What ends a wait before any read: a failed flush of what is queued, a closed connection,
  /// or the stop. None: go on and read.
  polarway::task<polarway::option<input_wait>> before_read(const polarway::cancellation_token& stop) {
    if (conn_.wants_write()) {
      if (auto w = co_await flush(); !w) co_return input_wait{input_end::write_error, w.error(), polarway::none};
    }
    if (conn_.is_closed()) co_return input_wait{input_end::closed, polarway::none, polarway::none};
    if (stop.is_cancelled()) co_return input_wait{input_end::stopped, polarway::none, polarway::none};
    co_return polarway::none;
  }

  /// What a read's result means: an error, the end of the stream, too much, or data fed.
  template <class ReadResult>
  input_wait after_read(const ReadResult& n) {
    if (!n) return input_wait{input_end::read_error, failure_of(n.error()), polarway::none};
    if (*n == 0) return input_wait{input_end::eof, polarway::none, polarway::none};
    if (auto fed = conn_.commit_read(*n); !fed) return input_wait{input_end::overflow, polarway::none, fed.error()};
    return input_wait{input_end::data, polarway::none, polarway::none};
  }

  /// Feeds bytes read elsewhere and handles every event they complete: pongs and a close
  /// echo are queued in output(); every other event goes to on_event(const ws::event&), which
  /// returns false to refuse it (the peer broke a rule of the application's): absorb() then
  /// reads no further and returns peer_state::refused.
  template <class OnEvent>
  peer_state absorb(byte_view bytes, OnEvent&& on_event) {
    if (!conn_.feed(bytes)) return peer_state::gone;
    for (;;) {
      auto ev = conn_.poll_ref();
      if (!ev) return peer_state::closed;
      if (!*ev) return peer_state::open;
      if ((*ev)->kind == ws::event_kind::close) return peer_state::closed;
      if (!on_event(**ev)) return peer_state::refused;
    }
  }
  /// absorb() for a caller that reads nothing from the peer but control frames.
  peer_state absorb(byte_view bytes) {
    return absorb(bytes, [](const ws::event&) { return true; });
  }

 private:
  Transport stream_;
  ws::connection conn_;
};

namespace detail {

// Reads a handshake head into `hs` until it is complete; the bytes that followed it.
template <class Transport, class Handshake>
polarway::task<polarway::result<std::vector<std::byte>, handshake_failure>> read_handshake_head(Transport& s,
                                                                                                Handshake& hs) {
  std::array<std::byte, 4096> buf;
  for (;;) {
    auto n = co_await s.read(buf);
    if (!n)
      co_return polarway::err(handshake_failure{handshake_failure::kind::io, polarway::none, failure_of(n.error()), {}, {}});
    if (*n == 0) co_return polarway::err(handshake_failure{handshake_failure::kind::eof, polarway::none, polarway::none, {}, {}});
    const byte_view got(buf.data(), *n);
    auto p = hs.feed(got);
    if constexpr (requires { hs.plain_request(); }) {
      if (!p && !hs.plain_request().empty()) {
        const auto rest = got.subspan(hs.plain_request_consumed());
        co_return polarway::err(handshake_failure{handshake_failure::kind::plain, polarway::none, polarway::none, {},
                                                  std::vector<std::byte>(rest.begin(), rest.end())});
      }
    }
    if (!p) co_return polarway::err(handshake_failure{handshake_failure::kind::protocol, p.error(), polarway::none, {}, {}});
    if (p->done) {
      const auto rest = got.subspan(p->consumed);
      co_return std::vector<std::byte>(rest.begin(), rest.end());
    }
  }
}

template <class Transport>
polarway::task<polarway::result<std::vector<std::byte>, handshake_failure>> client_upgrade(Transport& s,
                                                                                           ws::client_handshake& hs) {
  auto w = co_await s.write_all(as_bytes(hs.request()));
  if (!w) co_return polarway::err(handshake_failure{handshake_failure::kind::io, polarway::none, failure_of(w.error()), {}, {}});
  co_return co_await read_handshake_head(s, hs);
}

template <class Transport>
polarway::result<ws_session<Transport>, handshake_failure> open_session(Transport&& stream, ws::role side,
                                                                      const ws::connection_options& options,
                                                                      byte_view first_frames) {
  auto conn = ws::connection::create(side, options);
  if (!conn || (!first_frames.empty() && !conn->feed(first_frames)))
    return polarway::err(handshake_failure{handshake_failure::kind::io, polarway::none,
                                           failure_of(polarway::error(polarway::errc::invalid_input, "websocket session")), {}, {}});
  return ws_session<Transport>(std::move(stream), std::move(*conn));
}

inline handshake_failure timed_out() {
  return handshake_failure{handshake_failure::kind::timed_out, polarway::none, polarway::none, {}, {}};
}

}  // namespace detail

/// A session the server side accepted: the request's target and what admit() made of it.
template <class Transport, class Admission>
struct accepted_ws {
  ws_session<Transport> session;
  std::string target;
  Admission admission;
};

/// Server side. Reads the upgrade request within `deadline`; on a timeout writes 408, on an
/// invalid request the handshake's error response. Then `admit(target)` ->
/// result<Admission, ws_refusal> decides: a refusal is written as that HTTP status; otherwise
/// the 101 goes out and the session starts.
///
/// With a `plain` handler, a valid GET without any Upgrade field is not refused: the stream,
/// the request head and the bytes read past it go to `plain(Transport, std::string head,
/// std::vector<std::byte> after)` -> polarway::task<void>, which serves the connection from
/// there; accept_ws then returns kind::plain. Without one (nullptr) it gets the handshake's 400.
///
/// With a `failed` hook, every failure but kind::plain is handed to `failed(const
/// handshake_failure&)` before its response (408, 400, the refusal) is written, so that a peer
/// that has read the response finds the failure already counted; the same failure is returned.
template <ws_transport Transport, class Admit, class Plain = std::nullptr_t, class Failed = std::nullptr_t>
auto accept_ws(Transport stream, std::chrono::milliseconds deadline, ws::connection_options options, Admit admit,
               Plain plain = nullptr, Failed failed = nullptr)
    -> polarway::task<polarway::result<
        accepted_ws<Transport, typename std::invoke_result_t<Admit&, std::string_view>::value_type>, handshake_failure>> {
  using admission = typename std::invoke_result_t<Admit&, std::string_view>::value_type;
  using accepted = accepted_ws<Transport, admission>;
  ws::server_handshake hs;
  // Captures by default: without a hook, `failed` goes unused (clang warns of a named capture).
  const auto report = [&](const handshake_failure& f) {
    if constexpr (!std::is_same_v<Failed, std::nullptr_t>) failed(f);
    else (void)f;
  };
  auto head = co_await polarway::timeout(deadline, detail::read_handshake_head(stream, hs));
  if (!head) {
    handshake_failure late = detail::timed_out();
    report(late);
    (void)co_await stream.write_all(as_bytes(http_error_response(408, "Request Timeout", "handshake took too long")));
    co_return polarway::err(std::move(late));
  }
  if constexpr (!std::is_same_v<Plain, std::nullptr_t>) {
    if (!*head && head->error().what == handshake_failure::kind::plain) {
      handshake_failure served = std::move(*head).error();
      // Named, not a temporary in the co_await: g++ 12 mishandles those.
      auto serving = plain(std::move(stream), std::string(hs.plain_request()), std::move(served.after_plain));
      co_await std::move(serving);
      served.after_plain.clear();
      co_return polarway::err(std::move(served));
    }
  }
  if (!*head && head->error().what == handshake_failure::kind::plain)  // no plain handler: refused
    *head = polarway::err(handshake_failure{handshake_failure::kind::protocol, hs.feed({}).error(), polarway::none, {}, {}});
  if (!*head) {
    report(head->error());
    if (!hs.response().empty()) (void)co_await stream.write_all(as_bytes(hs.response()));
    co_return polarway::err(std::move(*head).error());
  }
  auto admitted = admit(hs.target());
  if (!admitted) {
    const ws_refusal& no = admitted.error();
    handshake_failure refused{handshake_failure::kind::refused, polarway::none, polarway::none, no.reason, {}};
    report(refused);
    (void)co_await stream.write_all(
        as_bytes(http_error_response(no.status, no.status == 404 ? "Not Found" : "Bad Request", no.reason)));
    co_return polarway::err(std::move(refused));
  }
  if (auto w = co_await stream.write_all(as_bytes(hs.response())); !w) {
    handshake_failure lost{handshake_failure::kind::io, polarway::none, failure_of(w.error()), {}, {}};
    report(lost);
    co_return polarway::err(std::move(lost));
  }
  const std::vector<std::byte>& first = head->value();
  auto s = detail::open_session(std::move(stream), ws::role::server, options, first);
  if (!s) {
    report(s.error());
    co_return polarway::err(std::move(s).error());
  }
  co_return accepted{std::move(*s), std::string(hs.target()), std::move(*admitted)};
}

/// Client side: writes `hs`'s request and reads the 101, within `deadline`.
template <ws_transport Transport>
polarway::task<polarway::result<ws_session<Transport>, handshake_failure>> connect_ws(
    Transport stream, ws::client_handshake hs, std::chrono::milliseconds deadline, ws::connection_options options) {
  auto head = co_await polarway::timeout(deadline, detail::client_upgrade(stream, hs));
  if (!head) co_return polarway::err(detail::timed_out());
  if (!*head) co_return polarway::err(std::move(*head).error());
  const std::vector<std::byte>& first = head->value();
  co_return detail::open_session(std::move(stream), ws::role::client, options, first);
}

}  // namespace ticks::app
