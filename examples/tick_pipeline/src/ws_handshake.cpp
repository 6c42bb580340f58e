#include "ticks/ws_handshake.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <span>

#include <openssl/evp.h>

#include "http_head.hpp"
#include "random_bytes.hpp"

namespace ticks::ws {

namespace pw = polarway;

namespace {
constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

// "HTTP/1.1", or a later 1.x: RFC 6455 needs at least 1.1.
bool http_version_ok(std::string_view v) noexcept {
  return v.size() == 8 && v.substr(0, 7) == "HTTP/1." && v[7] >= '1' && v[7] <= '9';
}

// Appends the bytes of `in` to `head` until "\r\n\r\n" or the size limit; how many were taken
// and where the head ends (npos while it has not).
struct scan_result {
  std::size_t taken;
  std::size_t head_end;
};
scan_result scan_head(std::string& head, byte_view in, std::size_t limit) {
  const std::size_t old = head.size();
  const std::size_t take = std::min(in.size(), limit - std::min(limit, old));
  head.append(as_chars(in.first(take)));
  // The terminator may straddle the previous call: look back three bytes.
  const auto pos = head.find("\r\n\r\n", old >= 3 ? old - 3 : 0);
  if (pos == std::string::npos) return {take, std::string::npos};
  const std::size_t end = pos + 4;
  head.resize(end);
  return {end - old, end};
}

// Padded base64 (RFC 4648) of `bytes`, through libcrypto.
std::string base64_encode(std::span<const std::uint8_t> bytes) {
  // EVP_EncodeBlock NUL-terminates: one byte of room past the text, dropped afterwards.
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

bool is_base64_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// Whether `key` is padded base64 of exactly 16 bytes (RFC 6455 4.2.1): 22 characters of the
// alphabet and "==". The shape is checked here because EVP_DecodeBlock is lenient where the
// handshake must not be: it trims surrounding whitespace, decodes '=' anywhere as zero bits and
// counts the padding in its result (24 characters always decode to 18 bytes).
bool is_key_of_16_bytes(std::string_view key) noexcept {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  if (!std::all_of(key.begin(), key.begin() + 22, is_base64_char)) return false;
  std::array<unsigned char, 18> decoded;
  return EVP_DecodeBlock(decoded.data(), reinterpret_cast<const unsigned char*>(key.data()), 24) == 18;
}

// Non-empty, and no space or control character that could end the line or forge a header.
bool valid_request_part(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return false;
  }
  return true;
}
}  // namespace

std::string_view to_string(handshake_errc code) noexcept {
  switch (code) {
    case handshake_errc::invalid_argument:
      return "invalid argument";
    case handshake_errc::no_randomness:
      return "no randomness for the key";
    case handshake_errc::too_large:
      return "handshake head too large";
    case handshake_errc::malformed:
      return "malformed HTTP head";
    case handshake_errc::bad_method:
      return "method is not GET";
    case handshake_errc::bad_http_version:
      return "HTTP version is not 1.1";
    case handshake_errc::missing_host:
      return "missing Host";
    case handshake_errc::missing_upgrade:
      return "missing Upgrade: websocket";
    case handshake_errc::missing_connection:
      return "missing Connection: Upgrade";
    case handshake_errc::bad_key:
      return "bad Sec-WebSocket-Key";
    case handshake_errc::bad_version:
      return "unsupported Sec-WebSocket-Version";
    case handshake_errc::unexpected_status:
      return "unexpected HTTP status";
    case handshake_errc::bad_accept:
      return "bad Sec-WebSocket-Accept";
    case handshake_errc::unexpected_extension:
      return "unexpected Sec-WebSocket-Extensions";
    case handshake_errc::unexpected_subprotocol:
      return "unexpected Sec-WebSocket-Protocol";
  }
  return "unknown handshake error";
}

std::string handshake_error::message() const {
  std::string text = "websocket handshake: ";
  text += to_string(code);
  if (*detail) {
    text += " (";
    text += detail;
    text += ')';
  }
  if (http_status) text += ", HTTP " + std::to_string(http_status);
  return text;
}

std::string websocket_accept(std::string_view key) {
  // SHA-1 here is RFC 6455's fixed transform of the key, not a security measure.
  std::string input;
  input.reserve(key.size() + guid.size());
  input += key;
  input += guid;
  std::array<std::uint8_t, 20> digest{};
  unsigned int size = 0;
  // Cannot fail for SHA-1 short of libcrypto failing to allocate; then the accept value is
  // wrong and the peer refuses the handshake, which is the right outcome.
  (void)EVP_Digest(input.data(), input.size(), digest.data(), &size, EVP_sha1(), nullptr);
  return base64_encode(digest);
}

// ---- client ----------------------------------------------------------------------------------

pw::result<client_handshake, handshake_error> client_handshake::create(std::string_view host, std::string_view target,
                                                                       handshake_options options) {
  std::array<std::uint8_t, 16> key;
  if (!detail::fill_random(key)) return pw::err(handshake_error{handshake_errc::no_randomness, 0, "getrandom"});
  return create(host, target, key, options);
}

pw::result<client_handshake, handshake_error> client_handshake::create(std::string_view host, std::string_view target,
                                                                       const std::array<std::uint8_t, 16>& key,
                                                                       handshake_options options) {
  // Both go verbatim into the request: a space or CR/LF in them would forge headers.
  if (!valid_request_part(host))
    return pw::err(
        handshake_error{handshake_errc::invalid_argument, 0, "host must be non-empty, no spaces or controls"});
  if (!valid_request_part(target) || target.front() != '/')
    return pw::err(
        handshake_error{handshake_errc::invalid_argument, 0, "target must start with '/', no spaces or controls"});

  client_handshake hs;
  hs.options_ = options;
  hs.key_ = base64_encode(key);
  hs.accept_ = websocket_accept(hs.key_);
  hs.request_.reserve(160 + host.size() + target.size());
  hs.request_ += "GET ";
  hs.request_ += target;
  hs.request_ += " HTTP/1.1\r\nHost: ";
  hs.request_ += host;
  hs.request_ += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  hs.request_ += hs.key_;
  hs.request_ += "\r\nSec-WebSocket-Version: 13\r\n\r\n";
  return pw::ok(std::move(hs));
}

pw::result<handshake_progress, handshake_error> client_handshake::fail(handshake_errc code, const char* detail,
                                                                       int status) {
  state_ = state::failed;
  error_ = handshake_error{code, status, detail};
  return pw::err(error_);
}

pw::result<handshake_progress, handshake_error> client_handshake::feed(byte_view bytes) {
  if (state_ == state::done) return pw::ok(handshake_progress{0, true});
  if (state_ == state::failed) return pw::err(error_);

  const auto scan = scan_head(head_, bytes, options_.max_head_size);
  if (scan.head_end == std::string::npos) {
    if (head_.size() >= options_.max_head_size) return fail(handshake_errc::too_large, "response head");
    return pw::ok(handshake_progress{scan.taken, false});
  }

  auto parsed = detail::parse_http_head(head_);
  if (!parsed) return fail(handshake_errc::malformed, "response head");
  const auto& head = *parsed;

  // Status line: HTTP-version SP 3DIGIT [SP reason]
  const std::string_view line = head.start_line;
  if (line.size() < 12 || line[8] != ' ' || (line.size() > 12 && line[12] != ' '))
    return fail(handshake_errc::malformed, "status line");
  if (!http_version_ok(line.substr(0, 8))) return fail(handshake_errc::bad_http_version, "status line");
  int status = 0;
  const auto digits = line.substr(9, 3);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + 3, status);
  if (ec != std::errc() || end != digits.data() + 3 || status < 100)
    return fail(handshake_errc::malformed, "status code");
  if (status != 101) return fail(handshake_errc::unexpected_status, "expected 101 Switching Protocols", status);

