// ticks::stream_shards: a set of streams spread over connections of at most `per_connection`
// streams each (Binance allows 1024 per connection), kept stable as the set changes, so that a
// reload moves as little as possible:
//
//   - a stream that stays in the set stays on its connection;
//   - new streams fill the connections that still carry streams first (lowest id first), then
//     connections the change left empty, and only then open new connections;
//   - a connection left without streams is closed.
//
// assign() returns what each touched connection must do (subscribe, unsubscribe, open, close);
// the caller carries it out. Connection ids are never reused. Sans-I/O: it only keeps sets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ticks {

struct stream_shard {
  std::uint64_t id = 0;
  std::vector<std::string> streams;  // sorted
};

struct shard_change {
  std::uint64_t id = 0;
  bool opened = false;  // a new connection: subscribe to everything in `subscribe`
  bool closed = false;  // no stream left: close the connection (`unsubscribe` lists what it had)
  std::vector<std::string> subscribe;    // sorted
  std::vector<std::string> unsubscribe;  // sorted
};

class stream_shards {
 public:
  static constexpr std::size_t default_per_connection = 1024;

  explicit stream_shards(std::size_t per_connection = default_per_connection) noexcept
      : per_connection_(per_connection == 0 ? 1 : per_connection) {}

  /// Moves to `wanted` (a set: sorted, no duplicates) and returns, in id order, the change of
  /// every connection that has one.
  std::vector<shard_change> assign(const std::vector<std::string>& wanted);

  /// The open connections, in id order, each within per_connection().
  const std::vector<stream_shard>& shards() const noexcept { return shards_; }
  std::size_t per_connection() const noexcept { return per_connection_; }

 private:
  std::size_t per_connection_;
  std::uint64_t next_id_ = 1;
  std::vector<stream_shard> shards_;
};

}  // namespace ticks
