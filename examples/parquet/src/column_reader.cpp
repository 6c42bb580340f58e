// Column chunk decoding: a loop over the chunk's pages (header, body), each page's body
// inflated into the decompressor's buffer and decoded straight into the column's vectors. The
// dictionary, when there is one, is decoded into a column_values of the same storage and data
// pages copy from it by index. Budgets (values left, decoded bytes) are checked before a page is
// decoded, so a lying header fails before anything is allocated for it.
#include "pw_parquet/column_reader.hpp"

#include <bit>
#include <cstring>
#include <utility>

#include <polarway/error.hpp>

#include "pw_parquet/compression.hpp"
#include "pw_parquet/errc.hpp"
#include "pw_parquet/rle_hybrid.hpp"
#include "pw_parquet/thrift_compact_reader.hpp"

namespace pw_parquet {
namespace {

namespace f = format;
using polarway::err;
using polarway::error;
using thrift::field_header;

constexpr std::size_t page_header_max_depth = 8;

struct page_header {
  std::int32_t type = -1;
  std::int32_t uncompressed_size = -1;
  std::int32_t compressed_size = -1;
  bool has_kind_header = false;  // the sub-header its type calls for
  std::int32_t num_values = 0;
  std::int32_t encoding = 0;
  std::int32_t definition_level_encoding = static_cast<std::int32_t>(f::encoding::rle);
  std::int32_t definition_levels_byte_length = 0;  // v2
  std::int32_t repetition_levels_byte_length = 0;  // v2
  bool is_compressed = true;                       // v2
};

polarway::result<page_header> read_page_header(std::span<const std::byte> in, std::size_t& consumed) {
  namespace ph = f::page_header_field;
  thrift::latched_reader w(in, page_header_max_depth);
  page_header p;
  if (w.begin_struct()) {
    field_header h;
    while (w.next_field(h)) {
      if (h.id == ph::type) {
        p.type = w.i32(h);
      } else if (h.id == ph::uncompressed_page_size) {
        p.uncompressed_size = w.i32(h);
      } else if (h.id == ph::compressed_page_size) {
        p.compressed_size = w.i32(h);
      } else if (h.id == ph::data_page_header && w.struct_field(h)) {
        namespace dp = f::data_page_header_field;
        p.has_kind_header = p.type == static_cast<std::int32_t>(f::page_type::data_page);
        field_header d;
        while (w.next_field(d)) {
          if (d.id == dp::num_values) p.num_values = w.i32(d);
          else if (d.id == dp::encoding) p.encoding = w.i32(d);
          else if (d.id == dp::definition_level_encoding) p.definition_level_encoding = w.i32(d);
          else w.skip(d);
        }
      } else if (h.id == ph::dictionary_page_header && w.struct_field(h)) {
        namespace dp = f::dictionary_page_header_field;
        p.has_kind_header = p.type == static_cast<std::int32_t>(f::page_type::dictionary_page);
        field_header d;
        while (w.next_field(d)) {
          if (d.id == dp::num_values) p.num_values = w.i32(d);
          else if (d.id == dp::encoding) p.encoding = w.i32(d);
          else w.skip(d);
        }
      } else if (h.id == ph::data_page_header_v2 && w.struct_field(h)) {
        namespace dp = f::data_page_header_v2_field;
        p.has_kind_header = p.type == static_cast<std::int32_t>(f::page_type::data_page_v2);
        field_header d;
        while (w.next_field(d)) {
          if (d.id == dp::num_values) p.num_values = w.i32(d);
          else if (d.id == dp::encoding) p.encoding = w.i32(d);
          else if (d.id == dp::definition_levels_byte_length) p.definition_levels_byte_length = w.i32(d);
          else if (d.id == dp::repetition_levels_byte_length) p.repetition_levels_byte_length = w.i32(d);
          else if (d.id == dp::is_compressed) p.is_compressed = w.boolean(d);
          else w.skip(d);
        }
      } else {
        w.skip(h);
      }
    }
  }
  if (!w.ok()) return err(w.failure());
  if (p.type < 0 || p.uncompressed_size < 0 || p.compressed_size < 0)
    return err(error(errc::malformed_metadata, "page: header without a type or sizes"));
  if (p.num_values < 0 || p.definition_levels_byte_length < 0 || p.repetition_levels_byte_length < 0)
    return err(error(errc::malformed_metadata, "page: negative count in the header"));
  consumed = w.position();
  return p;
}

// A decimal stored as big-endian two's complement bytes, as an int64 (the descriptor's
// precision <= 18 promises it fits; longer encodings must be sign extension).
polarway::result<std::int64_t> decimal_from_be(std::span<const std::byte> b) {
  if (b.empty()) return std::int64_t{0};
  const bool negative = (static_cast<unsigned>(b[0]) & 0x80u) != 0;
  while (b.size() > 8) {
    if (static_cast<unsigned>(b[0]) != (negative ? 0xFFu : 0u) ||
        ((static_cast<unsigned>(b[1]) & 0x80u) != 0) != negative)
      return err(error(errc::corrupt_page, "page: decimal wider than 64 bits"));
    b = b.subspan(1);
  }
  std::uint64_t v = negative ? ~std::uint64_t{0} : 0;
  for (const std::byte x : b) v = (v << 8) | static_cast<std::uint64_t>(x);
  return static_cast<std::int64_t>(v);
}

std::uint64_t load_le(const std::byte* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t k = 0; k < n; ++k) v |= static_cast<std::uint64_t>(p[k]) << (8 * k);
  return v;
}

class chunk_decoder {
 public:
  chunk_decoder(const column_descriptor& column, const column_chunk_info& info, const column_read_limits& limits,
                column_values& out, column_values& dict, std::vector<std::uint32_t>& scratch, decompressor& inflater)
      : column_(column), info_(info), limits_(limits), values_left_(info.num_values), out_(out), dict_(dict),
        scratch_(scratch), decompressor_(inflater) {
    reset(out_, column);
    reset(dict_, column);
  }

