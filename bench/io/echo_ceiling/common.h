// Shared by every echo-ceiling variant: the workload, the connection setup, the byte check,
// error reporting and the one JSON result line.
//
// Workload (the same as bench/compare's tcp_echo_50c_x2000_64B): one thread, a listener on
// 127.0.0.1, 50 client connections (TCP_NODELAY on both ends); each client writes a 64-byte
// message and reads its 64-byte echo 2,000 times; the server ends of the connections echo in the
// same thread. Figure: 100,000 echoes / wall seconds, connection setup included.
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

constexpr int kConnections = 50;
constexpr int kMessagesPerConnection = 2000;
constexpr int kMessageSize = 64;
constexpr long kTotalEchoes = long(kConnections) * kMessagesPerConnection;

// Set by each program's main() before anything can fail, so every exit path prints its name.
inline const char* g_variant = "unknown";

// Every exit prints exactly one JSON line on stdout, so a caller can always parse the result.
inline void print_result(double msg_per_s, bool ok) {
  std::printf("{\"variant\": \"%s\", \"msg_per_s\": %.0f, \"ok\": %s}\n", g_variant, msg_per_s,
              ok ? "true" : "false");
  std::fflush(stdout);
}

// A failed system call (errnum = errno, or -res of a liburing call): message, failed result, exit 2.
[[noreturn]] inline void fail_errno(const char* what, int errnum) {
  std::fprintf(stderr, "%s: %s failed: %s\n", g_variant, what, std::strerror(errnum));
  print_result(0, false);
  std::exit(2);
}
[[noreturn]] inline void fail(const char* what) { fail_errno(what, errno); }

// Any other failure (wrong byte, short send, unexpected EOF...): message, failed result, exit 1.
[[noreturn]] inline void fail_msg(const char* fmt, auto... args) {
  std::fprintf(stderr, "%s: ", g_variant);
  std::fprintf(stderr, fmt, args...);
  std::fputc('\n', stderr);
  print_result(0, false);
  std::exit(1);
}

// Message `msg` of connection `conn`: a pattern that differs between consecutive messages and
// between connections, so a lost, repeated or crossed echo is caught by the byte check.
inline unsigned char pattern_byte(int conn, int msg, int i) {
  return static_cast<unsigned char>((conn * 7 + msg * 13 + i) & 0xff);
}
inline void fill_message(unsigned char* buf, int conn, int msg) {
  for (int i = 0; i < kMessageSize; i++) buf[i] = pattern_byte(conn, msg, i);
}
// Checks every byte of an echo; any difference ends the run.
inline void verify_echo(const unsigned char* buf, int conn, int msg) {
  for (int i = 0; i < kMessageSize; i++)
    if (buf[i] != pattern_byte(conn, msg, i))
      fail_msg("echo mismatch: connection %d message %d byte %d: got %u, want %u", conn, msg, i,
               buf[i], pattern_byte(conn, msg, i));
}

inline void set_nodelay(int fd) {
  int one = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) fail("setsockopt(TCP_NODELAY)");
}
inline void set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) fail("fcntl(F_GETFL)");
  if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) fail("fcntl(F_SETFL, O_NONBLOCK)");
}

using Clock = std::chrono::steady_clock;

// Opens a listener on 127.0.0.1 (kernel-chosen port) and kConnections connected pairs
// client[i] <-> server[i], all non-blocking with TCP_NODELAY. Returns the start time, taken just
// before the first connect, as the peer benchmarks count their connection setup too.
inline Clock::time_point open_connection_pairs(int* client, int* server) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) fail("socket(listener)");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) fail("bind");
  if (listen(listener, 128) < 0) fail("listen");
  socklen_t addr_len = sizeof addr;
  if (getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &addr_len) < 0) fail("getsockname");

  auto start = Clock::now();
  for (int i = 0; i < kConnections; i++) {
    client[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (client[i] < 0) fail("socket(client)");
    set_nodelay(client[i]);
    // A blocking connect to loopback completes from the backlog, before accept().
    if (connect(client[i], reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) fail("connect");
    server[i] = accept(listener, nullptr, nullptr);
    if (server[i] < 0) fail("accept");
    set_nodelay(server[i]);
    set_nonblocking(client[i]);
    set_nonblocking(server[i]);
  }
  if (close(listener) < 0) fail("close(listener)");
  return start;
}

// Prints the result line; exit status 0 only if every echo arrived (each was checked on arrival).
inline int finish(Clock::time_point start, long echoes_done) {
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (echoes_done != kTotalEchoes) fail_msg("%ld echoes of %ld", echoes_done, kTotalEchoes);
  print_result(double(echoes_done) / seconds, true);
  return 0;
}
