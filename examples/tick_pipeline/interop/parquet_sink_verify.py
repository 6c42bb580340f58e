"""Reads back what the tick Parquet sink wrote, with pyarrow (Arrow C++'s reader) and with
Polars; parquet_sink_verify.mjs does the same with DuckDB. In every mode, each part file is read
whole by both readers and must have, for both, the stream's schema (DECIMAL(18, 8) prices and
quantities, TIMESTAMP(MILLIS) adjusted to UTC; in pyarrow also required columns and the Parquet
physical, converted and logical types), the key-value metadata of its path (polarway.stream,
.symbol, .date, .part, .sink), as many rows as its footer says and no null; in pyarrow, the
writer's created_by, and chunk statistics (null counts, value counts, min/max of every column)
that equal what the reader computes from the values.

  parquet_sink_verify.py expected <dir>  every partition of <dir>/expected.json: row counts,
      exact per-column sums, min/max, true counts, event times inside the partition's UTC day,
      sampled rows (by id), the codec; every file under each root matches the partition pattern
      and no temporary file is left; per-stream files, bytes and rows equal the sink's counters.
  parquet_sink_verify.py any <root>     every visible part file (after a kill -9) is complete:
      both readers decode every row of it. Temporary files are counted, not read.
  parquet_sink_verify.py summary <file>  polarway-demo's read-back (scripts/demo.sh): <file>
      holds the demo's stdout, whose last line is its JSON summary. Every part file under the
      summary's parquet.dir is read; per reader, the row count and the exact sums of price and
      quantity (bid + ask for bookTicker, modulo 2^64 like the feed's totals) must equal the
      feed's (feed_sent), the rows per stream the sink's counters; the files must be the sink's
      files_written, the codec the one asked for, and no temporary or foreign file is there.
      Prints its verdict on stderr (stdout is the summary's).

A file a reader refuses is a failure naming the file and the reader. Exits 1 listing every
failure, 0 when every check passed.
Usage: build/venv/bin/python parquet_sink_verify.py expected|any <dir> | summary <file>
"""
import datetime
import json
import os
import re
import sys

# The readers are shared with the Parquet writer's interop verifier.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "parquet", "interop"))
from parquet_readers import PYARROW, READERS, Checks, compare_summary, footer, footer_bounds  # noqa: E402


def _column(name, kind, **more):
    return {"name": name, "type": kind, "unit": "millis", "precision": 0, "scale": 0, "optional": False, **more}


def _time(name):
    return _column(name, "timestamp")


def _decimal(name):
    return _column(name, "decimal", precision=18, scale=8)


# pw_parquet::ticks' schemas (examples/parquet/include/pw_parquet/tick_schemas.hpp), per stream.
SCHEMAS = {
    "trade": [_time("event_time"), _column("symbol", "string"), _column("trade_id", "int64"), _decimal("price"),
              _decimal("quantity"), _time("trade_time"), _column("is_buyer_maker", "boolean")],
    "aggTrade": [_time("event_time"), _column("symbol", "string"), _column("agg_trade_id", "int64"),
                 _decimal("price"), _decimal("quantity"), _column("first_trade_id", "int64"),
                 _column("last_trade_id", "int64"), _time("trade_time"), _column("is_buyer_maker", "boolean")],
    "bookTicker": [_column("update_id", "int64"), _column("symbol", "string"), _decimal("bid_price"),
                   _decimal("bid_qty"), _decimal("ask_price"), _decimal("ask_qty"), _time("event_time")],
}
ID_COLUMN = {"trade": "trade_id", "aggTrade": "agg_trade_id", "bookTicker": "update_id"}
# The columns whose sums the feed reports as price_sum and quantity_sum.
PRICE_COLUMNS = {"trade": ["price"], "aggTrade": ["price"], "bookTicker": ["bid_price", "ask_price"]}
QUANTITY_COLUMNS = {"trade": ["quantity"], "aggTrade": ["quantity"], "bookTicker": ["bid_qty", "ask_qty"]}