  polarway::result<void> run(std::span<const std::byte> chunk) {
    if (column_.physical == f::physical_type::float_ || column_.physical == f::physical_type::int96)
      return err(error(errc::unsupported, "column: FLOAT and INT96 columns"));
    std::size_t pos = 0;
    bool seen_data = false;
    while (values_left_ > 0) {
      if (pos >= chunk.size()) return err(error(errc::truncated, "column: chunk ends before its value count"));
      std::size_t header_size = 0;
      auto h = read_page_header(chunk.subspan(pos), header_size);
      if (!h) return err(h.error());
      pos += header_size;
      if (static_cast<std::size_t>(h->compressed_size) > chunk.size() - pos)
        return err(error(errc::truncated, "page: compressed size runs past the chunk"));
      const auto body = chunk.subspan(pos, static_cast<std::size_t>(h->compressed_size));
      pos += body.size();
      if (static_cast<std::size_t>(h->uncompressed_size) > limits_.max_page_bytes)
        return err(error(errc::limit_exceeded, "page: uncompressed size above max_page_bytes"));
      polarway::result<void> r;
      switch (static_cast<f::page_type>(h->type)) {
        case f::page_type::index_page: continue;
        case f::page_type::dictionary_page:
          if (seen_data || has_dict_) return err(error(errc::malformed_metadata, "page: dictionary page after the first page"));
          r = dictionary_page(*h, body);
          break;
        case f::page_type::data_page:
          seen_data = true;
          r = data_page_v1(*h, body);
          break;
        case f::page_type::data_page_v2:
          seen_data = true;
          r = data_page_v2(*h, body);
          break;
        default: return err(error(errc::malformed_metadata, "page: unknown page type"));
      }
      if (!r) return err(r.error());
    }
    return {};
  }

 private:
  // Empties `v` for a chunk of `column`, keeping its vectors' capacity.
  static void reset(column_values& v, const column_descriptor& column) {
    v.descriptor = column;
    v.storage = storage_of(column);
    v.valid.clear();
    v.booleans.clear();
    v.int32s.clear();
    v.int64s.clear();
    v.doubles.clear();
    v.bytes.clear();
    v.offsets.assign(1, 0);
  }

  std::size_t value_width() const noexcept {
    switch (out_.storage) {
      case value_storage::boolean: return 1;
      case value_storage::int32: return 4;
      case value_storage::bytes: return 8;  // the offset; the bytes are counted as they come
      default: return 8;
    }
  }
  polarway::result<void> spend(std::uint64_t bytes) {
    if (bytes > limits_.max_column_bytes - spent_) return err(error(errc::limit_exceeded, "column: decoded values above max_column_bytes"));
    spent_ += bytes;
    return {};
  }

