// OpenSSL glue shared by tls_config and tls_stream: owning handles and the reading of OpenSSL's
// per-thread error queue. The queue belongs to the thread, and a coroutine may resume on
// another worker, so every SSL call is bracketed in one synchronous stretch: clear the queue,
// call, read what it left, clear it again. Nothing is ever left on a worker's queue.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <string>

namespace polarway::detail {

struct ssl_ctx_free {
  void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
struct ssl_free {
  void operator()(SSL* s) const noexcept { SSL_free(s); }
};
using ssl_handle = std::unique_ptr<SSL, ssl_free>;

/// The reason of the most recent error on this thread's OpenSSL queue ("wrong version
/// number"), or `fallback` if the queue is empty; empties the queue.
inline std::string take_openssl_error(const char* fallback) {
  const unsigned long e = ERR_peek_last_error();
  std::string text;
  if (e == 0) {
    text = fallback;
  } else if (const char* reason = ERR_reason_error_string(e)) {
    text = reason;
  } else {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    text = buf;
  }
  ERR_clear_error();
  return text;
}

}  // namespace polarway::detail
