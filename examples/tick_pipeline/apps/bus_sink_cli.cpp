// polarway-sink's flags: parse_bus_sink_args() and the usage text (declared in bus_sink.hpp).
#include <string>

#include "bus_sink.hpp"

namespace ticks::app {

namespace pw = polarway;

std::string bus_sink_usage() {
  return "usage: polarway-sink --from nats://HOST:PORT[,...] --consumer NAME --out DIR [options]\n"
         "  Reads the ticks polarway-ingest --publish nats:// put on the bus and writes them as Parquet\n"
         "  under DIR (the layout of polarway-ingest --out), each row exactly once across restarts\n"
         "  (docs/scaling-out.md).\n"
         "  --from URLS              the NATS servers (comma-separated nats://HOST:PORT)\n"
         "  --consumer NAME          the durable consumer (created if missing; a restart resumes it)\n"
         "  --out DIR                the Parquet output (a directory of this stream's sinks only)\n"
         "  --nats-stream NAME       the stream (default TICKS)\n"
         "  --partition I/N          take only the symbols whose hash modulo N is I (0 <= I < N);\n"
         "                           run N sinks, each with its own consumer and DIR (default 0/1)\n"
         "  --commit-interval S      commit every open file at least every S seconds (default 10);\n"
         "                           messages are acknowledged once their rows are committed\n"
         "  --ack-wait S             the server redelivers what is not acknowledged within S seconds\n"
         "                           (default 120; more than twice --commit-interval)\n"
         "  --max-pending N          unacknowledged messages at most (default 65536); at 3/4 of it\n"
         "                           the sink commits early\n"
         "  --duration S             stop after S seconds (default: no limit)\n"
         "  --idle-exit S            stop once nothing was delivered for S seconds\n"
         "  --expect N               stop once N rows were taken\n"
         "  --json-summary FILE      also write the JSON summary to FILE\n" +
         parquet_flags_usage(27, "64");
}

pw::result<bus_sink_config, cli_error> parse_bus_sink_args(std::span<const char* const> args) {
  bus_sink_config c;
  c.parquet.max_open_files = 64;
  std::uint64_t ack_wait_s_ms = c.consumer.ack_wait_ms;
  arg_reader r(args);
  for (;;) {
    auto f = r.next_flag();
    if (!f) return pw::err(f.error());
    if (!*f) break;
    const std::string_view flag = **f;
    pw::result<void, cli_error> step = pw::ok();
    if (flag == "--from") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (auto servers = parse_nats_servers(v); !servers) return pw::err(cli_error{"--from: " + servers.error()});
        c.bus.servers = std::string(v);
        return pw::ok();
      });
    } else if (flag == "--consumer" || flag == "--nats-stream") {
      std::string& into = flag == "--consumer" ? c.consumer.name : c.bus.stream;
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (auto name = check_jetstream_name(v); !name) return pw::err(cli_error{std::string(flag) + ": " + name.error()});
        into = std::string(v);
        return pw::ok();
      });
    } else if (flag == "--partition") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        const std::size_t slash = v.find('/');
        const cli_error bad{"--partition: expected I/N with 0 <= I < N <= 1024, not '" + std::string(v) + "'"};
        if (slash == std::string_view::npos) return pw::err(bad);
        auto i = parse_uint("--partition", v.substr(0, slash), 0, 1023);
        auto n = parse_uint("--partition", v.substr(slash + 1), 1, 1024);
        if (!i || !n || *i >= *n) return pw::err(bad);
        c.partition = static_cast<std::uint32_t>(*i);
        c.partitions = static_cast<std::uint32_t>(*n);
        return pw::ok();
      });
    } else if (flag == "--commit-interval") {
      step = r.seconds_into(c.commit_interval_ms, 3600, false);
    } else if (flag == "--ack-wait") {
      step = r.seconds_into(ack_wait_s_ms, 24 * 3600, false);
    } else if (flag == "--max-pending") {
      step = r.uint_into(c.consumer.max_ack_pending, 16, 1u << 24);
    } else if (flag == "--duration") {
      step = r.seconds_into(c.duration_ms, 7 * 24 * 3600, false);
    } else if (flag == "--idle-exit") {
      step = r.seconds_into(c.idle_exit_ms, 7 * 24 * 3600, false);
    } else if (flag == "--expect") {
      step = r.uint_into(c.expect_rows, 1, std::uint64_t{1} << 62);
    } else if (flag == "--json-summary") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (v.empty()) return pw::err(cli_error{"--json-summary: needs a file name"});
        c.json_summary = std::string(v);
        return pw::ok();
      });
    } else if (auto p = parse_parquet_flag(flag, r, c.parquet); !p) {
      return pw::err(p.error());
    } else if (!*p) {
      return pw::err(unknown_flag(flag));
    }
    if (!step) return pw::err(step.error());
  }
  if (c.bus.servers.empty()) return pw::err(cli_error{"--from nats://HOST:PORT is required"});
  if (c.consumer.name.empty()) return pw::err(cli_error{"--consumer NAME is required"});
  if (c.parquet.dir.empty()) return pw::err(cli_error{"--out DIR is required"});
  c.consumer.ack_wait_ms = ack_wait_s_ms;
  if (c.consumer.ack_wait_ms <= 2 * c.commit_interval_ms)
    return pw::err(cli_error{"--ack-wait: must be more than twice --commit-interval (a committed message must be "
                             "acknowledged before the server sends it again)"});
  // Positions are comparable only within one stream, and a directory's rows are those of one
  // partition: both are in the label every file carries, and a restart must match it.
  c.parquet.origin_label = "nats:" + c.bus.stream + " partition " + std::to_string(c.partition) + "/" +
                           std::to_string(c.partitions);
  return c;
}

}  // namespace ticks::app