  polarway::result<void> dictionary_page(const page_header& h, std::span<const std::byte> body) {
    if (!h.has_kind_header) return err(error(errc::malformed_metadata, "page: dictionary page without its header"));
    if (h.encoding != static_cast<std::int32_t>(f::encoding::plain) &&
        h.encoding != static_cast<std::int32_t>(f::encoding::plain_dictionary))
      return err(error(errc::unsupported, "page: dictionary encoding other than PLAIN"));
    if (auto r = spend(static_cast<std::uint64_t>(h.num_values) * value_width()); !r) return r;
    auto data = inflate(body, static_cast<std::size_t>(h.uncompressed_size));
    if (!data) return err(data.error());
    if (auto r = decode_plain(*data, static_cast<std::size_t>(h.num_values), dict_); !r) return err(r.error());
    has_dict_ = true;
    dict_size_ = static_cast<std::size_t>(h.num_values);
    return {};
  }

  polarway::result<void> data_page_v1(const page_header& h, std::span<const std::byte> body) {
    if (!h.has_kind_header) return err(error(errc::malformed_metadata, "page: data page without its header"));
    if (auto r = start_page(h.num_values); !r) return r;
    auto data = inflate(body, static_cast<std::size_t>(h.uncompressed_size));
    if (!data) return err(data.error());
    std::span<const std::byte> rest = *data;
    const auto n = static_cast<std::size_t>(h.num_values);
    if (column_.rep == repetition::optional) {
      if (h.definition_level_encoding != static_cast<std::int32_t>(f::encoding::rle))
        return err(error(errc::unsupported, "page: definition levels not RLE"));
      if (rest.size() < 4) return err(error(errc::corrupt_page, "page: definition levels' length cut off"));
      const auto len = static_cast<std::size_t>(load_le(rest.data(), 4));
      if (len > rest.size() - 4) return err(error(errc::corrupt_page, "page: definition levels run past the page"));
      if (auto r = levels(rest.subspan(4, len), n); !r) return r;
      rest = rest.subspan(4 + len);
    } else {
      out_.valid.insert(out_.valid.end(), n, 1);
      present_ = n;
    }
    return values(rest, h.encoding);
  }

  polarway::result<void> data_page_v2(const page_header& h, std::span<const std::byte> body) {
    if (!h.has_kind_header) return err(error(errc::malformed_metadata, "page: data page v2 without its header"));
    if (h.repetition_levels_byte_length != 0) return err(error(errc::unsupported, "page: repetition levels in a flat column"));
    const auto def_len = static_cast<std::size_t>(h.definition_levels_byte_length);
    if (def_len > body.size() || def_len > static_cast<std::size_t>(h.uncompressed_size))
      return err(error(errc::corrupt_page, "page: definition levels longer than the page"));
    if (auto r = start_page(h.num_values); !r) return r;
    const auto n = static_cast<std::size_t>(h.num_values);
    if (column_.rep == repetition::optional) {
      if (auto r = levels(body.first(def_len), n); !r) return r;
    } else {
      out_.valid.insert(out_.valid.end(), n, 1);
      present_ = n;
    }
    const auto values_body = body.subspan(def_len);
    const std::size_t values_size = static_cast<std::size_t>(h.uncompressed_size) - def_len;
    if (!h.is_compressed) {
      if (values_body.size() != values_size) return err(error(errc::corrupt_page, "page: uncompressed page size differs from its data"));
      return values(values_body, h.encoding);
    }
    auto data = inflate(values_body, values_size);
    if (!data) return err(data.error());
    return values(*data, h.encoding);
  }

  // Checks a data page's value count against what the chunk has left and the byte budget.
  polarway::result<void> start_page(std::int32_t num_values) {
    if (num_values > values_left_) return err(error(errc::corrupt_page, "page: more values than the chunk has left"));
    values_left_ -= num_values;
    return spend(static_cast<std::uint64_t>(num_values) * (1 + value_width()));
  }

  polarway::result<std::span<const std::byte>> inflate(std::span<const std::byte> body, std::size_t size) {
    return decompressor_.decompress(info_.codec, body, size);
  }

  polarway::result<void> levels(std::span<const std::byte> in, std::size_t n) {
    scratch_.resize(n);
    rle_hybrid_decoder d(in, 1);
    if (auto r = d.decode(scratch_, 1); !r) return r;
    present_ = 0;
    for (const std::uint32_t l : scratch_) {
      out_.valid.push_back(static_cast<std::uint8_t>(l));
      present_ += l;
    }
    return {};
  }

