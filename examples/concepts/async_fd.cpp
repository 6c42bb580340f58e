// pw::io::async_fd: drive a descriptor that something else owns from a task. Here a plain
// thread writes records into a non-blocking pipe (standing in for a C library's socket, such as
// libcurl's or nats.c's); the task waits until the pipe is readable, reads what is there with
// read(2) itself, and stops at the end of the stream. No thread of the runtime ever blocks.
#include <fcntl.h>
#include <unistd.h>

#include <polarway/runtime.hpp>

#include <array>
#include <cerrno>
#include <cstdio>
#include <thread>

namespace pw = polarway;

pw::task<long> read_all(int fd) {
  auto watched = pw::io::async_fd::watch(fd);
  if (!watched) co_return -1;
  std::array<char, 256> buf{};
  long total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n > 0) {
      total += n;
      continue;
    }
    if (n == 0) co_return total;  // the writer closed its end
    if (errno != EAGAIN) co_return -1;  // a real error
    if (!co_await watched->readable()) co_return -1;  // nothing yet: wait for more
  }
}

int main() {
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return 1;
  std::thread producer([w = fds[1]] {
    for (int i = 0; i < 100; ++i) {
      (void)!::write(w, "tick\n", 5);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ::close(w);
  });
  pw::runtime rt;
  const long total = rt.block_on(read_all(fds[0]));
  producer.join();
  ::close(fds[0]);
  std::printf("read %ld bytes from a descriptor the runtime does not own\n", total);
  return total == 500 ? 0 : 1;
}
