// epoll_driver::poll() skips epoll_wait while no fd is registered (see its comment); with one
// registered, every poll must look, and hand out the readiness events it finds.
#include "polarway/detail/epoll_driver.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <utility>

using polarway::detail::epoll_driver;
using polarway::detail::io_direction;

TEST_CASE("poll calls epoll_wait only while an fd is registered, and then delivers its events") {
  auto driver = epoll_driver::create().unwrap();
  for (int i = 0; i < 5; ++i) driver->poll();
  CHECK(driver->epoll_waits() == 0);

  int fds[2];
  REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
  auto reg = driver->register_fd(fds[0]);
  REQUIRE(reg.is_ok());
  std::unique_ptr<polarway::detail::readiness> r = std::move(*reg);
  driver->poll();
  CHECK(driver->epoll_waits() == 1);

  const std::uint64_t before = r->seq(io_direction::read);
  REQUIRE(::write(fds[1], "x", 1) == 1);
  driver->poll();
  CHECK(driver->epoll_waits() == 2);
  CHECK(r->seq(io_direction::read) != before);

  driver->deregister(fds[0], std::move(r));
  for (int i = 0; i < 5; ++i) driver->poll();
  CHECK(driver->epoll_waits() == 2);
  driver->wait(0);  // waits always look (and free the retired record)
  CHECK(driver->epoll_waits() == 3);
  ::close(fds[0]);
  ::close(fds[1]);
}
