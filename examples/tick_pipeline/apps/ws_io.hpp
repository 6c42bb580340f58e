// Glue between the sans-I/O WebSocket codec (ticks::ws) and polarway's TCP streams, shared by
// the feed simulator and the ingest binary: the two opening handshakes over a socket, with the
// bytes that follow the head handed back (they are the peer's first frames), and plain HTTP
// error responses for requests the application refuses after a valid handshake.
//
// None of these impose a deadline: callers wrap them in pw::timeout (the handshake deadline),
// which cancels the read in flight safely.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/net/tcp_stream.hpp>
#include <polarway/result.hpp>
#include <polarway/task.hpp>

#include "ticks/bytes.hpp"
#include "ticks/ws_handshake.hpp"

namespace ticks::app {

/// Why a handshake did not complete.
struct handshake_failure {
  enum class kind : std::uint8_t { io, eof, protocol } what;
  polarway::option<ws::handshake_error> protocol;  // for kind::protocol
  polarway::option<polarway::error> io;            // for kind::io
  std::string message() const;
};

/// Server side: reads the upgrade request into `hs` until it is complete; returns the bytes that
/// followed it. On a protocol error, hs.response() holds the error response to write.
polarway::task<polarway::result<std::vector<std::byte>, handshake_failure>> read_upgrade_request(
    polarway::net::tcp_stream& s, ws::server_handshake& hs);

/// Client side: writes the request, reads the 101; returns the bytes that followed the head.
polarway::task<polarway::result<std::vector<std::byte>, handshake_failure>> client_upgrade(
    polarway::net::tcp_stream& s, ws::client_handshake& hs);

/// "HTTP/1.1 <status> <reason>" with a short text body and Connection: close.
std::string http_error_response(int status, std::string_view reason, std::string_view body);

}  // namespace ticks::app
