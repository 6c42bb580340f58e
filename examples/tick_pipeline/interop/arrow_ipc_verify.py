"""Reads arrow_ipc_sample's streams (bodies as they are and zstd-compressed) with pyarrow's
stream reader, validates every batch in full (validate(full=True): buffers, offsets, UTF-8,
decimal precision), and compares every value with what the sample wrote; reads them with
Polars' own IPC stream reader too (pl.read_ipc_stream), whose decimals must equal pyarrow's.
Usage: arrow_ipc_verify.py DIR"""
import decimal
import sys

import polars as pl
import pyarrow as pa

decimal.getcontext().prec = 40
RECV_BASE = 1_700_000_123_456_789_000
MAX = 999_999_999_999_999_999


def dec(raw):
    return decimal.Decimal(raw).scaleb(-8)


def expected(kind, i):
    sym = "BTCUSDT" if i % 3 == 0 else "ETHUSDT" if i % 3 == 1 else "A"
    t = 1_700_000_000_000 + i
    sent = None if i % 4 == 3 else t * 1_000_000 + 7
    p = MAX if i == 0 else -MAX if i == 1 else -1 if i == 2 else 2_500_000_000_000 + i
    q = -123_456_789 if i == 2 else 1 + i * 997
    recv = RECV_BASE + i
    if kind == "trade":
        return dict(event_time=t, symbol=sym, trade_id=1000 + i, price=dec(p), quantity=dec(q), trade_time=t - 1,
                    is_buyer_maker=i % 2 == 0, sent_time=sent, recv_time=recv)
    if kind == "agg_trade":
        return dict(event_time=t, symbol=sym, agg_trade_id=5000 + i, price=dec(p), quantity=dec(q),
                    first_trade_id=10 * i, last_trade_id=10 * i + 9, trade_time=t - 2, is_buyer_maker=i % 2 == 1,
                    sent_time=sent, recv_time=recv)
    event = recv // 1_000_000 if i % 5 == 4 else t
    return dict(update_id=9000 + i, symbol=sym, bid_price=dec(p), bid_qty=dec(q), ask_price=dec(-p),
                ask_qty=dec(q + 2), event_time=event, sent_time=sent, recv_time=recv)


def plain(table):
    """Columns as Python values, timestamps as their integers (no datetime rounding)."""
    out = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_timestamp(col.type):
            col = col.cast(pa.int64())
        out[name] = col.to_pylist()
    return out


def check_kind(path, kind, arrow_kind):
    reader = pa.ipc.open_stream(pa.OSFile(path, "rb"))
    schema = reader.schema
    assert schema.metadata == {b"polarway.kind": arrow_kind.encode()}, schema.metadata
    for f in schema:
        if pa.types.is_timestamp(f.type):
            assert f.type.tz == "UTC", f
            assert f.type.unit == ("ns" if f.name in ("sent_time", "recv_time") else "ms"), f
        if pa.types.is_decimal(f.type):
            assert (f.type.precision, f.type.scale, f.type.bit_width) == (18, 8, 128), f
        assert f.nullable == (f.name == "sent_time"), f
    batches = []
    while True:
        try:
            batch, meta = reader.read_next_batch_with_custom_metadata()
        except StopIteration:
            break
        batch.validate(full=True)
        batches.append((batch.num_rows, dict(meta) if meta else None, batch))
    shape = [(n, m) for n, m, _ in batches]
    assert shape == [(2, None), (0, {b"polarway.heartbeat": b"1700000000000000000"}), (1000, None),
                     (0, {b"polarway.closed": b"ingest stopped"})], shape
    table = pa.Table.from_batches([b for _, _, b in batches], schema=schema)
    got = plain(table)
    rows = 1002
    for name in schema.names:
        want = [expected(kind, i)[name] for i in range(rows)]
        assert got[name] == want, (kind, name, [(i, a, b) for i, (a, b) in enumerate(zip(got[name], want)) if a != b][:3])
    assert table.column("sent_time").null_count == rows // 4
    # Polars reads the file itself; its decimals are the same values, and so are their sums.
    df = pl.read_ipc_stream(path)
    price = "price" if kind != "book_ticker" else "bid_price"
    assert df.height == rows, df.height
    assert df[price].to_list() == got[price]
    assert df["symbol"].to_list() == got["symbol"]
    assert decimal.Decimal(str(df[price].sum())) == sum(expected(kind, i)[price] for i in range(rows))
    print(f"{path}: {rows} rows of {kind} in {len(batches)} batches, validated in full and equal to what was written")


def main():
    d = sys.argv[1]
    for kind, arrow_kind in (("trade", "trade"), ("agg_trade", "aggTrade"), ("book_ticker", "bookTicker")):
        check_kind(f"{d}/{kind}.arrows", kind, arrow_kind)
        check_kind(f"{d}/{kind}.zstd.arrows", kind, arrow_kind)
    reader = pa.ipc.open_stream(pa.OSFile(f"{d}/refused.arrows", "rb"))
    assert len(reader.schema) == 0
    assert reader.schema.metadata[b"polarway.error"].startswith(b"unknown kind depth"), reader.schema.metadata
    assert reader.read_all().num_rows == 0
    print("refused: no fields, polarway.error read")


if __name__ == "__main__":
    main()
