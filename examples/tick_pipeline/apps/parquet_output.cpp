#include "parquet_output.hpp"

#include <algorithm>
#include <utility>

namespace ticks::app {

namespace pw = polarway;

pw::result<bool, cli_error> parse_parquet_flag(std::string_view flag, arg_reader& r, parquet_output_config& c) {
  if (flag != "--out" && flag != "--codec" && flag != "--row-group-rows" && flag != "--file-rows" &&
      flag != "--max-open-files")
    return false;
  if (c.first_flag.empty()) c.first_flag = std::string(flag);
  auto v = r.value();
  if (!v) return pw::err(v.error());
  const std::string_view text = *v;
  if (flag == "--out") {
    if (text.empty()) return pw::err(cli_error{"--out: needs a directory name"});
    c.dir = std::string(text);
  } else if (flag == "--codec") {
    // "none" is what a user types; "uncompressed" is what the summary and the files' footers say.
    if (text == "snappy")
      c.codec = pw_parquet::compression::snappy;
    else if (text == "zstd")
      c.codec = pw_parquet::compression::zstd;
    else if (text == "none" || text == "uncompressed")
      c.codec = pw_parquet::compression::uncompressed;
    else
      return pw::err(cli_error{"--codec: '" + std::string(text) + "' is not snappy, zstd or none"});
  } else {
    pw::result<std::uint64_t, cli_error> n = 0;
    if (flag == "--row-group-rows") {
      if ((n = parse_uint(flag, text, 1, std::uint64_t{1} << 24))) c.rows_per_row_group = static_cast<std::size_t>(*n);
    } else if (flag == "--file-rows") {
      if ((n = parse_uint(flag, text, 1, std::uint64_t{1} << 40))) c.max_rows_per_file = *n;
    } else {
      // Each open file holds a descriptor: stay well inside the usual RLIMIT_NOFILE.
      if ((n = parse_uint(flag, text, 1, 10'000))) c.max_open_files = static_cast<std::size_t>(*n);
    }
    if (!n) return pw::err(n.error());
  }
  return true;
}

std::string parquet_flags_usage(std::size_t column, std::string_view max_open_default) {
  const std::pair<std::string_view, std::string> lines[] = {
      {"--codec C", "Parquet page compression: snappy | zstd | none (default snappy)"},
      {"--row-group-rows N", "rows per row group (default 16384)"},
      {"--file-rows N", "a part file is committed and the next one started at N rows"},
      {"", "(default 4000000; also at about 256 MiB)"},
      {"--max-open-files N", "part files open at once (default " + std::string(max_open_default) + "); keep it"},
      {"", "above the number of stream x symbol partitions that interleave"},
  };
  std::string s;
  for (const auto& [flag, text] : lines) {
    std::string line = "  " + std::string(flag);
    line.resize(std::max(column, line.size() + 1), ' ');
    s += line + text + "\n";
  }
  return s;
}

pw::task<pw::result<parquet_sink, parquet_sink_error>> open_parquet_output(parquet_output_config c,
                                                                           std::size_t default_max_open_files) {
  // A named value, handed over by move: not a coroutine, and no braced temporary in a co_await
  // (g++ 12 destroys those twice; sink/README.md).
  parquet_sink_options options;
  options.root = std::move(c.dir);
  options.codec = c.codec;
  options.rows_per_row_group = c.rows_per_row_group;
  options.max_rows_per_file = c.max_rows_per_file;
  options.max_open_partitions = c.max_open_files != 0 ? c.max_open_files : default_max_open_files;
  options.origin_label = std::move(c.origin_label);
  return parquet_sink::open(std::move(options));
}

bool parquet_output_complete(const parquet_sink& sink, std::uint64_t ticks_out) noexcept {
  return !sink.failure() && sink.stats().rows_written() == ticks_out;
}

}  // namespace ticks::app
