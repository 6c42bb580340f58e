#include "ws_session.hpp"

namespace ticks::app {

std::string handshake_failure::message() const {
  switch (what) {
    case kind::timed_out:
      return "timed out";
    case kind::io:
      return io ? io->message() : std::string("I/O error");
    case kind::eof:
      return "the peer closed the connection during the handshake";
    case kind::protocol:
      return protocol ? protocol->message() : std::string("handshake error");
    case kind::refused:
      return "refused: " + refusal;
    case kind::plain:
      return "a plain HTTP request";
  }
  return "handshake failure";
}

std::string http_error_response(int status, std::string_view reason, std::string_view body) {
  std::string r = "HTTP/1.1 " + std::to_string(status) + " ";
  r += reason;
  r += "\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: ";
  r += std::to_string(body.size() + 1);
  r += "\r\n\r\n";
  r += body;
  r += '\n';
  return r;
}

}  // namespace ticks::app
