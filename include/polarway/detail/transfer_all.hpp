// The loop under every stream's read_exact and write_all (TCP, Unix, TLS): one step, a read or
// a write of part of a buffer, repeated until the whole buffer has moved. A step that moves no
// byte means the stream ended (or takes no more), and ends the loop with the error `at_zero()`
// makes; a failed step ends it with that step's error. Not cancel-safe: a prefix of the buffer
// may have moved when the loop is abandoned.
#pragma once

#include <cstddef>
#include <span>

#include "polarway/result.hpp"
#include "polarway/task.hpp"

namespace polarway::detail {

template <class Stream, class Byte, class Error, class AtZero>
task<result<void, Error>> transfer_all(Stream* stream, task<result<std::size_t, Error>> (Stream::*step)(std::span<Byte>),
                                       std::span<Byte> buf, AtZero at_zero) {
  while (!buf.empty()) {
    auto n = co_await (stream->*step)(buf);
    if (!n) co_return err(n.error());
    if (*n == 0) co_return err(at_zero());
    buf = buf.subspan(*n);
  }
  co_return ok();
}

}  // namespace polarway::detail