PARTITION = r"(trade|aggTrade|bookTicker)/symbol=([A-Z0-9]{1,20})/date=(\d{4}-\d{2}-\d{2})/"
PART_FILE = re.compile(PARTITION + r"part-(\d{5,9})\.parquet")
TEMP_FILE = re.compile(PARTITION + r"\.part-\d{5,9}\.parquet\.tmp")
LOCK_FILE = ".polarway-parquet-sink.lock"
# The key-value metadata that names a file's partition and part number, as its path does.
PATH_KEYS = ("polarway.stream", "polarway.symbol", "polarway.date", "polarway.part")
SINK_NAME = "polarway tick parquet sink "
CREATED_BY = "polarway parquet writer version "
DAY_MS = 86_400_000


def classify(root):
    """Part files, temporaries and anything else under root (paths relative to it, sorted)."""
    parts, temps, others = [], [], []
    for directory, _, names in os.walk(root):
        for name in names:
            rel = os.path.relpath(os.path.join(directory, name), root)
            if PART_FILE.fullmatch(rel):
                parts.append(rel)
            elif TEMP_FILE.fullmatch(rel):
                temps.append(rel)
            elif rel != LOCK_FILE:
                others.append(rel)
    return sorted(parts), sorted(temps), sorted(others)


def read_part(checks, root, rel, codec=None):
    """Reads one part file with both readers and checks what holds for every part file (see the
    module's doc). Returns {reader: (table, summaries)} for the readers that read it."""
    stream, symbol, date, part = PART_FILE.fullmatch(rel).groups()
    columns = SCHEMAS[stream]
    path = os.path.join(root, rel)
    footer_rows, chunks, read = None, None, {}
    with checks.reading(path, "pyarrow (footer)"):
        metadata, chunks = footer(path)
        footer_rows = metadata.num_rows
        checks.true(metadata.created_by.startswith(CREATED_BY), f"{path} created_by {metadata.created_by!r}")
        if codec is not None:
            checks.eq({c for f in chunks.values() for c in f["codecs"]}, {codec.upper()}, f"{path} codec")
    for reader in READERS:
        label = f"{path} {reader.name}"
        with checks.reading(path, reader.name):
            reader.check_schema(checks, label, columns, path)
            kv = reader.key_value(path)
            checks.eq({k: kv.get(k) for k in PATH_KEYS}, dict(zip(PATH_KEYS, (stream, symbol, date, str(int(part))))),
                      f"{label} key-value metadata")
            sink = kv.get("polarway.sink", "")
            checks.true(sink.startswith(SINK_NAME), f"{label} polarway.sink {sink!r}")
            table = reader.read(path)
            summaries = reader.summaries(columns, table)
            checks.eq(reader.rows(table), footer_rows, f"{label} rows vs the footer's num_rows")
            for col in columns:
                checks.eq(summaries[col["name"]]["nulls"], 0, f"{label} {col['name']} nulls")
            read[reader] = (table, summaries)
    if chunks is not None and PYARROW in read and footer_rows:
        # The chunk statistics, folded over the row groups, must bound every column exactly:
        # the values pyarrow decoded.
        summaries = read[PYARROW][1]
        for col in columns:
            name = col["name"]
            f, s = chunks.get(name), summaries[name]
            if f is None:
                checks.fail(f"{path} {name}: no column chunks in the footer")
                continue
            lo, hi = footer_bounds(col, s)
            checks.eq(f["stats_chunks"], f["chunks"], f"{path} {name} chunks with statistics")
            checks.eq(f["null_count"], 0, f"{path} {name} stats null_count")
            checks.eq(f["values"], s["count"], f"{path} {name} stats num_values")
            checks.eq(f["min"], lo, f"{path} {name} stats min")
            checks.eq(f["max"], hi, f"{path} {name} stats max")
    return read


