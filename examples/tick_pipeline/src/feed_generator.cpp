#include "ticks/feed_generator.hpp"

#include <cstring>

#include "ticks/tick_json.hpp"

namespace ticks {

namespace pw = polarway;

void feed_totals::add(const ticks::tick& t) noexcept {
  ++count;
  // Unsigned: the sums are meant to wrap, and signed overflow would be undefined.
  const auto u = [](price p) { return static_cast<std::uint64_t>(p.raw); };
  if (const auto* tr = std::get_if<trade>(&t)) {
    price_sum += u(tr->price);
    quantity_sum += u(tr->quantity);
  } else if (const auto* ag = std::get_if<agg_trade>(&t)) {
    price_sum += u(ag->price);
    quantity_sum += u(ag->quantity);
  } else if (const auto* bt = std::get_if<book_ticker>(&t)) {
    price_sum += u(bt->bid_price) + u(bt->ask_price);
    quantity_sum += u(bt->bid_quantity) + u(bt->ask_quantity);
  }
}

namespace {

// Symbol i: a few real names first, then X + base-36 digits + USDT (always [A-Z0-9], <= 20).
symbol make_symbol(std::size_t i) {
  static constexpr std::string_view real[] = {"BTCUSDT", "ETHUSDT", "BNBUSDT",  "SOLUSDT",
                                              "XRPUSDT", "ADAUSDT", "DOGEUSDT", "BNBBTC"};
  if (i < std::size(real)) return symbol::parse(real[i]).value();
  constexpr std::string_view digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string name = "X";
  std::string code;
  for (std::size_t n = i; n > 0; n /= 36) code.insert(code.begin(), digits[n % 36]);
  name += code;
  name += "USDT";
  return symbol::parse(name).value();
}

}  // namespace

feed_generator::feed_generator(feed_options options) : options_(options) {
  state_.rng = options.seed;
  state_.next_update_id = 400900217;
  switch (options.kind) {
    case message_kind::trade:
      last_.emplace<trade>();
      break;
    case message_kind::agg_trade:
      last_.emplace<agg_trade>();
      break;
    case message_kind::book_ticker:
      last_.emplace<book_ticker>();
      break;
  }
}

pw::result<feed_generator> feed_generator::create(feed_options options) {
  if (options.symbols == 0 || options.symbols > max_symbols)
    return pw::err(pw::error(pw::errc::invalid_input, "feed_generator: symbols must be 1..10000"));
  if (options.start_time_ms < 0)
    return pw::err(pw::error(pw::errc::invalid_input, "feed_generator: negative start time"));
  feed_generator g(options);
  g.symbols_.reserve(options.symbols);
  g.state_.symbols.reserve(options.symbols);
  for (std::size_t i = 0; i < options.symbols; ++i) {
    g.symbols_.push_back(make_symbol(i));
    std::string name(g.symbols_.back().view());
    for (char& c : name)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    g.stream_names_.push_back(name + '@' + std::string(to_string(options.kind)));
    // Prices from 0.01 to 100000 with 8 decimals, so the feed covers the whole digit range.
    // A symbol's aggTrade ids start at its first trade id: no extra draw, so a seed keeps
    // giving the prices and trade ids it always gave.
    const std::int64_t price = g.uniform(1'000'000, 10'000'000'000'000);
    const std::int64_t first_trade = g.uniform(1, 1'000'000'000);
    g.state_.symbols.push_back({price, first_trade, first_trade});
  }
  return pw::ok(std::move(g));
}

// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and the same sequence everywhere.
std::uint64_t feed_generator::random() noexcept {
  std::uint64_t z = (state_.rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::int64_t feed_generator::uniform(std::int64_t lo, std::int64_t hi) noexcept {
  // Multiply-shift (Lemire) instead of a 64-bit modulo, which cost more than the rest of the
  // draw; the bias over a 2^64 range is far below anything a test could notice.
  const auto span = static_cast<unsigned __int128>(static_cast<std::uint64_t>(hi - lo) + 1);
  return lo + static_cast<std::int64_t>((span * random()) >> 64);
}

std::string feed_generator::target() const {
  if (!options_.combined) return "/ws/" + stream_name(0);
  std::string t = "/stream?streams=";
  for (std::size_t i = 0; i < symbols_.size(); ++i) {
    if (i) t += '/';
    t += stream_name(i);
  }
  return t;
}

namespace {

// The tick of kind T that `t` holds (the generator's kind, set at construction). Each message
// assigns every field of it in place: emplace() would zero it first, with a rep stos that cost
// a fifth of the generator's time.
template <class T>
T& held(ticks::tick& t) noexcept {
  return *std::get_if<T>(&t);
}

}  // namespace

void feed_generator::advance(std::int64_t now_ns) {
  const auto i = static_cast<std::size_t>(uniform(0, static_cast<std::int64_t>(symbols_.size()) - 1));
  last_index_ = i;
  auto& st = state_.symbols[i];
  // A random walk of up to +-0.1% per message, never below one unit.
  const std::int64_t step = std::max<std::int64_t>(1, st.price_raw / 1000);
  st.price_raw = std::max<std::int64_t>(1, st.price_raw + uniform(-step, step));
  const std::int64_t event_ms = options_.start_time_ms + static_cast<std::int64_t>(state_.totals.count);
  const auto qty = [&] { return price::from_raw(uniform(1, 10'000'000'000)); };  // up to 100.0
  const pw::option<std::int64_t> sent = options_.with_sent_ns ? pw::option<std::int64_t>(now_ns) : pw::none;

  // Each tick is built where it stays (last_): building it in a local and copying it into the
  // variant made the copy's wide loads wait on the narrow stores just made (store-forwarding
  // stalls, a fifth of this function's time).
  switch (options_.kind) {
    case message_kind::trade: {
      trade& t = held<trade>(last_);
      t.symbol = symbols_[i];
      t.event_time_ms = event_ms;
      t.trade_id = st.next_trade_id++;
      t.price = price::from_raw(st.price_raw);
      t.quantity = qty();
      t.trade_time_ms = event_ms - uniform(0, 2);
      t.buyer_is_maker = (random() & 1) != 0;
      t.sent_ns = sent;
      break;
    }
    case message_kind::agg_trade: {
      // The random draws keep their order (the ids' first), so a seed gives the same messages
      // as it always has.
      agg_trade& a = held<agg_trade>(last_);
      a.first_trade_id = st.next_trade_id;
      a.last_trade_id = a.first_trade_id + uniform(0, 3);
      st.next_trade_id = a.last_trade_id + 1;
      a.symbol = symbols_[i];
      a.event_time_ms = event_ms;
      a.agg_trade_id = st.next_agg_id++;
      a.price = price::from_raw(st.price_raw);
      a.quantity = qty();
      a.trade_time_ms = event_ms - uniform(0, 2);
      a.buyer_is_maker = (random() & 1) != 0;
      a.sent_ns = sent;
      break;
    }
    case message_kind::book_ticker: {
      book_ticker& b = held<book_ticker>(last_);
      b.symbol = symbols_[i];
      b.update_id = state_.next_update_id++;
      b.bid_price = price::from_raw(st.price_raw);
      b.ask_price = price::from_raw(st.price_raw + uniform(1, 1000));  // drawn before the sizes
      b.bid_quantity = qty();
      b.ask_quantity = qty();
      b.sent_ns = sent;
      break;
    }
  }
  state_.totals.add(last_);
}

void feed_generator::skip() { advance(0); }

std::string_view feed_generator::next(std::int64_t now_ns) {
  advance(now_ns);
  const std::string_view stream = options_.combined ? std::string_view(stream_name(last_index_)) : std::string_view();
  const pw::option<std::int64_t> sent = options_.with_sent_ns ? pw::option<std::int64_t>(now_ns) : pw::none;
  char* const end = write_tick_message(buffer_.data(), last_, stream, sent);
  return std::string_view(buffer_.data(), static_cast<std::size_t>(end - buffer_.data()));
}

}  // namespace ticks
