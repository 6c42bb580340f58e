// ticks::app::jetstream_consumer: a durable pull consumer of the bus's stream, through nats.c
// (polarway-sink's input).
//
// Where to read is the caller's to say, not the server's: the caller's output records how far
// it got, and a consumer left behind by an earlier run (with its own idea of what was delivered
// and acknowledged) would skip or interleave messages. So the durable consumer of that name is
// deleted and created again at `start_seq` whenever the consumer connects or restart_at() is
// called: filter subject, deliver from that sequence, acknowledgement policy "all"
// (acknowledging a message acknowledges every earlier one), an acknowledgement wait, a cap on
// unacknowledged messages. Acknowledgements are flow control: the server delivers at most the
// cap beyond the last one.
//
// fetch() speaks JetStream's pull protocol itself over a plain nats.c subscription: a pull
// request (batch, expiry) published to the consumer's MSG.NEXT subject with a reply subject in
// the consumer's inbox; the deliveries, then a status answer when the request expires, arrive
// there. One request is in progress at a time, and the next is sent when it has brought its
// batch, expired, or been refused. (nats.c 3.4.1's own fetch, Debian bookworm's, writes past
// its array of messages when deliveries of an earlier request are still arriving; fixed
// upstream in 3.9.0.) The waiting runs on the runtime's blocking pool; acknowledgements are
// published from the calling task (they need no answer: one that is lost only means that the
// server delivers those messages again, which polarway-sink skips).
//
// An inbox replaced by restart_at() is unsubscribed but only destroyed with the connection,
// after it is closed: nats.c 3.4.1 can still be handing an inbound message to a subscription
// it has just been told to destroy, and would then touch freed memory.
#pragma once

#include <nats/nats.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <polarway/result.hpp>
#include <polarway/sync/cancellation_token.hpp>
#include <polarway/task.hpp>

#include "jetstream_publisher.hpp"

namespace ticks::app {

struct consumer_options {
  std::string name;                         // the durable consumer's name
  std::string filter = "ticks.>";
  std::uint64_t ack_wait_ms = 120'000;      // redelivered if not acknowledged within this
  std::int64_t max_ack_pending = 65'536;    // the server delivers no more until some are acked
  int pull_batch = 128;                     // messages asked for per pull request
  std::uint64_t pull_expires_ms = 5'000;    // the server ends a pull request after this
  std::uint64_t fetch_wait_ms = 200;        // fetch() returns empty after this with nothing
};

/// One delivered message. Owns nats.c's message.
class bus_message {
 public:
  explicit bus_message(natsMsg* m) noexcept : msg_(m) {}
  bus_message(bus_message&& o) noexcept : msg_(std::exchange(o.msg_, nullptr)), seq_(o.seq_), delivered_(o.delivered_) {}
  bus_message& operator=(bus_message&& o) noexcept;
  bus_message(const bus_message&) = delete;
  bus_message& operator=(const bus_message&) = delete;
  ~bus_message();

  std::string_view subject() const noexcept;
  std::span<const std::byte> data() const noexcept;
  /// The acknowledgement subject: where "+ACK" and "+TERM" go.
  std::string_view reply() const noexcept;
  /// The message's sequence number in the stream, and how many times it was delivered.
  std::uint64_t stream_seq() const noexcept { return seq_; }
  std::uint64_t deliveries() const noexcept { return delivered_; }

  /// Reads the JetStream metadata (sequence, deliveries) from the reply subject; false if the
  /// message carries none (not a JetStream delivery).
  bool read_metadata() noexcept;

 private:
  natsMsg* msg_ = nullptr;
  std::uint64_t seq_ = 0;
  std::uint64_t delivered_ = 0;
};

class jetstream_consumer {
 public:
  /// Connects to the bus and creates the consumer on the stream at `start_seq` (at least 1),
  /// retrying (with back-off, each failure logged) while the bus or the stream is not there yet.
  static polarway::task<polarway::result<std::unique_ptr<jetstream_consumer>, std::string>> connect(
      bus_options bus, consumer_options options, std::uint64_t start_seq, polarway::cancellation_token stop,
      jetstream_publisher::log_fn log);

  /// Creates the consumer again at `start_seq`: what was delivered and not read is dropped.
  /// Retries (with back-off) until it can, or `stop` fires.
  polarway::task<polarway::result<void, std::string>> restart_at(std::uint64_t start_seq,
                                                                 polarway::cancellation_token stop);

  jetstream_consumer(const jetstream_consumer&) = delete;
  jetstream_consumer& operator=(const jetstream_consumer&) = delete;
  ~jetstream_consumer();

  /// Up to pull_batch messages; none after fetch_wait_ms without any. An error is final (the
  /// connection is closed); a disconnection in progress yields an empty fetch.
  polarway::task<polarway::result<std::vector<bus_message>, std::string>> fetch();

  /// Acknowledges the message delivered with `reply` and every one delivered before it.
  polarway::result<void, std::string> acknowledge_through(std::string_view reply);
  /// Tells the server never to deliver the message with `reply` again (a message that cannot
  /// be read).
  polarway::result<void, std::string> terminate(std::string_view reply);

  std::uint64_t connect_attempts() const noexcept;

  struct state;

 private:
  explicit jetstream_consumer(std::unique_ptr<state> st) noexcept;
  std::unique_ptr<state> state_;
};

}  // namespace ticks::app
