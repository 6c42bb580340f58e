// The writer's machinery: validating a row into cells, buffering them per column, and at flush
// time encoding each column chunk as [dictionary page] data page... with statistics, recording
// the offsets the footer needs. Offsets are file positions: `pos` counts every byte the writer
// has handed out, so they do not depend on what the caller does with the vector in between.
#include "pw_parquet/file_writer.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "pw_parquet/column_buffer.hpp"
#include "pw_parquet/plain_encoding.hpp"
#include "pw_parquet/rle_hybrid.hpp"
#include "pw_parquet/utf8.hpp"

#ifndef PW_PARQUET_BUILD_ID
#define PW_PARQUET_BUILD_ID "unknown"
#endif

namespace pw_parquet {
namespace {

using polarway::err;
using polarway::error;
using polarway::ok;

constexpr std::string_view magic = "PAR1";
// Rows per data page at most, whatever their size: keeps num_values well inside an i32 and
// pages small enough for readers that decode a page at a time.
constexpr std::size_t max_page_rows = std::size_t{1} << 20;

// A value checked against its column and converted to the column's physical form.
struct cell {
  bool null = true;
  std::int64_t i = 0;  // int64 / timestamp count / decimal unscaled / bool as 0 or 1
  std::string_view s;
};

polarway::result<cell> prepare(const column_spec& c, const value& v) {
  constexpr const char* where = "pw_parquet::file_writer::append_row";
  if (v.is_null()) {
    if (!c.is_optional()) return err(error(errc::null_in_required, where));
    return ok(cell{});
  }
  cell out;
  out.null = false;
  switch (c.type) {
    case column_type::boolean:
      if (v.kind() != value_kind::boolean) break;
      out.i = v.as_bool() ? 1 : 0;
      return ok(out);
    case column_type::int64:
      if (v.kind() != value_kind::int64) break;
      out.i = v.as_int64();
      return ok(out);
    case column_type::timestamp: {
      if (v.kind() != value_kind::timestamp) break;
      auto t = convert_time(v.as_int64(), v.unit(), c.unit);
      if (!t) return err(error(t.error().code(), where));
      out.i = *t;
      return ok(out);
    }
    case column_type::decimal: {
      if (v.kind() != value_kind::decimal) break;
      auto d = rescale_decimal(v.as_int64(), v.scale(), c.scale);
      if (!d) return err(error(d.error().code(), where));
      if (!fits_precision(*d, c.precision)) return err(error(errc::decimal_out_of_range, where));
      out.i = *d;
      return ok(out);
    }
    case column_type::string:
      if (v.kind() != value_kind::string) break;
      out.s = v.as_string();
      if (out.s.size() > static_cast<std::size_t>(INT32_MAX)) return err(error(errc::value_too_large, where));
      if (!is_valid_utf8(out.s)) return err(error(errc::invalid_utf8, where));
      return ok(out);
  }
  return err(error(errc::type_mismatch, where));
}

// Unsigned byte-wise order, the sort order of BYTE_ARRAY / STRING statistics.
bool bytes_less(std::string_view a, std::string_view b) noexcept {
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  return c < 0 || (c == 0 && a.size() < b.size());
}

void set_bounds(chunk_statistics& s, std::string_view lo, std::string_view hi, std::size_t max_bytes) {
  if (lo.size() > max_bytes || hi.size() > max_bytes) return;  // too long to be worth keeping
  s.has_min_max = true;
  s.min_value.clear();
  append_bytes(s.min_value, lo);
  s.max_value.clear();
  append_bytes(s.max_value, hi);
}

void set_bounds(chunk_statistics& s, std::int64_t lo, std::int64_t hi) {
  s.has_min_max = true;
  s.min_value.clear();
  append_le(s.min_value, lo);
  s.max_value.clear();
  append_le(s.max_value, hi);
}

}  // namespace

std::string default_created_by() {
  return "polarway parquet writer version 0.1.0 (build " PW_PARQUET_BUILD_ID ")";
}

polarway::result<std::shared_ptr<encode_scratch>> encode_scratch::create(compression codec, int zstd_level) {
  auto comp = compressor::create(codec, zstd_level);
  if (!comp) return err(comp.error());
  return ok(std::make_shared<encode_scratch>(std::move(*comp)));
}

struct file_writer::impl {
  impl(pw_parquet::schema s, writer_options o, std::shared_ptr<encode_scratch> sc)
      : schema(std::move(s)), options(std::move(o)), scratch(std::move(sc)) {
    columns.reserve(schema.columns.size());
    for (const column_spec& spec : schema.columns) columns.emplace_back(spec);
    cells.resize(schema.columns.size());
  }

