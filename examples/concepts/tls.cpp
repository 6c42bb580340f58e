// pw::net::tls_stream: a TLS server and a TLS client in one process, over loopback. The
// program makes its own self-signed certificate for "localhost" with OpenSSL's X509 API (no
// files to ship), serves with it, and connects twice: once trusting exactly that certificate
// (the exchange works, the server uppercases a line), once trusting only the system store
// (the handshake fails with a typed tls_error naming the peer and the reason).
// Build against the CMake target polarway::tls.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <polarway/net/tls.hpp>
#include <polarway/runtime.hpp>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <string>

namespace pw = polarway;
using pw::net::tls_config;
using pw::net::tls_stream;

// Writes a new EC key and a self-signed certificate for localhost (valid one day) as PEM files.
bool make_self_signed(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  bool ok = key != nullptr && cert != nullptr;
  if (ok) {
    X509_set_version(cert, 2);  // X.509 v3, for the subjectAltName extension
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                               0);
    X509_set_issuer_name(cert, name);
    X509_set_pubkey(cert, key);
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost");
    ok = san != nullptr && X509_add_ext(cert, san, -1) == 1 && X509_sign(cert, key, EVP_sha256()) > 0;
    X509_EXTENSION_free(san);
  }
  if (ok) {
    FILE* c = std::fopen(cert_path.c_str(), "w");
    FILE* k = std::fopen(key_path.c_str(), "w");
    ok = c && k && PEM_write_X509(c, cert) == 1 &&
         PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    if (c) std::fclose(c);
    if (k) std::fclose(k);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return ok;
}

// Serves one connection: reads a line, answers it uppercased, then closes with close_notify.
pw::task<void> serve(pw::net::tcp_listener& listener, tls_config cfg) {
  auto tcp = co_await listener.accept();
  if (!tcp) co_return;
  auto s = co_await tls_stream::accept(std::move(*tcp), cfg);
  if (!s) {
    std::printf("server: %s\n", s.error().message().c_str());
    co_return;
  }
  char buf[256];
  auto n = co_await s->read(std::as_writable_bytes(std::span(buf)));
  if (!n) co_return;
  for (std::size_t i = 0; i < *n; ++i) buf[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(buf[i])));
  if (!co_await s->write_all(std::as_bytes(std::span(buf, *n)))) co_return;
  (void)co_await s->shutdown();  // the client sees the outcome: read gives 0 after close_notify
}

pw::task<bool> demo(std::string cert, std::string key) {
  auto listener = pw::net::tcp_listener::bind("127.0.0.1:0");
  if (!listener) co_return false;
  const std::string address = "localhost:" + std::to_string(listener->local_addr().unwrap().port());
  const auto server_cfg = tls_config::server(cert, key);

  // 1. A client trusting exactly our certificate: the exchange works.
  auto server = pw::spawn(serve(*listener, server_cfg));
  auto trusting = tls_config::client();
  trusting.ca_file(cert);
  auto s = co_await tls_stream::connect(address, trusting);
  if (!s) {
    std::printf("client: %s\n", s.error().message().c_str());
    co_return false;
  }
  const std::string line = "hello over tls\n";
  if (!co_await s->write_all(std::as_bytes(std::span(line)))) co_return false;
  std::string answer(line.size(), '\0');
  if (!co_await s->read_exact(std::as_writable_bytes(std::span(answer)))) co_return false;
  char rest[16];
  auto end = co_await s->read(std::as_writable_bytes(std::span(rest)));  // 0: close_notify
  (void)co_await server;                                                 // the server reports its own failures
  std::printf("answer: %s", answer.c_str());
  const bool exchanged = answer == "HELLO OVER TLS\n" && end && *end == 0;

  // 2. A client trusting the system store only: our self-signed certificate is refused.
  server = pw::spawn(serve(*listener, server_cfg));
  auto refused = co_await tls_stream::connect(address, tls_config::client());
  (void)co_await server;  // the server reports its own failures
  if (refused) co_return false;
  std::printf("client: %s\n", refused.error().message().c_str());
  co_return exchanged&& refused.error().which() == pw::net::tls_error::kind::verify;
}

int main() {
  char dir_template[] = "/tmp/pw-tls-example-XXXXXX";
  if (::mkdtemp(dir_template) == nullptr) return 1;
  const std::string dir = dir_template;
  bool ok = make_self_signed(dir + "/cert.pem", dir + "/key.pem");
  if (ok) {
    pw::runtime rt;
    ok = rt.block_on(demo(dir + "/cert.pem", dir + "/key.pem"));
  }
  std::filesystem::remove_all(dir);
  return ok ? 0 : 1;
}
