// pw::net::tls_stream: a TLS 1.2/1.3 connection over a tcp_stream, on OpenSSL 3. It has
// tcp_stream's shape (read, write, read_exact, write_all, shutdown, is_open, close,
// native_handle), so code
// written as a template over its transport runs on TCP or TLS alike; the difference is the
// error type, tls_error (see tls_error.hpp), whose message() names the peer and the reason.
//
// read() returns 0 only at a clean end: the peer's close_notify. A TCP end of stream without
// one is an error (kind::truncated), since an attacker can cut a connection but cannot forge
// close_notify. shutdown() sends close_notify, then shuts the TCP write side; reading still
// works until the peer's close_notify.
//
// OpenSSL runs on memory buffers and the runtime's socket operations move the ciphertext
// (net/detail/tls_session.hpp): no blocking call, no OpenSSL access to the socket.
//
// Concurrency: one task may read while another writes, on any workers. Two concurrent readers
// (or writers) are not supported, as for tcp_stream.
//
// Cancel-safety: a read abandoned while it waits (pw::race, pw::timeout) consumes nothing
// and leaves the stream usable. A write abandoned while its ciphertext is going out leaves a
// partial record on the wire: the stream is then broken and every later operation fails with
// kind::closed. read_exact and write_all are not cancel-safe (a prefix may be consumed or sent).
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "polarway/detail/tls_openssl.hpp"
#include "polarway/detail/transfer_all.hpp"
#include "polarway/net/detail/tls_session.hpp"
#include "polarway/net/socket_addr.hpp"
#include "polarway/net/tcp_stream.hpp"
#include "polarway/net/tls_config.hpp"
#include "polarway/net/tls_error.hpp"
#include "polarway/result.hpp"
#include "polarway/task.hpp"
#include "polarway/time/timeout.hpp"

namespace polarway::net {

class tls_stream {
 public:
  tls_stream() noexcept = default;

  /// Connects to "host:port" over TCP (as tcp_stream::connect) and runs the client handshake
  /// within cfg's deadline. The server's certificate must chain to cfg's trust and name the
  /// host (or cfg.server_name()); an IP literal host is checked against the certificate's IP
  /// addresses and sends no SNI. The address and config are copied when connect is called.
  static task<result<tls_stream, tls_error>> connect(std::string_view host_and_port, const tls_config& cfg) {
    return connect_owned(std::string(host_and_port), cfg);
  }

  /// Runs the server handshake on an accepted connection within cfg's deadline; cfg must come
  /// from tls_config::server().
  static task<result<tls_stream, tls_error>> accept(tcp_stream tcp, const tls_config& cfg) {
    auto peer = tcp.peer_addr();
    return accept_owned(std::move(tcp), cfg, peer ? peer->to_string() : std::string("unknown peer"));
  }

  /// Reads at most buf.size() decrypted bytes; 0 means the peer sent close_notify.
  task<result<std::size_t, tls_error>> read(std::span<std::byte> buf) {
    if (!is_open()) co_return err(closed());
    detail::tls_session& s = *s_;
    if (buf.empty()) co_return std::size_t{0};
    for (;;) {
      if (s.broken()) co_return err(s.closed_error());
      auto st = s.step([buf](SSL* ssl, std::size_t* n) { return SSL_read_ex(ssl, buf.data(), buf.size(), n); },
                       /*claim_send_turn=*/true);
      // Reading produced records (a KeyUpdate answer, an alert): send them if no write is
      // under way; otherwise that write sends them (tls_session.hpp says why the reader never
      // waits for it).
      if (st.send_turn) {
        auto f = co_await s.send_with(std::move(*st.send_turn));
        if (!f && st.outcome != detail::ssl_step::status::failed) co_return err(f.error());
      }
      switch (st.outcome) {
        case detail::ssl_step::status::done:
          co_return st.bytes;
        case detail::ssl_step::status::peer_closed:
          co_return std::size_t{0};
        case detail::ssl_step::status::failed:
          co_return err(s.error(tls_error::kind::protocol, st.reason));
        case detail::ssl_step::status::want_read:
          break;
      }
      auto more = co_await s.fill();
      if (!more) co_return err(more.error());
      if (!*more) co_return err(s.error(tls_error::kind::truncated, "connection closed without close_notify"));
    }
  }

