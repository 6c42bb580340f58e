// udp_socket::recv_many against the kernel's limit, datagrams/s on one UDP socket pair over
// loopback (64-byte datagrams, batches of 1, 32 and 256 records).
//
// drain_*: `per_round` datagrams are queued (sendmmsg, not timed), then the receive of all of
// them is timed. That is the batched receive with data present, where the kernel's limit is a
// recvmmsg(MSG_DONTWAIT) loop:
//   drain_recvmmsg_loop        the hand-written loop
//   drain_polarway/<uring|epoll>  co_await recv_many in a task on one worker
//   drain_uring_multishot      a multishot recvmsg with a ring of provided buffers, written by
//                              hand, each payload copied into the caller's record as recv_many
//                              would have to: what a multishot design could reach at best
// wait_*: the receive starts with nothing queued and waits; then a burst of 32 is sent (one
// sendmmsg, by the same thread) and the time until all 32 are received is timed, so every
// round pays the wait path:
//   wait_epoll_recvmmsg        epoll_wait, then recvmmsg, by hand
//   wait_uring_recvmsg_first   a POLL_FIRST recvmsg in the ring for the first datagram, then
//                              recvmmsg for what queued behind it (polarway's choice), by hand
//   wait_uring_poll_recvmmsg   a poll in the ring, then recvmmsg, by hand
//   wait_uring_multishot       a multishot recvmsg already armed, by hand
//   wait_polarway/<uring|epoll>
#include <benchmark/benchmark.h>
#include <liburing.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <polarway/net/udp_socket.hpp>
#include <polarway/runtime.hpp>
#include <vector>

namespace pw = polarway;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr std::size_t payload_size = 64;
constexpr int per_round = 512;
constexpr int burst = 32;

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(1);
}

// A receiving socket on 127.0.0.1 with room for a round (4 MiB of receive buffer), and a
// sender connected to it.
struct socket_pair {
  int rx = -1, tx = -1;

