"""Writes the reader interop test's trades table with pyarrow (pq.write_table, defaults) and
Polars (DataFrame.write_parquet, defaults) into OUT_DIR as pyarrow.parquet and polars.parquet.
The table is the one read_foreign.cpp expects and write_foreign.mjs writes with DuckDB; keep
the three in step. usage: write_foreign.py OUT_DIR"""
import datetime
import decimal
import sys

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

UTC = datetime.timezone.utc
EVENT_MS = [1732233600000 + 250 * i for i in range(5)]
SYMBOL = ["BTCUSDT", "ETHUSDT", "BTCUSDT", "SOLUSDT", "BTCUSDT"]
TRADE_ID = [4242, 4243, -1, 9007199254740993, 0]
PRICE = ["97000.10000000", "3100.5", "0.00000001", "-12.34", "9999999999.99999999"]
QUANTITY = ["0.0015", None, "1", "2.5", "0"]
MAKER = [True, False, True, None, False]
NOTE = ["a", None, "\u00fc", "", "xxx"]


def table():
    dec = lambda v: None if v is None else decimal.Decimal(v)  # noqa: E731
    return pa.table({
        "event_time": pa.array([datetime.datetime.fromtimestamp(ms / 1000, UTC) for ms in EVENT_MS],
                               pa.timestamp("ms", tz="UTC")),
        "symbol": pa.array(SYMBOL, pa.string()),
        "trade_id": pa.array(TRADE_ID, pa.int64()),
        "price": pa.array([dec(v) for v in PRICE], pa.decimal128(18, 8)),
        "quantity": pa.array([dec(v) for v in QUANTITY], pa.decimal128(18, 8)),
        "is_buyer_maker": pa.array(MAKER, pa.bool_()),
        "note": pa.array(NOTE, pa.string()),
    })


def main():
    out = sys.argv[1]
    t = table()
    pq.write_table(t, f"{out}/pyarrow.parquet")
    pl.from_arrow(t).write_parquet(f"{out}/polars.parquet")


if __name__ == "__main__":
    main()
