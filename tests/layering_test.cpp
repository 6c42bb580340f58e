// The layers, checked by the compiler: the sync primitives need only the waker API
// (detail/context.hpp: the current task, its budget, wake), never the scheduler or the
// reactor; the public backend_kind comes without either. A header that starts pulling them in
// fails this file's build.
#include "polarway/runtime/backend_kind.hpp"
#include "polarway/sync/barrier.hpp"
#include "polarway/sync/broadcast.hpp"
#include "polarway/sync/cancellation_token.hpp"
#include "polarway/sync/mpsc.hpp"
#include "polarway/sync/mutex.hpp"
#include "polarway/sync/notify.hpp"
#include "polarway/sync/oneshot.hpp"
#include "polarway/sync/rw_lock.hpp"
#include "polarway/sync/semaphore.hpp"
#include "polarway/sync/watch.hpp"

#if defined(LIB_URING_H)
#error "a sync header pulls in liburing (the reactor)"
#endif

#include <doctest/doctest.h>

namespace polarway::detail {
class scheduler;
}

// A complete type named scheduler would mean scheduler.hpp came in with the sync headers.
template <class T>
constexpr bool is_complete_v = requires { sizeof(T); };
static_assert(!is_complete_v<polarway::detail::scheduler>, "a sync header pulls in the scheduler");

TEST_CASE("the sync layer compiles without the scheduler and the reactor") {
  CHECK(polarway::to_string(polarway::backend_kind::epoll) == std::string_view("epoll"));
}
