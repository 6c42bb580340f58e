// epoll echo: the readiness-based ceiling, with no runtime in the way.
//
//   epoll_echo level   -> variant "epoll_level_triggered"
//       Level-triggered, one recv per readiness event. The fewest syscalls per echo (one
//       epoll_wait per batch, one recv + one send per message): the best epoll got here.
//   epoll_echo edge    -> variant "epoll_edge_until_eagain"
//       Edge-triggered, recv until EAGAIN after each event. This is what Tokio (mio) does to
//       clear readiness, and the extra recv that returns EAGAIN costs one syscall per message.
//
// Client and server ends share one epoll set; every 64-byte echo is checked byte by byte.
#include <sys/epoll.h>

#include <cstring>

#include "common.h"

namespace {

struct Connection {
  bool is_client;
  int index;       // which of the kConnections pairs
  int fd;
  int next_msg;    // client: the message whose echo it is waiting for
  int received;    // client: bytes of that echo received so far
  unsigned char buf[256];
};

Connection connections[2 * kConnections];  // [0, N) clients, [N, 2N) servers
long echoes_done = 0;
int clients_running = kConnections;

// At most one 64-byte message is in flight per connection, so a send into an empty loopback
// socket buffer never blocks; a short send would mean something is badly wrong.
void send_all(int fd, const unsigned char* data, size_t n) {
  ssize_t r = send(fd, data, n, MSG_NOSIGNAL);
  if (r < 0) fail("send");
  if (size_t(r) != n) fail_msg("short send: %zd of %zu bytes", r, n);
}

// One recv on a readable connection. Returns false once recv says EAGAIN (or the client is done),
// which is what the edge-triggered loop waits for.
bool read_once(Connection& c) {
  if (!c.is_client) {  // server: echo whatever arrived
    ssize_t n = recv(c.fd, c.buf, sizeof c.buf, 0);
    if (n < 0) {
      if (errno == EAGAIN) return false;
      fail("recv(server)");
    }
    if (n == 0) fail_msg("server %d: unexpected EOF", c.index);
    send_all(c.fd, c.buf, size_t(n));
    return true;
  }
  if (c.next_msg >= kMessagesPerConnection) return false;
  ssize_t n = recv(c.fd, c.buf + c.received, size_t(kMessageSize - c.received), 0);
  if (n < 0) {
    if (errno == EAGAIN) return false;
    fail("recv(client)");
  }
  if (n == 0) fail_msg("client %d: unexpected EOF", c.index);
  c.received += int(n);
  if (c.received < kMessageSize) return true;  // TCP may split the echo
  verify_echo(c.buf, c.index, c.next_msg);
  echoes_done++;
  c.received = 0;
  if (++c.next_msg < kMessagesPerConnection) {
    fill_message(c.buf, c.index, c.next_msg);
    send_all(c.fd, c.buf, kMessageSize);
  } else {
    clients_running--;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool edge = false;
  if (argc == 2 && std::strcmp(argv[1], "level") == 0) {
    g_variant = "epoll_level_triggered";
  } else if (argc == 2 && std::strcmp(argv[1], "edge") == 0) {
    g_variant = "epoll_edge_until_eagain";
    edge = true;
  } else {
    std::fprintf(stderr, "usage: %s level|edge\n", argv[0]);
    return 2;
  }

  int client[kConnections], server[kConnections];
  auto start = open_connection_pairs(client, server);

  int ep = epoll_create1(0);
  if (ep < 0) fail("epoll_create1");
  for (int i = 0; i < 2 * kConnections; i++) {
    bool is_client = i < kConnections;
    int index = is_client ? i : i - kConnections;
    connections[i] = Connection{is_client, index, is_client ? client[index] : server[index], 0, 0, {}};
    epoll_event ev{};
    ev.events = EPOLLIN | (edge ? EPOLLET : 0u);
    ev.data.u32 = uint32_t(i);
    if (epoll_ctl(ep, EPOLL_CTL_ADD, connections[i].fd, &ev) < 0) fail("epoll_ctl(ADD)");
  }

  for (int i = 0; i < kConnections; i++) {
    fill_message(connections[i].buf, i, 0);
    send_all(connections[i].fd, connections[i].buf, kMessageSize);
  }

  epoll_event events[256];
  while (clients_running > 0) {
    int n = epoll_wait(ep, events, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("epoll_wait");
    }
    for (int e = 0; e < n; e++) {
      Connection& c = connections[events[e].data.u32];
      if (events[e].events & (EPOLLERR | EPOLLHUP)) fail_msg("connection %d: EPOLLERR/EPOLLHUP", c.index);
      if (edge) {
        while (read_once(c)) {
        }
      } else {
        read_once(c);
      }
    }
  }
  if (close(ep) < 0) fail("close(epoll)");
  return finish(start, echoes_done);
}
