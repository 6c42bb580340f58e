// The buffered values of one column for the row group being built. Values are kept in their
// physical form (int64s, 0/1 bytes, or concatenated string bytes plus end offsets) so that
// flushing is a straight PLAIN or dictionary encode, and nulls are kept only as definition
// levels (1 = present, 0 = null) since Parquet stores no placeholder for them. clear() keeps
// the capacity: a sink writes row group after row group of similar size, and reusing the
// buffers is what keeps its memory flat.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "pw_parquet/schema.hpp"

namespace pw_parquet {

class column_buffer {
 public:
  explicit column_buffer(const column_spec& spec) : type_(spec.type), optional_(spec.is_optional()) {
    if (type_ == column_type::string) string_ends_.reserve(64);
  }

  void push_null() {
    def_levels_.push_back(0);
    ++null_count_;
  }
  void push_int64(std::int64_t v) {
    mark_present();
    ints_.push_back(v);
  }
  void push_bool(bool v) {
    mark_present();
    bools_.push_back(v ? 1 : 0);
  }
  void push_string(std::string_view v) {
    mark_present();
    bytes_.insert(bytes_.end(), v.begin(), v.end());
    string_ends_.push_back(bytes_.size());
  }

  /// Rows buffered, nulls included.
  std::size_t num_rows() const noexcept { return optional_ ? def_levels_.size() : num_values(); }
  /// Non-null values buffered.
  std::size_t num_values() const noexcept {
    switch (type_) {
      case column_type::boolean: return bools_.size();
      case column_type::string: return string_ends_.size();
      default: return ints_.size();
    }
  }
  std::size_t null_count() const noexcept { return null_count_; }
  bool optional() const noexcept { return optional_; }
  column_type type() const noexcept { return type_; }

  /// Roughly the PLAIN size of what is buffered, for the row group size limit.
  std::size_t estimated_bytes() const noexcept {
    return ints_.size() * 8 + bools_.size() + bytes_.size() + string_ends_.size() * 4 + def_levels_.size();
  }

  std::span<const std::int64_t> ints() const noexcept { return ints_; }
  std::span<const std::uint8_t> bools() const noexcept { return bools_; }
  /// Definition levels, one per row; empty for a required column.
  std::span<const std::uint8_t> def_levels() const noexcept { return def_levels_; }
  /// The i-th non-null string.
  std::string_view string_at(std::size_t i) const noexcept {
    const std::size_t begin = i == 0 ? 0 : string_ends_[i - 1];
    return {bytes_.data() + begin, string_ends_[i] - begin};
  }

  void clear() noexcept {
    ints_.clear();
    bools_.clear();
    bytes_.clear();
    string_ends_.clear();
    def_levels_.clear();
    null_count_ = 0;
  }

 private:
  void mark_present() {
    if (optional_) def_levels_.push_back(1);
  }

  column_type type_;
  bool optional_;
  std::vector<std::int64_t> ints_;  // int64, timestamp and decimal columns
  std::vector<std::uint8_t> bools_;
  std::vector<char> bytes_;         // string bytes, back to back
  std::vector<std::size_t> string_ends_;
  std::vector<std::uint8_t> def_levels_;
  std::size_t null_count_ = 0;
};

}  // namespace pw_parquet