  pw_parquet::schema schema;
  writer_options options;
  std::vector<column_buffer> columns;
  serialized_row_groups row_groups;  // what the footer lists, serialized as each was flushed
  std::uint64_t pos = 0;           // bytes handed out so far
  std::uint64_t rows_written = 0;  // rows in flushed row groups
  bool finished = false;
  polarway::option<error_location> last_error;

  // Scratch reused across rows, pages and row groups; the encoding buffers may be shared with
  // other writers (writer_options::scratch), and go by their own names below.
  std::vector<cell> cells;
  std::shared_ptr<encode_scratch> scratch;
  compressor& comp = scratch->comp;
  byte_vector& page = scratch->page;
  byte_vector& levels = scratch->levels;
  byte_vector& header = scratch->header;
  std::vector<std::uint32_t>& dict_indices = scratch->dict_indices;
  std::vector<std::string_view>& dict_entries = scratch->dict_entries;
  std::unordered_map<std::string_view, std::uint32_t>& dict_map = scratch->dict_map;

  std::size_t buffered_rows() const noexcept { return columns.empty() ? 0 : columns.front().num_rows(); }
  std::size_t buffered_bytes() const noexcept {
    std::size_t total = 0;
    for (const column_buffer& c : columns) total += c.estimated_bytes();
    return total;
  }

  // Builds the dictionary of a string column; false if it outgrows the limits (or is empty),
  // in which case the chunk is written PLAIN.
  bool build_dictionary(const column_buffer& buf) {
    dict_map.clear();
    dict_entries.clear();
    dict_indices.clear();
    std::size_t dict_bytes = 0;
    const std::size_t n = buf.num_values();
    dict_indices.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::string_view s = buf.string_at(i);
      auto [it, inserted] = dict_map.try_emplace(s, static_cast<std::uint32_t>(dict_entries.size()));
      if (inserted) {
        dict_entries.push_back(s);
        dict_bytes += 4 + s.size();
        if (dict_entries.size() > options.max_dictionary_entries || dict_bytes > options.max_dictionary_bytes)
          return false;
      }
      dict_indices.push_back(it->second);
    }
    return !dict_entries.empty();
  }

  chunk_statistics statistics(const column_buffer& buf, bool dictionary) const {
    chunk_statistics s;
    s.null_count = static_cast<std::int64_t>(buf.null_count());
    if (buf.num_values() == 0) return s;
    switch (buf.type()) {
      case column_type::boolean: {
        const auto b = buf.bools();
        const auto [lo, hi] = std::minmax_element(b.begin(), b.end());
        s.has_min_max = true;
        s.min_value.assign(1, static_cast<std::byte>(*lo));
        s.max_value.assign(1, static_cast<std::byte>(*hi));
        break;
      }
      case column_type::string: {
        std::string_view lo, hi;
        auto visit = [&](std::string_view v, bool first) {
          if (first || bytes_less(v, lo)) lo = v;
          if (first || bytes_less(hi, v)) hi = v;
        };
        if (dictionary) {
          for (std::size_t i = 0; i < dict_entries.size(); ++i) visit(dict_entries[i], i == 0);
        } else {
          for (std::size_t i = 0; i < buf.num_values(); ++i) visit(buf.string_at(i), i == 0);
        }
        set_bounds(s, lo, hi, options.max_statistics_bytes);
        break;
      }
      default: {
        const auto v = buf.ints();
        const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
        set_bounds(s, *lo, *hi);
        break;
      }
    }
    return s;
  }

  // Compresses `page`, appends its header and body, and adds both to the chunk's sizes.
  polarway::result<void> emit_page(byte_vector& out, column_chunk_meta& m, bool dictionary_page,
                                   std::int32_t num_values, format::encoding enc) {
    constexpr const char* where = "pw_parquet::file_writer: page larger than 2 GiB";
    if (page.size() > static_cast<std::size_t>(INT32_MAX)) return err(error(errc::value_too_large, where));
    auto body = comp.compress(page);
    if (!body) return err(body.error());
    if (body->size() > static_cast<std::size_t>(INT32_MAX)) return err(error(errc::value_too_large, where));
    header.clear();
    const auto usize = static_cast<std::int32_t>(page.size());
    const auto csize = static_cast<std::int32_t>(body->size());
    if (dictionary_page)
      serialize_dictionary_page_header(header, usize, csize, num_values);
    else
      serialize_data_page_header(header, usize, csize, num_values, enc);
    append_bytes(out, header);
    append_bytes(out, *body);
    m.total_uncompressed_size += static_cast<std::int64_t>(header.size() + page.size());
    m.total_compressed_size += static_cast<std::int64_t>(header.size() + body->size());
    return ok();
  }