  polarway::result<void> values(std::span<const std::byte> data, std::int32_t encoding) {
    switch (static_cast<f::encoding>(encoding)) {
      case f::encoding::plain: {
        auto r = decode_plain(data, present_, out_);
        if (!r) return err(r.error());
        return {};
      }
      case f::encoding::plain_dictionary:
      case f::encoding::rle_dictionary: {
        if (!has_dict_) return err(error(errc::corrupt_page, "page: dictionary-encoded page without a dictionary"));
        if (present_ == 0) return {};
        if (data.empty()) return err(error(errc::corrupt_page, "page: dictionary indices without a bit width"));
        if (dict_size_ == 0) return err(error(errc::corrupt_page, "page: index into an empty dictionary"));
        scratch_.resize(present_);
        rle_hybrid_decoder d(data.subspan(1), static_cast<int>(data[0]));
        if (auto r = d.decode(scratch_, static_cast<std::uint32_t>(dict_size_ - 1)); !r) return r;
        for (const std::uint32_t i : scratch_)
          if (auto r = copy_from_dictionary(i); !r) return r;
        return {};
      }
      case f::encoding::rle: {
        if (out_.storage != value_storage::boolean) return err(error(errc::unsupported, "page: RLE values outside BOOLEAN"));
        if (data.size() < 4) return err(error(errc::corrupt_page, "page: RLE booleans' length cut off"));
        const auto len = static_cast<std::size_t>(load_le(data.data(), 4));
        if (len > data.size() - 4) return err(error(errc::corrupt_page, "page: RLE booleans run past the page"));
        scratch_.resize(present_);
        rle_hybrid_decoder d(data.subspan(4, len), 1);
        if (auto r = d.decode(scratch_, 1); !r) return r;
        for (const std::uint32_t b : scratch_) out_.booleans.push_back(static_cast<std::uint8_t>(b));
        return {};
      }
      default: return err(error(errc::unsupported, "page: value encoding other than PLAIN, RLE or dictionary"));
    }
  }

  polarway::result<void> copy_from_dictionary(std::uint32_t i) {
    switch (out_.storage) {
      case value_storage::boolean: out_.booleans.push_back(dict_.booleans[i]); break;
      case value_storage::int32: out_.int32s.push_back(dict_.int32s[i]); break;
      case value_storage::int64: out_.int64s.push_back(dict_.int64s[i]); break;
      case value_storage::double_: out_.doubles.push_back(dict_.doubles[i]); break;
      case value_storage::bytes: return append_bytes_value(out_, dict_.bytes_at(i));
    }
    return {};
  }

  polarway::result<void> append_bytes_value(column_values& dst, std::span<const std::byte> v) {
    if (auto r = spend(v.size()); !r) return r;
    pw_parquet::append_bytes(dst.bytes, v);
    dst.offsets.push_back(dst.bytes.size());
    return {};
  }

  // n PLAIN values of the column's physical type from `data` into `dst`.
  polarway::result<void> decode_plain(std::span<const std::byte> data, std::size_t n, column_values& dst) {
    const auto need = [&](std::size_t per_value) { return per_value != 0 && n > data.size() / per_value; };
    switch (column_.physical) {
      case f::physical_type::boolean:
        if ((n + 7) / 8 > data.size()) return err(error(errc::corrupt_page, "page: PLAIN values run past the page"));
        for (std::size_t i = 0; i < n; ++i) dst.booleans.push_back((static_cast<unsigned>(data[i / 8]) >> (i % 8)) & 1u);
        return {};
      case f::physical_type::int32:
        if (need(4)) return err(error(errc::corrupt_page, "page: PLAIN values run past the page"));
        for (std::size_t i = 0; i < n; ++i) {
          const auto v = static_cast<std::int32_t>(static_cast<std::uint32_t>(load_le(data.data() + 4 * i, 4)));
          if (dst.storage == value_storage::int64) dst.int64s.push_back(v);
          else dst.int32s.push_back(v);
        }
        return {};
      case f::physical_type::int64:
        if (need(8)) return err(error(errc::corrupt_page, "page: PLAIN values run past the page"));
        for (std::size_t i = 0; i < n; ++i) dst.int64s.push_back(static_cast<std::int64_t>(load_le(data.data() + 8 * i, 8)));
        return {};
      case f::physical_type::double_:
        if (need(8)) return err(error(errc::corrupt_page, "page: PLAIN values run past the page"));
        for (std::size_t i = 0; i < n; ++i) dst.doubles.push_back(std::bit_cast<double>(load_le(data.data() + 8 * i, 8)));
        return {};
      case f::physical_type::byte_array:
      case f::physical_type::fixed_len_byte_array: {
        const bool fixed = column_.physical == f::physical_type::fixed_len_byte_array;
        std::size_t pos = 0;
        for (std::size_t i = 0; i < n; ++i) {
          std::size_t len = static_cast<std::size_t>(column_.type_length);
          if (!fixed) {
            if (data.size() - pos < 4) return err(error(errc::corrupt_page, "page: PLAIN byte array length cut off"));
            len = static_cast<std::size_t>(load_le(data.data() + pos, 4));
            pos += 4;
          }
          if (len > data.size() - pos) return err(error(errc::corrupt_page, "page: PLAIN byte array runs past the page"));
          const auto v = data.subspan(pos, len);
          pos += len;
          if (dst.storage == value_storage::int64) {
            auto d = decimal_from_be(v);
            if (!d) return err(d.error());
            dst.int64s.push_back(*d);
          } else if (auto r = append_bytes_value(dst, v); !r) {
            return r;
          }
        }
        return {};
      }
      default: return err(error(errc::unsupported, "column: FLOAT and INT96 columns"));
    }
  }

