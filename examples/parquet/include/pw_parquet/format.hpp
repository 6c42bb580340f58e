// The numbers Parquet's footer is made of: the enum values and the Thrift field ids of the
// structures in apache/parquet-format's src/main/thrift/parquet.thrift that this writer emits
// and its reader interprets. They are the wire format, so they live in one place, spelled as the
// .thrift file spells them; the writer and the reader never use a bare number. Only the fields
// one of them touches are listed.
#pragma once

#include <cstdint>

namespace pw_parquet::format {

// enum Type
enum class physical_type : std::int32_t {
  boolean = 0, int32 = 1, int64 = 2, int96 = 3, float_ = 4, double_ = 5, byte_array = 6,
  fixed_len_byte_array = 7,
};

// enum ConvertedType (the legacy annotation, still written for older readers)
enum class converted_type : std::int32_t {
  utf8 = 0, decimal = 5, timestamp_millis = 9, timestamp_micros = 10, int_64 = 18,
};

// enum FieldRepetitionType
enum class field_repetition : std::int32_t { required = 0, optional = 1, repeated = 2 };

// enum Encoding
enum class encoding : std::int32_t {
  plain = 0, plain_dictionary = 2, rle = 3, bit_packed = 4, rle_dictionary = 8,
};

// enum CompressionCodec
enum class codec : std::int32_t { uncompressed = 0, snappy = 1, gzip = 2, zstd = 6 };

// enum PageType
enum class page_type : std::int32_t { data_page = 0, index_page = 1, dictionary_page = 2, data_page_v2 = 3 };

// Field ids, one namespace per Thrift struct.
namespace statistics_field {
inline constexpr std::int16_t null_count = 3, max_value = 5, min_value = 6, is_max_value_exact = 7,
                              is_min_value_exact = 8;
}
namespace decimal_type_field {
inline constexpr std::int16_t scale = 1, precision = 2;
}
namespace time_unit_field {  // union TimeUnit: each member is an empty struct
inline constexpr std::int16_t millis = 1, micros = 2, nanos = 3;
}
namespace timestamp_type_field {
inline constexpr std::int16_t is_adjusted_to_utc = 1, unit = 2;
}
namespace logical_type_field {  // union LogicalType
inline constexpr std::int16_t string = 1, decimal = 5, timestamp = 8;
}
namespace schema_element_field {
inline constexpr std::int16_t type = 1, type_length = 2, repetition_type = 3, name = 4, num_children = 5,
                              converted_type = 6, scale = 7, precision = 8, logical_type = 10;
}
namespace data_page_header_field {
inline constexpr std::int16_t num_values = 1, encoding = 2, definition_level_encoding = 3,
                              repetition_level_encoding = 4;
}
namespace dictionary_page_header_field {
inline constexpr std::int16_t num_values = 1, encoding = 2, is_sorted = 3;
}
namespace page_header_field {
inline constexpr std::int16_t type = 1, uncompressed_page_size = 2, compressed_page_size = 3,
                              data_page_header = 5, dictionary_page_header = 7, data_page_header_v2 = 8;
}
namespace data_page_header_v2_field {
inline constexpr std::int16_t num_values = 1, num_nulls = 2, num_rows = 3, encoding = 4,
                              definition_levels_byte_length = 5, repetition_levels_byte_length = 6,
                              is_compressed = 7;
}
namespace key_value_field {
inline constexpr std::int16_t key = 1, value = 2;
}
namespace page_encoding_stats_field {
inline constexpr std::int16_t page_type = 1, encoding = 2, count = 3;
}
namespace column_meta_data_field {
inline constexpr std::int16_t type = 1, encodings = 2, path_in_schema = 3, codec = 4, num_values = 5,
                              total_uncompressed_size = 6, total_compressed_size = 7,
                              data_page_offset = 9, dictionary_page_offset = 11, statistics = 12,
                              encoding_stats = 13;
}
namespace column_chunk_field {
inline constexpr std::int16_t file_path = 1, file_offset = 2, meta_data = 3;
}
namespace row_group_field {
inline constexpr std::int16_t columns = 1, total_byte_size = 2, num_rows = 3, file_offset = 5,
                              total_compressed_size = 6, ordinal = 7;
}
namespace column_order_field {  // union ColumnOrder
inline constexpr std::int16_t type_order = 1;
}
namespace file_meta_data_field {
inline constexpr std::int16_t version = 1, schema = 2, num_rows = 3, row_groups = 4,
                              key_value_metadata = 5, created_by = 6, column_orders = 7;
}

}  // namespace pw_parquet::format
