#!/usr/bin/python3
"""The Python baseline for the tick ingest benchmark: what a team would write instead of
polarway-ingest. asyncio + websockets (10.4) + json, reading the same feed (polarway-feed)
over loopback, decoding every message into a tuple of typed fields (prices as exact integers
of 1e-8 units, as the C++ decoder does), pushing the ticks through a bounded asyncio.Queue to
a counting sink task. Prints one JSON line: ticks, seconds, ticks/s.

  polarway-feed --listen 127.0.0.1:9443 --symbols 20 --count 500000 &
  python3 bench/compare/python/ingest_baseline.py --url 'ws://127.0.0.1:9443/stream?streams=btcusdt@trade' \
      --connections 1 --expect 500000
"""
import argparse
import asyncio
import json
import sys
import time

import websockets.client


def price_units(text):
    whole, _, frac = text.partition(".")
    frac = (frac + "00000000")[:8]
    return int(whole) * 100_000_000 + int(frac)


def decode(raw, combined):
    msg = json.loads(raw)
    d = msg["data"] if combined else msg
    e = d.get("e")
    if e == "trade":
        return ("trade", d["s"], d["E"], d["t"], price_units(d["p"]), price_units(d["q"]), d["T"], d["m"])
    if e == "aggTrade":
        return ("aggTrade", d["s"], d["E"], d["a"], price_units(d["p"]), price_units(d["q"]), d["f"], d["l"],
                d["T"], d["m"])
    return ("bookTicker", d["s"], d["u"], price_units(d["b"]), price_units(d["B"]), price_units(d["a"]),
            price_units(d["A"]))


async def connection(url, queue, stats):
    combined = "/stream" in url
    async with websockets.client.connect(url, max_size=1 << 20, ping_interval=None) as ws:
        async for raw in ws:
            try:
                tick = decode(raw, combined)
            except (ValueError, KeyError, TypeError):
                stats["errors"] += 1
                continue
            await queue.put(tick)


async def sink(queue, stats, expect, done):
    while True:
        tick = await queue.get()
        stats["ticks"] += 1
        stats["price_sum"] = (stats["price_sum"] + tick[4 if tick[0] != "bookTicker" else 3]) & ((1 << 64) - 1)
        if stats["ticks"] == 1:
            stats["start"] = time.perf_counter()
        if expect and stats["ticks"] >= expect:
            done.set()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--expect", type=int, default=0)
    ap.add_argument("--duration", type=float, default=60.0)
    a = ap.parse_args()
    queue = asyncio.Queue(maxsize=8192)
    stats = {"ticks": 0, "errors": 0, "price_sum": 0, "start": None}
    done = asyncio.Event()
    t0 = time.perf_counter()
    conns = [asyncio.create_task(connection(a.url, queue, stats)) for _ in range(a.connections)]
    s = asyncio.create_task(sink(queue, stats, a.expect, done))
    try:
        await asyncio.wait_for(done.wait(), a.duration)
    except asyncio.TimeoutError:
        pass
    t1 = time.perf_counter()
    for c in conns + [s]:
        c.cancel()
    elapsed = t1 - (stats["start"] or t0)
    print(json.dumps({"ticks": stats["ticks"], "errors": stats["errors"], "seconds": round(elapsed, 3),
                      "ticks_per_s": round(stats["ticks"] / elapsed if elapsed > 0 else 0, 1)}))


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
