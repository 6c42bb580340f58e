#include "counting_sink.hpp"

#include <array>
#include <chrono>
#include <variant>

#include <polarway/time/sleep.hpp>

#include "process_stats.hpp"

namespace ticks::app {

namespace pw = polarway;

pw::task<pw::result<void>> counting_sink::write(std::span<const ticks::tick> batch) {
  if (downstream_ != nullptr) {
    if (auto r = co_await downstream_->write(batch); !r) co_return r;
  }
  // One clock reading for the batch: its ticks all reached the sink at this moment.
  const std::int64_t now = realtime_ns();
  std::array<std::uint64_t, 3> kinds{};
  for (const ticks::tick& t : batch) {
    totals_.add(t);
    ++kinds[t.index()];
    const pw::option<std::int64_t>& sent = std::visit([](const auto& v) -> const pw::option<std::int64_t>& { return v.sent_ns; }, t);
    if (sent) {
      const std::int64_t d = now - *sent;
      latency_.record(d > 0 ? static_cast<std::uint64_t>(d) : 0);
    }
  }
  // This task is the only writer: a relaxed load and store, not a locked add.
  for (std::size_t k = 0; k < kinds.size(); ++k)
    per_kind_[k].store(per_kind_[k].load(std::memory_order_relaxed) + kinds[k], std::memory_order_relaxed);
  written_.fetch_add(batch.size(), std::memory_order_relaxed);
  if (per_stream_) per_stream_->add(batch);
  if (delay_us_ != 0) {
    // The timer wheel has millisecond resolution: owe the delay and pay it in whole sleeps,
    // subtracting what the sleep really took (it may oversleep, never undersleep).
    delay_debt_ns_ += static_cast<std::int64_t>(delay_us_ * 1000 * batch.size());
    if (delay_debt_ns_ >= 1'000'000) {
      const std::int64_t start = monotonic_ns();
      co_await pw::sleep(std::chrono::nanoseconds(delay_debt_ns_));
      delay_debt_ns_ -= monotonic_ns() - start;
    }
  }
  co_return pw::ok();
}

pw::task<pw::result<void>> counting_sink::flush() {
  if (downstream_ != nullptr) {
    if (auto r = co_await downstream_->flush(); !r) co_return r;
  }
  ++flushes_;
  co_return pw::ok();
}

}  // namespace ticks::app