  /// Encrypts and sends the first 64 KiB of `buf` at most: how many bytes were taken, all
  /// handed to TCP by the time it returns.
  task<result<std::size_t, tls_error>> write(std::span<const std::byte> buf) {
    if (!is_open()) co_return err(closed());
    detail::tls_session& s = *s_;
    if (s.broken()) co_return err(s.closed_error());
    if (buf.empty()) co_return std::size_t{0};
    const std::size_t chunk = std::min(buf.size(), detail::tls_session::write_chunk);
    // The output BIO grows to take the whole chunk, so a success has taken all of it.
    auto st = s.step([buf, chunk](SSL* ssl, std::size_t* n) { return SSL_write_ex(ssl, buf.data(), chunk, n); });
    auto f = co_await s.flush();
    if (st.outcome != detail::ssl_step::status::done)
      co_return err(s.error(tls_error::kind::protocol, st.reason.empty() ? "the session cannot send" : st.reason));
    if (!f) co_return err(f.error());
    co_return st.bytes;
  }

  /// Fills `buf` completely; a kind::io error with code pw::errc::unexpected_eof if the
  /// stream ends first.
  task<result<void, tls_error>> read_exact(std::span<std::byte> buf) {
    return detail::transfer_all(this, &tls_stream::read, buf,
                                [this] { return end_of_stream(errc::unexpected_eof, "tls_stream::read_exact"); });
  }

  /// Sends all of `buf`.
  task<result<void, tls_error>> write_all(std::span<const std::byte> buf) {
    return detail::transfer_all(this, &tls_stream::write, buf,
                                [this] { return end_of_stream(errc::write_zero, "tls_stream::write_all"); });
  }

  /// Sends close_notify, then shuts down the TCP write side; reading still works.
  task<result<void, tls_error>> shutdown() {
    if (!is_open()) co_return err(closed());
    detail::tls_session& s = *s_;
    auto st = s.step([](SSL* ssl, std::size_t*) {
      const int rc = SSL_shutdown(ssl);  // 0: sent, the peer's not seen yet; 1: both seen
      return rc >= 0 ? 1 : rc;
    });
    auto f = co_await s.flush();
    if (st.outcome == detail::ssl_step::status::failed) co_return err(s.error(tls_error::kind::protocol, st.reason));
    if (!f) co_return err(f.error());
    auto r = co_await s.tcp().shutdown();
    if (!r) co_return err(tls_error(tls_error::kind::io, s.peer(), r.error().message(), r.error()));
    co_return ok();
  }

  /// Whether the stream holds an open connection that no cancelled write has broken.
  bool is_open() const noexcept { return s_ && s_->tcp().is_open() && !s_->broken(); }
  /// Closes the TCP connection now, without close_notify (the destructor does it otherwise).
  void close() noexcept {
    if (s_) s_->tcp().close();
  }
  /// The TCP socket's descriptor (-1 when there is none), for socket options and queries such
  /// as SO_LINGER or SIOCOUTQ. Reading or writing it directly would corrupt the TLS session.
  int native_handle() const noexcept { return s_ ? s_->tcp().native_handle() : -1; }

 private:
  explicit tls_stream(std::unique_ptr<detail::tls_session> s) noexcept : s_(std::move(s)) {}

  tls_error closed() const {
    if (s_ && s_->broken()) return s_->closed_error();
    return tls_error(tls_error::kind::closed, s_ ? s_->peer() : std::string(), "the stream is closed");
  }
  tls_error end_of_stream(errc code, const char* what) const {
    const error e(code, what);
    return tls_error(tls_error::kind::io, s_->peer(), e.message(), e);
  }

  // An IPv4 or IPv6 literal: checked against the certificate's IP addresses, never sent as SNI.
  static bool is_ip_literal(const std::string& host) {
    return socket_addr::numeric(host, host.find(':') != std::string::npos, 0).is_some();
  }

