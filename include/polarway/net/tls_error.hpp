// pw::net::tls_error: why a TLS operation failed. Like join_error and broadcast's recv_error it
// is a typed error of its own, not a pw::error: a TLS failure has to say which peer it was
// about and quote OpenSSL's reason ("certificate verify failed: self-signed certificate"),
// text that pw::error's static context string cannot carry. Every tls_stream operation
// returns pw::result<T, tls_error>; a failure of the TCP transport underneath is kind::io and
// keeps the original pw::error (errno and operation name) in transport().
#pragma once

#include <string>
#include <utility>

#include "polarway/error.hpp"

namespace polarway::net {

class tls_error {
 public:
  enum class kind {
    config,     // the configuration could not be built (unreadable CA file, certificate, key)
    handshake,  // the handshake failed for a reason other than certificate verification
    verify,     // the peer's certificate was rejected (untrusted, expired, wrong host name)
    protocol,   // the peer broke the TLS protocol after the handshake (bad record, alert)
    truncated,  // the connection ended without a close_notify: the data may be cut short
    io,         // the TCP transport failed; transport() holds its error
    timeout,    // the handshake did not finish within the configured deadline
    closed,     // the stream was closed, or left unusable by a cancelled write
  };

  tls_error(kind k, std::string peer, std::string reason, error transport = {})
      : kind_(k), peer_(std::move(peer)), reason_(std::move(reason)), transport_(transport) {}

  kind which() const noexcept { return kind_; }
  /// The peer the operation was about: "host:port" as given to connect, or the accepted peer's
  /// address; empty for configuration errors.
  const std::string& peer() const noexcept { return peer_; }
  /// OpenSSL's reason, the verification failure, or what the runtime saw.
  const std::string& reason() const noexcept { return reason_; }
  /// For kind::io, the TCP error underneath; otherwise an error with no code.
  const error& transport() const noexcept { return transport_; }

  /// "peer: what failed: reason", e.g.
  /// "localhost:443: certificate verify failed: self-signed certificate".
  std::string message() const {
    std::string text = peer_.empty() ? std::string() : peer_ + ": ";
    text += kind_name(kind_);
    if (!reason_.empty()) text += ": " + reason_;
    return text;
  }

  friend bool operator==(const tls_error& a, const tls_error& b) {
    return a.kind_ == b.kind_ && a.peer_ == b.peer_ && a.reason_ == b.reason_ && a.transport_ == b.transport_;
  }

 private:
  static const char* kind_name(kind k) noexcept {
    switch (k) {
      case kind::config:
        return "TLS configuration error";
      case kind::handshake:
        return "TLS handshake failed";
      case kind::verify:
        return "certificate verify failed";
      case kind::protocol:
        return "TLS protocol error";
      case kind::truncated:
        return "TLS stream truncated";
      case kind::io:
        return "TLS transport error";
      case kind::timeout:
        return "TLS handshake timed out";
      case kind::closed:
        return "TLS stream closed";
    }
    return "TLS error";
  }

  kind kind_;
  std::string peer_;
  std::string reason_;
  error transport_;
};

}  // namespace polarway::net
