// Decoding and checking of FileMetaData. The Thrift walk (latched_reader) keeps the
// first error and returns neutral values after it, so each struct reader is a plain loop over its fields; every
// loop also stops at the first error, and the checks that need the whole footer (flat schema,
// one chunk per leaf, byte ranges, row counts) run once the walk has succeeded.
#include "pw_parquet/footer_reader.hpp"

#include <cstring>
#include <utility>

#include <polarway/error.hpp>

#include "pw_parquet/errc.hpp"
#include "pw_parquet/thrift_compact_reader.hpp"

namespace pw_parquet {
namespace {

namespace f = format;
using polarway::error;
using polarway::err;
using thrift::field_header;
using thrift::latched_reader;
using thrift::type;

constexpr std::size_t magic_size = 4;
constexpr std::size_t tail_size = 8;  // the FileMetaData length and the trailing magic

bool is_magic(std::span<const std::byte> four) { return four.size() == 4 && std::memcmp(four.data(), "PAR1", 4) == 0; }

// A SchemaElement as written, before the schema's shape is checked.
struct schema_element {
  std::string name;
  polarway::option<std::int32_t> physical;
  std::int32_t type_length = 0;
  polarway::option<std::int32_t> repetition_type;
  polarway::option<std::int32_t> num_children;
  polarway::option<std::int32_t> converted;
  std::int32_t scale = 0, precision = 0;  // the legacy fields
  bool has_logical = false;
  column_descriptor logical;              // logical, precision, scale, unit, adjusted_to_utc
};

void read_time_unit(latched_reader& w, column_descriptor& c) {
  field_header h;
  while (w.next_field(h)) {
    namespace id = f::time_unit_field;
    if (h.id == id::millis) c.unit = time_unit::millis;
    else if (h.id == id::micros) c.unit = time_unit::micros;
    else if (h.id == id::nanos) c.unit = time_unit::nanos;
    w.skip(h);  // each member is an empty struct
  }
}

void read_logical_type(latched_reader& w, column_descriptor& c) {
  field_header h;
  while (w.next_field(h)) {
    namespace lt = f::logical_type_field;
    if (h.id == lt::string) {
      c.logical = logical_kind::string;
      w.skip(h);
    } else if (h.id == lt::decimal && w.struct_field(h)) {
      c.logical = logical_kind::decimal;
      field_header d;
      while (w.next_field(d)) {
        if (d.id == f::decimal_type_field::scale) c.scale = w.i32(d);
        else if (d.id == f::decimal_type_field::precision) c.precision = w.i32(d);
        else w.skip(d);
      }
    } else if (h.id == lt::timestamp && w.struct_field(h)) {
      c.logical = logical_kind::timestamp;
      field_header t;
      while (w.next_field(t)) {
        if (t.id == f::timestamp_type_field::is_adjusted_to_utc) c.adjusted_to_utc = w.boolean(t);
        else if (t.id == f::timestamp_type_field::unit && w.struct_field(t)) read_time_unit(w, c);
        else w.skip(t);
      }
    } else {
      c.logical = logical_kind::other;
      w.skip(h);
    }
  }
}

schema_element read_schema_element(latched_reader& w) {
  namespace id = f::schema_element_field;
  schema_element e;
  if (!w.begin_struct()) return e;
  bool has_name = false;
  field_header h;
  while (w.next_field(h)) {
    switch (h.id) {
      case id::type: e.physical = w.i32(h); break;
      case id::type_length: e.type_length = w.i32(h); break;
      case id::repetition_type: e.repetition_type = w.i32(h); break;
      case id::name: e.name = w.string(h), has_name = true; break;
      case id::num_children: e.num_children = w.i32(h); break;
      case id::converted_type: e.converted = w.i32(h); break;
      case id::scale: e.scale = w.i32(h); break;
      case id::precision: e.precision = w.i32(h); break;
      case id::logical_type:
        if (w.struct_field(h)) {
          e.has_logical = true;
          read_logical_type(w, e.logical);
        }
        break;
      default: w.skip(h);
    }
  }
  if (w.ok() && !has_name) w.fail(errc::malformed_metadata, "footer: schema element without a name");
  return e;
}

void read_statistics(latched_reader& w, chunk_statistics_read& s) {
  namespace id = f::statistics_field;
  field_header h;
  while (w.next_field(h)) {
    if (h.id == id::null_count) {
      s.null_count = w.i64(h);
    } else if (h.id == id::min_value || h.id == id::max_value) {
      const auto b = w.binary(h);
      (h.id == id::min_value ? s.min_value : s.max_value) = byte_vector(b.begin(), b.end());
    } else {
      w.skip(h);
    }
  }
}

void read_column_meta(latched_reader& w, column_chunk_info& c) {
  namespace id = f::column_meta_data_field;
  unsigned seen = 0;
  field_header h;
  while (w.next_field(h)) {
    switch (h.id) {
      case id::type: c.physical = static_cast<f::physical_type>(w.i32(h)), seen |= 1u; break;
      case id::encodings:
        for (std::size_t n = w.list(h, type::i32), i = 0; i < n && w.ok(); ++i)
          c.encodings.push_back(static_cast<f::encoding>(w.i32_element()));
        seen |= 2u;
        break;
      case id::path_in_schema:
        for (std::size_t n = w.list(h, type::binary), i = 0; i < n && w.ok(); ++i)
          c.path.emplace_back(as_string_view(w.binary_element()));
        seen |= 4u;
        break;
      case id::codec: c.codec = static_cast<f::codec>(w.i32(h)), seen |= 8u; break;
      case id::num_values: c.num_values = w.i64(h), seen |= 16u; break;
      case id::total_uncompressed_size: c.total_uncompressed_size = w.i64(h), seen |= 32u; break;
      case id::total_compressed_size: c.total_compressed_size = w.i64(h), seen |= 64u; break;
      case id::data_page_offset: c.data_page_offset = w.i64(h), seen |= 128u; break;
      case id::dictionary_page_offset: {
        // Some writers put 0 here for "no dictionary"; 0 is the magic, never a page.
        const std::int64_t off = w.i64(h);
        if (off != 0) c.dictionary_page_offset = off;
        break;
      }
      case id::statistics:
        if (w.struct_field(h)) read_statistics(w, c.statistics);
        break;
      default: w.skip(h);
    }
  }
  if (w.ok() && seen != 255u) w.fail(errc::malformed_metadata, "footer: column metadata misses a required field");
}

column_chunk_info read_column_chunk(latched_reader& w) {
  namespace id = f::column_chunk_field;
  column_chunk_info c;
  if (!w.begin_struct()) return c;
  bool has_meta = false;
  field_header h;
  while (w.next_field(h)) {
    if (h.id == id::file_path) {
      if (!w.binary(h).empty()) w.fail(errc::unsupported, "footer: column chunk stored in another file");
    } else if (h.id == id::meta_data && w.struct_field(h)) {
      read_column_meta(w, c);
      has_meta = true;
    } else {
      w.skip(h);
    }
  }
  if (w.ok() && !has_meta) w.fail(errc::malformed_metadata, "footer: column chunk without metadata");
  return c;
}

row_group_info read_row_group(latched_reader& w) {
  namespace id = f::row_group_field;
  row_group_info rg;
  if (!w.begin_struct()) return rg;
  unsigned seen = 0;
  field_header h;
  while (w.next_field(h)) {
    switch (h.id) {
      case id::columns:
        for (std::size_t n = w.list(h, type::struct_), i = 0; i < n && w.ok(); ++i)
          rg.columns.push_back(read_column_chunk(w));
        seen |= 1u;
        break;
      case id::total_byte_size: rg.total_byte_size = w.i64(h), seen |= 2u; break;
      case id::num_rows: rg.num_rows = w.i64(h), seen |= 4u; break;
      default: w.skip(h);
    }
  }
  if (w.ok() && seen != 7u) w.fail(errc::malformed_metadata, "footer: row group misses a required field");
  return rg;
}

key_value read_key_value(latched_reader& w) {
  key_value kv;
  if (!w.begin_struct()) return kv;
  bool has_key = false;
  field_header h;
  while (w.next_field(h)) {
    if (h.id == f::key_value_field::key) kv.key = w.string(h), has_key = true;
    else if (h.id == f::key_value_field::value) kv.value = w.string(h);
    else w.skip(h);
  }
  if (w.ok() && !has_key) w.fail(errc::malformed_metadata, "footer: key-value pair without a key");
  return kv;
}

// The leaf a SchemaElement describes, its annotation taken from LogicalType when present, else
// from the legacy ConvertedType.
polarway::result<column_descriptor> to_leaf(const schema_element& e) {
  if (e.num_children && *e.num_children > 0) return err(error(errc::unsupported, "footer: nested schema (a group column)"));
  if (!e.physical) return err(error(errc::malformed_metadata, "footer: schema leaf without a physical type"));
  if (*e.physical < 0 || *e.physical > static_cast<std::int32_t>(f::physical_type::fixed_len_byte_array))
    return err(error(errc::malformed_metadata, "footer: unknown physical type"));
  if (!e.repetition_type) return err(error(errc::malformed_metadata, "footer: schema leaf without a repetition"));
  column_descriptor c = e.has_logical ? e.logical : column_descriptor{};
  c.name = e.name;
  c.physical = static_cast<f::physical_type>(*e.physical);
  c.type_length = e.type_length;
  switch (static_cast<f::field_repetition>(*e.repetition_type)) {
    case f::field_repetition::required: c.rep = repetition::required; break;
    case f::field_repetition::optional: c.rep = repetition::optional; break;
    case f::field_repetition::repeated: return err(error(errc::unsupported, "footer: repeated column"));
    default: return err(error(errc::malformed_metadata, "footer: unknown repetition type"));
  }
  if (c.physical == f::physical_type::fixed_len_byte_array && c.type_length <= 0)
    return err(error(errc::malformed_metadata, "footer: FIXED_LEN_BYTE_ARRAY without a positive type_length"));
  if (!e.has_logical && e.converted) {
    switch (static_cast<f::converted_type>(*e.converted)) {
      case f::converted_type::utf8: c.logical = logical_kind::string; break;
      case f::converted_type::decimal:
        c.logical = logical_kind::decimal;
        c.scale = e.scale;
        c.precision = e.precision;
        break;
      case f::converted_type::timestamp_millis:
      case f::converted_type::timestamp_micros:
        c.logical = logical_kind::timestamp;
        c.adjusted_to_utc = true;
        c.unit = static_cast<f::converted_type>(*e.converted) == f::converted_type::timestamp_millis ? time_unit::millis
                                                                                                   : time_unit::micros;
        break;
      default: c.logical = logical_kind::other;
    }
  }
  if (c.logical == logical_kind::decimal && (c.precision <= 0 || c.scale < 0 || c.scale > c.precision))
    return err(error(errc::malformed_metadata, "footer: decimal with an invalid precision or scale"));
  return c;
}

// Every chunk of every row group against the schema and the data region [4, data_end).
polarway::result<void> check_row_groups(const file_metadata& m, std::uint64_t data_end) {
  const auto end = static_cast<std::int64_t>(data_end);
  std::int64_t rows = 0;
  for (const row_group_info& rg : m.row_groups) {
    if (rg.num_rows < 0 || rg.total_byte_size < 0) return err(error(errc::malformed_metadata, "footer: negative row group size"));
    if (rg.num_rows > INT64_MAX - rows) return err(error(errc::malformed_metadata, "footer: row counts overflow"));
    rows += rg.num_rows;
    if (rg.columns.size() != m.columns.size())
      return err(error(errc::malformed_metadata, "footer: row group column count differs from the schema"));
    for (std::size_t i = 0; i < rg.columns.size(); ++i) {
      const column_chunk_info& c = rg.columns[i];
      const column_descriptor& leaf = m.columns[i];
      if (c.physical != leaf.physical) return err(error(errc::malformed_metadata, "footer: column chunk type differs from the schema"));
      if (c.path.size() != 1 || c.path[0] != leaf.name)
        return err(error(errc::malformed_metadata, "footer: column chunk path differs from the schema"));
      if (c.num_values != rg.num_rows) return err(error(errc::malformed_metadata, "footer: column chunk value count differs from the row count"));
      if (c.total_compressed_size < 0 || c.total_uncompressed_size < 0)
        return err(error(errc::malformed_metadata, "footer: negative column chunk size"));
      if (c.statistics.null_count && (*c.statistics.null_count < 0 || *c.statistics.null_count > c.num_values))
        return err(error(errc::malformed_metadata, "footer: null count outside 0..num_values"));
      const std::int64_t first = c.first_page_offset();
      if (first < static_cast<std::int64_t>(magic_size) || c.data_page_offset < first || c.data_page_offset >= end ||
          c.total_compressed_size > end - first)
        return err(error(errc::truncated, "footer: column chunk byte range outside the data region"));
    }
  }
  if (rows != m.num_rows) return err(error(errc::malformed_metadata, "footer: row groups' rows differ from the file's num_rows"));
  return {};
}

}  // namespace

polarway::result<std::uint32_t> footer_length(std::span<const std::byte> last8, std::uint64_t file_size,
                                              const footer_limits& limits) {
  if (last8.size() != tail_size || file_size < magic_size + tail_size)
    return err(error(errc::truncated, "footer: file shorter than the magics and the footer length"));
  if (!is_magic(last8.subspan(4))) return err(error(errc::not_parquet, "footer: no PAR1 magic at the end"));
  std::uint32_t len = 0;
  for (std::size_t k = 0; k < 4; ++k) len |= static_cast<std::uint32_t>(last8[k]) << (8 * k);
  if (len > file_size - magic_size - tail_size)
    return err(error(errc::truncated, "footer: footer length runs past the start of the file"));
  if (len > limits.max_metadata_bytes) return err(error(errc::limit_exceeded, "footer: footer longer than max_metadata_bytes"));
  return len;
}

polarway::result<file_metadata> decode_file_metadata(std::span<const std::byte> metadata, std::uint64_t data_end,
                                                     const footer_limits& limits) {
  namespace id = f::file_meta_data_field;
  latched_reader w(metadata, limits.max_depth);
  file_metadata m;
  std::vector<schema_element> elements;
  unsigned seen = 0;
  if (w.begin_struct()) {
    field_header h;
    while (w.next_field(h)) {
      switch (h.id) {
        case id::version: m.version = w.i32(h), seen |= 1u; break;
        case id::schema: {
          const std::size_t n = w.list(h, type::struct_);
          if (n > limits.max_columns + 1) w.fail(errc::limit_exceeded, "footer: more schema elements than max_columns");
          for (std::size_t i = 0; i < n && w.ok(); ++i) elements.push_back(read_schema_element(w));
          seen |= 2u;
          break;
        }
        case id::num_rows: m.num_rows = w.i64(h), seen |= 4u; break;
        case id::row_groups:
          for (std::size_t n = w.list(h, type::struct_), i = 0; i < n && w.ok(); ++i)
            m.row_groups.push_back(read_row_group(w));
          seen |= 8u;
          break;
        case id::key_value_metadata:
          for (std::size_t n = w.list(h, type::struct_), i = 0; i < n && w.ok(); ++i)
            m.key_value_metadata.push_back(read_key_value(w));
          break;
        case id::created_by: m.created_by = w.string(h); break;
        default: w.skip(h);
      }
    }
  }
  if (!w.ok()) return err(w.failure());
  if (seen != 15u) return err(error(errc::malformed_metadata, "footer: FileMetaData misses a required field"));
  if (m.num_rows < 0) return err(error(errc::malformed_metadata, "footer: negative num_rows"));

  if (elements.empty()) return err(error(errc::malformed_metadata, "footer: empty schema"));
  const schema_element& root = elements.front();
  m.schema_name = root.name;
  const std::size_t leaves = elements.size() - 1;
  if (!root.num_children || *root.num_children < 0) return err(error(errc::malformed_metadata, "footer: schema root is not a group"));
  if (static_cast<std::size_t>(*root.num_children) < leaves) return err(error(errc::unsupported, "footer: nested schema (more elements than root children)"));
  if (static_cast<std::size_t>(*root.num_children) > leaves) return err(error(errc::malformed_metadata, "footer: schema root has more children than elements"));
  for (std::size_t i = 1; i < elements.size(); ++i) {
    auto leaf = to_leaf(elements[i]);
    if (!leaf) return err(leaf.error());
    m.columns.push_back(std::move(*leaf));
  }
  if (auto r = check_row_groups(m, data_end); !r) return err(r.error());
  return m;
}

polarway::result<file_metadata> read_footer(std::span<const std::byte> file, const footer_limits& limits) {
  if (file.size() < magic_size + tail_size)
    return err(error(errc::truncated, "footer: file shorter than the magics and the footer length"));
  if (!is_magic(file.first(magic_size))) return err(error(errc::not_parquet, "footer: no PAR1 magic at the start"));
  auto len = footer_length(file.last(tail_size), file.size(), limits);
  if (!len) return err(len.error());
  const std::size_t data_end = file.size() - tail_size - *len;
  return decode_file_metadata(file.subspan(data_end, *len), data_end, limits);
}

}  // namespace pw_parquet
