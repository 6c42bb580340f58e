"""polarway-query end to end, checked against DuckDB:
- over polarway-demo's part files (600,000 trades, 3 symbols, row groups of 16,384 rows): every
  group's count, exact sums of price, quantity and notional, min/max price and first/last time
  equal DuckDB's (read_parquet over the same files), and its VWAP is DuckDB's notional / quantity
  rounded half away from zero to 8 places; the same with --from/--to/--symbol, which also skips
  row groups by their statistics (fewer rows and bytes read);
- over files pyarrow and Polars write (defaults: decimals as FIXED_LEN_BYTE_ARRAY, one column at
  scale 2, times in microseconds and nanoseconds, two UTC days, several row groups): the same
  agreement with DuckDB;
- hostile input: a truncated file, a text file named .parquet, a missing path (exit 1, the
  message names the file), usage errors (exit 2); an empty directory gives no group (exit 0).
Needs DuckDB in <node-dir> (the tick_sink_npm fixture); runs under build/venv's python, which
has pyarrow and Polars.
Usage: query_e2e.py <polarway-demo> <polarway-query> <work-dir> <node-dir> <query_verify.mjs>"""
import datetime
import decimal
import json
import os
import shutil
import subprocess
import sys

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from checklist import check, failures

demo, query_bin, work, node_dir, verify_mjs = sys.argv[1:6]


D = decimal.Decimal
decimal.getcontext().prec = 80


def run_query(path, *flags):
    r = subprocess.run([query_bin, path, "--json", *flags], capture_output=True, text=True, timeout=300)
    return r


def duckdb(path, from_ms="-", to_ms="-", symbols="-"):
    r = subprocess.run(["node", os.path.join(node_dir, "query_verify.mjs"), path, str(from_ms), str(to_ms), symbols],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise SystemExit("DuckDB failed: " + r.stderr)
    return json.loads(r.stdout)


def ms_of(iso):
    """polarway-query's ISO time -> milliseconds (the tests' times are whole milliseconds)."""
    t = datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp() * 1000 + 0.5)


def half_away(n, d):
    """n / d rounded half away from zero to an integer (exact)."""
    q, r = divmod(abs(n), abs(d))
    if 2 * r >= abs(d):
        q += 1
    return q if (n < 0) == (d < 0) else -q


def agree(what, ours, theirs):
    """Compares polarway-query's groups with DuckDB's, value by value."""
    if not check(len(ours) == len(theirs) and len(ours) > 0,
                 f"{what}: {len(ours)} groups, DuckDB {len(theirs)}"):
        return
    bad = []
    for o, t in zip(ours, theirs):
        day = datetime.date(1970, 1, 1) + datetime.timedelta(days=int(t["day"]))
        pairs = [
            ("symbol", o["symbol"], t["symbol"]),
            ("day", o["day"], day.isoformat()),
            ("count", o["count"], int(t["count"])),
            ("sum_price", D(o["sum_price"]), D(t["sum_price"])),
            ("sum_quantity", D(o["sum_quantity"]), D(t["sum_quantity"])),
            ("notional", D(o["notional"]), D(t["notional"])),
            ("min_price", D(o["min_price"]), D(t["min_price"])),
            ("max_price", D(o["max_price"]), D(t["max_price"])),
            ("first_time", ms_of(o["first_time"]), int(t["first_ms"])),
            ("last_time", ms_of(o["last_time"]), int(t["last_ms"])),
        ]
        # VWAP from DuckDB's exact sums: notional (scale 16) / quantity (scale 8), at scale 8.
        n = int(D(t["notional"]).scaleb(16))
        q = int(D(t["sum_quantity"]).scaleb(8))
        pairs.append(("vwap", D(o["vwap"]), D(half_away(n, q)).scaleb(-8)))
        bad += [f"{o['symbol']} {o['day']} {k}: {a} != {b}" for k, a, b in pairs if a != b]
    check(not bad, f"{what}: every value of {len(ours)} groups equals DuckDB's" + ("; " + "; ".join(bad[:5]) if bad else ""))


if not os.path.isdir(os.path.join(node_dir, "node_modules", "@duckdb", "node-api")):
    print(f"DuckDB is not installed in {node_dir}")
    sys.exit(77)
shutil.copy(verify_mjs, os.path.join(node_dir, "query_verify.mjs"))
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)

# ---- polarway's own part files ------------------------------------------------------------
out = os.path.join(work, "out")
r = subprocess.run([demo, "--ticks", "600000", "--symbols", "3", "--quiet", "--out", out, "--row-group-rows", "16384"],
                   capture_output=True, text=True, timeout=300)
check(r.returncode == 0, f"polarway-demo wrote the part files (exit {r.returncode})")