def day_start_ms(date):
    return (datetime.date.fromisoformat(date) - datetime.date(1970, 1, 1)).days * DAY_MS


def check_partition(checks, p, tables):
    """One partition of expected.json against each reader's rows of its files."""
    where = f"{p['root']}/{p['stream']}/symbol={p['symbol']}/date={p['date']}"
    columns = SCHEMAS[p["stream"]]
    for reader in READERS:
        label = f"{where} {reader.name}"
        if not tables.get(reader.name):
            checks.fail(f"{label}: no file of the partition was read")
            continue
        with checks.reading(where, reader.name):
            table = reader.concat(tables[reader.name])
            s = reader.summaries(columns, table)
            checks.eq(reader.rows(table), p["rows"], f"{label} rows")
            compare_summary(checks, f"{label} symbol", s["symbol"],
                            {"nulls": 0, "distinct": 1, "min": p["symbol"], "max": p["symbol"]})
            start = day_start_ms(p["date"])
            event = s["event_time"]
            checks.true(event["min"] >= start and event["max"] < start + DAY_MS,
                        f"{label} event_time {event['min']}..{event['max']} outside {p['date']}")
            if p["stream"] != "bookTicker":
                checks.eq(s["is_buyer_maker"]["true_count"], p["true_count"], f"{label} is_buyer_maker true count")
            for name, want in p["columns"].items():
                compare_summary(checks, f"{label} {name}", s[name],
                                {"nulls": 0, "sum": int(want["sum"]), "min": int(want["min"]), "max": int(want["max"])})
            # Sampled rows, found by their id (unique per symbol and stream).
            id_column = ID_COLUMN[p["stream"]]
            ids = [int(sample[id_column]) for sample in p["samples"]]
            found = {row[id_column]: row for row in reader.rows_where(columns, table, id_column, ids)}
            checks.eq(len(found), len(ids), f"{label} sampled rows found")
            for sample in p["samples"]:
                row = found.get(int(sample[id_column]))
                if row is None:
                    continue
                for col in columns:
                    want = sample[col["name"]]
                    want = int(want) if col["type"] not in ("string", "boolean") else want
                    checks.eq(row[col["name"]], want, f"{label} row {id_column}={sample[id_column]} {col['name']}")


def verify_expected(checks, directory):
    with open(os.path.join(directory, "expected.json"), encoding="utf-8") as f:
        expected = json.load(f)
    by_partition = {}  # (root, stream, symbol, date) -> {reader name: [tables]}
    for r in expected["roots"]:
        root = r["root"]
        parts, temps, others = classify(root)
        checks.eq(temps, [], f"{root} temporary files left")
        checks.eq(others, [], f"{root} files outside the partition pattern")
        checks.eq(len(parts), r["files"], f"{root} part files")
        rows = {(stream, reader.name): 0 for stream in SCHEMAS for reader in READERS}
        for rel in parts:
            stream, symbol, date, _ = PART_FILE.fullmatch(rel).groups()
            tables = by_partition.setdefault((root, stream, symbol, date), {})
            for reader, (table, _) in read_part(checks, root, rel, r["codec"]).items():
                tables.setdefault(reader.name, []).append(table)
                rows[stream, reader.name] += reader.rows(table)
        # Stream totals as each reader counts them, against the sink's counters.
        for stream, s in r["streams"].items():
            files = [rel for rel in parts if rel.startswith(f"{stream}/")]
            checks.eq(len(files), s["files"], f"{root} {stream} files")
            size = sum(os.path.getsize(os.path.join(root, rel)) for rel in files)
            checks.eq(size, s["bytes"], f"{root} {stream} bytes")
            for reader in READERS:
                checks.eq(rows[stream, reader.name], s["rows"], f"{root} {stream} {reader.name} rows")
    for p in expected["partitions"]:
        check_partition(checks, p, by_partition.get((p["root"], p["stream"], p["symbol"], p["date"]), {}))
    print(f"parquet sink read-back ({', '.join(r.title for r in READERS)}): {len(expected['partitions'])} partitions "
          f"in {len(expected['roots'])} roots, {checks.count} checks")


