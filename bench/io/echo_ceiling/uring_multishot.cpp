// io_uring, the best found -> the kernel's floor for this workload.
//
//   uring_multishot sqe-send     -> variant "uring_multishot_sqe_send"
//   uring_multishot direct-send  -> variant "uring_multishot_direct_send"
//
// Each connection has one multishot recv, armed once, that picks its buffers from a provided
// buffer ring: no recv SQE per message and no buffer tied up per idle connection. This is what
// beats epoll (~+10-15%). Sends are then either
//   sqe-send:    send SQEs, batched into the next io_uring_submit_and_wait (one syscall for all
//                the echoes and next messages of a batch), or
//   direct-send: plain send(2) from the completion loop, as a runtime that writes eagerly would;
//                a syscall per message, about as fast here.
// Registered files, a registered ring fd and CQE_SKIP_SUCCESS on sends were tried and moved the
// figure by a few percent at most, within run-to-run noise; they are left out.

#include <algorithm>

#include "uring_common.h"

namespace {

constexpr unsigned kBufferCount = 512;  // provided buffers, shared by all connections
constexpr unsigned kBufferSize = 128;   // > one 64-byte message
constexpr unsigned kBufferGroup = 7;

enum Op : uint64_t { kRecv = 0, kSend = 1 };  // low bit of user_data; the rest is the slot

struct Connection {
  bool is_client;
  int index;     // which of the kConnections pairs
  int fd;
  int slot;      // index in `connections`
  int next_msg;  // client: the message whose echo it is waiting for
  int received;  // client: bytes of that echo assembled in `echo`
  int send_offset;
  unsigned char echo[kMessageSize];
  // Bytes of queued send SQEs. A provided buffer is recycled as soon as its completion is
  // handled, before the SQE that sends its bytes is even submitted, so they are copied here.
  // At most one 64-byte message is in flight per connection, so using the 256 bytes as a ring
  // (wrapping to 0 when the next chunk does not fit) never overwrites unsent bytes.
  unsigned char send_buf[256];
};

Connection connections[2 * kConnections];  // [0, N) clients, [N, 2N) servers
io_uring_buf_ring* buf_ring;
unsigned char* buffers;
bool direct_send = false;
long echoes_done = 0;
int clients_running = kConnections;

void arm_multishot_recv(Connection& c) {
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_recv_multishot(sqe, c.fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kBufferGroup;
  io_uring_sqe_set_data64(sqe, uint64_t(c.slot) << 1 | kRecv);
}

void send_bytes(Connection& c, const unsigned char* data, int n) {
  if (direct_send) {
    ssize_t r = send(c.fd, data, size_t(n), MSG_NOSIGNAL);
    if (r < 0) fail("send");
    if (r != n) fail_msg("short send: %zd of %d bytes", r, n);
    return;
  }
  if (c.send_offset + n > int(sizeof c.send_buf)) c.send_offset = 0;
  unsigned char* copy = c.send_buf + c.send_offset;
  std::memcpy(copy, data, size_t(n));
  c.send_offset += n;
  io_uring_sqe* sqe = get_sqe();
  io_uring_prep_send(sqe, c.fd, copy, size_t(n), MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, uint64_t(c.slot) << 1 | kSend);
}

void give_back_buffer(unsigned bid) {
  io_uring_buf_ring_add(buf_ring, buffers + bid * kBufferSize, kBufferSize, uint16_t(bid),
                        io_uring_buf_ring_mask(kBufferCount), 0);
  io_uring_buf_ring_advance(buf_ring, 1);
}

void on_data(Connection& c, const unsigned char* data, int n) {
  if (!c.is_client) {  // server: echo whatever arrived
    send_bytes(c, data, n);
    return;
  }
  while (n > 0) {  // client: assemble echoes (TCP may split or, in principle, merge them)
    if (c.next_msg >= kMessagesPerConnection) fail_msg("client %d: data after its last echo", c.index);
    int take = std::min(n, kMessageSize - c.received);
    std::memcpy(c.echo + c.received, data, size_t(take));
    c.received += take;
    data += take;
    n -= take;
    if (c.received < kMessageSize) return;
    verify_echo(c.echo, c.index, c.next_msg);
    echoes_done++;
    c.received = 0;
    if (++c.next_msg < kMessagesPerConnection) {
      unsigned char msg[kMessageSize];
      fill_message(msg, c.index, c.next_msg);
      send_bytes(c, msg, kMessageSize);
    } else {
      clients_running--;
    }
  }
}

void on_completion(const io_uring_cqe* cqe) {
  Connection& c = connections[cqe->user_data >> 1];
  int res = cqe->res;
  if ((cqe->user_data & 1) == kSend) {
    if (res < 0) fail_errno("send", -res);
    if (res != kMessageSize) fail_msg("short send: %d of %d bytes", res, kMessageSize);
    return;
  }
  if (res > 0) {
    if (!(cqe->flags & IORING_CQE_F_BUFFER)) fail_msg("recv completion without a buffer");
    unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    on_data(c, buffers + bid * kBufferSize, res);
    give_back_buffer(bid);
  } else if (res == 0) {
    fail_msg("connection %d: unexpected EOF", c.index);
  } else if (res != -ENOBUFS) {  // ENOBUFS: the buffer ring ran dry; re-arming below is the cure
    fail_errno("multishot recv", -res);
  }
  // The kernel may end a multishot recv at any time (no F_MORE); re-arm while data is expected.
  bool done = c.is_client && c.next_msg >= kMessagesPerConnection;
  if (!(cqe->flags & IORING_CQE_F_MORE) && !done) arm_multishot_recv(c);
}

// liburing 2.3 (Debian 12) has no io_uring_setup_buf_ring, so the ring is allocated and
// registered by hand.
void register_buffer_ring() {
  void* ring_mem;
  int err = posix_memalign(&ring_mem, 4096, kBufferCount * sizeof(io_uring_buf));
  if (err) fail_errno("posix_memalign(buffer ring)", err);
  buf_ring = static_cast<io_uring_buf_ring*>(ring_mem);
  io_uring_buf_ring_init(buf_ring);
  void* buf_mem;
  err = posix_memalign(&buf_mem, 64, kBufferCount * kBufferSize);
  if (err) fail_errno("posix_memalign(buffers)", err);
  buffers = static_cast<unsigned char*>(buf_mem);

  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uint64_t>(ring_mem);
  reg.ring_entries = kBufferCount;
  reg.bgid = kBufferGroup;
  int r = io_uring_register_buf_ring(&ring, &reg, 0);
  if (r < 0) fail_errno("io_uring_register_buf_ring", -r);
  for (unsigned b = 0; b < kBufferCount; b++)
    io_uring_buf_ring_add(buf_ring, buffers + b * kBufferSize, kBufferSize, uint16_t(b),
                          io_uring_buf_ring_mask(kBufferCount), int(b));
  io_uring_buf_ring_advance(buf_ring, kBufferCount);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "sqe-send") == 0) {
    g_variant = "uring_multishot_sqe_send";
  } else if (argc == 2 && std::strcmp(argv[1], "direct-send") == 0) {
    g_variant = "uring_multishot_direct_send";
    direct_send = true;
  } else {
    std::fprintf(stderr, "usage: %s sqe-send|direct-send\n", argv[0]);
    return 2;
  }

  int client[kConnections], server[kConnections];
  auto start = open_connection_pairs(client, server);

  init_ring();
  register_buffer_ring();

  for (int i = 0; i < kConnections; i++) {
    connections[i] = Connection{true, i, client[i], i, 0, 0, 0, {}, {}};
    connections[kConnections + i] = Connection{false, i, server[i], kConnections + i, 0, 0, 0, {}, {}};
  }
  for (auto& c : connections) arm_multishot_recv(c);
  int r = io_uring_submit(&ring);  // armed before the first message, so none arrives unwatched
  if (r < 0) fail_errno("io_uring_submit", -r);
  for (int i = 0; i < kConnections; i++) {
    unsigned char msg[kMessageSize];
    fill_message(msg, i, 0);
    send_bytes(connections[i], msg, kMessageSize);
  }

  run_ring([] { return clients_running > 0; }, on_completion);
  return finish(start, echoes_done);
}