r = run_query(out)
check(r.returncode == 0, f"polarway-query over the demo's files: exit {r.returncode} {r.stderr.strip()}")
whole = json.loads(r.stdout)
agree("demo files, no filter", whole["groups"], duckdb(out))
check(sum(g["count"] for g in whole["groups"]) == 600000 and whole["rows_read"] == 600000,
      f"every row read and counted ({whole['rows_read']})")
check(whole["row_groups_skipped"] == 0, "no row group skipped without a filter")

first = min(ms_of(g["first_time"]) for g in whole["groups"])
last = max(ms_of(g["last_time"]) for g in whole["groups"])
lo, hi = first + (last - first) * 2 // 5, first + (last - first) * 4 // 5
r = run_query(out, "--from", str(lo), "--to", str(hi), "--symbol", "BTCUSDT", "--symbol", "ETHUSDT",
              "--concurrency", "2")
check(r.returncode == 0, f"polarway-query with --from/--to/--symbol: exit {r.returncode}")
part = json.loads(r.stdout)
agree("demo files, a time range and two symbols", part["groups"], duckdb(out, lo, hi, "BTCUSDT,ETHUSDT"))
check(part["row_groups_skipped"] > 0 and part["rows_read"] < whole["rows_read"] and part["bytes_read"] < whole["bytes_read"],
      f"row groups ruled out by statistics are not read ({part['row_groups_skipped']} skipped, "
      f"{part['rows_read']} rows and {part['bytes_read']} bytes read, against {whole['bytes_read']})")

# ---- pyarrow's and Polars' files --------------------------------------------------------------
foreign = os.path.join(work, "foreign")
os.makedirs(foreign)
n = 5000
base_us = 1732233600_000_000 - 3_600_000_000  # 2024-11-21T23:00Z: the rows span two UTC days
symbols = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
table = pa.table({
    "symbol": pa.array([symbols[i % 3] for i in range(n)], pa.string()),
    "price": pa.array([D(90000 + (i * 7919) % 10000) / 100000000 * 3 + D(i) for i in range(n)], pa.decimal128(18, 8)),
    "quantity": pa.array([D((i * 104729) % 100000) / 100 for i in range(n)], pa.decimal128(12, 2)),
    "trade_time": pa.array([datetime.datetime.fromtimestamp((base_us + i * 1_440_000) / 1e6, datetime.timezone.utc)
                            for i in range(n)], pa.timestamp("us", tz="UTC")),
})
pq.write_table(table, os.path.join(foreign, "pyarrow.parquet"), row_group_size=1000)
(pl.from_arrow(table).with_columns(pl.col("trade_time").dt.cast_time_unit("ns"))
 .write_parquet(os.path.join(foreign, "polars.parquet"), row_group_size=1000))
r = run_query(foreign)
check(r.returncode == 0, f"polarway-query over pyarrow's and Polars' files: exit {r.returncode} {r.stderr.strip()}")
if r.returncode == 0:
    got = json.loads(r.stdout)
    agree("pyarrow and Polars files", got["groups"], duckdb(foreign))
    check(len({g["day"] for g in got["groups"]}) == 2, "their rows fall on two UTC days")

# ---- hostile input --------------------------------------------------------------------------
bad = os.path.join(work, "bad")
shutil.copytree(foreign, bad)
with open(os.path.join(foreign, "pyarrow.parquet"), "rb") as f:
    data = f.read()
with open(os.path.join(bad, "truncated.parquet"), "wb") as f:
    f.write(data[: len(data) // 2])
r = run_query(bad)
check(r.returncode == 1 and "truncated.parquet" in r.stderr and r.stdout == "",
      f"a truncated file: exit 1 naming it ({r.returncode}: {r.stderr.strip()})")
os.remove(os.path.join(bad, "truncated.parquet"))
with open(os.path.join(bad, "notes.parquet"), "w") as f:
    f.write("these are not the rows you are looking for\n")
r = run_query(bad)
check(r.returncode == 1 and "notes.parquet" in r.stderr, f"a text file named .parquet: exit 1 naming it ({r.stderr.strip()})")
r = run_query(os.path.join(work, "missing"))
check(r.returncode == 1 and "missing" in r.stderr, f"a missing path: exit 1 naming it ({r.stderr.strip()})")
empty = os.path.join(work, "empty")
os.makedirs(empty)
r = run_query(empty)
check(r.returncode == 0 and json.loads(r.stdout)["groups"] == [], f"an empty directory: no group, exit {r.returncode}")
for args in (["--concurrency", "0"], ["--from", "tomorrow"], ["--bogus"]):
    r = run_query(out, *args)
    check(r.returncode == 2 and args[0] in r.stderr, f"usage error {' '.join(args)}: exit 2 ({r.stderr.strip()})")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
