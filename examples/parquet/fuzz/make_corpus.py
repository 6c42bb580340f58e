#!/usr/bin/env python3
"""Writes the seed corpora of the reader's fuzzers. parquet_fuzz_reader (corpus_reader): small
real Parquet files, so that the fuzzer starts from footers that other writers produce (pyarrow's
and Polars' defaults: statistics, dictionary pages, column orders, schema annotations) as well
as ours. parquet_fuzz_page_parts (corpus_page_parts): a mode header (see fuzz_page_parts.cpp)
and a hybrid-encoded stream or a compressed block. Re-run it only to change
the seeds; the files it writes are committed. Needs pyarrow and polars (build/venv of
scripts/setup.sh); our writer's seeds come from parquet_interop_writer's output directory.
usage: make_corpus.py FOOTER_DIR PAGE_PARTS_DIR INTEROP_WRITER_OUT_DIR"""
import datetime
import decimal
import shutil
import sys

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq


def trades_table():
    utc = datetime.timezone.utc
    t0 = datetime.datetime(2024, 11, 22, tzinfo=utc)
    return pa.table({
        "event_time": pa.array([t0, t0 + datetime.timedelta(milliseconds=5), None], pa.timestamp("ms", tz="UTC")),
        "symbol": pa.array(["BTCUSDT", "ETHUSDT", "BTCUSDT"], pa.string()),
        "trade_id": pa.array([1, 2, 3], pa.int64()),
        "price": pa.array([decimal.Decimal("97000.10000000"), decimal.Decimal("3100.5"), None], pa.decimal128(18, 8)),
        "qty": pa.array([1, -2, 3], pa.int32()),
        "ratio": pa.array([0.5, 1.25, None], pa.float64()),
        "maker": pa.array([True, False, None], pa.bool_()),
        "blob": pa.array([b"\x00\x01", b"", None], pa.binary()),
        "wide": pa.array([decimal.Decimal("1.5"), decimal.Decimal("-2"), None], pa.decimal128(30, 2)),
    })


def write_page_parts(out):
    def seed(name, header, body):
        with open(f"{out}/{name}", "wb") as fh:
            fh.write(bytes(header) + body)
    # Hybrid streams: an RLE run of 8 threes at width 2; a bit-packed group 0..7 at width 3.
    seed("rle_run", [0, 2, 1, 255], bytes([16, 3]))
    seed("bit_packed", [0, 3, 1, 7], bytes([3, 0x88, 0xC6, 0xFA]))
    seed("mixed_width_1", [0, 1, 2, 1], bytes([16, 1, 3, 0xA5]))
    page = b"".join(i.to_bytes(8, "little") for i in range(64))
    n = len(page)
    seed("plain", [1, n & 255, n >> 8, 0], page)
    seed("snappy", [2, n & 255, n >> 8, 0], pa.compress(page, codec="snappy", asbytes=True))
    seed("zstd", [3, n & 255, n >> 8, 0], pa.compress(page, codec="zstd", asbytes=True))


def main():
    out, parts, ours = sys.argv[1], sys.argv[2], sys.argv[3]
    write_page_parts(parts)
    t = trades_table()
    pq.write_table(t, f"{out}/pyarrow_default.parquet")
    pq.write_table(t, f"{out}/pyarrow_zstd_v1_pages.parquet", compression="zstd", data_page_version="1.0",
                   use_dictionary=False)
    pq.write_table(t, f"{out}/pyarrow_v2_pages.parquet", data_page_version="2.0", compression="none")
    pl.from_arrow(t).write_parquet(f"{out}/polars_default.parquet")
    for name in ("book_ticker_one_row.parquet", "trades_empty.parquet"):
        shutil.copy(f"{ours}/{name}", f"{out}/polarway_{name}")


if __name__ == "__main__":
    main()