  const column_descriptor& column_;
  const column_chunk_info& info_;
  const column_read_limits& limits_;
  std::int64_t values_left_;
  std::uint64_t spent_ = 0;
  column_values& out_;
  column_values& dict_;
  bool has_dict_ = false;
  std::size_t dict_size_ = 0;
  std::size_t present_ = 0;  // non-null values in the current page
  std::vector<std::uint32_t>& scratch_;
  decompressor& decompressor_;
};

}  // namespace

value_storage storage_of(const column_descriptor& c) noexcept {
  if (c.logical == logical_kind::decimal && c.precision <= 18) return value_storage::int64;
  switch (c.physical) {
    case f::physical_type::boolean: return value_storage::boolean;
    case f::physical_type::int32: return value_storage::int32;
    case f::physical_type::double_: return value_storage::double_;
    case f::physical_type::byte_array:
    case f::physical_type::fixed_len_byte_array: return value_storage::bytes;
    default: return value_storage::int64;
  }
}

std::size_t column_values::value_count() const noexcept {
  switch (storage) {
    case value_storage::boolean: return booleans.size();
    case value_storage::int32: return int32s.size();
    case value_storage::int64: return int64s.size();
    case value_storage::double_: return doubles.size();
    case value_storage::bytes: return offsets.size() - 1;
  }
  return 0;
}

polarway::result<void> column_chunk_reader::read(std::span<const std::byte> chunk, const column_descriptor& column,
                                                 const column_chunk_info& info, column_values& out) {
  chunk_decoder d(column, info, limits_, out, dictionary_, indices_, decompressor_);
  return d.run(chunk);
}

polarway::result<column_values> read_column_chunk(std::span<const std::byte> chunk, const column_descriptor& column,
                                                  const column_chunk_info& info, const column_read_limits& limits) {
  column_chunk_reader reader(limits);
  column_values out;
  if (auto r = reader.read(chunk, column, info, out); !r) return err(r.error());
  return out;
}

polarway::result<std::vector<column_values>> read_row_group(std::span<const std::byte> file, const file_metadata& meta,
                                                            std::size_t row_group, std::span<const std::size_t> columns,
                                                            const column_read_limits& limits) {
  if (row_group >= meta.row_groups.size()) return err(error(errc::invalid_options, "read_row_group: no such row group"));
  const row_group_info& rg = meta.row_groups[row_group];
  std::vector<column_values> out;
  for (const std::size_t c : columns) {
    if (c >= meta.columns.size()) return err(error(errc::invalid_options, "read_row_group: no such column"));
    const column_chunk_info& info = rg.columns[c];
    const auto first = static_cast<std::uint64_t>(info.first_page_offset());
    const auto size = static_cast<std::uint64_t>(info.total_compressed_size);
    if (first > file.size() || size > file.size() - first)
      return err(error(errc::truncated, "read_row_group: column chunk outside the file"));
    auto v = read_column_chunk(file.subspan(first, size), meta.columns[c], info, limits);
    if (!v) return err(v.error());
    out.push_back(std::move(*v));
  }
  return out;
}

}  // namespace pw_parquet
