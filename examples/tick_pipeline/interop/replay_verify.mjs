// DuckDB's comparison of two polarway-ingest output dirs, for the replay end-to-end test:
//   node replay_verify.mjs <dirA> <dirB> [<from_ms|-> <to_ms|-> <symbol,symbol|->]
// prints, as JSON, for each tick kind (trade, aggTrade, bookTicker) that either dir holds:
//   {kind: {"a": rows, "b": rows, "a_except_b": rows, "b_except_a": rows}}
// where the sides are every *.parquet under <dir>/<kind> (read_parquet with a ** glob) and the
// differences are multisets (EXCEPT ALL): both 0 means the two hold the same rows, duplicates
// included. The optional filter applies to A's side only (event_time in [from, to), symbol
// among the given ones; "-": no bound, every symbol), so B can be compared to a subset of A.
// hive_partitioning is off: the symbol=/date= directories add no columns, and every column
// compared is one the files hold. A kind with no file on one side has 0 rows there.
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const [dirA, dirB, from = '-', to = '-', symbols = '-'] = process.argv.slice(2);
if (!dirA || !dirB || process.argv.length > 7) {
  console.error('usage: node replay_verify.mjs <dirA> <dirB> [<from_ms|-> <to_ms|-> <symbols|->]');
  process.exit(2);
}
const duck = await (await DuckDBInstance.create(':memory:')).connect();
const quote = (s) => `'${s.replaceAll("'", "''")}'`;

// Whether <dir>/<kind> holds a *.parquet file at any depth (read_parquet fails on an empty glob).
const hasParquet = (dir) => {
  if (!fs.existsSync(dir)) return false;
  return fs.readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('.parquet'));
};

const filter = ['true'];
if (from !== '-') filter.push(`epoch_ms(event_time) >= ${BigInt(from)}`);
if (to !== '-') filter.push(`epoch_ms(event_time) < ${BigInt(to)}`);
if (symbols !== '-') filter.push(`symbol IN (${symbols.split(',').map(quote).join(', ')})`);

const count = async (sql) => Number((await duck.runAndReadAll(`SELECT count(*) FROM (${sql})`)).getRows()[0][0]);

const result = {};
for (const kind of ['trade', 'aggTrade', 'bookTicker']) {
  const hasA = hasParquet(path.join(dirA, kind));
  const hasB = hasParquet(path.join(dirB, kind));
  if (!hasA && !hasB) continue;
  const scan = (dir) => `read_parquet(${quote(path.join(dir, kind) + '/**/*.parquet')}, hive_partitioning = false)`;
  const a = hasA ? `SELECT * FROM ${scan(dirA)} WHERE ${filter.join(' AND ')}` : null;
  const b = hasB ? `SELECT * FROM ${scan(dirB)}` : null;
  const rowsA = a ? await count(a) : 0;
  const rowsB = b ? await count(b) : 0;
  result[kind] = {
    a: rowsA,
    b: rowsB,
    a_except_b: a && b ? await count(`${a} EXCEPT ALL ${b}`) : rowsA,
    b_except_a: a && b ? await count(`${b} EXCEPT ALL ${a}`) : rowsB,
  };
}
console.log(JSON.stringify(result));