  explicit socket_pair(int rx_fd = -1) {
    rx = rx_fd >= 0 ? rx_fd : ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (rx_fd < 0 && ::bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die("bind");
    const int size = 4 << 20;
    ::setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    socklen_t len = sizeof a;
    ::getsockname(rx, reinterpret_cast<sockaddr*>(&a), &len);
    tx = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (::connect(tx, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die("connect");
  }
  socket_pair(const socket_pair&) = delete;
  ~socket_pair() {
    ::close(tx);
    if (owns_rx) ::close(rx);
  }
  bool owns_rx = true;

  // Sends `count` datagrams, 64 per sendmmsg.
  void send(int count) const {
    static std::array<std::byte, payload_size> data{};
    std::array<mmsghdr, 64> hdrs{};
    std::array<iovec, 64> iovs{};
    for (std::size_t i = 0; i < hdrs.size(); ++i) {
      iovs[i] = iovec{data.data(), data.size()};
      hdrs[i].msg_hdr.msg_iov = &iovs[i];
      hdrs[i].msg_hdr.msg_iovlen = 1;
    }
    for (int sent = 0; sent < count;) {
      const int n = ::sendmmsg(tx, hdrs.data(), static_cast<unsigned>(std::min<int>(64, count - sent)), 0);
      if (n < 0) die("sendmmsg");
      sent += n;
    }
  }
};

// The caller's records: a 2 KiB buffer each.
struct records {
  std::vector<std::array<std::byte, 2048>> storage;
  std::vector<pw::net::datagram> list;
  explicit records(std::size_t n) : storage(n), list(n) {
    for (std::size_t i = 0; i < n; ++i) list[i].buffer = storage[i];
  }
  // For the multishot receivers: copies each payload into the next record, round the list,
  // as recv_many would have to.
  auto filler() {
    return [this, next = std::size_t{0}](const std::byte* data, std::size_t len) mutable {
      auto& r = list[next];
      r.size = std::min(len, r.buffer.size());
      std::memcpy(r.buffer.data(), data, r.size);
      if (++next == list.size()) next = 0;
    };
  }
};

// A recvmmsg(MSG_DONTWAIT) into `n` records: how many came, 0 if none.
struct recvmmsg_batch {
  std::vector<std::array<std::byte, 2048>> storage;
  std::vector<mmsghdr> hdrs;
  std::vector<iovec> iovs;
  std::vector<sockaddr_storage> names;
  explicit recvmmsg_batch(std::size_t n) : storage(n), hdrs(n), iovs(n), names(n) {
    for (std::size_t i = 0; i < n; ++i) iovs[i] = iovec{storage[i].data(), storage[i].size()};
  }
  int receive(int fd, std::size_t first = 0) {
    for (std::size_t i = first; i < hdrs.size(); ++i) {
      msghdr& h = hdrs[i].msg_hdr;
      h = msghdr{};
      h.msg_name = &names[i];
      h.msg_namelen = sizeof names[i];
      h.msg_iov = &iovs[i];
      h.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(fd, hdrs.data() + first, static_cast<unsigned>(hdrs.size() - first),
                             MSG_DONTWAIT | MSG_TRUNC, nullptr);
    if (n < 0 && errno != EAGAIN) die("recvmmsg");
    return n < 0 ? 0 : n;
  }
};

// A multishot recvmsg on its own ring with `entries` provided buffers of 2 KiB; take() hands
// each completion's payload to a callback and gives the buffer back.
class multishot_receiver {
 public:
  static constexpr unsigned entries = 1024;
  static constexpr unsigned buf_size = 2048;

  explicit multishot_receiver(int fd) : fd_(fd), bufs_(entries * buf_size) {
    io_uring_params p{};
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    if (io_uring_queue_init_params(64, &ring_, &p) < 0) die("io_uring_queue_init_params");
    br_mem_ =
        ::mmap(nullptr, entries * sizeof(io_uring_buf), PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (br_mem_ == MAP_FAILED) die("mmap");
    br_ = static_cast<io_uring_buf_ring*>(br_mem_);
    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(br_);
    reg.ring_entries = entries;
    reg.bgid = 0;
    if (io_uring_register_buf_ring(&ring_, &reg, 0) < 0) die("io_uring_register_buf_ring");
    io_uring_buf_ring_init(br_);
    for (unsigned i = 0; i < entries; ++i)
      io_uring_buf_ring_add(br_, bufs_.data() + i * buf_size, buf_size, static_cast<unsigned short>(i),
                            io_uring_buf_ring_mask(entries), static_cast<int>(i));
    io_uring_buf_ring_advance(br_, entries);
    msg_.msg_namelen = sizeof(sockaddr_storage);
    arm();
  }
  ~multishot_receiver() {
    io_uring_queue_exit(&ring_);
    ::munmap(br_mem_, entries * sizeof(io_uring_buf));
  }

  // Waits for completions and hands each datagram to `f(payload, length)`; returns how many.
  template <class F>
  int take(F&& f) {
    io_uring_submit_and_wait(&ring_, 1);
    int got = 0;
    unsigned head = 0, seen = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      if (!(cqe->flags & IORING_CQE_F_MORE)) rearm_ = true;
      if (cqe->res < 0) {
        if (cqe->res != -ENOBUFS) die("multishot recvmsg");
        continue;
      }
      const unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
      std::byte* buf = bufs_.data() + bid * buf_size;
      io_uring_recvmsg_out* out = io_uring_recvmsg_validate(buf, cqe->res, &msg_);
      if (out) {
        f(static_cast<const std::byte*>(io_uring_recvmsg_payload(out, &msg_)),
          io_uring_recvmsg_payload_length(out, cqe->res, &msg_));
        ++got;
      }
      io_uring_buf_ring_add(br_, buf, buf_size, static_cast<unsigned short>(bid), io_uring_buf_ring_mask(entries), 0);
      io_uring_buf_ring_advance(br_, 1);
    }
    io_uring_cq_advance(&ring_, seen);
    if (rearm_) arm();
    return got;
  }

 private:
  void arm() {
    rearm_ = false;
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    io_uring_prep_recvmsg_multishot(sqe, fd_, &msg_, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = 0;
  }

  int fd_;
  io_uring ring_{};
  void* br_mem_ = nullptr;
  io_uring_buf_ring* br_ = nullptr;
  std::vector<std::byte> bufs_;
  msghdr msg_{};
  bool rearm_ = false;
};

void count_items(benchmark::State& state, int per_iteration) {
  state.SetItemsProcessed(state.iterations() * per_iteration);
}

// ---- drain: datagrams already queued ----

void drain_recvmmsg_loop(benchmark::State& state) {
  socket_pair p;
  recvmmsg_batch batch(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    p.send(per_round);
    const auto t0 = clock_type::now();
    for (int got = 0; got < per_round;) got += batch.receive(p.rx);
    state.SetIterationTime(std::chrono::duration<double>(clock_type::now() - t0).count());
  }
  count_items(state, per_round);
}

void drain_polarway(benchmark::State& state, pw::backend_kind backend) {
  pw::runtime rt(pw::runtime_options{.workers = 1, .backend = backend});
  auto rx = pw::net::udp_socket::bind("127.0.0.1:0").unwrap();
  socket_pair p(rx.native_handle());
  p.owns_rx = false;
  records recs(static_cast<std::size_t>(state.range(0)));
  rt.block_on([](benchmark::State& state, pw::net::udp_socket& rx, socket_pair& p, records& recs) -> pw::task<void> {
    for (auto _ : state) {
      p.send(per_round);
      const auto t0 = clock_type::now();
      for (int got = 0; got < per_round;) got += static_cast<int>((co_await rx.recv_many(recs.list)).unwrap());
      state.SetIterationTime(std::chrono::duration<double>(clock_type::now() - t0).count());
    }
  }(state, rx, p, recs));
  count_items(state, per_round);
}

void drain_uring_multishot(benchmark::State& state) {
  socket_pair p;
  multishot_receiver m(p.rx);
  records recs(static_cast<std::size_t>(state.range(0)));
  auto copy = recs.filler();
  for (auto _ : state) {
    p.send(per_round);
    const auto t0 = clock_type::now();
    for (int got = 0; got < per_round;) got += m.take(copy);
    state.SetIterationTime(std::chrono::duration<double>(clock_type::now() - t0).count());
  }
  count_items(state, per_round);
}

// ---- wait: the receive waits first, then a burst arrives ----
// The burst is sent by the same thread once the receive waits, so that each round pays the
// wait path's own cost and no cross-thread wake-up (which costs tens of microseconds on a VM
// and would bury the differences).

void wait_epoll_recvmmsg(benchmark::State& state) {
  socket_pair p;
  recvmmsg_batch batch(static_cast<std::size_t>(state.range(0)));
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, p.rx, &ev);
  for (auto _ : state) {
    const auto t0 = clock_type::now();
    bool sent = false;
    for (int got = 0; got < burst;) {
      const int n = batch.receive(p.rx);
      if (n == 0) {
        if (!sent) p.send(burst);
        sent = true;
        ::epoll_wait(ep, &ev, 1, -1);
      }
      got += n;
    }
    state.SetIterationTime(std::chrono::duration<double>(clock_type::now() - t0).count());
  }
  ::close(ep);
  count_items(state, burst);
}

// By hand on io_uring: `poll_then_recvmmsg` waits with a poll, otherwise with a POLL_FIRST
// recvmsg into the first record.
void wait_uring(benchmark::State& state, bool poll_then_recvmmsg) {
  socket_pair p;
  recvmmsg_batch batch(static_cast<std::size_t>(state.range(0)));
  io_uring ring;
  io_uring_params prm{};
  prm.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  if (io_uring_queue_init_params(64, &ring, &prm) < 0) die("io_uring_queue_init_params");
  for (auto _ : state) {
    const auto t0 = clock_type::now();
    bool sent = false;
    for (int got = 0; got < burst;) {
      int n = batch.receive(p.rx);
      if (n == 0) {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        msghdr& h = batch.hdrs[0].msg_hdr;
        if (poll_then_recvmmsg) {
          io_uring_prep_poll_add(sqe, p.rx, POLLIN);
        } else {
          h = msghdr{};
          h.msg_name = &batch.names[0];
          h.msg_namelen = sizeof batch.names[0];
          h.msg_iov = &batch.iovs[0];
          h.msg_iovlen = 1;
          io_uring_prep_recvmsg(sqe, p.rx, &h, MSG_TRUNC);
          sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
        }
        io_uring_submit(&ring);
        if (!sent) p.send(burst);
        sent = true;
        io_uring_cqe* cqe = nullptr;
        io_uring_submit_and_wait(&ring, 1);
        io_uring_peek_cqe(&ring, &cqe);
        const int res = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
        if (res < 0) die("io_uring wait");
        n = poll_then_recvmmsg ? batch.receive(p.rx) : 1 + batch.receive(p.rx, 1);
      }
      got += n;
    }
    state.SetIterationTime(std::chrono::duration<double>(clock_type::now() - t0).count());
  }
  io_uring_queue_exit(&ring);
  count_items(state, burst);
}

void wait_uring_multishot(benchmark::State& state) {
  socket_pair p;
  multishot_receiver m(p.rx);
  records recs(static_cast<std::size_t>(state.range(0)));
  auto copy = recs.filler();
  for (auto _ : state) {
    const auto t0 = clock_type::now();
    p.send(burst);
    for (int got = 0; got < burst;) got += m.take(copy);
    state.SetIterationTime(std::chrono::duration<double>(clock_type::now() - t0).count());
  }
  count_items(state, burst);
}

// Receives `burst` datagrams with recv_many.
pw::task<void> receive_burst(pw::net::udp_socket& rx, records& recs) {
  for (int got = 0; got < burst;) got += static_cast<int>((co_await rx.recv_many(recs.list)).unwrap());
}

void wait_polarway(benchmark::State& state, pw::backend_kind backend) {
  pw::runtime rt(pw::runtime_options{.workers = 1, .backend = backend});
  auto rx = pw::net::udp_socket::bind("127.0.0.1:0").unwrap();
  socket_pair p(rx.native_handle());
  p.owns_rx = false;
  records recs(static_cast<std::size_t>(state.range(0)));
  rt.block_on([](benchmark::State& state, pw::net::udp_socket& rx, socket_pair& p, records& recs) -> pw::task<void> {
    for (auto _ : state) {
      const auto t0 = clock_type::now();
      auto receiver = pw::spawn(receive_burst(rx, recs));
      co_await pw::yield_now();  // one worker: the receiver runs until it waits
      p.send(burst);
      (void)co_await receiver;
      state.SetIterationTime(std::chrono::duration<double>(clock_type::now() - t0).count());
    }
  }(state, rx, p, recs));
  count_items(state, burst);
}

void batches(benchmark::internal::Benchmark* b) { b->Arg(1)->Arg(32)->Arg(256)->UseManualTime(); }

}  // namespace

BENCHMARK(drain_recvmmsg_loop)->Apply(batches);
BENCHMARK_CAPTURE(drain_polarway, uring, pw::backend_kind::io_uring)->Apply(batches);
BENCHMARK_CAPTURE(drain_polarway, epoll, pw::backend_kind::epoll)->Apply(batches);
BENCHMARK(drain_uring_multishot)->Apply(batches);
BENCHMARK(wait_epoll_recvmmsg)->Arg(32)->UseManualTime();
BENCHMARK_CAPTURE(wait_uring, recvmsg_first, false)->Arg(32)->UseManualTime();
BENCHMARK_CAPTURE(wait_uring, poll_recvmmsg, true)->Arg(32)->UseManualTime();
BENCHMARK(wait_uring_multishot)->Arg(32)->UseManualTime();
BENCHMARK_CAPTURE(wait_polarway, uring, pw::backend_kind::io_uring)->Arg(32)->UseManualTime();
BENCHMARK_CAPTURE(wait_polarway, epoll, pw::backend_kind::epoll)->Arg(32)->UseManualTime();

BENCHMARK_MAIN();
