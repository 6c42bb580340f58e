// A user's first program: include the umbrella header, run a task on a runtime.
#include <polarway/runtime.hpp>

#include <cstdio>

namespace pw = polarway;

pw::task<int> child(int x) { co_return x * 2; }

pw::task<int> parent() {
  auto handle = pw::spawn(child(21));
  auto joined = co_await handle;
  co_return joined.is_ok() ? *joined : -1;
}

int main() {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const int value = rt.block_on(parent());
  std::printf("consumer: %d\n", value);
  return value == 42 ? 0 : 1;
}
