// A Parquet schema as data: a named, flat list of typed columns. Each column_spec says what a
// reader should see (timestamp with unit, exact decimal, UTF-8 string, boolean, int64), whether
// it may be null, and whether to try dictionary encoding; the writer derives the physical type,
// the legacy converted type and the logical type from it. Flat is all the tick sinks need, and
// it keeps definition levels at 0/1 and repetition levels absent.
//
// validate() is the only place that decides what the writer can represent (precision 1..18 for
// a decimal on INT64, dictionary only for strings, unique non-empty names); file_writer::create
// calls it, so a writer never exists for a schema it cannot write.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <polarway/option.hpp>
#include <polarway/result.hpp>

#include "pw_parquet/decimal.hpp"
#include "pw_parquet/errc.hpp"
#include "pw_parquet/format.hpp"
#include "pw_parquet/value.hpp"

namespace pw_parquet {

enum class column_type : std::uint8_t {
  boolean,    // BOOLEAN
  int64,      // INT64, no annotation
  timestamp,  // INT64, TIMESTAMP(isAdjustedToUTC=true, unit)
  decimal,    // INT64, DECIMAL(precision, scale)
  string,     // BYTE_ARRAY, STRING
};

enum class repetition : std::uint8_t { required, optional };

/// Which data page encoding to aim for; dictionary falls back to plain when a chunk's
/// dictionary grows past the writer's limits.
enum class column_encoding : std::uint8_t { plain, dictionary };

struct column_spec {
  std::string name;
  column_type type = column_type::int64;
  repetition rep = repetition::required;
  column_encoding encoding = column_encoding::plain;
  time_unit unit = time_unit::millis;  // timestamp columns
  std::int32_t precision = 0;          // decimal columns
  std::int32_t scale = 0;              // decimal columns

  static column_spec boolean(std::string name) { return make(std::move(name), column_type::boolean); }
  static column_spec int64(std::string name) { return make(std::move(name), column_type::int64); }
  static column_spec timestamp(std::string name, time_unit unit) {
    column_spec c = make(std::move(name), column_type::timestamp);
    c.unit = unit;
    return c;
  }
  static column_spec decimal(std::string name, std::int32_t precision, std::int32_t scale) {
    column_spec c = make(std::move(name), column_type::decimal);
    c.precision = precision;
    c.scale = scale;
    return c;
  }
  static column_spec string(std::string name) { return make(std::move(name), column_type::string); }

  /// This column, allowed to hold nulls.
  column_spec nullable() && {
    rep = repetition::optional;
    return std::move(*this);
  }
  /// This column, dictionary-encoded where the dictionary stays small (strings only).
  column_spec dictionary() && {
    encoding = column_encoding::dictionary;
    return std::move(*this);
  }

  bool is_optional() const noexcept { return rep == repetition::optional; }

  format::physical_type physical_type() const noexcept {
    switch (type) {
      case column_type::boolean: return format::physical_type::boolean;
      case column_type::string: return format::physical_type::byte_array;
      case column_type::int64:
      case column_type::timestamp:
      case column_type::decimal: return format::physical_type::int64;
    }
    return format::physical_type::int64;
  }

 private:
  static column_spec make(std::string name, column_type type) {
    column_spec c;
    c.name = std::move(name);
    c.type = type;
    return c;
  }
};

struct schema {
  std::string name = "schema";  // the root element's name; readers ignore it
  std::vector<column_spec> columns;

  /// The index of the column called `column`, if any.
  polarway::option<std::size_t> index_of(std::string_view column) const {
    for (std::size_t i = 0; i < columns.size(); ++i)
      if (columns[i].name == column) return i;
    return polarway::none;
  }

  /// Ok if the writer can represent every column; errc::invalid_schema otherwise.
  polarway::result<void> validate() const {
    auto bad = [](const char* why) { return polarway::err(polarway::error(errc::invalid_schema, why)); };
    if (columns.empty()) return bad("pw_parquet::schema: no columns");
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const column_spec& c = columns[i];
      if (c.name.empty()) return bad("pw_parquet::schema: empty column name");
      for (std::size_t j = 0; j < i; ++j)
        if (columns[j].name == c.name) return bad("pw_parquet::schema: duplicate column name");
      if (c.type == column_type::decimal &&
          (c.precision < 1 || c.precision > max_int64_decimal_precision || c.scale < 0 || c.scale > c.precision))
        return bad("pw_parquet::schema: decimal needs 1 <= precision <= 18 and 0 <= scale <= precision");
      if (c.encoding == column_encoding::dictionary && c.type != column_type::string)
        return bad("pw_parquet::schema: dictionary encoding is only supported for string columns");
      if (c.unit != time_unit::millis && c.unit != time_unit::micros && c.unit != time_unit::nanos)
        return bad("pw_parquet::schema: unknown time unit");
    }
    return polarway::ok();
  }
};

}  // namespace pw_parquet
