// The engine under pw::net::tls_stream: one OpenSSL SSL object working on two memory BIOs, and
// the tcp_stream that moves its ciphertext. OpenSSL never touches the socket: `in_` holds
// ciphertext read from TCP and not yet decrypted, `out_` ciphertext produced and not yet sent.
// Every SSL call is synchronous and short (memory in, memory out); only the TCP transfers
// suspend, on the runtime's own socket operations.
//
// Threading: one reading task and one writing task may use a stream at once, on different
// workers. Two locks make that safe:
// - `ssl_mutex_` (a std::mutex) serialises every call on the SSL object and its BIOs. It is
//   held only across synchronous OpenSSL calls, never across a suspension.
// - `send_lock_` (a pw::mutex) gives one task at a time the turn to send `out_` to the socket,
//   held across the TCP write; the holder drains `out_` in the order OpenSSL produced it, so
//   records reach the wire in sequence whichever task sends them.
// Only the reading side reads from TCP (`fill`), so `in_` has one producer.
//
// The reader never waits for the send turn. Reading can produce records (an alert, a TLS 1.3
// KeyUpdate answer); if a writer is sending at that moment, perhaps blocked because the peer is
// not reading, a reader waiting behind it would stop reading too, and two peers doing the same
// would deadlock. So the reader takes the turn only if it is free (try_lock) and otherwise
// leaves its records to the task that has it. That hand-over is safe because both the try and
// the holder's last look at `out_` before it gives the turn up happen under ssl_mutex_: either
// the holder still has to look (and sends the records), or the turn is free or already handed
// to a waiting sender that will look after.
//
// Cancellation: waiting for TCP data or for the send turn consumes nothing and can be abandoned
// freely. Abandoning a TCP write in the middle leaves an unknown prefix of a record on the
// wire; the session then marks itself broken and every later operation fails with
// tls_error::kind::closed rather than send a corrupt stream.
#pragma once

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "polarway/detail/tls_openssl.hpp"
#include "polarway/net/tcp_stream.hpp"
#include "polarway/net/tls_error.hpp"
#include "polarway/result.hpp"
#include "polarway/sync/mutex.hpp"
#include "polarway/task.hpp"

namespace polarway::detail {

/// What one synchronous SSL call ended with.
struct ssl_step {
  enum class status { done, want_read, peer_closed, failed };
  status outcome = status::failed;
  std::size_t bytes = 0;          // bytes read or written by SSL_read_ex / SSL_write_ex
  bool verify_failed = false;     // failed because the peer's certificate was rejected
  std::string reason;             // OpenSSL's reason when failed
  option<mutex_guard> send_turn;  // when asked for: the turn to send what the call produced
};

class tls_session {
 public:
  // Ciphertext taken from TCP per read: about one full TLS record (16 KiB of plaintext).
  static constexpr std::size_t read_chunk = 16 * 1024 + 512;
  // Ciphertext sent per TCP write when draining `out_`.
  static constexpr std::size_t write_chunk = 64 * 1024;

  tls_session(net::tcp_stream tcp, ssl_handle ssl, std::string peer)
      : tcp_(std::move(tcp)), peer_(std::move(peer)), ssl_(std::move(ssl)), in_buf_(read_chunk), out_buf_(write_chunk) {
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    if (in_ != nullptr && out_ != nullptr) {
      SSL_set_bio(ssl_.get(), in_, out_);  // the SSL object owns both BIOs from here
    } else {
      BIO_free(in_);
      BIO_free(out_);
      in_ = out_ = nullptr;
    }
  }
  tls_session(const tls_session&) = delete;
  tls_session& operator=(const tls_session&) = delete;

  /// Whether the BIOs could be made (only an allocation failure says no).
  bool valid() const noexcept { return in_ != nullptr; }
  const std::string& peer() const noexcept { return peer_; }
  net::tcp_stream& tcp() noexcept { return tcp_; }
  bool broken() const noexcept { return broken_.load(std::memory_order_acquire); }

  net::tls_error error(net::tls_error::kind k, std::string reason) const {
    return net::tls_error(k, peer_, std::move(reason));
  }
  net::tls_error closed_error() const {
    return error(net::tls_error::kind::closed, "a cancelled write left the stream unusable");
  }

