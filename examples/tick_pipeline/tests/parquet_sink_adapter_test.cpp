// The Parquet sink through the pipeline's tick_sink interface: batches in, flush, counts out,
// and a sink error surfacing as a pw::error with the sink's failure() holding the details.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <vector>

#include <polarway/runtime.hpp>

#include "parquet_tick_sink.hpp"
#include "ticks/feed_generator.hpp"

namespace pw = polarway;

TEST_CASE("parquet_tick_sink behind ticks::app::tick_sink") {
  const std::string root =
      (std::filesystem::temp_directory_path() / ("pw_parquet_adapter_test_" + std::to_string(::getpid()))).string();
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([&]() -> pw::task<void> {
    ticks::parquet_sink_options options;
    options.root = root;
    auto sink = co_await ticks::parquet_sink::open(std::move(options));
    REQUIRE(sink);
    std::unique_ptr<ticks::app::tick_sink> s = std::make_unique<ticks::app::parquet_tick_sink>(std::move(*sink));
    auto gen = ticks::feed_generator::create({.symbols = 3, .kind = ticks::message_kind::trade}).unwrap();
    std::vector<ticks::tick> batch;
    for (int i = 0; i < 1000; ++i) {
      (void)gen.next();
      batch.push_back(gen.last());
    }
    {
      auto awaited = co_await s->write(batch);
      REQUIRE(awaited);
    }
    {
      auto awaited = co_await s->flush();
      REQUIRE(awaited);
    }
    auto& p = static_cast<ticks::app::parquet_tick_sink&>(*s).sink();
    CHECK(p.stats().rows_written() == 1000);
    CHECK(p.stats().files_written() == 3);
  }());
  std::filesystem::remove_all(root, ec);
}
