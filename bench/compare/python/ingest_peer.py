#!/usr/bin/env python3
"""The Python peer for the tick ingest benchmark: what a team would write instead of
polarway-ingest, in one of two stacks (--stack):

  uvloop-orjson  uvloop's event loop + websockets (its asyncio implementation) + orjson: the
                 strongest Python pipeline a team would write today (the default)
  asyncio-json   the standard library's asyncio loop and json + websockets: the seeds' baseline

Either reads the same feed (polarway-feed) over loopback, decoding every message into a tuple of
typed fields (prices as exact integers of 1e-8 units, as the C++ decoder does), pushing the
ticks through a bounded asyncio.Queue to a counting sink task that keeps the same running totals
as polarway's counting sink (count, price and quantity sums of 1e-8 units, modulo 2^64,
bookTicker = bid + ask), so a run can be checked against the feed's own totals. Prints one JSON
line: stack, ticks, errors, seconds (from the first tick to the last), ticks/s, price_sum,
quantity_sum, ok. Exit status 1 if --expect was not reached or a message did not decode.

  polarway-feed --listen 127.0.0.1:9443 --symbols 20 --count 500000 &
  build/venv/bin/python bench/compare/python/ingest_peer.py --stack uvloop-orjson \
      --url 'ws://127.0.0.1:9443/stream?streams=btcusdt@trade' --connections 1 --expect 500000

--url may be repeated; each URL is connected --connections times. The run ends when --expect
ticks have been counted, when every connection has ended (the feed closes after its --count),
or after --duration seconds. bench/pipeline/run.sh runs both stacks against polarway-feed, with
the Python environment scripts/setup.sh builds (PyPI's uvloop, websockets and orjson, pinned).
"""
import argparse
import asyncio
import json
import sys
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedOK


def price_units(text):
    whole, _, frac = text.partition(".")
    frac = (frac + "00000000")[:8]
    return int(whole) * 100_000_000 + int(frac)


def decode(raw, combined, loads):
    msg = loads(raw)
    d = msg["data"] if combined else msg
    e = d.get("e")
    # (kind, symbol, ..., price, quantity, ...): price and quantity at [4] and [5] for trades;
    # bookTicker is (kind, symbol, u, bid, bid qty, ask, ask qty).
    if e == "trade":
        return ("trade", d["s"], d["E"], d["t"], price_units(d["p"]), price_units(d["q"]), d["T"], d["m"])
    if e == "aggTrade":
        return ("aggTrade", d["s"], d["E"], d["a"], price_units(d["p"]), price_units(d["q"]), d["f"], d["l"],
                d["T"], d["m"])
    return ("bookTicker", d["s"], d["u"], price_units(d["b"]), price_units(d["B"]), price_units(d["a"]),
            price_units(d["A"]))


async def connection(url, queue, stats, loads):
    combined = "/stream" in url
    # Frames as bytes: both json and orjson parse UTF-8 bytes, and websockets then skips the
    # decode to str.
    async with connect(url, max_size=1 << 20, ping_interval=None, compression=None) as ws:
        while True:
            try:
                raw = await ws.recv(decode=False)
            except ConnectionClosedOK:  # the feed closes cleanly after its --count
                return
            try:
                tick = decode(raw, combined, loads)
            except (ValueError, KeyError, TypeError):
                stats["errors"] += 1
                continue
            await queue.put(tick)


MASK64 = (1 << 64) - 1


async def sink(queue, stats, expect, done):
    while True:
        tick = await queue.get()
        if tick is None:  # every connection has ended
            done.set()
            continue
        stats["ticks"] += 1
        if tick[0] != "bookTicker":
            stats["price_sum"] = (stats["price_sum"] + tick[4]) & MASK64
            stats["quantity_sum"] = (stats["quantity_sum"] + tick[5]) & MASK64
        else:
            stats["price_sum"] = (stats["price_sum"] + tick[3] + tick[5]) & MASK64
            stats["quantity_sum"] = (stats["quantity_sum"] + tick[4] + tick[6]) & MASK64
        if stats["ticks"] == 1:
            stats["start"] = time.perf_counter()
        if expect and stats["ticks"] >= expect:
            stats["end"] = time.perf_counter()
            done.set()


async def all_connections(urls, connections, queue, stats, loads):
    """Runs every connection; a failed one is counted, not fatal to the others."""
    tasks = [asyncio.create_task(connection(u, queue, stats, loads)) for u in urls for _ in range(connections)]
    for r in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
            stats["connection_errors"] += 1
            print(f"ingest_peer: connection failed: {type(r).__name__}: {r}", file=sys.stderr)
    await queue.put(None)


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stack", choices=STACKS, default="uvloop-orjson",
                    help="event loop and JSON parser (default: uvloop-orjson)")
    ap.add_argument("--url", required=True, action="append", help="feed URL (repeatable)")
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--expect", type=int, default=0)
    ap.add_argument("--duration", type=float, default=60.0)
    return ap.parse_args()


async def main(a, loads):
    queue = asyncio.Queue(maxsize=8192)
    stats = {"ticks": 0, "errors": 0, "connection_errors": 0, "price_sum": 0, "quantity_sum": 0,
             "start": None, "end": None}
    done = asyncio.Event()
    t0 = time.perf_counter()
    conns = [asyncio.create_task(all_connections(a.url, a.connections, queue, stats, loads))]
    s = asyncio.create_task(sink(queue, stats, a.expect, done))
    try:
        await asyncio.wait_for(done.wait(), a.duration)
    except asyncio.TimeoutError:
        pass
    t1 = stats["end"] or time.perf_counter()
    for c in conns + [s]:
        c.cancel()
    elapsed = t1 - (stats["start"] or t0)
    ok = (not a.expect or stats["ticks"] == a.expect) and not stats["errors"] and not stats["connection_errors"]
    print(json.dumps({"stack": a.stack, "ticks": stats["ticks"], "errors": stats["errors"],
                      "connection_errors": stats["connection_errors"], "seconds": round(elapsed, 3),
                      "ticks_per_s": round(stats["ticks"] / elapsed if elapsed > 0 else 0, 1),
                      "price_sum": stats["price_sum"], "quantity_sum": stats["quantity_sum"], "ok": ok}),
          flush=True)
    return 0 if ok else 1


STACKS = ("uvloop-orjson", "asyncio-json")


def stack(name):
    """(run, loads) of a stack: the event loop's entry point and the JSON parser."""
    if name == "uvloop-orjson":
        import orjson
        import uvloop
        return uvloop.run, orjson.loads
    return asyncio.run, json.loads


if __name__ == "__main__":
    args = parse_args()
    run, loads = stack(args.stack)
    sys.exit(run(main(args, loads)))