  /// Runs `call(ssl, &bytes)` (an SSL_* call returning OpenSSL's int convention) under the
  /// SSL lock, with a clean error queue before and after. With `claim_send_turn`, if the call
  /// produced records and the send turn is free, the step takes it (see above).
  template <class Call>
  ssl_step step(Call call, bool claim_send_turn = false) {
    std::lock_guard lock(ssl_mutex_);
    ERR_clear_error();
    ssl_step s;
    const std::size_t pending_before = BIO_ctrl_pending(out_);
    const int rc = call(ssl_.get(), &s.bytes);
    if (claim_send_turn && BIO_ctrl_pending(out_) > pending_before) s.send_turn = send_lock_.try_lock();
    if (rc > 0) {
      s.outcome = ssl_step::status::done;
    } else {
      switch (SSL_get_error(ssl_.get(), rc)) {
        case SSL_ERROR_WANT_READ:
          s.outcome = ssl_step::status::want_read;
          break;
        case SSL_ERROR_ZERO_RETURN:
          s.outcome = ssl_step::status::peer_closed;
          break;
        default: {
          s.outcome = ssl_step::status::failed;
          const long verdict = SSL_get_verify_result(ssl_.get());
          s.verify_failed = verdict != X509_V_OK;
          s.reason = s.verify_failed ? X509_verify_cert_error_string(verdict)
                                     : take_openssl_error("unexpected end of TLS data");
        }
      }
    }
    ERR_clear_error();
    return s;
  }

  /// Reads what TCP has into the SSL object's input: true if bytes came, false at end of
  /// stream, the TCP error otherwise.
  task<result<bool, net::tls_error>> fill() {
    auto n = co_await tcp_.read(in_buf_);
    if (!n) co_return err(net::tls_error(net::tls_error::kind::io, peer_, n.error().message(), n.error()));
    if (*n == 0) co_return false;
    std::lock_guard lock(ssl_mutex_);
    BIO_write(in_, in_buf_.data(), static_cast<int>(*n));  // a memory BIO takes it all
    co_return true;
  }

  /// Waits for the send turn, then sends every byte of ciphertext OpenSSL has produced.
  task<result<void, net::tls_error>> flush() {
    auto turn = co_await send_lock_.lock();
    co_return co_await send_with(std::move(turn));
  }

  /// Sends every byte of ciphertext OpenSSL has produced, holding the send turn `turn`, and
  /// gives the turn up once `out_` is seen empty.
  task<result<void, net::tls_error>> send_with(mutex_guard turn) {
    for (;;) {
      if (broken()) co_return err(closed_error());
      std::size_t n = 0;
      {
        std::lock_guard lock(ssl_mutex_);
        const int got = BIO_read(out_, out_buf_.data(), static_cast<int>(out_buf_.size()));
        n = got > 0 ? static_cast<std::size_t>(got) : 0;
        if (n == 0) {
          turn.unlock();  // under ssl_mutex_: a reader's try for the turn sees a consistent state
          co_return ok();
        }
      }
      broken_on_abandon sending{broken_};
      auto w = co_await tcp_.write_all(std::span<const std::byte>(out_buf_.data(), n));
      if (!w) co_return err(net::tls_error(net::tls_error::kind::io, peer_, w.error().message(), w.error()));
      sending.finished = true;
    }
  }

 private:
  // Marks the session broken unless the send it guards finished: set when the coroutine frame
  // is destroyed mid-write (the task was cancelled) or the write failed.
  struct broken_on_abandon {
    std::atomic<bool>& broken;
    bool finished = false;
    ~broken_on_abandon() {
      if (!finished) broken.store(true, std::memory_order_release);
    }
  };

  net::tcp_stream tcp_;
  std::string peer_;
  std::mutex ssl_mutex_;
  ssl_handle ssl_;
  BIO* in_ = nullptr;   // owned by ssl_
  BIO* out_ = nullptr;  // owned by ssl_
  polarway::mutex send_lock_;
  std::vector<std::byte> in_buf_;   // used by the reading side only
  std::vector<std::byte> out_buf_;  // used by the send turn's holder only
  std::atomic<bool> broken_{false};
};

}  // namespace polarway::detail