def verify_any(checks, root):
    parts, temps, others = classify(root)
    checks.eq(others, [], f"{root} files outside the partition pattern")
    checks.true(len(parts) > 0, f"{root}: no part file to read")
    rows = {reader.name: 0 for reader in READERS}
    for rel in parts:
        for reader, (table, _) in read_part(checks, root, rel).items():
            rows[reader.name] += reader.rows(table)
    counts = ", ".join(f"{r.title}: {rows[r.name]} rows" for r in READERS)
    print(f"parquet sink crash check: {len(parts)} visible files ({counts}); {len(temps)} temporary files")


def verify_summary(checks, summary_path):
    with open(summary_path, encoding="utf-8") as f:
        lines = f.read().strip().splitlines()
    summary = json.loads(lines[-1]) if lines else {}  # Python's ints hold the uint64 sums exactly
    out, sent = summary.get("parquet"), summary.get("feed_sent")
    if not out or not sent:
        print("read-back skipped: this run wrote no Parquet (--sink count)", file=sys.stderr)
        return False
    root = out["dir"]
    parts, temps, others = classify(root)
    checks.eq(temps, [], f"{root}: temporary files left")
    checks.eq(others, [], f"{root}: files outside the partition pattern")
    checks.eq(len(parts), out["files_written"], f"{root}: part files (the sink's files_written)")
    totals = {reader.name: {"rows": 0, "price": 0, "quantity": 0} for reader in READERS}
    stream_rows = {(stream, reader.name): 0 for stream in SCHEMAS for reader in READERS}
    for rel in parts:
        stream = rel.split("/")[0]
        for reader, (table, s) in read_part(checks, root, rel, out["codec"]).items():
            t = totals[reader.name]
            stream_rows[stream, reader.name] += reader.rows(table)
            t["rows"] += reader.rows(table)
            t["price"] += sum(s[c]["sum"] for c in PRICE_COLUMNS[stream])
            t["quantity"] += sum(s[c]["sum"] for c in QUANTITY_COLUMNS[stream])
    mod64 = (1 << 64) - 1  # the feed's sums are uint64 and wrap
    for reader in READERS:
        t = totals[reader.name]
        for stream in SCHEMAS:
            want = out["streams"].get(stream, {}).get("rows_written", 0)
            checks.eq(stream_rows[stream, reader.name], want, f"{reader.name}: {stream} rows (the sink's rows_written)")
        got = (t["rows"], t["price"] & mod64, t["quantity"] & mod64)
        want = (sent["count"], sent["price_sum"], sent["quantity_sum"])
        checks.eq(got[0], want[0], f"{reader.name}: rows vs the feed's count")
        checks.eq(got[1], want[1], f"{reader.name}: sum of price vs the feed's (mod 2^64)")
        checks.eq(got[2], want[2], f"{reader.name}: sum of quantity vs the feed's (mod 2^64)")
        equal = got == want
        print(f"read-back ({reader.product}): {t['rows']} rows in {len(parts)} files, "
              f"{'sums EQUAL' if equal else 'MISMATCH'}", file=sys.stderr)
    return True


def main(argv):
    if len(argv) != 3 or argv[1] not in ("expected", "any", "summary"):
        print(__doc__, file=sys.stderr)
        return 2
    mode, target = argv[1], argv[2]
    checks = Checks()
    if mode == "expected":
        verify_expected(checks, target)
    elif mode == "any":
        verify_any(checks, target)
    elif not verify_summary(checks, target):
        return 0
    # The summary mode's stdout is the demo's summary: its verdicts go to stderr.
    return checks.report(out=sys.stderr if mode == "summary" else sys.stdout, limit=50)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