  static task<result<tls_stream, tls_error>> connect_owned(std::string host_and_port, tls_config cfg) {
    auto config_error = [&](std::string reason) {
      return tls_error(tls_error::kind::config, host_and_port, std::move(reason));
    };
    if (auto st = cfg.status(); !st) co_return err(config_error(st.error().reason()));
    if (cfg.is_server()) co_return err(config_error("connect needs a client configuration"));
    const auto split = polarway::detail::split_host_port(host_and_port);
    if (!split) co_return err(config_error("not a host:port address"));
    const std::string name = cfg.server_name_.empty() ? std::string(split->host) : cfg.server_name_;
    if (name.empty()) co_return err(config_error("no host name to verify"));
    ERR_clear_error();
    polarway::detail::ssl_handle ssl(SSL_new(cfg.ctx_.get()));
    if (!ssl) co_return err(config_error(polarway::detail::take_openssl_error("cannot create a TLS session")));
    bool named = false;
    if (is_ip_literal(name)) {
      named = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), name.c_str()) == 1;
    } else {
      named = SSL_set_tlsext_host_name(ssl.get(), name.c_str()) == 1 && SSL_set1_host(ssl.get(), name.c_str()) == 1;
    }
    if (!named) co_return err(config_error(polarway::detail::take_openssl_error("cannot set the name to verify")));
    SSL_set_connect_state(ssl.get());
    ERR_clear_error();

    auto tcp = co_await tcp_stream::connect(host_and_port);
    if (!tcp) co_return err(tls_error(tls_error::kind::io, host_and_port, tcp.error().message(), tcp.error()));
    co_return co_await handshake(std::move(*tcp), std::move(ssl), std::move(host_and_port), cfg.handshake_timeout_);
  }

  static task<result<tls_stream, tls_error>> accept_owned(tcp_stream tcp, tls_config cfg, std::string peer) {
    if (auto st = cfg.status(); !st) co_return err(tls_error(tls_error::kind::config, peer, st.error().reason()));
    if (!cfg.is_server())
      co_return err(tls_error(tls_error::kind::config, peer, "accept needs a server configuration"));
    ERR_clear_error();
    polarway::detail::ssl_handle ssl(SSL_new(cfg.ctx_.get()));
    if (!ssl)
      co_return err(tls_error(tls_error::kind::config, peer,
                              polarway::detail::take_openssl_error("cannot create a TLS session")));
    SSL_set_accept_state(ssl.get());
    ERR_clear_error();
    co_return co_await handshake(std::move(tcp), std::move(ssl), std::move(peer), cfg.handshake_timeout_);
  }

  static task<result<tls_stream, tls_error>> handshake(tcp_stream tcp, polarway::detail::ssl_handle ssl,
                                                       std::string peer, std::chrono::milliseconds deadline) {
    auto s = std::make_unique<detail::tls_session>(std::move(tcp), std::move(ssl), std::move(peer));
    if (!s->valid()) co_return err(s->error(tls_error::kind::config, "cannot allocate the TLS buffers"));
    auto r = co_await polarway::timeout(deadline, drive_handshake(*s));
    if (!r)
      co_return err(s->error(tls_error::kind::timeout, "no answer within " + std::to_string(deadline.count()) + " ms"));
    if (!*r) co_return err(r->error());
    co_return tls_stream(std::move(s));
  }

  static task<result<void, tls_error>> drive_handshake(detail::tls_session& s) {
    for (;;) {
      auto st = s.step([](SSL* ssl, std::size_t*) { return SSL_do_handshake(ssl); });
      // Send what the step produced: the next flight, or the alert that tells the peer why.
      auto f = co_await s.flush();
      switch (st.outcome) {
        case detail::ssl_step::status::done:
          if (!f) co_return err(f.error());
          co_return ok();
        case detail::ssl_step::status::want_read:
          break;
        case detail::ssl_step::status::peer_closed:
        case detail::ssl_step::status::failed:
          co_return err(s.error(st.verify_failed ? tls_error::kind::verify : tls_error::kind::handshake,
                                st.reason.empty() ? "the peer closed the session" : st.reason));
      }
      if (!f) co_return err(f.error());
      auto more = co_await s.fill();
      if (!more) co_return err(more.error());
      if (!*more)
        co_return err(s.error(tls_error::kind::handshake, "connection closed by the peer during the handshake"));
    }
  }

  std::unique_ptr<detail::tls_session> s_;
};

}  // namespace polarway::net
