// The WebSocket opening handshake (RFC 6455 section 4), sans-I/O: both sides are fed the bytes
// read from the socket and hand back the bytes to write; neither touches a socket or a clock.
//
// - client_handshake builds the upgrade request (with a fresh random Sec-WebSocket-Key) and
//   validates the server's 101 response, including Sec-WebSocket-Accept.
// - server_handshake parses an upgrade request and prepares either the 101 response or an error
//   response (400 with a reason, 426 for an unsupported version, 431 for an oversized head). A
//   valid GET without any Upgrade field is kept whole (plain_request()), so that one listener
//   can serve plain HTTP requests and WebSocket upgrades from the same head read.
//
// Bytes may arrive in any split. feed() reports how many bytes it took: the response or request
// head ends at "\r\n\r\n", and whatever follows in the same read (the peer's first frames) is NOT
// consumed, so the caller passes `bytes.subspan(consumed)` to the connection. The head is
// bounded (8 KiB by default); a peer that sends more without finishing it gets a typed error.
// Header names match case-insensitively, values are trimmed, and the Connection / Upgrade
// tokens match case-insensitively anywhere in their comma-separated lists.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <polarway/result.hpp>

#include "ticks/bytes.hpp"

namespace ticks::ws {

enum class handshake_errc : std::uint8_t {
  invalid_argument,        // the caller's host or target would not make a valid request
  no_randomness,           // the kernel refused random bytes for the key
  too_large,               // the head exceeded max_head_size before "\r\n\r\n"
  malformed,               // not HTTP/1.1 syntax (start line or a header line)
  bad_method,              // server: the request is not a GET
  bad_http_version,        // not HTTP/1.1 or a later 1.x
  missing_host,            // server: no Host header
  missing_upgrade,         // no "websocket" token in Upgrade
  missing_connection,      // no "upgrade" token in Connection
  bad_key,                 // server: Sec-WebSocket-Key absent, repeated, or not 16 bytes
  bad_version,             // server: Sec-WebSocket-Version is not 13
  unexpected_status,       // client: the server answered something other than 101
  bad_accept,              // client: Sec-WebSocket-Accept absent or wrong
  unexpected_extension,    // client: the server chose an extension that was never offered
  unexpected_subprotocol,  // client: the server chose a subprotocol that was never offered
};

std::string_view to_string(handshake_errc code) noexcept;

struct handshake_error {
  handshake_errc code;
  int http_status = 0;      // client: the status received; server: the status it answers with
  const char* detail = "";  // static text naming the check that failed

  std::string message() const;
  friend bool operator==(const handshake_error& a, const handshake_error& b) noexcept {
    return a.code == b.code && a.http_status == b.http_status;
  }
};

/// How far one feed() call got.
struct handshake_progress {
  std::size_t consumed = 0;  // bytes of this call's input that belong to the handshake head
  bool done = false;         // the head is complete and valid
};

struct handshake_options {
  std::size_t max_head_size = 8 * 1024;
};

/// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), the server's proof.
std::string websocket_accept(std::string_view key);

class client_handshake {
 public:
  /// A handshake for `target` (path plus query, e.g. "/stream?streams=btcusdt@trade") on `host`
  /// (as it goes in the Host header, e.g. "stream.binance.com:9443"), with a random key.
  static polarway::result<client_handshake, handshake_error> create(std::string_view host, std::string_view target,
                                                                    handshake_options options = {});
  /// The same with a caller-chosen 16-byte key (tests, reproducible traces).
  static polarway::result<client_handshake, handshake_error> create(std::string_view host, std::string_view target,
                                                                    const std::array<std::uint8_t, 16>& key,
                                                                    handshake_options options = {});

  /// The upgrade request to write to the socket.
  std::string_view request() const noexcept { return request_; }
  /// The Sec-WebSocket-Key sent.
  std::string_view key() const noexcept { return key_; }

  /// Feeds response bytes. After an error, every later call returns the same error.
  polarway::result<handshake_progress, handshake_error> feed(byte_view bytes);
  bool done() const noexcept { return state_ == state::done; }

 private:
  enum class state : std::uint8_t { reading, done, failed };
  client_handshake() = default;
  polarway::result<handshake_progress, handshake_error> fail(handshake_errc code, const char* detail, int status = 0);

  std::string request_;
  std::string key_;
  std::string accept_;  // the Sec-WebSocket-Accept value the server must send
  std::string head_;
  handshake_options options_;
  state state_ = state::reading;
  handshake_error error_{handshake_errc::malformed};
};

class server_handshake {
 public:
  explicit server_handshake(handshake_options options = {}) : options_(options) {}

  /// Feeds request bytes. When it returns done, or an error, response() is ready to write; after
  /// an error the caller writes it and closes the socket.
  polarway::result<handshake_progress, handshake_error> feed(byte_view bytes);
  bool done() const noexcept { return state_ == state::done; }

  /// The 101 response after success, the error response after a failure, empty before either.
  std::string_view response() const noexcept { return response_; }
  /// The request target ("/ws/btcusdt@trade"), once done.
  std::string_view target() const noexcept { return target_; }
  /// The Host header, once done.
  std::string_view host() const noexcept { return host_; }

  /// After feed() failed with missing_upgrade on a valid GET request that has no Upgrade field
  /// at all: the complete request head (through its blank line), which a server may answer as
  /// plain HTTP instead of with response(); empty otherwise.
  std::string_view plain_request() const noexcept { return plain_request_; }
  /// The bytes of the last feed() call's input that belong to plain_request(); the rest are
  /// the client's next (pipelined) request.
  std::size_t plain_request_consumed() const noexcept { return plain_consumed_; }

 private:
  enum class state : std::uint8_t { reading, done, failed };
  polarway::result<handshake_progress, handshake_error> fail(handshake_errc code, const char* detail);

  handshake_options options_;
  std::string head_;
  std::string response_;
  std::string target_;
  std::string host_;
  std::string plain_request_;
  std::size_t plain_consumed_ = 0;
  state state_ = state::reading;
  handshake_error error_{handshake_errc::malformed};
};

}  // namespace ticks::ws
