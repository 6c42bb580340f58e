"""Throughput of the tick stream decoder, and of whole subscriptions over a Unix socket.

    build/venv/bin/python python/tests/bench_decoder.py [--rows 4096] [--batches 500]

"decoder" feeds a pyarrow-written trade stream to TickStreamDecoder from memory, 1 MiB at a
time through one reused buffer as a socket read would. "sync" and "async" receive the same
stream through a subscription from a server thread writing to a Unix socket. Every batch is
decoded, validated and counted; the figure is ticks (rows) per second of wall time.
"""

import argparse
import asyncio
import io
import os
import socket
import sys
import tempfile
import threading
import time

import pyarrow as pa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import make_batch  # noqa: E402
from polarway_ticks import Closed, TickStreamDecoder, subscribe, tick_schema  # noqa: E402

CHUNK = 1 << 20


def trade_stream(rows, batches):
    batch = make_batch("trade", rows, ("BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT"))
    empty = pa.RecordBatch.from_pylist([], schema=tick_schema("trade"))
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, tick_schema("trade")) as writer:
        for _ in range(batches):
            writer.write_batch(batch)
        writer.write_batch(empty, custom_metadata={"polarway.closed": "benchmark over"})
    return sink.getvalue()


def decoder_ticks(data):
    decoder = TickStreamDecoder("trade")
    receive = bytearray(CHUNK)
    view = memoryview(data)
    ticks = 0
    for offset in range(0, len(data), CHUNK):
        piece = view[offset : offset + CHUNK]
        receive[: len(piece)] = piece
        for event in decoder.feed(memoryview(receive)[: len(piece)]):
            if isinstance(event, pa.RecordBatch):
                ticks += event.num_rows
    return ticks


def serve_once(path, data):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)

    def serve():
        connection, _ = listener.accept()
        with connection:
            while not connection.recv(4096).endswith(b"\n"):
                pass
            connection.sendall(data)
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


def subscription_ticks(url, mode):
    ticks = 0
    subscription = subscribe(url)
    if mode == "sync":
        for item in subscription:
            if isinstance(item, pa.RecordBatch):
                ticks += item.num_rows
            elif isinstance(item, Closed):
                assert item.orderly, item
        return ticks

    async def receive():
        nonlocal ticks
        async with subscription:
            async for item in subscription:
                if isinstance(item, pa.RecordBatch):
                    ticks += item.num_rows
                elif isinstance(item, Closed):
                    assert item.orderly, item

    asyncio.run(receive())
    return ticks


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=4096, help="rows per batch")
    parser.add_argument("--batches", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best is shown")
    arguments = parser.parse_args()
    data = trade_stream(arguments.rows, arguments.batches)
    expected = arguments.rows * arguments.batches
    print(f"trade stream: {arguments.batches} batches of {arguments.rows} rows, {len(data) / 1e6:.1f} MB")
    with tempfile.TemporaryDirectory() as directory:
        for mode in ("decoder", "sync", "async"):
            best = None
            for run in range(arguments.repeat):
                path = os.path.join(directory, f"{mode}{run}.sock")
                server = None if mode == "decoder" else serve_once(path, data)
                started = time.perf_counter()
                ticks = decoder_ticks(data) if mode == "decoder" else subscription_ticks("unix:" + path, mode)
                seconds = time.perf_counter() - started
                if server is not None:
                    server.join()
                assert ticks == expected, (mode, ticks, expected)
                best = seconds if best is None else min(best, seconds)
            print(f"{mode:8} {expected / best / 1e6:7.2f} M ticks/s  {arguments.batches / best / 1e3:7.1f} k batches/s"
                  f"  {len(data) / best / 1e9:5.2f} GB/s")


if __name__ == "__main__":
    main()
