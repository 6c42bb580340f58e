// Serialization of FileMetaData and PageHeader with the compact encoder, field by field in
// increasing id order as parquet.thrift declares them. Required fields are always written;
// optional ones only when they say something.
#include "pw_parquet/metadata.hpp"

#include "pw_parquet/thrift_compact.hpp"

namespace pw_parquet {
namespace {

namespace f = format;
using thrift::compact_writer;

void write_statistics(compact_writer& w, const chunk_statistics& s) {
  namespace id = f::statistics_field;
  w.field_i64(id::null_count, s.null_count);
  if (s.has_min_max) {
    w.field_binary(id::max_value, s.max_value);
    w.field_binary(id::min_value, s.min_value);
    // The bounds are the actual extremes, not truncated stand-ins.
    w.field_bool(id::is_max_value_exact, true);
    w.field_bool(id::is_min_value_exact, true);
  }
}

void write_empty_struct_field(compact_writer& w, std::int16_t id) {
  w.field_struct(id);
  w.end_struct();
}

// The LogicalType union and the legacy ConvertedType, scale and precision of a leaf.
void write_schema_leaf(compact_writer& w, const column_spec& c) {
  namespace id = f::schema_element_field;
  w.begin_struct();
  w.field_i32(id::type, static_cast<std::int32_t>(c.physical_type()));
  w.field_i32(id::repetition_type, static_cast<std::int32_t>(c.is_optional() ? f::field_repetition::optional
                                                                             : f::field_repetition::required));
  w.field_string(id::name, c.name);
  switch (c.type) {
    case column_type::boolean:
    case column_type::int64: break;  // the physical type says it all
    case column_type::string:
      w.field_i32(id::converted_type, static_cast<std::int32_t>(f::converted_type::utf8));
      w.field_struct(id::logical_type);
      write_empty_struct_field(w, f::logical_type_field::string);
      w.end_struct();
      break;
    case column_type::decimal:
      w.field_i32(id::converted_type, static_cast<std::int32_t>(f::converted_type::decimal));
      w.field_i32(id::scale, c.scale);
      w.field_i32(id::precision, c.precision);
      w.field_struct(id::logical_type);
      w.field_struct(f::logical_type_field::decimal);
      w.field_i32(f::decimal_type_field::scale, c.scale);
      w.field_i32(f::decimal_type_field::precision, c.precision);
      w.end_struct();
      w.end_struct();
      break;
    case column_type::timestamp:
      // TIMESTAMP_MILLIS / _MICROS mean "adjusted to UTC"; nanoseconds have no legacy name.
      if (c.unit == time_unit::millis)
        w.field_i32(id::converted_type, static_cast<std::int32_t>(f::converted_type::timestamp_millis));
      else if (c.unit == time_unit::micros)
        w.field_i32(id::converted_type, static_cast<std::int32_t>(f::converted_type::timestamp_micros));
      w.field_struct(id::logical_type);
      w.field_struct(f::logical_type_field::timestamp);
      w.field_bool(f::timestamp_type_field::is_adjusted_to_utc, true);
      w.field_struct(f::timestamp_type_field::unit);
      write_empty_struct_field(w, c.unit == time_unit::millis   ? f::time_unit_field::millis
                                  : c.unit == time_unit::micros ? f::time_unit_field::micros
                                                                : f::time_unit_field::nanos);
      w.end_struct();  // TimeUnit
      w.end_struct();  // TimestampType
      w.end_struct();  // LogicalType
      break;
  }
  w.end_struct();
}

void write_column_chunk(compact_writer& w, const column_spec& c, const column_chunk_meta& m, f::codec codec) {
  namespace cc = f::column_chunk_field;
  namespace id = f::column_meta_data_field;
  w.begin_struct();
  // Deprecated; the spec asks for 0 when no ColumnMetaData is written outside the footer.
  w.field_i64(cc::file_offset, 0);
  w.field_struct(cc::meta_data);
  w.field_i32(id::type, static_cast<std::int32_t>(c.physical_type()));
  w.field_list(id::encodings, thrift::type::i32, m.encodings.size());
  for (const f::encoding e : m.encodings) w.write_i32(static_cast<std::int32_t>(e));
  w.field_list(id::path_in_schema, thrift::type::binary, 1);
  w.write_string(c.name);
  w.field_i32(id::codec, static_cast<std::int32_t>(codec));
  w.field_i64(id::num_values, m.num_values);
  w.field_i64(id::total_uncompressed_size, m.total_uncompressed_size);
  w.field_i64(id::total_compressed_size, m.total_compressed_size);
  w.field_i64(id::data_page_offset, m.data_page_offset);
  if (m.dictionary_page_offset >= 0) w.field_i64(id::dictionary_page_offset, m.dictionary_page_offset);
  w.field_struct(id::statistics);
  write_statistics(w, m.statistics);
  w.end_struct();
  w.field_list(id::encoding_stats, thrift::type::struct_, m.encoding_stats.size());
  for (const page_encoding_count& s : m.encoding_stats) {
    namespace es = f::page_encoding_stats_field;
    w.begin_struct();
    w.field_i32(es::page_type, static_cast<std::int32_t>(s.page_type));
    w.field_i32(es::encoding, static_cast<std::int32_t>(s.encoding));
    w.field_i32(es::count, s.count);
    w.end_struct();
  }
  w.end_struct();  // ColumnMetaData
  w.end_struct();  // ColumnChunk
}

}  // namespace

void serialize_data_page_header(byte_vector& out, std::int32_t uncompressed_size, std::int32_t compressed_size,
                                std::int32_t num_values, format::encoding encoding) {
  namespace ph = f::page_header_field;
  namespace dp = f::data_page_header_field;
  compact_writer w(out);
  w.begin_struct();
  w.field_i32(ph::type, static_cast<std::int32_t>(f::page_type::data_page));
  w.field_i32(ph::uncompressed_page_size, uncompressed_size);
  w.field_i32(ph::compressed_page_size, compressed_size);
  w.field_struct(ph::data_page_header);
  w.field_i32(dp::num_values, num_values);
  w.field_i32(dp::encoding, static_cast<std::int32_t>(encoding));
  w.field_i32(dp::definition_level_encoding, static_cast<std::int32_t>(f::encoding::rle));
  w.field_i32(dp::repetition_level_encoding, static_cast<std::int32_t>(f::encoding::rle));
  w.end_struct();
  w.end_struct();
}

void serialize_dictionary_page_header(byte_vector& out, std::int32_t uncompressed_size,
                                      std::int32_t compressed_size, std::int32_t num_values) {
  namespace ph = f::page_header_field;
  namespace dp = f::dictionary_page_header_field;
  compact_writer w(out);
  w.begin_struct();
  w.field_i32(ph::type, static_cast<std::int32_t>(f::page_type::dictionary_page));
  w.field_i32(ph::uncompressed_page_size, uncompressed_size);
  w.field_i32(ph::compressed_page_size, compressed_size);
  w.field_struct(ph::dictionary_page_header);
  w.field_i32(dp::num_values, num_values);
  w.field_i32(dp::encoding, static_cast<std::int32_t>(f::encoding::plain));
  w.field_bool(dp::is_sorted, false);
  w.end_struct();
  w.end_struct();
}

void serialized_row_groups::append(const schema& s, const row_group_meta& rg, format::codec codec) {
  namespace rf = f::row_group_field;
  one_.clear();
  compact_writer w(one_);
  w.begin_struct();
  w.field_list(rf::columns, thrift::type::struct_, rg.columns.size());
  for (std::size_t c = 0; c < rg.columns.size(); ++c) write_column_chunk(w, s.columns[c], rg.columns[c], codec);
  w.field_i64(rf::total_byte_size, rg.total_byte_size);
  w.field_i64(rf::num_rows, rg.num_rows);
  w.field_i64(rf::file_offset, rg.file_offset);
  w.field_i64(rf::total_compressed_size, rg.total_compressed_size);
  if (count_ <= 32767) w.field_i16(rf::ordinal, static_cast<std::int16_t>(count_));  // ordinal is an i16
  w.end_struct();
  bytes_.insert(bytes_.end(), one_.begin(), one_.end());
  ++count_;
  num_rows_ += rg.num_rows;
}

void serialize_file_metadata(byte_vector& out, const schema& s, const serialized_row_groups& row_groups,
                             std::span<const key_value> key_values, std::string_view created_by) {
  namespace id = f::file_meta_data_field;
  compact_writer w(out);
  w.begin_struct();
  // Version 1: the spec's current advice for the widest reader support; RLE_DICTIONARY pages
  // are read by every reader regardless.
  w.field_i32(id::version, 1);

  w.field_list(id::schema, thrift::type::struct_, s.columns.size() + 1);
  w.begin_struct();  // the root: a group with no type and no repetition
  w.field_string(f::schema_element_field::name, s.name);
  w.field_i32(f::schema_element_field::num_children, static_cast<std::int32_t>(s.columns.size()));
  w.end_struct();
  for (const column_spec& c : s.columns) write_schema_leaf(w, c);

  w.field_i64(id::num_rows, row_groups.num_rows());

  // A list of structs is its header and then each struct, complete: the bytes serialized as
  // the row groups were flushed follow the header as they are.
  w.field_list(id::row_groups, thrift::type::struct_, row_groups.count());
  row_groups.append_to(out);

  if (!key_values.empty()) {
    w.field_list(id::key_value_metadata, thrift::type::struct_, key_values.size());
    for (const key_value& kv : key_values) {
      w.begin_struct();
      w.field_string(f::key_value_field::key, kv.key);
      w.field_string(f::key_value_field::value, kv.value);
      w.end_struct();
    }
  }
  w.field_string(id::created_by, created_by);

  // TypeDefinedOrder for every leaf: signed for the INT64 family and BOOLEAN, unsigned
  // byte-wise for strings, which is how the statistics were computed.
  w.field_list(id::column_orders, thrift::type::struct_, s.columns.size());
  for (std::size_t c = 0; c < s.columns.size(); ++c) {
    w.begin_struct();
    write_empty_struct_field(w, f::column_order_field::type_order);
    w.end_struct();
  }
  w.end_struct();
}

}  // namespace pw_parquet
