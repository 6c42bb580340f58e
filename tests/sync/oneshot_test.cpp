// pw::oneshot: send before and after the receiver waits, drop of either half, and an aborted
// receiver losing nothing.
#include "polarway/sync/oneshot.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "polarway/runtime.hpp"

namespace pw = polarway;

TEST_CASE("send before the receiver waits, and after") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  {
    auto [tx, rx] = pw::oneshot::channel<std::string>();
    REQUIRE(tx.send("early").is_ok());
    auto v = rt.block_on([](pw::oneshot::receiver<std::string> rx) -> pw::task<pw::result<std::string>> {
      co_return co_await rx;
    }(std::move(rx)));
    REQUIRE(v.is_ok());
    CHECK(*v == "early");
  }
  for (int i = 0; i < 200; ++i) {
    auto [tx, rx] = pw::oneshot::channel<int>();
    auto h = rt.spawn([](pw::oneshot::receiver<int> rx) -> pw::task<int> { co_return *(co_await rx); }(std::move(rx)));
    REQUIRE(tx.send(i).is_ok());
    CHECK(rt.block_on([](pw::join_handle<int>& h) -> pw::task<int> { co_return *(co_await h); }(h)) == i);
  }
}

TEST_CASE("dropping the sender without sending gives errc::closed") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  for (int i = 0; i < 100; ++i) {
    auto [tx, rx] = pw::oneshot::channel<int>();
    auto h = rt.spawn([](pw::oneshot::receiver<int> rx) -> pw::task<bool> {
      auto r = co_await rx;
      co_return r.is_err() && r.error() == pw::errc::closed;
    }(std::move(rx)));
    { auto gone = std::move(tx); }
    CHECK(rt.block_on([](pw::join_handle<bool>& h) -> pw::task<bool> { co_return *(co_await h); }(h)));
  }
}

TEST_CASE("dropping the receiver makes send fail and give the value back") {
  auto [tx, rx] = pw::oneshot::channel<std::unique_ptr<int>>();
  CHECK(!tx.is_closed());
  { auto gone = std::move(rx); }
  CHECK(tx.is_closed());
  auto r = tx.send(std::make_unique<int>(5));
  REQUIRE(r.is_err());
  CHECK(*r.error() == 5);
}

TEST_CASE("a value sent to a receiver that is then dropped is destroyed") {
  auto memory = std::make_shared<int>(1);
  {
    auto [tx, rx] = pw::oneshot::channel<std::shared_ptr<int>>();
    REQUIRE(tx.send(memory).is_ok());
    CHECK(memory.use_count() == 2);
  }
  CHECK(memory.use_count() == 1);
}

TEST_CASE("a receiver aborted while waiting loses nothing: the value can still be awaited") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  for (int i = 0; i < 100; ++i) {
    auto [tx, rx] = pw::oneshot::channel<int>();
    auto h = rt.spawn([](pw::oneshot::receiver<int>& rx) -> pw::task<int> { co_return *(co_await rx); }(rx));
    REQUIRE(tx.send(i).is_ok());
    h.abort();
    auto r = rt.try_block_on(
        [](pw::join_handle<int>& h) -> pw::task<pw::result<int, pw::join_error>> { co_return co_await h; }(h));
    REQUIRE(r.is_ok());
    if (r->is_ok()) {
      CHECK(**r == i);
      CHECK(rx.try_recv().is_none());
    } else {
      CHECK(rx.try_recv() == pw::option<int>(i));
    }
  }
}
