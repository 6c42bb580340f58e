// What the sync primitives' tests share: how hard a stress run pushes (a tenth as hard under
// the sanitizers, which slow every atomic operation down), and settle(), which lets the other
// runnable tasks on the worker reach their suspension points.
#pragma once

#include "polarway/runtime/yield_now.hpp"
#include "polarway/task.hpp"

namespace pw_test {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr int stress_scale = 10;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
inline constexpr int stress_scale = 10;
#else
inline constexpr int stress_scale = 1;
#endif
#else
inline constexpr int stress_scale = 1;
#endif

/// Yields a few times, so that with one worker the tasks spawned before have run up to their
/// first suspension.
inline polarway::task<void> settle() {
  for (int i = 0; i < 4; ++i) co_await polarway::yield_now();
}

}  // namespace pw_test
