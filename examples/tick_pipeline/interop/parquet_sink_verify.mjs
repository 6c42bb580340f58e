// Reads back what tick_parquet_sink_tool wrote, with DuckDB (@duckdb/node-api):
//   node parquet_sink_verify.mjs expected <dir>  every partition of <dir>/expected.json: row
//       counts, exact per-column sums, min/max, true counts, sampled rows (by id), the codec and
//       key-value metadata; every file under each root matches the partition pattern and no
//       temporary file is left; per-stream totals equal the sink's own counters.
//   node parquet_sink_verify.mjs any <root>     every visible part file (after a kill -9) is
//       complete: DuckDB decodes every column of every row, and count(*) equals the footer's
//       num_rows. Temporary files are listed, not read.
//   node parquet_sink_verify.mjs summary <file>  polarway-demo's read-back (scripts/demo.sh):
//       <file> holds the demo's stdout, whose last line is its JSON summary. Every part file under
//       the summary's parquet.dir is read; the row count and the exact sums of price and
//       quantity (bid + ask for bookTicker, modulo 2^64 like the feed's totals) must equal the
//       feed's (feed_sent), the files and rows the sink's counters, the codec the one asked for;
//       no temporary or foreign file. Prints its verdict on stderr (stdout is the summary's).
//   node parquet_sink_verify.mjs ids <file>  exactly once against a market: <file> is JSON
//       {"dir" (or "dirs", a list), "stream", "count", "price_sum", "quantity_sum"} (sums as
//       strings, modulo 2^64 like the feed's totals). The part files of <dir>/<stream> (of every
//       one of "dirs" together) must hold `count` rows, as many
//       distinct (symbol, id) pairs, each symbol's ids one unbroken run, and the sums of price and
//       quantity the given ones.
// Exits 1 listing every mismatch.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const [mode, dir] = process.argv.slice(2);
if (!['expected', 'any', 'summary', 'ids'].includes(mode) || !dir) {
  console.error('usage: node parquet_sink_verify.mjs expected|any <dir> | summary|ids <file>');
  process.exit(2);
}
const duck = await (await DuckDBInstance.create(':memory:')).connect();
await duck.run("SET TimeZone = 'UTC'");
const sql = async (text) => (await duck.runAndReadAll(text)).getRowsJson();
const literal = (text) => `'${text.replaceAll("'", "''")}'`;

let checks = 0;
const failures = [];
function eq(actual, want, what) {
  checks++;
  if (String(actual) !== String(want)) failures.push(`${what}: got ${actual}, want ${want}`);
}

