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

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

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

// The building blocks (detail/) sit below the public layers: a detail header includes other
// detail headers, the value headers, task.hpp, the one waiter list and the public type the
// machinery needs (runtime/backend_kind.hpp, and the vocabulary of stall reports and task
// dumps), never runtime/, time/, net/, fs/ or sync/.
TEST_CASE("detail headers include nothing from the layers above them") {
  constexpr std::string_view allowed[] = {
      "polarway/detail/",  "polarway/error.hpp",  "polarway/result.hpp", "polarway/option.hpp",
      "polarway/task.hpp", "polarway/runtime/backend_kind.hpp", "polarway/runtime/spawn_site.hpp",
      "polarway/runtime/stall_report.hpp", "polarway/runtime/task_info.hpp",
      "polarway/sync/detail/wait_list.hpp",
  };
  const std::filesystem::path dir = std::filesystem::path(POLARWAY_SOURCE_DIR) / "include/polarway/detail";
  int headers = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ++headers;
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      const auto at = line.find("#include \"polarway/");
      if (at != 0) continue;
      const std::string_view target = std::string_view(line).substr(10);
      bool ok = false;
      for (std::string_view a : allowed) ok = ok || target.substr(0, a.size()) == a;
      CAPTURE(entry.path().filename().string());
      CAPTURE(line);
      CHECK(ok);
    }
  }
  CHECK(headers > 10);
}

// OpenSSL stays behind net/tls.hpp (target polarway::tls): only the TLS headers include
// OpenSSL or each other, so runtime.hpp and the core target never need it.
TEST_CASE("only the TLS headers reach OpenSSL") {
  const auto is_tls_header = [](const std::string& name) { return name.rfind("tls", 0) == 0; };
  const std::filesystem::path root = std::filesystem::path(POLARWAY_SOURCE_DIR) / "include/polarway";
  int tls_headers = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    if (is_tls_header(name)) {
      ++tls_headers;
      continue;
    }
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("#include", 0) != 0) continue;
      CAPTURE(entry.path().string());
      CAPTURE(line);
      CHECK(line.find("openssl/") == std::string::npos);
      CHECK(line.find("/tls") == std::string::npos);
    }
  }
  CHECK(tls_headers >= 5);  // tls.hpp, tls_config, tls_error, tls_stream, the session, the OpenSSL glue
}
