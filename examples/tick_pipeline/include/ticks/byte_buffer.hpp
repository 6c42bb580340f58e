// ticks::byte_buffer: a growable byte queue with a consumed prefix and guaranteed tail padding.
//
// Used for a connection's input, output and message reassembly. Bytes are appended at the back
// and consumed from the front without moving the rest; the live bytes are compacted to the
// start only when that is cheaper than growing. Invariant: capacity() - size() >= padding(), so
// a parser that reads a few bytes past the end (simdjson wants SIMDJSON_PADDING) never leaves
// the allocation. The padding bytes are zeroed once, when allocated, and never exposed.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <span>

namespace ticks {

class byte_buffer {
 public:
  explicit byte_buffer(std::size_t padding = 0) noexcept : padding_(padding) {}

  // A moved-from buffer is empty and unallocated (the defaulted moves would leave its sizes).
  byte_buffer(byte_buffer&& o) noexcept
      : data_(std::move(o.data_)), cap_(o.cap_), head_(o.head_), tail_(o.tail_), padding_(o.padding_) {
    o.cap_ = o.head_ = o.tail_ = 0;
  }
  byte_buffer& operator=(byte_buffer&& o) noexcept {
    if (this != &o) {
      data_ = std::move(o.data_);
      cap_ = o.cap_;
      head_ = o.head_;
      tail_ = o.tail_;
      padding_ = o.padding_;
      o.cap_ = o.head_ = o.tail_ = 0;
    }
    return *this;
  }
  byte_buffer(const byte_buffer&) = delete;
  byte_buffer& operator=(const byte_buffer&) = delete;

  /// The live bytes.
  std::span<const std::byte> view() const noexcept { return {data_.get() + head_, size()}; }
  const std::byte* data() const noexcept { return data_.get() + head_; }
  std::size_t size() const noexcept { return tail_ - head_; }
  bool empty() const noexcept { return head_ == tail_; }
  /// Bytes readable past data() + size(): at least padding().
  std::size_t capacity() const noexcept { return cap_ - head_; }
  std::size_t padding() const noexcept { return padding_; }

  void append(std::span<const std::byte> bytes) {
    if (bytes.empty()) return;
    auto room = prepare(bytes.size());
    std::memcpy(room.data(), bytes.data(), bytes.size());
    commit(bytes.size());
  }

  /// Writable room for at least n more bytes (e.g. a socket read target); commit() what was used.
  std::span<std::byte> prepare(std::size_t n) {
    reserve_back(n);
    return {data_.get() + tail_, usable() - tail_};
  }
  /// Marks n bytes of the last prepare() as written.
  void commit(std::size_t n) noexcept { tail_ += n; }

  /// Drops n bytes from the front.
  void consume(std::size_t n) noexcept {
    head_ += std::min(n, size());
    if (head_ == tail_) head_ = tail_ = 0;
  }
  void clear() noexcept { head_ = tail_ = 0; }

  /// Frees the storage when it grew beyond `keep` bytes, so that one huge message does not pin
  /// its memory for the life of the connection.
  void shrink_if_above(std::size_t keep) {
    if (cap_ <= keep + padding_ || !empty()) return;
    data_.reset();
    cap_ = head_ = tail_ = 0;
  }

 private:
  // Bytes usable for content (the allocation minus the reserved padding).
  std::size_t usable() const noexcept { return data_ ? cap_ - padding_ : 0; }

  void reserve_back(std::size_t n) {
    if (data_ && usable() - tail_ >= n) return;
    const std::size_t live = size();
    // Compacting is enough when the consumed prefix gives the room back.
    if (data_ && usable() - live >= n) {
      std::memmove(data_.get(), data_.get() + head_, live);
      head_ = 0;
      tail_ = live;
      return;
    }
    const std::size_t want = std::max({live + n, 2 * usable(), std::size_t{256}});
    auto fresh = std::make_unique_for_overwrite<std::byte[]>(want + padding_);
    if (live) std::memcpy(fresh.get(), data_.get() + head_, live);
    std::memset(fresh.get() + want, 0, padding_);
    data_ = std::move(fresh);
    cap_ = want + padding_;
    head_ = 0;
    tail_ = live;
  }

  std::unique_ptr<std::byte[]> data_;
  std::size_t cap_ = 0;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
  std::size_t padding_ = 0;
};

}  // namespace ticks