  if (!head.has_token("Upgrade", "websocket")) return fail(handshake_errc::missing_upgrade, "response", status);
  if (!head.has_token("Connection", "upgrade")) return fail(handshake_errc::missing_connection, "response", status);
  const auto accept = head.single("Sec-WebSocket-Accept");
  if (!accept) return fail(handshake_errc::bad_accept, "absent or repeated", status);
  if (*accept != accept_) return fail(handshake_errc::bad_accept, "does not match the key", status);
  // We offered no extension and no subprotocol; a server that picks one anyway speaks a
  // protocol we cannot (RFC 6455 4.1, items 5 and 6).
  if (head.has("Sec-WebSocket-Extensions")) return fail(handshake_errc::unexpected_extension, "none offered", status);
  if (head.has("Sec-WebSocket-Protocol")) return fail(handshake_errc::unexpected_subprotocol, "none offered", status);

  state_ = state::done;
  head_.clear();
  head_.shrink_to_fit();
  return pw::ok(handshake_progress{scan.taken, true});
}

// ---- server ----------------------------------------------------------------------------------

pw::result<handshake_progress, handshake_error> server_handshake::fail(handshake_errc code, const char* detail) {
  int status = 400;
  const char* reason = "Bad Request";
  std::string extra;
  if (code == handshake_errc::bad_version) {
    // RFC 6455 4.4: say which version we speak.
    status = 426;
    reason = "Upgrade Required";
    extra = "Sec-WebSocket-Version: 13\r\n";
  } else if (code == handshake_errc::too_large) {
    status = 431;
    reason = "Request Header Fields Too Large";
  }
  state_ = state::failed;
  error_ = handshake_error{code, status, detail};

  std::string body(to_string(code));
  if (*detail) {
    body += ": ";
    body += detail;
  }
  body += '\n';
  response_ = "HTTP/1.1 " + std::to_string(status) + ' ' + reason + "\r\n" + extra +
              "Content-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\nConnection: close\r\n\r\n" + body;
  return pw::err(error_);
}

