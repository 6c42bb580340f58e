// pw::net::tls_config: what a TLS client trusts and checks, or what a TLS server presents.
// A config owns one OpenSSL SSL_CTX, built when the config is made and shared (reference
// counted) by its copies and by every connection made from it, so certificates and the trust
// store are loaded once, not per connection.
//
// Both sides speak TLS 1.2 or 1.3, never less, and always verify: a client checks the
// server's chain against the system trust store (or exactly the CA file given to ca_file())
// and checks that the certificate names the host it dialled (or server_name()). There is no
// switch to turn verification off and no plaintext fallback.
//
// Configuration errors (an unreadable CA file, a certificate that does not match its key) are
// found when the setter runs and kept in the config: status() reports the first one, and
// every connect or accept with that config returns it. Setters change the shared context:
// finish configuring before the first connection.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "polarway/detail/tls_openssl.hpp"
#include "polarway/net/tls_error.hpp"
#include "polarway/result.hpp"

namespace polarway::net {

class tls_stream;

class tls_config {
 public:
  /// A client configuration trusting the system's certificate store.
  static tls_config client() {
    tls_config c(TLS_client_method(), false);
    if (c.ctx_ && SSL_CTX_set_default_verify_paths(c.ctx_.get()) != 1) c.fail("cannot load the system trust store");
    if (c.ctx_) cache_extensions(SSL_CTX_get_cert_store(c.ctx_.get()));
    return c;
  }

  /// A server configuration presenting the certificate chain in `cert_chain_file` (PEM, leaf
  /// first) with the private key in `key_file` (PEM).
  static tls_config server(std::string_view cert_chain_file, std::string_view key_file) {
    tls_config c(TLS_server_method(), true);
    if (!c.ctx_) return c;
    const std::string cert(cert_chain_file), key(key_file);
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(c.ctx_.get(), cert.c_str()) != 1)
      c.fail("cannot load certificate chain " + cert);
    else if (SSL_CTX_use_PrivateKey_file(c.ctx_.get(), key.c_str(), SSL_FILETYPE_PEM) != 1)
      c.fail("cannot load private key " + key);
    else if (SSL_CTX_check_private_key(c.ctx_.get()) != 1)
      c.fail("private key " + key + " does not match certificate " + cert);
    ERR_clear_error();
    return c;
  }

  /// Trusts exactly the certificates in `path` (PEM) instead of the system store.
  tls_config& ca_file(std::string_view path) {
    if (!ctx_) return *this;
    const std::string file(path);
    ERR_clear_error();
    X509_STORE* store = X509_STORE_new();
    if (store == nullptr || X509_STORE_load_file(store, file.c_str()) != 1) {
      X509_STORE_free(store);
      fail("cannot load CA file " + file);
      return *this;
    }
    cache_extensions(store);
    SSL_CTX_set_cert_store(ctx_.get(), store);  // the context takes the store and frees the old one
    ERR_clear_error();
    return *this;
  }

  /// The name a client sends (SNI) and expects in the server's certificate, instead of the
  /// host part of the address passed to connect.
  tls_config& server_name(std::string_view host) {
    server_name_ = std::string(host);
    return *this;
  }

  /// How long a handshake may take before it fails with kind::timeout (10 s by default).
  tls_config& handshake_timeout(std::chrono::milliseconds d) noexcept {
    handshake_timeout_ = d;
    return *this;
  }

  /// The first configuration error, if any.
  result<void, tls_error> status() const {
    if (error_) return err(*error_);
    return ok();
  }

  bool is_server() const noexcept { return server_; }

 private:
  friend class tls_stream;

  tls_config(const SSL_METHOD* method, bool server) : server_(server) {
    ERR_clear_error();
    ctx_.reset(SSL_CTX_new(method), detail::ssl_ctx_free{});
    if (!ctx_) {
      fail("cannot create an OpenSSL context");
      return;
    }
    SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
    // Renegotiation would let a read need a write and a write need a read; TLS 1.3 has none.
    SSL_CTX_set_options(ctx_.get(), SSL_OP_NO_RENEGOTIATION);
    if (!server) SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
  }

  // Every handshake verified with this config reads the trusted certificates from all the
  // runtime's workers. OpenSSL fills a certificate's extension cache on first use, behind a
  // lock-free check that ThreadSanitizer cannot follow into an uninstrumented libcrypto; filling
  // it here, before any connection shares the store, leaves the handshakes only reads.
  // (Certificates the store finds later in a hashed directory are still filled on first use.)
  static void cache_extensions(X509_STORE* store) {
    STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store);
    for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
      if (X509* cert = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i))) (void)X509_check_purpose(cert, -1, 0);
    }
  }

  void fail(std::string what) {
    std::string reason = detail::take_openssl_error("");
    if (!error_) error_.emplace(tls_error::kind::config, std::string(), reason.empty() ? what : what + ": " + reason);
  }

  std::shared_ptr<SSL_CTX> ctx_;
  std::string server_name_;
  std::chrono::milliseconds handshake_timeout_{std::chrono::seconds(10)};
  std::optional<tls_error> error_;
  bool server_;
};

}  // namespace polarway::net
