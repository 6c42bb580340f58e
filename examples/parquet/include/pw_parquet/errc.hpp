// The error codes of the Parquet writer and reader. Every failure either reports is a
// polarway::error whose code is one of these (category "parquet"), so a caller can count and log
// bad ticks or bad files by kind without parsing messages; the error's context names the exact
// check that failed. The input-shaped codes are also equivalent to
// std::errc::invalid_argument, so generic code that only asks "was it my input?" can compare
// against that condition.
#pragma once

#include <string>
#include <system_error>

namespace pw_parquet {

enum class errc {
  type_mismatch = 1,       // a value's kind does not fit its column (a string in an int64 column)
  wrong_arity,             // a row with more or fewer values than the schema has columns
  null_in_required,        // a null value in a required column
  decimal_out_of_range,    // a decimal needs more digits than the column's precision allows
  inexact_conversion,      // rescaling a decimal or a timestamp unit would drop digits
  invalid_decimal_text,    // text that is not a decimal number ("1.2.3", "", "abc")
  invalid_utf8,            // a STRING value that is not well-formed UTF-8 (readers reject the file)
  value_too_large,         // a string or a page larger than Parquet's 32-bit sizes allow
  invalid_schema,          // a schema the writer cannot represent (bad precision, duplicate name)
  invalid_options,         // writer options out of range (zero rows per group, bad zstd level)
  compression_failed,      // the codec library reported an error
  writer_finished,         // the writer was used after finish()
  // Reading: what is wrong with the bytes of a file.
  not_parquet,             // the PAR1 magic is missing at the start or the end
  truncated,               // the bytes end before a length, a field or a region they announce
  malformed_metadata,      // Thrift that breaks the protocol or parquet.thrift (bad type, missing field)
  limit_exceeded,          // a size, count or nesting depth beyond the reader's limits
  unsupported,             // valid Parquet this reader does not handle (nested or repeated columns)
  corrupt_page,            // page data that does not decode (compression, levels, values)
};

namespace detail {
class parquet_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "parquet"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::type_mismatch: return "value does not match the column type";
      case errc::wrong_arity: return "row has the wrong number of values";
      case errc::null_in_required: return "null value in a required column";
      case errc::decimal_out_of_range: return "decimal exceeds the column precision";
      case errc::inexact_conversion: return "conversion would lose digits";
      case errc::invalid_decimal_text: return "not a decimal number";
      case errc::invalid_utf8: return "string is not valid UTF-8";
      case errc::value_too_large: return "value or page too large for Parquet";
      case errc::invalid_schema: return "invalid schema";
      case errc::invalid_options: return "invalid writer options";
      case errc::compression_failed: return "compression failed";
      case errc::writer_finished: return "writer already finished";
      case errc::not_parquet: return "not a Parquet file (PAR1 magic missing)";
      case errc::truncated: return "Parquet data is truncated";
      case errc::malformed_metadata: return "malformed Parquet metadata";
      case errc::limit_exceeded: return "Parquet data exceeds the reader's limits";
      case errc::unsupported: return "Parquet feature not supported by this reader";
      case errc::corrupt_page: return "corrupt Parquet page data";
    }
    return "unknown parquet error " + std::to_string(value);
  }
  std::error_condition default_error_condition(int value) const noexcept override {
    switch (static_cast<errc>(value)) {
      case errc::compression_failed: return {value, *this};
      case errc::writer_finished: return std::errc::operation_not_permitted;
      case errc::unsupported: return std::errc::not_supported;
      default: return std::errc::invalid_argument;
    }
  }
};
}  // namespace detail

/// The category of pw_parquet::errc codes.
inline const std::error_category& parquet_category() noexcept {
  static const detail::parquet_category_impl category;
  return category;
}

/// Lets `std::error_code ec = pw_parquet::errc::type_mismatch;` work.
inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), parquet_category()};
}

}  // namespace pw_parquet

template <>
struct std::is_error_code_enum<pw_parquet::errc> : std::true_type {};
