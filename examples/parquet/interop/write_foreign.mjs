// Writes the reader interop test's trades table with DuckDB (COPY ... TO, FORMAT parquet,
// defaults) into <out-dir>/duckdb.parquet. The table is the one read_foreign.cpp expects and
// write_foreign.py writes with pyarrow and Polars; keep the three in step. DuckDB has no
// millisecond timestamp type here, so event_time is a TIMESTAMP (microseconds).
// Usage: node write_foreign.mjs <out-dir> (run from the directory holding node_modules)
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const out = path.join(process.argv[2], 'duckdb.parquet').replaceAll("'", "''");
const duck = await (await DuckDBInstance.create(':memory:')).connect();
await duck.run(`
  COPY (
    SELECT epoch_ms(t::BIGINT) AS event_time, s AS symbol, id::BIGINT AS trade_id,
           p::DECIMAL(18, 8) AS price, q::DECIMAL(18, 8) AS quantity, b::BOOLEAN AS is_buyer_maker,
           n::VARCHAR AS note
    FROM (VALUES
      (0, 1732233600000, 'BTCUSDT', 4242, '97000.10000000', '0.0015', true, 'a'),
      (1, 1732233600250, 'ETHUSDT', 4243, '3100.5', NULL, false, NULL),
      (2, 1732233600500, 'BTCUSDT', -1, '0.00000001', '1', true, '\u00fc'),
      (3, 1732233600750, 'SOLUSDT', 9007199254740993, '-12.34', '2.5', NULL, ''),
      (4, 1732233601000, 'BTCUSDT', 0, '9999999999.99999999', '0', false, 'xxx')
    ) v(k, t, s, id, p, q, b, n)
    ORDER BY k
  ) TO '${out}' (FORMAT parquet)`);
console.log(`duckdb wrote ${out}`);
