// libFuzzer target: untrusted bytes -> ticks::arrow_ipc::read_tick_stream, the path every
// message from the bus takes.
//
// Besides the sanitizers' checks it asserts the reader's promises: the same bytes at an odd
// address read the same (the input's alignment does not matter); a refusal says why; whatever is
// accepted has one recv time per tick, every tick of the stream's kind and representable, and the
// writer's stream of it (the same schema metadata, one batch) reads back to the same kind, ticks,
// recv times and metadata.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "ticks/arrow_ipc.hpp"
#include "ticks/arrow_ipc_reader.hpp"

namespace {

namespace ipc = ticks::arrow_ipc;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool same(const ipc::tick_rows& a, const ipc::tick_rows& b) {
  return a.kind == b.kind && a.ticks == b.ticks && a.recv_ns == b.recv_ns && a.schema_metadata == b.schema_metadata;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  const auto r = ipc::read_tick_stream(bytes);

  // One byte past an aligned allocation; ASan still sees reads past its end.
  const auto shifted = std::make_unique<std::byte[]>(size + 1);
  if (size != 0) std::memcpy(shifted.get() + 1, data, size);
  const auto r2 = ipc::read_tick_stream(std::span<const std::byte>(shifted.get() + 1, size));
  check(r.is_ok() == r2.is_ok());

  if (!r) {
    check(!r.error().detail.empty() && !r.error().message().empty());
    check(r.error().code == r2.error().code && r.error().detail == r2.error().detail);
    return 0;
  }
  check(same(*r, *r2));
  check(r->ticks.size() == r->recv_ns.size());

  std::vector<ipc::key_value> meta;
  for (const auto& [k, v] : r->schema_metadata) meta.push_back({k, v});
  std::vector<std::byte> again;
  ipc::append_schema(again, r->kind, meta);
  ipc::batch_builder b(r->kind);
  for (std::size_t i = 0; i < r->ticks.size(); ++i) {
    check(ticks::kind_of(r->ticks[i]) == r->kind);
    check(b.add(r->ticks[i], r->recv_ns[i]));
  }
  b.append(again);
  ipc::append_end_of_stream(again);
  const auto back = ipc::read_tick_stream(again);
  check(back.is_ok() && same(*back, *r));
  return 0;
}
