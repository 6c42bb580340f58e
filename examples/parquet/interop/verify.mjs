// Reads every file listed in <dir>/expected.json with two independent Parquet readers, DuckDB
// (@duckdb/node-api) and arrow-rs (parquet-wasm, inspected through apache-arrow), and checks
// that each sees what the C++ writer says it wrote: schema types, row and row group counts,
// per-column null counts, exact sums, min/max, distinct strings and byte totals, true counts,
// a sample of full rows, the footer statistics, codec, encodings, created_by and key-value
// metadata. Exits 1 on any mismatch, listing every one of them.
//
// Usage: node verify.mjs <dir>   (run from a directory whose node_modules has the packages)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { readParquet } from 'parquet-wasm';
import { tableFromIPC } from 'apache-arrow';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node verify.mjs <dir>');
  process.exit(2);
}
const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8'));

let checks = 0;
const failures = [];
function eq(actual, want, what) {
  checks++;
  if (String(actual) !== String(want)) failures.push(`${what}: got ${actual}, want ${want}`);
}

// ---- value helpers ---------------------------------------------------------------------
const utf8Less = (a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')) < 0;
const utf8Bytes = (s) => Buffer.byteLength(s, 'utf8');

// DuckDB prints decimals as text ("-9999999.99"); the expectation is the unscaled integer.
function decimalText(text, scale) {
  const negative = text.startsWith('-');
  const [whole, frac = ''] = text.replace(/^[-+]/, '').split('.');
  const digits = whole + frac.padEnd(scale, '0');
  if (frac.length > scale) throw new Error(`decimal ${text} has more than ${scale} digits`);
  const v = BigInt(digits);
  return negative ? -v : v;
}

// A column's values as raw comparable values: BigInt for integers, timestamps (in the column
// unit) and decimals (unscaled); strings; booleans; null.
function normalizeExpected(col, v) {
  if (v === null) return null;
  if (col.type === 'string' || col.type === 'boolean') return v;
  return BigInt(v);
}

// The summary verify compares: {nulls, count, sum, min, max, distinct, bytes, true_count}.
function summarize(col, values) {
  const s = { nulls: 0, count: 0, sum: 0n, min: null, max: null, distinct: 0, bytes: 0, true_count: 0 };
  const seen = new Set();
  for (const v of values) {
    if (v === null) {
      s.nulls++;
      continue;
    }
    s.count++;
    if (col.type === 'string') {
      seen.add(v);
      s.bytes += utf8Bytes(v);
      if (s.min === null || utf8Less(v, s.min)) s.min = v;
      if (s.max === null || utf8Less(s.max, v)) s.max = v;
    } else if (col.type === 'boolean') {
      if (v) s.true_count++;
    } else {
      s.sum += v;
      if (s.min === null || v < s.min) s.min = v;
      if (s.max === null || v > s.max) s.max = v;
    }
  }
  s.distinct = seen.size;
  return s;
}

function compareSummary(reader, file, col, got) {
  const what = (k) => `${file.file} ${reader} ${col.name}.${k}`;
  eq(got.nulls, col.nulls, what('nulls'));
  eq(got.count, col.count, what('count'));
  if (col.type === 'string') {
    eq(got.bytes, col.bytes, what('bytes'));
    eq(got.distinct, col.distinct, what('distinct'));
    if (col.count) {
      eq(JSON.stringify(got.min), JSON.stringify(col.min), what('min'));
      eq(JSON.stringify(got.max), JSON.stringify(col.max), what('max'));
    }
  } else if (col.type === 'boolean') {
    eq(got.true_count, col.true_count, what('true_count'));
  } else {
    eq(got.sum, col.sum, what('sum'));
    if (col.count) {
      eq(got.min, col.min, what('min'));
      eq(got.max, col.max, what('max'));
    }
  }
}

function compareSamples(reader, file, rows, adjust = (col, want) => want) {
  // rows: Map row number -> array of raw values
  for (const sample of file.samples) {
    const got = rows.get(sample.row);
    if (!got) {
      eq('missing', 'present', `${file.file} ${reader} sample row ${sample.row}`);
      continue;
    }
    file.columns.forEach((col, c) => {
      const want = adjust(col, normalizeExpected(col, sample.values[c]));
      eq(JSON.stringify(got[c], (_, v) => (typeof v === 'bigint' ? v.toString() : v)),
         JSON.stringify(want, (_, v) => (typeof v === 'bigint' ? v.toString() : v)),
         `${file.file} ${reader} row ${sample.row} ${col.name}`);
    });
  }
}

// ---- DuckDB ------------------------------------------------------------------------------
const duck = await (await DuckDBInstance.create(':memory:')).connect();
await duck.run("SET TimeZone = 'UTC'");
const sql = async (text) => (await duck.runAndReadAll(text)).getRowsJson();
const ident = (name) => `"${name.replaceAll('"', '""')}"`;
const literal = (text) => `'${text.replaceAll("'", "''")}'`;

// DuckDB reads a UTC-adjusted TIMESTAMP(NANOS) as TIMESTAMP WITH TIME ZONE, whose resolution is
// a microsecond: it truncates the nanoseconds. So for DuckDB a nanosecond column is compared at
// microsecond precision (the writer's summary carries that sum); parquet-wasm checks every digit.
const epochFn = { millis: 'epoch_ms', micros: 'epoch_us', nanos: 'epoch_us' };
const floorDiv = (a, b) => a / b - (a % b !== 0n && a < 0n ? 1n : 0n);
// The expectation as DuckDB can see it.
function duckExpected(col) {
  if (!(col.type === 'timestamp' && col.unit === 'nanos')) return col;
  const micros = (v) => (v === undefined ? v : floorDiv(BigInt(v), 1000n).toString());
  return { ...col, sum: col.sum_micros, min: micros(col.min), max: micros(col.max) };
}
function duckSample(col, want) {
  return col.type === 'timestamp' && col.unit === 'nanos' && want !== null ? floorDiv(want, 1000n) : want;
}
function duckType(col) {
  switch (col.type) {
    case 'int64': return 'BIGINT';
    case 'timestamp': return 'TIMESTAMP WITH TIME ZONE';
    case 'decimal': return `DECIMAL(${col.precision},${col.scale})`;
    case 'string': return 'VARCHAR';
    case 'boolean': return 'BOOLEAN';
  }
  return '?';
}
// An expression that yields the column's raw value as text (or a string / boolean).
function duckRaw(col) {
  const c = ident(col.name);
  switch (col.type) {
    case 'timestamp': return `${epochFn[col.unit]}(${c})::VARCHAR`;
    case 'int64':
    case 'decimal': return `${c}::VARCHAR`;
    default: return c;
  }
}
function duckValue(col, v) {
  if (v === null) return null;
  if (col.type === 'decimal') return decimalText(v, col.scale);
  if (col.type === 'int64' || col.type === 'timestamp') return BigInt(v);
  return v;
}

async function checkDuckDB(file) {
  const f = literal(path.join(dir, file.file));
  const src = `read_parquet(${f})`;
  const what = (k) => `${file.file} duckdb ${k}`;

  const described = await sql(`DESCRIBE SELECT * FROM ${src}`);
  eq(described.map((r) => r[0]).join(','), file.columns.map((c) => c.name).join(','), what('column names'));
  file.columns.forEach((col, i) => eq(described[i]?.[1], duckType(col), what(`${col.name} type`)));

  const [[count]] = await sql(`SELECT count(*) FROM ${src}`);
  eq(count, file.rows, what('rows'));

  // Aggregates computed by DuckDB itself (exact: HUGEINT sums, DECIMAL(38, s) sums).
  const aggs = [];
  for (const col of file.columns) {
    const c = ident(col.name);
    aggs.push(`count(*) - count(${c})`, `count(${c})`);
    if (col.type === 'string')
      aggs.push(`min(${c})`, `max(${c})`, `count(DISTINCT ${c})`, `coalesce(sum(strlen(${c})), 0)`);
    else if (col.type === 'boolean') aggs.push(`coalesce(count_if(${c}), 0)`);
    else {
      const raw = col.type === 'timestamp' ? `${epochFn[col.unit]}(${c})` : c;
      aggs.push(`coalesce(sum(${raw}), 0)::VARCHAR`, `min(${raw})::VARCHAR`, `max(${raw})::VARCHAR`);
    }
  }
  const [agg] = await sql(`SELECT ${aggs.join(', ')} FROM ${src}`);
  let k = 0;
  for (const col of file.columns) {
    const s = { nulls: agg[k++], count: agg[k++] };
    if (col.type === 'string') Object.assign(s, { min: agg[k++], max: agg[k++], distinct: agg[k++], bytes: agg[k++] });
    else if (col.type === 'boolean') s.true_count = agg[k++];
    else {
      const conv = (v) => (v === null ? null : col.type === 'decimal' ? decimalText(v, col.scale) : BigInt(v));
      Object.assign(s, { sum: conv(agg[k++]), min: conv(agg[k++]), max: conv(agg[k++]) });
    }
    compareSummary('duckdb', file, duckExpected(col), s);
  }

  // Full rows, located by their position in the file.
  if (file.samples.length) {
    const list = file.samples.map((s) => s.row).join(',');
    const rows = await sql(
      `SELECT file_row_number, ${file.columns.map(duckRaw).join(', ')} FROM read_parquet(${f}, file_row_number = true)
       WHERE file_row_number IN (${list}) ORDER BY file_row_number`);
    const byRow = new Map(rows.map((r) => [Number(r[0]), file.columns.map((col, c) => duckValue(col, r[c + 1]))]));
    compareSamples('duckdb', file, byRow, duckSample);
  }

  // The footer as DuckDB decodes it.
  const [[createdBy, numRows, numGroups, version]] = await sql(
    `SELECT created_by, num_rows, num_row_groups, format_version FROM parquet_file_metadata(${f})`);
  eq(createdBy, expected.created_by, what('created_by'));
  eq(numRows, file.rows, what('num_rows'));
  eq(numGroups, file.row_groups, what('num_row_groups'));
  eq(version, 1, what('format_version'));
  const kv = await sql(`SELECT decode(key), decode(value) FROM parquet_kv_metadata(${f}) ORDER BY 1`);
  eq(JSON.stringify(Object.fromEntries(kv)), JSON.stringify(Object.fromEntries(Object.entries(file.kv).sort())),
     what('key-value metadata'));

  if (file.rows === 0) return;
  const codec = file.codec.toUpperCase();
  const meta = await sql(
    `SELECT path_in_schema, list(compression ORDER BY row_group_id), list(encodings ORDER BY row_group_id),
            sum(stats_null_count)::BIGINT, list(stats_min_value ORDER BY row_group_id),
            list(stats_max_value ORDER BY row_group_id), count(*)
     FROM parquet_metadata(${f}) GROUP BY path_in_schema`);
  const byPath = new Map(meta.map((r) => [r[0], r]));
  for (const col of file.columns) {
    const m = byPath.get(col.name);
    if (!m) {
      eq('missing', 'present', what(`metadata of ${col.name}`));
      continue;
    }
    const [, codecs, encodings, nullCount, mins, maxs, chunks] = m;
    eq(chunks, file.row_groups, what(`${col.name} chunks`));
    eq(codecs.every((c) => c === codec), true, what(`${col.name} compression ${codecs[0]}`));
    eq(nullCount, col.nulls, what(`${col.name} stats null_count`));
    const dictChunks = encodings.filter((e) => e.includes('RLE_DICTIONARY')).length;
    if (!col.dictionary) eq(dictChunks, 0, what(`${col.name} dictionary chunks`));
    else if (file.schema !== 'mixed') eq(dictChunks, chunks, what(`${col.name} dictionary chunks`));
    else eq(dictChunks > 0 && dictChunks < chunks, true, what(`${col.name} some chunks fell back to PLAIN`));
    // Chunk statistics, folded over the row groups, must bound the column exactly.
    const present = (xs) => xs.filter((x) => x !== null);
    if (col.count === 0) {
      eq(present(mins).length, 0, what(`${col.name} no min/max for an all-null column`));
      continue;
    }
    if (col.type === 'string') {
      const lo = present(mins).reduce((a, b) => (utf8Less(b, a) ? b : a));
      const hi = present(maxs).reduce((a, b) => (utf8Less(a, b) ? b : a));
      eq(JSON.stringify(lo), JSON.stringify(col.min), what(`${col.name} stats min`));
      eq(JSON.stringify(hi), JSON.stringify(col.max), what(`${col.name} stats max`));
    } else if (col.type === 'int64' || col.type === 'decimal') {
      const conv = (v) => (col.type === 'decimal' ? decimalText(v, col.scale) : BigInt(v));
      const lo = present(mins).map(conv).reduce((a, b) => (b < a ? b : a));
      const hi = present(maxs).map(conv).reduce((a, b) => (b > a ? b : a));
      eq(lo, col.min, what(`${col.name} stats min`));
      eq(hi, col.max, what(`${col.name} stats max`));
    }
  }
}

// ---- parquet-wasm (arrow-rs) ---------------------------------------------------------------
const arrowUnit = { millis: 'MILLISECOND', micros: 'MICROSECOND', nanos: 'NANOSECOND' };
function arrowType(col) {
  switch (col.type) {
    case 'int64': return 'Int64';
    case 'timestamp': return `Timestamp<${arrowUnit[col.unit]}, UTC>`;
    case 'decimal': return `Decimal[${col.precision}e+${col.scale}]`;
    case 'string': return 'Utf8';
    case 'boolean': return 'Bool';
  }
  return '?';
}

// All values of an Arrow column as raw values (see normalizeExpected). Integers, timestamps and
// decimals are read from the value buffers, so no precision is lost to JS numbers; strings and
// booleans go through apache-arrow's own decoding.
function arrowValues(col, vector) {
  const out = [];
  let row = 0;
  for (const data of vector.data) {
    if (data.offset !== 0) throw new Error(`${col.name}: unexpected sliced Arrow data`);
    const words = col.type === 'decimal' ? data.type.bitWidth / 32 : 0;
    for (let i = 0; i < data.length; i++, row++) {
      if (!vector.isValid(row)) out.push(null);
      else if (col.type === 'int64' || col.type === 'timestamp') out.push(BigInt.asIntN(64, BigInt(data.values[i])));
      else if (col.type === 'decimal') {
        let v = 0n;  // little-endian 32-bit words, two's complement over bitWidth bits
        for (let w = words - 1; w >= 0; w--) v = (v << 32n) | BigInt(data.values[i * words + w] >>> 0);
        out.push(BigInt.asIntN(data.type.bitWidth, v));
      } else out.push(vector.get(row));
    }
  }
  return out;
}

function checkParquetWasm(file) {
  const what = (k) => `${file.file} parquet-wasm ${k}`;
  const bytes = new Uint8Array(readFileSync(path.join(dir, file.file)));
  const table = tableFromIPC(readParquet(bytes).intoIPCStream());
  eq(table.numRows, file.rows, what('rows'));
  eq(table.schema.fields.map((f) => f.name).join(','), file.columns.map((c) => c.name).join(','), what('column names'));
  for (const [key, value] of Object.entries(file.kv)) eq(table.schema.metadata.get(key), value, what(`metadata ${key}`));
  const columns = [];
  file.columns.forEach((col, i) => {
    const field = table.schema.fields[i];
    eq(String(field?.type), arrowType(col), what(`${col.name} type`));
    eq(field?.nullable, col.optional, what(`${col.name} nullable`));
    const values = arrowValues(col, table.getChild(col.name));
    eq(values.length, file.rows, what(`${col.name} length`));
    compareSummary('parquet-wasm', file, col, summarize(col, values));
    columns.push(values);
  });
  const byRow = new Map(file.samples.map((s) => [s.row, columns.map((values) => values[s.row])]));
  compareSamples('parquet-wasm', file, byRow);
}

// ---- run ---------------------------------------------------------------------------------
for (const file of expected.files) {
  const before = failures.length;
  const start = checks;
  try {
    await checkDuckDB(file);
  } catch (e) {
    failures.push(`${file.file} duckdb threw: ${e.message}`);
  }
  try {
    checkParquetWasm(file);
  } catch (e) {
    failures.push(`${file.file} parquet-wasm threw: ${e.message}`);
  }
  const status = failures.length === before ? 'ok  ' : 'FAIL';
  console.log(`${status} ${file.file.padEnd(34)} ${String(file.rows).padStart(6)} rows ${String(file.row_groups).padStart(2)} row groups ${checks - start} checks`);
}
for (const f of failures.slice(0, 200)) console.log(`  mismatch: ${f}`);
if (failures.length > 200) console.log(`  ... and ${failures.length - 200} more`);
const [[duckVersion]] = await sql('SELECT version()');
console.log(`parquet interop: ${expected.files.length} files read back by DuckDB ${duckVersion} and parquet-wasm (arrow-rs)`);
console.log(`${checks - failures.length} passed, ${failures.length} failed`);
process.exit(failures.length === 0 ? 0 : 1);
