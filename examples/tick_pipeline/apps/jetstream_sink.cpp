#include "jetstream_sink.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include <polarway/runtime.hpp>

#include "process_stats.hpp"
#include "ticks/arrow_ipc_reader.hpp"

namespace ticks::app {

namespace pw = polarway;
namespace ipc = ticks::arrow_ipc;

std::string tick_subject(message_kind kind, const symbol& s) {
  std::string subject = "ticks.";
  subject += to_string(kind);
  subject += '.';
  subject += s.view();
  return subject;
}

std::string tick_message_id(std::string_view source, message_kind kind, const symbol& s, std::int64_t first,
                            std::int64_t last) {
  std::string id(source);
  id += '/';
  id += to_string(kind);
  id += '/';
  id += s.view();
  id += '/';
  id += std::to_string(first);
  id += '-';
  id += std::to_string(last);
  return id;
}

pw::option<tick_message_name> parse_tick_message_id(std::string_view id) {
  std::string_view parts[4];
  for (int i = 0; i < 3; ++i) {
    const std::size_t slash = id.find('/');
    if (slash == std::string_view::npos) return pw::none;
    parts[i] = id.substr(0, slash);
    id.remove_prefix(slash + 1);
  }
  parts[3] = id;
  const std::size_t dash = parts[3].find('-');
  if (parts[0].empty() || dash == std::string_view::npos) return pw::none;
  const auto number = [](std::string_view text) -> pw::option<std::int64_t> {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return pw::none;
    return v;
  };
  const auto kind = parse_message_kind(parts[1]);
  auto sym = symbol::parse(parts[2]);
  const auto first = number(parts[3].substr(0, dash));
  const auto last = number(parts[3].substr(dash + 1));
  if (!kind || !sym || !first || !last || *first > *last) return pw::none;
  return tick_message_name{std::string(parts[0]), *kind, *sym, *first, *last};
}

std::int64_t tick_id(const tick& t) noexcept {
  switch (kind_of(t)) {
    case message_kind::trade:
      return std::get<trade>(t).trade_id;
    case message_kind::agg_trade:
      return std::get<agg_trade>(t).agg_trade_id;
    case message_kind::book_ticker:
      return std::get<book_ticker>(t).update_id;
  }
  return 0;
}

bool merge_tick_messages(std::string& id, std::vector<std::byte>& payload, std::string_view later_id,
                         std::span<const std::byte> later) {
  const auto earlier_name = parse_tick_message_id(id);
  const auto later_name = parse_tick_message_id(later_id);
  if (!earlier_name || !later_name || earlier_name->source != later_name->source ||
      earlier_name->kind != later_name->kind || earlier_name->sym != later_name->sym ||
      later_name->first <= earlier_name->last)
    return false;
  if (!ipc::append_batches_of(payload, later)) return false;
  id = tick_message_id(earlier_name->source, earlier_name->kind, earlier_name->sym, earlier_name->first,
                       later_name->last);
  return true;
}

void compact_tick_message(std::vector<std::byte>& payload, ipc::body_compression compression) {
  auto rows = ipc::read_tick_stream(payload);
  if (!rows) return;
  ipc::batch_builder builder(rows->kind, compression);
  for (std::size_t i = 0; i < rows->ticks.size(); ++i)
    if (!builder.add(rows->ticks[i], rows->recv_ns[i])) return;
  std::vector<ipc::key_value> metadata;
  metadata.reserve(rows->schema_metadata.size());
  for (const auto& [key, value] : rows->schema_metadata) metadata.push_back({key, value});
  std::vector<std::byte> out;
  out.reserve(payload.size());
  ipc::append_schema(out, rows->kind, metadata);
  builder.append(out);
  ipc::append_end_of_stream(out);
  payload = std::move(out);
}

jetstream_sink::jetstream_sink(jetstream_publisher& bus, std::string source, std::chrono::milliseconds drain_timeout,
                               tick_sink* downstream)
    : bus_(bus), source_(std::move(source)), drain_timeout_(drain_timeout), downstream_(downstream) {
  for (message_kind k : {message_kind::trade, message_kind::agg_trade, message_kind::book_ticker})
    builders_.emplace_back(k);
}

pw::task<pw::result<void>> jetstream_sink::write(std::span<const ticks::tick> batch) {
  const std::int64_t recv_ns = realtime_ns();
  // The rows grouped by (kind, symbol), each group in arrival order.
  order_.resize(batch.size());
  for (std::uint32_t i = 0; i < order_.size(); ++i) order_[i] = i;
  std::stable_sort(order_.begin(), order_.end(), [&batch](std::uint32_t a, std::uint32_t b) {
    const message_kind ka = kind_of(batch[a]), kb = kind_of(batch[b]);
    if (ka != kb) return ka < kb;
    return symbol_of(batch[a]).view() < symbol_of(batch[b]).view();
  });
  std::size_t begin = 0;
  while (begin < order_.size()) {
    const tick& head = batch[order_[begin]];
    std::size_t end = begin + 1;
    while (end < order_.size() && end - begin < max_rows_per_message && kind_of(batch[order_[end]]) == kind_of(head) &&
           symbol_of(batch[order_[end]]) == symbol_of(head))
      ++end;
    auto published = co_await publish_run(batch, std::span<const std::uint32_t>(order_).subspan(begin, end - begin), recv_ns);
    if (!published) co_return published;
    begin = end;
  }
  if (downstream_ != nullptr) co_return co_await downstream_->write(batch);
  co_return pw::ok();
}

pw::task<pw::result<void>> jetstream_sink::publish_run(std::span<const ticks::tick> batch,
                                                       std::span<const std::uint32_t> rows, std::int64_t recv_ns) {
  const tick& head = batch[rows.front()];
  const message_kind kind = kind_of(head);
  ipc::batch_builder& builder = builders_[static_cast<std::size_t>(kind)];
  pw::option<std::int64_t> first;
  std::int64_t last = 0;
  for (std::uint32_t r : rows) {
    if (!builder.add(batch[r], recv_ns)) {
      unrepresentable_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (!first) first = tick_id(batch[r]);
    last = tick_id(batch[r]);
  }
  if (!first) co_return pw::ok();  // nothing representable in this run
  message_.clear();
  const std::string kind_name(to_string(kind));
  const ipc::key_value schema_meta[] = {{"polarway.kind", kind_name}};
  ipc::append_schema(message_, kind, schema_meta);
  builder.append(message_);
  ipc::append_end_of_stream(message_);
  const std::string subject = tick_subject(kind, symbol_of(head));
  const std::string id = tick_message_id(source_, kind, symbol_of(head), *first, last);
  auto sent = co_await bus_.publish(subject, id, message_);
  if (!sent) {
    failure_ = sent.error();
    co_return pw::err(pw::error(std::errc::io_error, "publishing to the bus"));
  }
  co_return pw::ok();
}

pw::task<pw::result<void>> jetstream_sink::flush() {
  auto drained = co_await bus_.drain(drain_timeout_);
  pw::result<void> down = pw::ok();
  if (downstream_ != nullptr) down = co_await downstream_->flush();
  if (!drained) {
    failure_ = drained.error();
    co_return pw::err(pw::error(std::errc::timed_out, "waiting for the bus's acknowledgements"));
  }
  co_return down;
}

}  // namespace ticks::app
