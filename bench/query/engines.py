"""The batch aggregate of bench/query as the peers compute it, one engine per call:
  engines.py polars DIR     Polars scan_parquet over DIR/**/*.parquet (lazy, multi-threaded)
  engines.py pyarrow DIR    a sequential loop: pyarrow reads each file's four columns, groups it,
                            and the per-file groups are merged (the seeds' baseline)
Each prints one JSON line: per symbol and UTC day, count and the sums of price, quantity and
notional as exact decimal strings, so that run.py can check every engine gave the same answer;
and on stderr "query: S s", the time from the first read to the answer (imports excluded)."""
import decimal
import glob
import json
import os
import sys
import time

D = decimal.Decimal
decimal.getcontext().prec = 80


def polars_scan(path):
    import polars as pl
    files = sorted(glob.glob(os.path.join(path, "**", "*.parquet"), recursive=True))
    df = (pl.scan_parquet(files)
          .select("symbol", "price", "quantity", "trade_time")
          .with_columns((pl.col("trade_time").dt.epoch("ms") // 86_400_000).alias("day"),
                        (pl.col("price").cast(pl.Decimal(38, 16)) * pl.col("quantity")).alias("notional"))
          .group_by("symbol", "day")
          .agg(pl.len().alias("count"), pl.col("price").cast(pl.Decimal(38, 8)).sum().alias("sum_price"),
               pl.col("quantity").cast(pl.Decimal(38, 8)).sum().alias("sum_quantity"),
               pl.col("notional").sum(), pl.col("price").min().alias("min_price"),
               pl.col("price").max().alias("max_price"), pl.col("trade_time").min().alias("first"),
               pl.col("trade_time").max().alias("last"))
          .collect())
    return {f"{r['symbol']} {r['day']}": [r["count"], str(r["sum_price"]), str(r["sum_quantity"]), str(r["notional"])]
            for r in df.iter_rows(named=True)}


def pyarrow_loop(path):
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    files = sorted(glob.glob(os.path.join(path, "**", "*.parquet"), recursive=True))
    out = {}
    for f in files:
        t = pq.read_table(f, columns=["symbol", "price", "quantity", "trade_time"])
        day = pc.divide(pc.cast(pc.cast(t["trade_time"], "timestamp[ms]"), "int64"), 86_400_000)
        notional = pc.multiply(t["price"], t["quantity"])  # decimal128(37, 16): exact
        price = pc.cast(t["price"], pa.decimal128(38, 8))
        qty = pc.cast(t["quantity"], pa.decimal128(38, 8))
        t = t.append_column("day", day).append_column("notional", notional)
        t = t.set_column(t.schema.get_field_index("price"), "price", price)
        t = t.set_column(t.schema.get_field_index("quantity"), "quantity", qty)
        g = t.group_by(["symbol", "day"]).aggregate(
            [("price", "count"), ("price", "sum"), ("quantity", "sum"), ("notional", "sum"), ("price", "min"),
             ("price", "max"), ("trade_time", "min"), ("trade_time", "max")])
        for r in g.to_pylist():
            k = f"{r['symbol']} {r['day']}"
            cur = out.setdefault(k, [0, D(0), D(0), D(0)])
            cur[0] += r["price_count"]
            cur[1] += r["price_sum"]
            cur[2] += r["quantity_sum"]
            cur[3] += r["notional_sum"]
    return {k: [v[0], str(v[1]), str(v[2]), str(v[3])] for k, v in out.items()}


if __name__ == "__main__":
    engine, path = sys.argv[1:3]
    run = {"polars": polars_scan, "pyarrow": pyarrow_loop}[engine]
    # The libraries are imported before the clock starts.
    if engine == "polars":
        import polars  # noqa: F401
    else:
        import pyarrow.compute  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    start = time.monotonic()
    answer = run(path)
    print(f"query: {time.monotonic() - start} s", file=sys.stderr)
    print(json.dumps(answer))
