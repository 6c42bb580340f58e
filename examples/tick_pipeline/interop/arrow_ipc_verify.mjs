// Reads arrow_ipc_sample's streams with Arrow JS (apache-arrow, the parquet example's npm
// fixture): every kind's rows, columns and types, and the decimals as exact integers.
// Usage: node arrow_ipc_verify.mjs NODE_DIR DIR
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const [nodeDir, dir] = process.argv.slice(2);
const require = createRequire(path.resolve(nodeDir, "node_modules", "x.js"));
const arrow = require("apache-arrow");

const MAX = 999999999999999999n;
const price = (i) => (i === 0 ? MAX : i === 1 ? -MAX : i === 2 ? -1n : 2500000000000n + BigInt(i));
const fail = (msg) => {
  console.error(msg);
  process.exit(1);
};

// A decimal128 cell as a BigInt: Arrow JS gives its four 32-bit little-endian words.
function decimalValue(v) {
  const words = v instanceof Uint32Array ? v : new Uint32Array(v.buffer, v.byteOffset, 4);
  let x = 0n;
  for (let w = 3; w >= 0; w--) x = (x << 32n) | BigInt(words[w]);
  return BigInt.asIntN(128, x);
}

for (const [file, priceColumn] of [["trade", "price"], ["agg_trade", "price"], ["book_ticker", "bid_price"]]) {
  const table = arrow.tableFromIPC(readFileSync(path.join(dir, `${file}.arrows`)));
  if (table.numRows !== 1002) fail(`${file}: ${table.numRows} rows, expected 1002`);
  const col = table.getChild(priceColumn);
  if (!arrow.DataType.isDecimal(col.type) || col.type.scale !== 8 || col.type.precision !== 18)
    fail(`${file}: ${priceColumn} is ${col.type}`);
  for (let i = 0; i < table.numRows; i++) {
    const got = decimalValue(col.get(i));
    if (got !== price(i)) fail(`${file}: row ${i} ${priceColumn} ${got}, expected ${price(i)}`);
  }
  const sym = table.getChild("symbol");
  for (let i = 0; i < 6; i++) {
    const want = i % 3 === 0 ? "BTCUSDT" : i % 3 === 1 ? "ETHUSDT" : "A";
    if (sym.get(i) !== want) fail(`${file}: row ${i} symbol ${sym.get(i)}`);
  }
  const sent = table.getChild("sent_time");
  if (sent.nullCount !== 250) fail(`${file}: sent_time has ${sent.nullCount} nulls, expected 250`);
  console.log(`${file}: ${table.numRows} rows read by Arrow JS, ${priceColumn} exact`);
}