pw::result<handshake_progress, handshake_error> server_handshake::feed(byte_view bytes) {
  if (state_ == state::done) return pw::ok(handshake_progress{0, true});
  if (state_ == state::failed) return pw::err(error_);

  const auto scan = scan_head(head_, bytes, options_.max_head_size);
  if (scan.head_end == std::string::npos) {
    if (head_.size() >= options_.max_head_size) return fail(handshake_errc::too_large, "request head");
    return pw::ok(handshake_progress{scan.taken, false});
  }

  auto parsed = detail::parse_http_head(head_);
  if (!parsed) return fail(handshake_errc::malformed, "request head");
  const auto& head = *parsed;

  // Request line: method SP request-target SP HTTP-version, single spaces.
  const std::string_view line = head.start_line;
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return fail(handshake_errc::malformed, "request line");
  const auto method = line.substr(0, sp1);
  const auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto version = line.substr(sp2 + 1);
  if (method.empty() || target.empty()) return fail(handshake_errc::malformed, "request line");
  if (method != "GET") return fail(handshake_errc::bad_method, "only GET upgrades");
  if (!http_version_ok(version)) return fail(handshake_errc::bad_http_version, "request line");

  const auto host = head.single("Host");
  if (!host || host->empty()) return fail(handshake_errc::missing_host, "absent, empty or repeated");
  if (!head.has("Upgrade")) {
    // A valid request that asks for no upgrade at all: the caller may serve it as plain HTTP.
    plain_consumed_ = scan.taken;
    auto refused = fail(handshake_errc::missing_upgrade, "request");
    plain_request_ = std::move(head_);
    return refused;
  }
  if (!head.has_token("Upgrade", "websocket")) return fail(handshake_errc::missing_upgrade, "request");
  if (!head.has_token("Connection", "upgrade")) return fail(handshake_errc::missing_connection, "request");
  const auto key = head.single("Sec-WebSocket-Key");
  if (!key) return fail(handshake_errc::bad_key, "absent or repeated");
  if (!is_key_of_16_bytes(*key)) return fail(handshake_errc::bad_key, "must be base64 of 16 bytes");
  const auto ver = head.single("Sec-WebSocket-Version");
  if (!ver || *ver != "13") return fail(handshake_errc::bad_version, "only version 13");

  target_ = target;
  host_ = *host;
  response_ = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ";
  response_ += websocket_accept(*key);
  response_ += "\r\n\r\n";
  state_ = state::done;
  head_.clear();
  head_.shrink_to_fit();
  return pw::ok(handshake_progress{scan.taken, true});
}

}  // namespace ticks::ws
