// DuckDB's answer to polarway-query's question, for the query end-to-end test:
//   node query_verify.mjs <dir> <from_ms|-> <to_ms|-> <symbol,symbol|->
// reads every *.parquet under <dir> (read_parquet with a ** glob) and prints, as JSON, per symbol
// and UTC day of trade_time, the row count, the exact sums of price, quantity and price *
// quantity, min/max price and the first/last trade_time in milliseconds, for the rows with
// trade_time in [from, to) and symbol among the given ones ("-": no bound, every symbol). The
// query's own time goes to stderr ("query: S s"; bench/query reads it).
import { DuckDBInstance } from '@duckdb/node-api';

const [dir, from, to, symbols] = process.argv.slice(2);
if (!dir || !from || !to || !symbols) {
  console.error('usage: node query_verify.mjs <dir> <from_ms|-> <to_ms|-> <symbols|->');
  process.exit(2);
}
const duck = await (await DuckDBInstance.create(':memory:')).connect();
const quote = (s) => `'${s.replaceAll("'", "''")}'`;
const where = ['true'];
if (from !== '-') where.push(`epoch_ms(trade_time) >= ${BigInt(from)}`);
if (to !== '-') where.push(`epoch_ms(trade_time) < ${BigInt(to)}`);
if (symbols !== '-') where.push(`symbol IN (${symbols.split(',').map(quote).join(', ')})`);
const sql = `
  SELECT symbol, epoch_ms(trade_time) // 86400000 AS day, count(*) AS count,
         CAST(sum(price) AS VARCHAR) AS sum_price, CAST(sum(quantity) AS VARCHAR) AS sum_quantity,
         CAST(sum(CAST(price AS DECIMAL(38, 8)) * CAST(quantity AS DECIMAL(38, 8))) AS VARCHAR) AS notional,
         CAST(min(price) AS VARCHAR) AS min_price, CAST(max(price) AS VARCHAR) AS max_price,
         min(epoch_ms(trade_time)) AS first_ms, max(epoch_ms(trade_time)) AS last_ms
  FROM read_parquet(${quote(dir + '/**/*.parquet')})
  WHERE ${where.join(' AND ')}
  GROUP BY ALL ORDER BY symbol, day`;
const start = process.hrtime.bigint();
const rows = (await duck.runAndReadAll(sql)).getRowObjectsJson();
console.error(`query: ${Number(process.hrtime.bigint() - start) / 1e9} s`);
console.log(JSON.stringify(rows));