  polarway::result<column_chunk_meta> encode_chunk(std::size_t index, byte_vector& out, std::size_t out_start) {
    const column_spec& spec = schema.columns[index];
    const column_buffer& buf = columns[index];
    auto file_pos = [&] { return static_cast<std::int64_t>(pos + (out.size() - out_start)); };
    const std::size_t rows = buf.num_rows();

    const bool dictionary = spec.encoding == column_encoding::dictionary && build_dictionary(buf);
    column_chunk_meta m;
    m.num_values = static_cast<std::int64_t>(rows);
    m.statistics = statistics(buf, dictionary);

    int index_width = 0;
    if (dictionary) {
      page.clear();
      for (const std::string_view e : dict_entries) plain::encode_byte_array(page, e);
      m.dictionary_page_offset = file_pos();
      if (auto r = emit_page(out, m, true, static_cast<std::int32_t>(dict_entries.size()), format::encoding::plain); !r)
        return err(r.error());
      m.encoding_stats.push_back({format::page_type::dictionary_page, format::encoding::plain, 1});
      // Width 0 is legal for a one-entry dictionary, but 1 is read by everyone.
      index_width = std::max(1, bit_width_for(dict_entries.size() - 1));
    }

    const format::encoding data_encoding = dictionary ? format::encoding::rle_dictionary : format::encoding::plain;
    const auto defs = buf.def_levels();
    const std::size_t target_bits = std::max<std::size_t>(options.data_page_bytes, 1) * 8;
    m.data_page_offset = file_pos();
    std::int32_t pages = 0;
    std::size_t row = 0, val = 0;
    while (row < rows) {
      // Choose the page's rows: stop once the estimated encoded size reaches the target.
      const std::size_t row_begin = row, val_begin = val;
      std::size_t bits = 0;
      while (row < rows && bits < target_bits && row - row_begin < max_page_rows) {
        const bool present = defs.empty() || defs[row] != 0;
        ++row;
        if (!present) continue;
        switch (buf.type()) {
          case column_type::boolean: bits += 1; break;
          case column_type::string:
            bits += dictionary ? static_cast<std::size_t>(index_width) : (4 + buf.string_at(val).size()) * 8;
            break;
          default: bits += 64; break;
        }
        ++val;
      }

      page.clear();
      if (!defs.empty()) {
        // Data page v1: definition levels are RLE-hybrid at width 1, behind a 4-byte length.
        levels.clear();
        rle_hybrid_encode(levels, defs.subspan(row_begin, row - row_begin), 1);
        append_le(page, static_cast<std::uint32_t>(levels.size()));
        append_bytes(page, levels);
      }
      const std::size_t count = val - val_begin;
      if (dictionary) {
        page.push_back(static_cast<std::byte>(index_width));
        rle_hybrid_encode(page, std::span<const std::uint32_t>(dict_indices).subspan(val_begin, count), index_width);
      } else {
        switch (buf.type()) {
          case column_type::boolean: plain::encode_boolean(page, buf.bools().subspan(val_begin, count)); break;
          case column_type::string:
            for (std::size_t i = val_begin; i < val; ++i) plain::encode_byte_array(page, buf.string_at(i));
            break;
          default: plain::encode_int64(page, buf.ints().subspan(val_begin, count)); break;
        }
      }
      if (auto r = emit_page(out, m, false, static_cast<std::int32_t>(row - row_begin), data_encoding); !r)
        return err(r.error());
      ++pages;
    }
    m.encoding_stats.push_back({format::page_type::data_page, data_encoding, pages});

    m.encodings.push_back(format::encoding::plain);  // values or dictionary entries
    if (dictionary || spec.is_optional()) m.encodings.push_back(format::encoding::rle);
    if (dictionary) m.encodings.push_back(format::encoding::rle_dictionary);
    return ok(std::move(m));
  }

  polarway::result<void> flush(byte_vector& out) {
    if (finished) return err(error(errc::writer_finished, "pw_parquet::file_writer::flush_row_group"));
    const std::size_t rows = buffered_rows();
    if (rows == 0) return ok();
    const std::size_t out_start = out.size();
    if (pos == 0) append_bytes(out, magic);
    row_group_meta rg;
    rg.num_rows = static_cast<std::int64_t>(rows);
    rg.file_offset = static_cast<std::int64_t>(pos + (out.size() - out_start));
    rg.columns.reserve(columns.size());
    for (std::size_t c = 0; c < columns.size(); ++c) {
      auto chunk = encode_chunk(c, out, out_start);
      if (!chunk) {
        out.resize(out_start);  // hand out nothing from a failed row group
        return err(chunk.error());
      }
      rg.total_byte_size += chunk->total_uncompressed_size;
      rg.total_compressed_size += chunk->total_compressed_size;
      rg.columns.push_back(std::move(*chunk));
    }
    pos += out.size() - out_start;
    rows_written += rows;
    row_groups.append(schema, rg, codec_of(options.codec));
    for (column_buffer& c : columns) c.clear();
    return ok();
  }
};

