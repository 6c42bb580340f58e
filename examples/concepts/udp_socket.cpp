// pw::net::udp_socket: datagrams over UDP. A server answers each request to whoever sent it
// (recv_from / send_to), a client sends a burst and takes the answers in batches (recv_many),
// and a multicast group on the loopback interface reaches a member (skipped, with the reason,
// where the system has no multicast on loopback).
#include <polarway/runtime.hpp>

#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

namespace pw = polarway;
using namespace std::chrono_literals;

// Answers `count` requests with their bytes in upper case.
pw::task<void> serve(pw::net::udp_socket& server, int count) {
  std::vector<std::byte> buf(1500);
  for (int i = 0; i < count; ++i) {
    auto got = co_await server.recv_from(buf);
    if (!got) continue;  // an oversized request (std::errc::message_size), say
    for (std::size_t j = 0; j < got->size; ++j)
      buf[j] = static_cast<std::byte>(std::toupper(static_cast<unsigned char>(buf[j])));
    (void)co_await server.send_to(std::span(buf.data(), got->size), got->from);
  }
}

// A member joins 239.255.0.42 on the loopback interface and a sender sends to the group. False
// only if a datagram arrived wrong; a system without multicast on loopback is reported.
pw::task<bool> multicast() {
  auto member = pw::net::udp_socket::bind("0.0.0.0:0").unwrap();
  auto sender = pw::net::udp_socket::bind("127.0.0.1:0").unwrap();
  const auto group = pw::net::socket_addr::parse("239.255.0.42:" + std::to_string(member.local_addr().unwrap().port()));
  auto joined = member.join_multicast_v4("239.255.0.42", "127.0.0.1");
  if (!joined) {
    std::printf("multicast skipped: joining on 127.0.0.1 failed: %s\n", joined.error().message().c_str());
    co_return true;
  }
  (void)sender.set_multicast_if_v4("127.0.0.1");  // leave by the loopback interface
  (void)sender.set_multicast_loop_v4(true);       // and loop back to this host's members
  const char hello[] = "hello, group";
  auto sent = co_await sender.send_to(std::as_bytes(std::span(hello)), *group);
  if (!sent) {
    std::printf("multicast skipped: no route for the group on loopback: %s\n", sent.error().message().c_str());
    co_return true;
  }
  std::byte buf[64];
  auto got = co_await pw::timeout(2s, member.recv_from(buf));
  if (!got || !*got) {
    std::printf("multicast skipped: nothing arrived on loopback\n");
    co_return true;
  }
  std::printf("multicast member got %zu bytes from %s\n", (*got)->size, (*got)->from.to_string().c_str());
  co_return (*got)->size == sizeof hello && (*got)->from == sender.local_addr().unwrap();
}

pw::task<int> run() {
  auto server = pw::net::udp_socket::bind("127.0.0.1:0").unwrap();
  auto client = pw::net::udp_socket::bind("127.0.0.1:0").unwrap();
  const auto server_addr = server.local_addr().unwrap();
  auto server_task = pw::spawn(serve(server, 8));

  // Eight requests, then the answers in batches of up to eight.
  for (int i = 0; i < 8; ++i) {
    const std::string msg = "tick " + std::to_string(i);
    (void)co_await client.send_to(std::as_bytes(std::span(msg)), server_addr);
  }
  std::vector<std::vector<std::byte>> storage(8, std::vector<std::byte>(64));
  std::vector<pw::net::datagram> batch(8);
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].buffer = storage[i];
  int answers = 0, batches = 0;
  while (answers < 8) {
    auto n = co_await pw::timeout(5s, client.recv_many(batch));
    if (!n || !*n) co_return 1;
    for (std::size_t i = 0; i < **n; ++i) {
      const auto d = batch[i].data();
      std::printf("answer from %s: %.*s\n", batch[i].from.to_string().c_str(), static_cast<int>(d.size()),
                  reinterpret_cast<const char*>(d.data()));
      answers += batch[i].from == server_addr && !batch[i].truncated;
    }
    ++batches;
  }
  (void)co_await server_task;
  std::printf("%d answers in %d batch(es)\n", answers, batches);

  if (!co_await multicast()) co_return 1;
  co_return answers == 8 ? 0 : 1;
}

int main() {
  pw::runtime rt;
  return rt.block_on(run());
}
