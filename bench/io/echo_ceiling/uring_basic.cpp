// io_uring, the straightforward way -> variant "uring_recv_send_poll_first"
//
// One recv SQE and one send SQE per message, everything submitted by one
// io_uring_submit_and_wait(1) per loop iteration: roughly what a runtime that wraps each
// read()/write() future in an SQE does. The recvs carry IORING_RECVSEND_POLL_FIRST: the socket
// is almost never readable when the recv is queued, so skipping the doomed first attempt and
// arming the poll straight away is worth ~4% here (without it this lands below epoll).
// Registered files and CQE_SKIP_SUCCESS on the sends were tried and changed little.

#include "uring_common.h"

namespace {

enum Op : uint64_t { kRecv = 0, kSend = 1 };  // low bit of user_data; the rest is the slot

struct Connection {
  bool is_client;
  int index;     // which of the kConnections pairs
  int fd;
  int slot;      // index in `connections`
  int next_msg;  // client: the message whose echo it is waiting for
  int received;  // client: bytes of that echo received so far
  // Separate buffers: a send SQE may still read sbuf while the next recv fills rbuf.
  unsigned char rbuf[256];
  unsigned char sbuf[256];
};

Connection connections[2 * kConnections];  // [0, N) clients, [N, 2N) servers
long echoes_done = 0;
int clients_running = kConnections;

void queue_recv(Connection& c) {
  io_uring_sqe* sqe = get_sqe();
  // The client reads exactly the rest of one echo; the server takes whatever has arrived.
  size_t want = c.is_client ? size_t(kMessageSize - c.received) : sizeof c.rbuf;
  io_uring_prep_recv(sqe, c.fd, c.rbuf + c.received, want, 0);
  sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
  io_uring_sqe_set_data64(sqe, uint64_t(c.slot) << 1 | kRecv);
}

void queue_send(Connection& c, size_t n) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_send(sqe, c.fd, c.sbuf, n, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, uint64_t(c.slot) << 1 | kSend);
}

void on_completion(const io_uring_cqe* cqe) {
  Connection& c = connections[cqe->user_data >> 1];
  int res = cqe->res;
  if ((cqe->user_data & 1) == kSend) {
    if (res < 0) fail_errno("send", -res);
    // At most 64 bytes in flight per connection: the socket buffer always has room.
    if (res != kMessageSize) fail_msg("short send: %d of %d bytes", res, kMessageSize);
    return;
  }
  if (res < 0) fail_errno("recv", -res);
  if (res == 0) fail_msg("connection %d: unexpected EOF", c.index);
  if (!c.is_client) {  // server: echo, then wait for the next message
    std::memcpy(c.sbuf, c.rbuf, size_t(res));
    queue_send(c, size_t(res));
    queue_recv(c);
    return;
  }
  c.received += res;
  if (c.received < kMessageSize) {  // TCP split the echo: read the rest
    queue_recv(c);
    return;
  }
  verify_echo(c.rbuf, c.index, c.next_msg);
  echoes_done++;
  c.received = 0;
  if (++c.next_msg < kMessagesPerConnection) {
    fill_message(c.sbuf, c.index, c.next_msg);
    queue_send(c, kMessageSize);
    queue_recv(c);
  } else {
    clients_running--;
  }
}

}  // namespace

int main() {
  g_variant = "uring_recv_send_poll_first";
  int client[kConnections], server[kConnections];
  auto start = open_connection_pairs(client, server);

  init_ring();

  for (int i = 0; i < kConnections; i++) {
    connections[i] = Connection{true, i, client[i], i, 0, 0, {}, {}};
    connections[kConnections + i] = Connection{false, i, server[i], kConnections + i, 0, 0, {}, {}};
  }
  for (auto& c : connections) queue_recv(c);
  for (int i = 0; i < kConnections; i++) {
    fill_message(connections[i].sbuf, i, 0);
    queue_send(connections[i], kMessageSize);
  }

  run_ring([] { return clients_running > 0; }, on_completion);
  return finish(start, echoes_done);
}
