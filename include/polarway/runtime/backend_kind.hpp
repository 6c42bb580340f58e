// pw::backend_kind: which kernel interface a runtime's reactors use (runtime_options::backend,
// runtime::backend()). POLARWAY_BACKEND=io_uring|epoll chooses it from the environment.
#pragma once

namespace polarway {

/// Which kernel interface a runtime's reactors use.
enum class backend_kind { io_uring, epoll };

inline const char* to_string(backend_kind k) noexcept { return k == backend_kind::io_uring ? "io_uring" : "epoll"; }

}  // namespace polarway
