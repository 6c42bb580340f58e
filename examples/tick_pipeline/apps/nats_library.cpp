#include "nats_library.hpp"

#include <nats/nats.h>

#include <mutex>
#include <vector>

namespace ticks::app {

namespace {

std::mutex retired_mutex;
std::vector<std::shared_ptr<void>> retired;

}  // namespace

void retire_with_nats_library(std::shared_ptr<void> closure) {
  const std::lock_guard lock(retired_mutex);
  retired.push_back(std::move(closure));
}

polarway::result<void, std::string> close_nats_library(std::chrono::milliseconds timeout) {
  // nats_CloseAndWait treats 0 as "no limit".
  const natsStatus s = nats_CloseAndWait(timeout.count() > 0 ? timeout.count() : 1);
  if (s != NATS_OK) return polarway::err(std::string("nats.c did not close in time: ") + natsStatus_GetText(s));
  std::vector<std::shared_ptr<void>> released;
  {
    const std::lock_guard lock(retired_mutex);
    released.swap(retired);
  }
  return polarway::ok();
}

}  // namespace ticks::app
