// polarway-ingest's flags: parse_ingest_args() and the usage text (declared in ingest.hpp).
#include <algorithm>
#include <string>

#include <polarway/runtime.hpp>

#include "ingest.hpp"

#include <cstdio>

#include "ticks/stream_set.hpp"

namespace ticks::app {

namespace pw = polarway;

std::string ingest_usage() {
  return "usage: polarway-ingest (--connect URL ... | --listen ADDR) [options]\n"
         "  --connect URL            a feed to read, ws://host:port/stream?streams=... or wss://...\n"
         "                           (repeatable; host name or IP; default port 80 / 443)\n"
         "  --streams-file FILE      subscribe to the streams FILE names (one <symbol>@<kind> per line,\n"
         "                           '#' comments) over the one --connect URL, a base ending in\n"
         "                           /stream or /ws: connections of at most 1024 streams, SUBSCRIBE\n"
         "                           paced under 5 messages/s; SIGHUP re-reads FILE and changes the\n"
         "                           subscriptions without reconnecting (a bad file keeps the old set)\n"
         "  --tls-ca FILE            wss://: trust the CA certificates in this PEM file instead of\n"
         "                           the system trust store\n"
         "  --backfill               put each trade / aggTrade stream in id order, once each, and fetch\n"
         "                           the ids a disconnect or stall lost from the REST API (Binance's\n"
         "                           aggTrades, historicalTrades) before later ticks of that stream;\n"
         "                           with --out, each stream DIR holds resumes after its last\n"
         "                           committed id, so a restart refetches what was not committed;\n"
         "                           with --publish nats://, each stream whose last message on the\n"
         "                           bus is this --nats-source's resumes after that message's last\n"
         "                           id (not both: --out and nats:// resume from different places);\n"
         "                           a resumed stream fetches what REST holds after that id at\n"
         "                           once, so a restart refetches it even if the stream is quiet\n"
         "  --rest-url URL           the REST base for --backfill (default: https://api.binance.com\n"
         "                           for Binance's stream hosts, else the stream's host over http(s))\n"
         "  --api-key-file FILE      its first line is the API key historicalTrades needs (trade gaps\n"
         "                           are unfilled without one)\n"
         "  --allow-gaps             exit 0 even if gaps were left unfilled (default: exit 1)\n"
         "  --rotate-before S        with --backfill: open each connection's replacement S seconds\n"
         "                           before the server's session limit ends it; both deliver until\n"
         "                           the old one ends, the overlap dropped as duplicates\n"
         "  --session-max-s S        the server's session limit for --rotate-before (default 86400,\n"
         "                           Binance's 24 hours; decimals allowed)\n"
         "  --listen ADDR            also accept feeds that connect to us (e.g. 127.0.0.1:9500)\n"
         "  --metrics ADDR           serve GET /metrics (Prometheus text format) on ADDR for as\n"
         "                           long as the run lasts (e.g. 127.0.0.1:9464; port 0: any)\n"
         "  --publish ADDR           serve the decoded ticks to subscribers as Arrow IPC streams on\n"
         "                           unix:PATH or tcp:HOST:PORT (docs/python-brain.md): each sends one\n"
         "                           request line (a kind, symbols, the block or lossy policy)\n"
         "  --publish-queue N        batches queued per block subscriber, and the lossy subscribers'\n"
         "                           ring (default 1024)\n"
         "  --publish-stall S        cut off a block subscriber that takes nothing for S seconds\n"
         "                           while its queue is full (default 5)\n"
         "  --publish-max N          subscribers at once; more are refused (default 64)\n"
         "  --publish-wait N         read no feed until N subscribers are subscribed, so that they\n"
         "                           see every tick (default 0: start at once)\n"
         "  --publish nats://HOST:PORT[,nats://HOST:PORT...]\n"
         "                           also publish the ticks to NATS JetStream (docs/scaling-out.md):\n"
         "                           one Arrow IPC stream per kind and symbol of each batch, on\n"
         "                           ticks.<kind>.<SYMBOL>, with a Nats-Msg-Id; waits for the bus\n"
         "                           (retrying) at start, and for its acknowledgements at the end\n"
         "  --nats-stream NAME       the JetStream stream (default TICKS), created if missing; an\n"
         "                           existing one with other settings is refused\n"
         "  --nats-replicas N        the stream's replicas when it is created (default 3; 1 to 5)\n"
         "  --nats-window N          publishes awaiting their acknowledgement at most (default 256)\n"
         "  --nats-source NAME       this ingest's name in the message ids (default: the first\n"
         "                           --connect URL's host:port)\n"
         "  --nats-compression C     none (default) or zstd: a message merged from rows that waited\n"
         "                           for the bus goes out as one record batch whose body is\n"
         "                           compressed with Zstandard, as Arrow IPC allows (polarway-sink,\n"
         "                           pyarrow and Polars read it); fewer bytes on the bus for more\n"
         "                           CPU in the ingest (docs/benchmarks.md)\n"
         "  --channel-capacity N     ticks buffered between connections and sink, in batches of up\n"
         "                           to 256 (rounded up to whole batches; default 8192)\n"
         "  --duration S             stop after S seconds (decimals allowed; default: no limit)\n"
         "  --expect N               stop once N ticks have been written\n"
         "  --once                   one session per --connect URL (no reconnect once it ends);\n"
         "                           the run ends when all have ended (unless --listen)\n"
         "  --json-summary FILE      also write the JSON summary to FILE\n"
         "  --out DIR                write the ticks as Parquet under DIR\n"
         "                           (DIR/<stream>/symbol=<S>/date=<YYYY-MM-DD>/part-<n>.parquet; new\n"
         "                           part files are added to what DIR holds); without it the ticks\n"
         "                           are only counted\n" +
         parquet_flags_usage(27, std::to_string(ingest_default_max_open_files)) +
         "  --sink-delay-us N        make the sink slow: N microseconds per tick\n"
         "  --max-message-size N     largest WebSocket message accepted, bytes (default 1048576)\n"
         "  --handshake-timeout S    deadline for a WebSocket handshake (default 5)\n"
         "  --idle-timeout S         close a connection silent for S seconds (default: never)\n"
         "  --connect-timeout S      deadline for a TCP connect (default 5)\n"
         "  --backoff-initial S      first reconnect delay (default 0.1)\n"
         "  --backoff-max S          reconnect delay cap (default 5)\n"
         "  --stats-interval S       live stats period (default 0.25 on a terminal, else 5)\n"
         "  --quiet                  no live stats\n"
         "  --seed N                 seed for the back-off jitter (default: from the clock)\n"
         "  --max-connections N      accepted feeds at once (default 1024)\n"
         "  --workers N              runtime worker threads (default: POLARWAY_WORKERS, else one\n"
         "                           per core)\n"
         "  --busy-poll-us N         an idle worker polls N microseconds before it sleeps: lower\n"
         "                           latency for a busy core (default 0; at most 1000000)\n"
         "  --flight-recorder N      each worker keeps its last N scheduler events, served as a\n"
         "                           Perfetto trace at GET /debug/trace with --metrics and written\n"
         "                           to a file on SIGUSR1 (default: off; at most 16777216)\n";
}

pw::result<ingest_config, cli_error> parse_ingest_args(std::span<const char* const> args) {
  ingest_config c;
  bool session_max_given = false;
  std::string publish_knob;  // the first --publish-* flag, refused without --publish
  std::string bus_knob;      // the first --nats-* flag, refused without --publish nats://
  arg_reader r(args);
  for (;;) {
    auto f = r.next_flag();
    if (!f) return pw::err(f.error());
    if (!*f) break;
    const std::string_view flag = **f;
    pw::result<void, cli_error> step = pw::ok();
    if (flag == "--connect") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        auto u = ws_url::parse(v);
        if (!u) return pw::err(cli_error{"--connect: '" + std::string(v) + "': " + u.error().message()});
        if (c.connect.size() >= 1024) return pw::err(cli_error{"--connect: at most 1024 feeds"});
        c.connect.push_back(std::move(*u));
        return pw::ok();
      });
    } else if (flag == "--listen") {
      step = r.address_into(c.listen, "127.0.0.1:9500");
    } else if (flag == "--metrics") {
      step = r.address_into(c.metrics_listen, "127.0.0.1:9464");
    } else if (flag == "--publish") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (v.starts_with("nats://")) {
          if (!c.bus.servers.empty()) return pw::err(cli_error{"--publish: one nats:// bus at most"});
          if (auto servers = parse_nats_servers(v); !servers)
            return pw::err(cli_error{"--publish: " + servers.error()});
          c.bus.servers = std::string(v);
          return pw::ok();
        }
        if (!v.starts_with("unix:") && !v.starts_with("tcp:"))
          return pw::err(cli_error{"--publish: expected unix:PATH, tcp:HOST:PORT or nats://HOST:PORT, not '" +
                                   std::string(v) + "'"});
        if (!c.publish.address.empty()) return pw::err(cli_error{"--publish: one unix: or tcp: address at most"});
        c.publish.address = std::string(v);
        return pw::ok();
      });
    } else if (flag == "--nats-stream") {
      if (bus_knob.empty()) bus_knob = flag;
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (auto name = check_jetstream_name(v); !name) return pw::err(cli_error{"--nats-stream: " + name.error()});
        c.bus.stream = std::string(v);
        return pw::ok();
      });
    } else if (flag == "--nats-replicas") {
      if (bus_knob.empty()) bus_knob = flag;
      std::uint64_t n = 0;
      step = r.uint_into(n, 1, 5);
      c.bus.replicas = static_cast<std::int64_t>(n);
    } else if (flag == "--nats-window") {
      if (bus_knob.empty()) bus_knob = flag;
      step = r.uint_into(c.bus.window, 1, 65536);
    } else if (flag == "--nats-compression") {
      if (bus_knob.empty()) bus_knob = flag;
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (v == "none") c.bus_compression = ticks::arrow_ipc::body_compression::none;
        else if (v == "zstd") c.bus_compression = ticks::arrow_ipc::body_compression::zstd;
        else return pw::err(cli_error{"--nats-compression: none or zstd, not '" + std::string(v) + "'"});
        return pw::ok();
      });
    } else if (flag == "--nats-source") {
      if (bus_knob.empty()) bus_knob = flag;
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (v.empty() || v.size() > 200 || v.find_first_of(" \t\r\n/") != std::string_view::npos)
          return pw::err(cli_error{"--nats-source: a name of 1 to 200 characters without spaces or '/'"});
        c.bus_source = std::string(v);
        return pw::ok();
      });
    } else if (flag == "--publish-queue") {
      if (publish_knob.empty()) publish_knob = flag;
      step = r.uint_into(c.publish.queue_batches, 1, 1u << 20);
    } else if (flag == "--publish-stall") {
      if (publish_knob.empty()) publish_knob = flag;
      step = r.seconds_into(c.publish.stall_timeout_ms, 3600, false);
    } else if (flag == "--publish-max") {
      if (publish_knob.empty()) publish_knob = flag;
      step = r.uint_into(c.publish.max_subscribers, 1, 4096);
    } else if (flag == "--publish-wait") {
      if (publish_knob.empty()) publish_knob = flag;
      step = r.uint_into(c.publish.wait_for, 1, 4096);
    } else if (flag == "--channel-capacity") {
      step = r.uint_into(c.channel_capacity, 1, 1u << 24);
    } else if (flag == "--duration") {
      step = r.seconds_into(c.duration_ms, 7 * 24 * 3600, false);
    } else if (flag == "--expect") {
      step = r.uint_into(c.expect, 1, std::uint64_t{1} << 62);
    } else if (flag == "--rotate-before") {
      step = r.seconds_into(c.rotate_before_ms, 7 * 24 * 3600, false);
    } else if (flag == "--session-max-s") {
      step = r.seconds_into(c.session_max_ms, 7 * 24 * 3600, false);
      session_max_given = true;
    } else if (flag == "--once") {
      step = r.no_value();
      c.once = true;
    } else if (flag == "--quiet") {
      step = r.no_value();
      c.quiet = true;
    } else if (flag == "--json-summary") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (v.empty()) return pw::err(cli_error{"--json-summary: needs a file name"});
        c.json_summary = std::string(v);
        return pw::ok();
      });
    } else if (flag == "--sink-delay-us") {
      step = r.uint_into(c.sink_delay_us, 0, 10'000'000);
    } else if (flag == "--max-message-size") {
      step = r.uint_into(c.max_message_size, 64, 64u << 20);
    } else if (flag == "--handshake-timeout") {
      step = r.seconds_into(c.handshake_timeout_ms, 3600, false);
    } else if (flag == "--idle-timeout") {
      step = r.seconds_into(c.idle_timeout_ms, 24 * 3600, false);
    } else if (flag == "--connect-timeout") {
      step = r.seconds_into(c.connect_timeout_ms, 3600, false);
    } else if (flag == "--backoff-initial") {
      step = r.seconds_into(c.backoff_initial_ms, 3600, false);
    } else if (flag == "--backoff-max") {
      step = r.seconds_into(c.backoff_max_ms, 24 * 3600, false);
    } else if (flag == "--stats-interval") {
      step = r.seconds_into(c.stats_interval_ms, 3600, false);
    } else if (flag == "--seed") {
      step = r.uint_into(c.seed, 0, UINT64_MAX);
    } else if (flag == "--max-connections") {
      step = r.uint_into(c.max_connections, 1, 100000);
    } else if (flag == "--streams-file") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (v.empty()) return pw::err(cli_error{"--streams-file: needs a file name"});
        c.streams_file = std::string(v);
        return pw::ok();
      });
    } else if (flag == "--backfill") {
      step = r.no_value();
      c.backfill = true;
    } else if (flag == "--allow-gaps") {
      step = r.no_value();
      c.allow_gaps = true;
    } else if (flag == "--rest-url") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (!v.starts_with("http://") && !v.starts_with("https://"))
          return pw::err(cli_error{"--rest-url: expected http://host[:port] or https://host[:port]"});
        c.rest_url = std::string(v);
        while (c.rest_url.ends_with('/')) c.rest_url.pop_back();
        return pw::ok();
      });
    } else if (flag == "--api-key-file") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (v.empty()) return pw::err(cli_error{"--api-key-file: needs a file name"});
        c.api_key_file = std::string(v);
        return pw::ok();
      });
    } else if (flag == "--tls-ca") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (v.empty()) return pw::err(cli_error{"--tls-ca: needs a file name"});
        c.tls_ca = std::string(v);
        return pw::ok();
      });
    } else if (flag == "--workers") {
      step = r.uint_into(c.workers, 1, pw::runtime_options::max_workers);
    } else if (flag == "--busy-poll-us") {
      step = r.uint_into(c.busy_poll_us, 0, static_cast<std::uint64_t>(pw::runtime_options::max_busy_poll.count()));
    } else if (flag == "--flight-recorder") {
      step = r.uint_into(c.flight_recorder, 1, pw::runtime_options::max_flight_recorder);
    } else if (auto p = parse_parquet_flag(flag, r, c.parquet); !p) {
      return pw::err(p.error());
    } else if (!*p) {
      return pw::err(unknown_flag(flag));
    }
    if (!step) return pw::err(step.error());
  }
  if (c.connect.empty() && c.listen.empty()) return pw::err(cli_error{"give at least one --connect URL or --listen ADDR"});
  if (c.publish.address.empty() && !publish_knob.empty())
    return pw::err(cli_error{publish_knob + ": only with --publish unix:PATH or tcp:HOST:PORT"});
  if (c.bus.servers.empty() && !bus_knob.empty())
    return pw::err(cli_error{bus_knob + ": only with --publish nats://HOST:PORT"});
  if (!c.bus.servers.empty() && c.bus_source.empty())
    c.bus_source = c.connect.empty() ? "listen-" + c.listen : c.connect[0].connect_addr;
  if (c.parquet.dir.empty() && !c.parquet.first_flag.empty())
    return pw::err(cli_error{c.parquet.first_flag + ": only with --out DIR (Parquet output)"});
  if (!c.streams_file.empty()) {
    if (c.connect.size() != 1)
      return pw::err(cli_error{"--streams-file: needs exactly one --connect URL, the base (ws://host:port/stream)"});
    const std::string& t = c.connect[0].target;
    if (t != "/stream" && t != "/ws")
      return pw::err(cli_error{"--streams-file: the --connect URL must end in /stream or /ws (no streams of its own)"});
  }
  if (!c.backfill && (!c.rest_url.empty() || !c.api_key_file.empty() || c.allow_gaps))
    return pw::err(cli_error{"--rest-url, --api-key-file and --allow-gaps: only with --backfill"});
  if (c.backfill && !c.parquet.dir.empty() && !c.bus.servers.empty())
    return pw::err(cli_error{"--backfill: with --out or with --publish nats://, not both (a restart resumes from one of "
                             "them; run polarway-sink for Parquet from the bus)"});
  if (c.backfill && c.connect.empty())
    return pw::err(cli_error{"--backfill: needs a --connect URL (the REST API is the exchange's)"});
  if (c.rotate_before_ms != 0 && !c.backfill)
    return pw::err(cli_error{"--rotate-before: needs --backfill (it drops what both connections deliver)"});
  if (c.rotate_before_ms != 0 && c.once) return pw::err(cli_error{"--rotate-before: not with --once"});
  if (c.rotate_before_ms != 0 && c.rotate_before_ms >= c.session_max_ms)
    return pw::err(cli_error{"--rotate-before: must be shorter than --session-max-s"});
  if (session_max_given && c.rotate_before_ms == 0)
    return pw::err(cli_error{"--session-max-s: only with --rotate-before"});
  if (c.backoff_initial_ms > c.backoff_max_ms)
    return pw::err(cli_error{"--backoff-initial: larger than --backoff-max"});
  if (!c.tls_ca.empty() && std::none_of(c.connect.begin(), c.connect.end(), [](const ws_url& u) { return u.tls; }))
    return pw::err(cli_error{"--tls-ca: only with a wss:// --connect URL"});
  return c;
}

