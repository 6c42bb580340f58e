// pw::cancellation_token: cancel reaches children and grandchildren but not parents, waiters
// wake, copies share state, dropped children are unlinked, aborted waiters leave cleanly.
#include "polarway/sync/cancellation_token.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <vector>

#include "polarway/runtime.hpp"

namespace pw = polarway;

TEST_CASE("cancelling a parent cancels children and grandchildren, not the reverse") {
  pw::cancellation_token root;
  auto child = root.child_token();
  auto grandchild = child.child_token();
  auto sibling = root.child_token();
  grandchild.cancel();
  CHECK(grandchild.is_cancelled());
  CHECK(!child.is_cancelled());
  CHECK(!root.is_cancelled());
  root.cancel();
  CHECK(child.is_cancelled());
  CHECK(sibling.is_cancelled());
  CHECK(root.is_cancelled());
  CHECK(root.child_token().is_cancelled());  // born cancelled
}

TEST_CASE("copies share one state") {
  pw::cancellation_token a;
  pw::cancellation_token b = a;
  b.cancel();
  CHECK(a.is_cancelled());
}

TEST_CASE("dropping tokens in any order frees the tree") {
  for (int order = 0; order < 2; ++order) {
    auto* root = new pw::cancellation_token();
    auto* child = new pw::cancellation_token(root->child_token());
    auto grandchild = child->child_token();
    if (order == 0) {
      delete root;
      delete child;
    } else {
      delete child;
      delete root;
    }
    CHECK(!grandchild.is_cancelled());
  }
  pw::cancellation_token root;
  for (int i = 0; i < 1000; ++i) (void)root.child_token();  // dropped at once: unlinked
  root.cancel();
}

TEST_CASE("tasks waiting on a token or its descendants wake on cancel") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  pw::cancellation_token root;
  std::atomic<int> woke{0};
  std::vector<pw::join_handle<void>> hs;
  for (int i = 0; i < 60; ++i) {
    pw::cancellation_token tok = i % 3 == 0 ? root : i % 3 == 1 ? root.child_token() : root.child_token().child_token();
    hs.push_back(rt.spawn([](pw::cancellation_token tok, std::atomic<int>& woke) -> pw::task<void> {
      co_await tok.cancelled();
      woke.fetch_add(1);
    }(std::move(tok), woke)));
  }
  root.cancel();
  rt.block_on([](std::vector<pw::join_handle<void>>& hs) -> pw::task<void> {
    for (auto& h : hs) CHECK((co_await h).is_ok());
  }(hs));
  CHECK(woke.load() == 60);
}

TEST_CASE("cancel racing with child_token and waiters from other threads") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  for (int round = 0; round < 50; ++round) {
    pw::cancellation_token root;
    auto h = rt.spawn([](pw::cancellation_token root) -> pw::task<int> {
      int seen = 0;
      for (int i = 0; i < 20; ++i) {
        auto child = root.child_token();
        co_await child.cancelled();
        ++seen;
      }
      co_return seen;
    }(root));
    root.cancel();
    CHECK(rt.block_on([](pw::join_handle<int>& h) -> pw::task<int> { co_return *(co_await h); }(h)) == 20);
  }
}

TEST_CASE("a waiter aborted while waiting leaves; a later cancel still works") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  pw::cancellation_token tok;
  std::vector<pw::join_handle<void>> hs;
  for (int i = 0; i < 50; ++i)
    hs.push_back(rt.spawn([](pw::cancellation_token tok) -> pw::task<void> { co_await tok.cancelled(); }(tok)));
  for (std::size_t i = 0; i < hs.size(); i += 2) hs[i].abort();
  tok.cancel();
  rt.block_on([](std::vector<pw::join_handle<void>>& hs) -> pw::task<void> {
    for (std::size_t i = 0; i < hs.size(); ++i) {
      auto r = co_await hs[i];
      if (i % 2) CHECK(r.is_ok());
    }
  }(hs));
}

TEST_CASE("pw::timeout takes cancelled() directly; when it fires, the waiter leaves the token") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    pw::cancellation_token tok;
    auto waited = co_await pw::timeout(std::chrono::milliseconds(5), tok.cancelled());
    CHECK(waited.is_err());
    CHECK(waited.error() == pw::errc::timed_out);
    tok.cancel();  // with nobody left waiting
    CHECK((co_await pw::timeout(std::chrono::seconds(10), tok.cancelled())).is_ok());
  }());
}

TEST_CASE("cancelled() is movable before it is awaited; both awaiters complete on cancel") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  pw::cancellation_token tok;
  auto h = rt.spawn([](pw::cancellation_token tok) -> pw::task<void> {
    co_await pw::sleep(std::chrono::milliseconds(2));
    tok.cancel();
  }(tok));
  rt.block_on([](pw::cancellation_token tok) -> pw::task<void> {
    auto first = tok.cancelled();
    auto second = std::move(first);
    co_await second;
    co_await first;  // the moved-from one holds the token too: already cancelled, at once
  }(tok));
  CHECK(tok.is_cancelled());
  rt.block_on([](pw::join_handle<void> h) -> pw::task<void> { CHECK((co_await h).is_ok()); }(std::move(h)));
}