const partPattern = /^(trade|aggTrade|bookTicker)\/symbol=[A-Z0-9]{1,20}\/date=\d{4}-\d{2}-\d{2}\/part-\d{5,9}\.parquet$/;
const tempPattern = /^(trade|aggTrade|bookTicker)\/symbol=[A-Z0-9]{1,20}\/date=\d{4}-\d{2}-\d{2}\/\.part-\d{5,9}\.parquet\.tmp$/;
function walk(root, rel = '') {
  const out = [];
  for (const name of readdirSync(path.join(root, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(path.join(root, r)).isDirectory()) out.push(...walk(root, r));
    else out.push(r);
  }
  return out;
}
function classify(root) {
  const parts = [], temps = [], others = [];
  for (const f of walk(root)) {
    if (partPattern.test(f)) parts.push(f);
    else if (tempPattern.test(f)) temps.push(f);
    else if (f !== '.polarway-parquet-sink.lock') others.push(f);
  }
  return { parts, temps, others };
}

const columnsOf = {
  trade: ['event_time', 'trade_id', 'price', 'quantity', 'trade_time'],
  aggTrade: ['event_time', 'agg_trade_id', 'price', 'quantity', 'first_trade_id', 'last_trade_id', 'trade_time'],
  bookTicker: ['update_id', 'bid_price', 'bid_qty', 'ask_price', 'ask_qty', 'event_time'],
};
const idOf = { trade: 'trade_id', aggTrade: 'agg_trade_id', bookTicker: 'update_id' };
const decimals = new Set(['price', 'quantity', 'bid_price', 'bid_qty', 'ask_price', 'ask_qty']);
const times = new Set(['event_time', 'trade_time']);
// The raw integer of a column as SQL: epoch millis for timestamps, unscaled for decimals.
// (Decimals come back as text, "97000.10000000", and are converted to the unscaled integer here.)
const raw = (c) => (times.has(c) ? `epoch_ms("${c}")` : `"${c}"`);
const norm = (c, v) => (v === null ? null : decimals.has(c) ? decimalText(String(v), 8).toString() : String(v));
function decimalText(text, scale) {
  const negative = text.startsWith('-');
  const [whole, frac = ''] = text.replace(/^[-+]/, '').split('.');
  const v = BigInt(whole + frac.padEnd(scale, '0'));
  return negative ? -v : v;
}
const sumExpr = (c) => (decimals.has(c) ? `sum(CAST("${c}" AS DECIMAL(38,8)))::VARCHAR` : `sum(${raw(c)})::VARCHAR`);
const sumValue = (c, v) => (decimals.has(c) ? decimalText(v, 8) : BigInt(v));

if (mode === 'expected') {
  const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8'));
  for (const r of expected.roots) {
    const { parts, temps, others } = classify(r.root);
    eq(temps.length, 0, `${r.root} temporary files left`);
    eq(others.join(','), '', `${r.root} files outside the partition pattern`);
    eq(parts.length, r.files, `${r.root} part files`);
    // Stream totals as DuckDB counts them, against the sink's counters.
    for (const [stream, s] of Object.entries(r.streams)) {
      const files = parts.filter((f) => f.startsWith(`${stream}/`)).map((f) => literal(path.join(r.root, f)));
      eq(files.length, s.files, `${r.root} ${stream} files`);
      const bytes = parts.filter((f) => f.startsWith(`${stream}/`)).reduce((a, f) => a + statSync(path.join(r.root, f)).size, 0);
      eq(bytes, s.bytes, `${r.root} ${stream} bytes`);
      const [[n]] = await sql(`SELECT count(*) FROM read_parquet([${files.join(',')}])`);
      eq(n, s.rows, `${r.root} ${stream} rows`);
    }
    // Codec and key-value metadata of one file per partition directory.
    const byDir = new Map();
    for (const f of parts) byDir.set(path.dirname(f), f);
    for (const [d, f] of byDir) {
      const [stream, sym, date] = d.split('/');
      const file = literal(path.join(r.root, f));
      const codecs = await sql(`SELECT DISTINCT compression FROM parquet_metadata(${file})`);
      eq(codecs.map((c) => c[0]).join(','), r.codec.toUpperCase(), `${f} codec`);
      const kv = Object.fromEntries(await sql(`SELECT decode(key), decode(value) FROM parquet_kv_metadata(${file})`));
      eq(kv['polarway.stream'], stream, `${f} kv stream`);
      eq(`symbol=${kv['polarway.symbol']}`, sym, `${f} kv symbol`);
      eq(`date=${kv['polarway.date']}`, date, `${f} kv date`);
      eq(kv['polarway.part'], String(Number(path.basename(f).slice(5, -8))), `${f} kv part`);
    }
  }
  for (const p of expected.partitions) {
    const d = path.join(p.root, p.stream, `symbol=${p.symbol}`, `date=${p.date}`);
    const files = readdirSync(d).filter((f) => /^part-\d+\.parquet$/.test(f)).map((f) => literal(path.join(d, f)));
    const src = `read_parquet([${files.join(',')}])`;
    const what = (k) => `${d} ${k}`;
    const cols = columnsOf[p.stream];
    const aggs = ['count(*)', 'count(DISTINCT symbol)', 'min(symbol)', `min(epoch_ms(event_time))`, `max(epoch_ms(event_time))`];
    if (p.stream !== 'bookTicker') aggs.push('count_if(is_buyer_maker)');
    for (const c of cols) aggs.push(sumExpr(c), `min(${raw(c)})::VARCHAR`, `max(${raw(c)})::VARCHAR`);
    const [row] = await sql(`SELECT ${aggs.join(', ')} FROM ${src}`);
    let k = 0;
    eq(row[k++], p.rows, what('rows'));
    eq(row[k++], 1, what('distinct symbols'));
    eq(row[k++], p.symbol, what('symbol'));
    // Every row's event time lies in the partition's UTC day.
    const dayStart = Date.parse(`${p.date}T00:00:00Z`);
    const lo = Number(row[k++]), hi = Number(row[k++]);
    eq(lo >= dayStart && hi < dayStart + 86400000, true, what(`event_time ${lo}..${hi} inside ${p.date}`));
    if (p.stream !== 'bookTicker') eq(row[k++], p.true_count, what('is_buyer_maker true count'));
    for (const c of cols) {
      const want = p.columns[c];
      eq(sumValue(c, row[k++]), BigInt(want.sum), what(`${c} sum`));
      eq(norm(c, row[k++]), want.min, what(`${c} min`));
      eq(norm(c, row[k++]), want.max, what(`${c} max`));
    }
    // Sampled rows, found by their id (unique per symbol and stream).
    const id = idOf[p.stream];
    const ids = p.samples.map((s) => s[id]);
    if (ids.length) {
      const sel = cols.map((c) => `${raw(c)}::VARCHAR`).concat(p.stream !== 'bookTicker' ? ['is_buyer_maker'] : []);
      const got = await sql(`SELECT "${id}", ${sel.join(', ')}, symbol FROM ${src} WHERE "${id}" IN (${ids.join(',')})`);
      eq(got.length, ids.length, what('sampled rows found'));
      const byId = new Map(got.map((g) => [String(g[0]), g]));
      for (const s of p.samples) {
        const g = byId.get(String(s[id]));
        if (!g) continue;
        cols.forEach((c, i) => eq(norm(c, g[i + 1]), s[c], what(`row ${id}=${s[id]} ${c}`)));
        if (p.stream !== 'bookTicker') eq(g[cols.length + 1], s.is_buyer_maker, what(`row ${id}=${s[id]} is_buyer_maker`));
        eq(g[g.length - 1], s.symbol, what(`row ${id}=${s[id]} symbol`));
      }
    }
  }
  console.log(`parquet sink read-back: ${expected.partitions.length} partitions in ${expected.roots.length} roots, ${checks} checks`);
} else if (mode === 'summary') {
  const lines = readFileSync(dir, 'utf8').trim().split('\n');
  // The sums are uint64 and pass 2^53: quoted before parsing, so BigInt gets every digit.
  const summary = JSON.parse(lines[lines.length - 1].replace(/("(?:count|price_sum|quantity_sum)":)(\d+)/g, '$1"$2"'));
  const out = summary.parquet;
  if (!out || !summary.feed_sent) {
    console.error('read-back skipped: this run wrote no Parquet (--sink count)');
    process.exit(0);
  }
  const { parts, temps, others } = classify(out.dir);
  eq(temps.length, 0, `${out.dir}: temporary files left`);
  eq(others.join(','), '', `${out.dir}: files outside the partition pattern`);
  eq(parts.length, out.files_written, `${out.dir}: part files (the sink's files_written)`);
  const wrap = (v) => v & ((1n << 64n) - 1n);
  let rows = 0n, price = 0n, quantity = 0n;
  for (const stream of Object.keys(columnsOf)) {
    const files = parts.filter((f) => f.startsWith(`${stream}/`)).map((f) => literal(path.join(out.dir, f)));
    if (!files.length) continue;
    const [p, q] = stream === 'bookTicker' ? [['bid_price', 'ask_price'], ['bid_qty', 'ask_qty']] : [['price'], ['quantity']];
    const sums = p.concat(q).map(sumExpr);
    const [[n, ...s]] = await sql(`SELECT count(*)::VARCHAR, ${sums.join(', ')} FROM read_parquet([${files.join(',')}])`);
    const values = s.map((v, i) => sumValue(p.concat(q)[i], v));
    eq(n, out.streams[stream].rows_written, `${stream}: rows (the sink's rows_written)`);
    rows += BigInt(n);
    price += values.slice(0, p.length).reduce((a, b) => a + b, 0n);
    quantity += values.slice(p.length).reduce((a, b) => a + b, 0n);
    const codecs = await sql(`SELECT DISTINCT compression FROM parquet_metadata([${files.join(',')}])`);
    eq(codecs.map((c) => c[0]).join(','), out.codec.toUpperCase(), `${stream}: codec`);
  }
  const sent = summary.feed_sent;
  eq(rows, sent.count, 'rows vs the feed\'s count');
  eq(wrap(price), sent.price_sum, 'sum of price vs the feed\'s (mod 2^64)');
  eq(wrap(quantity), sent.quantity_sum, 'sum of quantity vs the feed\'s (mod 2^64)');
  if (!failures.length) console.error(`read-back (DuckDB): ${rows} rows in ${parts.length} files, sums EQUAL`);
  else console.error(`read-back (DuckDB): ${rows} rows in ${parts.length} files: MISMATCH`);
} else if (mode === 'ids') {
  const want = JSON.parse(readFileSync(dir, 'utf8'));
  const id = { trade: 'trade_id', aggTrade: 'agg_trade_id' }[want.stream];
  const files = [];
  for (const root of want.dirs ?? [want.dir]) {
    const { parts, temps } = classify(root);
    eq(temps.length, 0, `${root}: temporary files left`);
    files.push(...parts.filter((f) => f.startsWith(`${want.stream}/`)).map((f) => literal(path.join(root, f))));
  }
  if (!id || !files.length) {
    failures.push(`${(want.dirs ?? [want.dir]).join(', ')}: no ${want.stream} part files to read`);
  } else {
    const src = `read_parquet([${files.join(',')}])`;
    const [[n, distinct, price, quantity]] = await sql(
      `SELECT count(*)::VARCHAR, count(DISTINCT (symbol, "${id}"))::VARCHAR, ${sumExpr('price')}, ${sumExpr('quantity')} FROM ${src}`);
    const wrap = (v) => v & ((1n << 64n) - 1n);
    eq(n, want.count, 'rows vs what the market produced');
    eq(distinct, want.count, 'distinct (symbol, id) vs what the market produced');
    eq(wrap(sumValue('price', price)), want.price_sum, 'sum of price vs the market\'s (mod 2^64)');
    eq(wrap(sumValue('quantity', quantity)), want.quantity_sum, 'sum of quantity vs the market\'s (mod 2^64)');
    const runs = await sql(`SELECT symbol, (max("${id}") - min("${id}") + 1)::VARCHAR, count(*)::VARCHAR FROM ${src} GROUP BY symbol`);
    for (const [symbol, span, rows] of runs) eq(span, rows, `${symbol}: id span vs rows`);
    console.error(`read-back (DuckDB): ${n} rows, ${distinct} distinct ids in ${files.length} files over ${runs.length} symbols`);
  }
} else {
  const { parts, temps, others } = classify(dir);
  eq(others.join(','), '', `${dir} files outside the partition pattern`);
  let rows = 0;
  for (const f of parts) {
    const file = literal(path.join(dir, f));
    try {
      const stream = f.split('/')[0];
      const cols = columnsOf[stream];
      const [[n, ...sums]] = await sql(`SELECT count(*), ${cols.map((c) => sumExpr(c)).join(', ')}, count(symbol) FROM read_parquet(${file})`);
      const [[footerRows]] = await sql(`SELECT num_rows FROM parquet_file_metadata(${file})`);
      eq(n, footerRows, `${f} rows vs footer`);
      eq(sums.every((s) => s !== null), true, `${f} every column decoded`);
      rows += Number(n);
    } catch (e) {
      failures.push(`${f}: DuckDB cannot read it: ${e.message}`);
    }
  }
  console.log(`parquet sink crash check: ${parts.length} visible files, ${rows} rows, all readable; ${temps.length} temporary files`);
}

if (failures.length) {
  console.error(`${failures.length} of ${checks} checks failed:`);
  for (const f of failures.slice(0, 50)) console.error(`  ${f}`);
  process.exit(1);
}