polarway::result<file_writer> file_writer::create(pw_parquet::schema s, writer_options options) {
  if (auto v = s.validate(); !v) return err(v.error());
  if (options.max_rows_per_row_group == 0 || options.max_row_group_bytes == 0 || options.data_page_bytes == 0)
    return err(error(errc::invalid_options, "pw_parquet::file_writer::create: limits must be positive"));
  std::shared_ptr<encode_scratch> scratch = options.scratch;
  if (scratch) {
    if (scratch->comp.kind() != options.codec ||
        (options.codec == compression::zstd && scratch->comp.zstd_level() != options.zstd_level))
      return err(error(errc::invalid_options, "pw_parquet::file_writer::create: scratch made for another codec"));
  } else {
    auto own = encode_scratch::create(options.codec, options.zstd_level);
    if (!own) return err(own.error());
    scratch = std::move(*own);
  }
  return ok(file_writer(std::make_unique<impl>(std::move(s), std::move(options), std::move(scratch))));
}

file_writer::file_writer(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
file_writer::file_writer(file_writer&&) noexcept = default;
file_writer& file_writer::operator=(file_writer&&) noexcept = default;
file_writer::~file_writer() = default;

polarway::result<void> file_writer::append_row(std::span<const value> row, byte_vector& out) {
  impl& w = *impl_;
  constexpr const char* where = "pw_parquet::file_writer::append_row";
  if (w.finished) return err(error(errc::writer_finished, where));
  const std::uint64_t row_number = w.rows_written + w.buffered_rows();
  if (row.size() != w.columns.size()) {
    w.last_error = error_location{row_number, std::min(row.size(), w.columns.size())};
    return err(error(errc::wrong_arity, where));
  }
  // Check every value before buffering any, so that a bad row leaves no partial trace.
  for (std::size_t c = 0; c < row.size(); ++c) {
    auto prepared = prepare(w.schema.columns[c], row[c]);
    if (!prepared) {
      w.last_error = error_location{row_number, c};
      return err(prepared.error());
    }
    w.cells[c] = *prepared;
  }
  for (std::size_t c = 0; c < row.size(); ++c) {
    const cell& v = w.cells[c];
    column_buffer& buf = w.columns[c];
    if (v.null) buf.push_null();
    else if (buf.type() == column_type::string) buf.push_string(v.s);
    else if (buf.type() == column_type::boolean) buf.push_bool(v.i != 0);
    else buf.push_int64(v.i);
  }
  if (w.buffered_rows() >= w.options.max_rows_per_row_group || w.buffered_bytes() >= w.options.max_row_group_bytes)
    return w.flush(out);
  return ok();
}

polarway::result<void> file_writer::flush_row_group(byte_vector& out) { return impl_->flush(out); }

polarway::result<void> file_writer::finish(byte_vector& out) {
  impl& w = *impl_;
  if (w.finished) return err(error(errc::writer_finished, "pw_parquet::file_writer::finish"));
  if (auto r = w.flush(out); !r) return r;
  const std::size_t out_start = out.size();
  if (w.pos == 0) append_bytes(out, magic);  // a file with no rows is still a valid file
  byte_vector footer;
  serialize_file_metadata(footer, w.schema, w.row_groups, w.options.key_value_metadata, w.options.created_by);
  if (footer.size() > UINT32_MAX) {
    out.resize(out_start);
    return err(error(errc::value_too_large, "pw_parquet::file_writer::finish: footer larger than 4 GiB"));
  }
  append_bytes(out, footer);
  append_le(out, static_cast<std::uint32_t>(footer.size()));
  append_bytes(out, magic);
  w.pos += out.size() - out_start;
  w.finished = true;
  return ok();
}

void file_writer::set_key_value(std::string key, std::string value) {
  for (key_value& kv : impl_->options.key_value_metadata) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  }
  impl_->options.key_value_metadata.push_back({std::move(key), std::move(value)});
}

const pw_parquet::schema& file_writer::schema() const noexcept { return impl_->schema; }
std::uint64_t file_writer::bytes_written() const noexcept { return impl_->pos; }
std::uint64_t file_writer::rows_written() const noexcept { return impl_->rows_written; }
std::size_t file_writer::buffered_rows() const noexcept { return impl_->buffered_rows(); }
std::size_t file_writer::buffered_bytes() const noexcept { return impl_->buffered_bytes(); }
std::size_t file_writer::row_groups_written() const noexcept { return impl_->row_groups.count(); }
bool file_writer::finished() const noexcept { return impl_->finished; }
polarway::option<error_location> file_writer::last_error_location() const noexcept { return impl_->last_error; }

}  // namespace pw_parquet