pw::result<std::vector<std::string>, std::string> read_streams_file(const std::string& path) {
  constexpr std::size_t max_bytes = std::size_t{16} << 20;
  std::FILE* f = std::fopen(path.c_str(), "rbe");
  if (!f) return pw::err("--streams-file " + path + ": cannot open");
  std::string data;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    data.append(buf, n);
    if (data.size() > max_bytes) {
      std::fclose(f);
      return pw::err("--streams-file " + path + ": larger than 16 MiB");
    }
  }
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return pw::err("--streams-file " + path + ": read error");
  auto set = parse_streams_file(data);
  if (!set) return pw::err("--streams-file " + path + ": " + set.error().message());
  return std::move(*set);
}

pw::result<pw::option<pw::net::tls_config>, std::string> load_ingest_tls(const ingest_config& c) {
  if (std::none_of(c.connect.begin(), c.connect.end(), [](const ws_url& u) { return u.tls; }))
    return pw::option<pw::net::tls_config>(pw::none);
  auto tls = pw::net::tls_config::client();
  if (!c.tls_ca.empty()) tls.ca_file(c.tls_ca);
  tls.handshake_timeout(std::chrono::milliseconds(c.handshake_timeout_ms));
  if (auto st = tls.status(); !st) return pw::err((c.tls_ca.empty() ? "" : "--tls-ca: ") + st.error().message());
  return pw::option<pw::net::tls_config>(std::move(tls));
}

}  // namespace ticks::app
