#!/usr/bin/python3
"""polarway-ingest against an independent WebSocket implementation (python-websockets 10.4,
asyncio API) over real loopback sockets, both directions:

1. python server -> ingest client (--connect --once): text messages, a fragmented message,
   a binary message (decoded as JSON too, counted as binary), a non-JSON text message (a
   decode error, not a disconnect), pings from the server (ingest must pong: the server
   awaits every pong), then close 1000; the summary must count exactly what was sent.
2. python client -> ingest server (--listen): the same kinds of messages; python pings and
   awaits the pongs; closes with 1000 and checks that ingest echoes 1000; a second python
   client sends a frame with a reserved bit (raw bytes) and must see a 1002 close; then
   SIGTERM ends ingest with ticks_in == ticks_out.

Every wait has a timeout; the whole script stays well under 20 s."""
import asyncio
import json
import os
import re
import signal
import struct
import subprocess
import sys

import websockets
import websockets.client
import websockets.server

INGEST = sys.argv[1]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def trade(sym, i, combined):
    data = {"e": "trade", "E": 1672515782136 + i, "s": sym, "t": 1000 + i, "p": "16500.%02d" % (i % 100),
            "q": "0.001", "T": 1672515782130 + i, "m": bool(i & 1), "M": True}
    if combined:
        return json.dumps({"stream": sym.lower() + "@trade", "data": data}, separators=(",", ":"))
    return json.dumps(data, separators=(",", ":"))


async def feed_messages(ws, combined, n):
    """Sends n ticks in assorted framings; returns how many valid ticks were sent."""
    sent = 0
    for i in range(n):
        await ws.send(trade("BTCUSDT", i, combined))
        sent += 1
    msg = trade("ETHUSDT", n, combined)
    await ws.send([msg[:10], msg[10:25], msg[25:]])  # one message in three fragments
    sent += 1
    await ws.send(trade("BNBUSDT", n + 1, combined).encode())  # binary frame carrying JSON
    sent += 1
    await ws.send("this is not json")  # a decode error, counted; the connection stays
    for _ in range(3):
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 5)
    for i in range(n):
        await ws.send(trade("SOLUSDT", 2 * n + i, combined))
        sent += 1
    return sent


async def run_ingest(args, timeout=15):
    proc = await asyncio.create_subprocess_exec(INGEST, *args, "--quiet", stdout=subprocess.PIPE,
                                                stderr=subprocess.PIPE)
    return proc


async def direction_1():
    print("-- python server, ingest client")
    result = {}
    done = asyncio.Event()

    async def handler(ws, path):
        try:
            result["path"] = path
            result["sent"] = await feed_messages(ws, combined=path.startswith("/stream"), n=500)
            await ws.close(1000, "done")
            result["closed"] = ws.close_code
        finally:
            done.set()

    async with websockets.server.serve(handler, "127.0.0.1", 0, ping_interval=0.2, ping_timeout=5) as server:
        port = server.sockets[0].getsockname()[1]
        proc = await run_ingest(["--connect", f"ws://127.0.0.1:{port}/stream?streams=btcusdt@trade", "--once",
                                 "--duration", "15"])
        out, err = await asyncio.wait_for(proc.communicate(), 20)
        await asyncio.wait_for(done.wait(), 5)
    s = json.loads(out.decode().strip().splitlines()[-1])
    check(proc.returncode == 0, f"ingest exit status 0 (got {proc.returncode})")
    check(s["ticks_in"] == result.get("sent") == s["ticks_out"],
          f"ticks in/out {s['ticks_in']}/{s['ticks_out']} == sent {result.get('sent')}")
    check(s["binary_messages"] == 1, "one binary message counted (and decoded)")
    decode_errors = s["errors"]["malformed_json"] + s["errors"]["schema_error"]
    check(decode_errors == 1, f"the non-JSON text is one decode error ({s['errors']})")
    check(s["pings_answered"] >= 3, f"pings answered: {s['pings_answered']}")
    check(s["close_codes_received"]["normal_1000"] == 1, "server's close 1000 received")
    check(result.get("closed") == 1000, f"close handshake completed with 1000 ({result.get('closed')})")


async def direction_2():
    print("-- python client, ingest server (--listen)")
    proc = await run_ingest(["--listen", "127.0.0.1:0", "--duration", "15"])
    m = None
    for _ in range(100):  # a stall report from the runtime may come first on a loaded machine
        line = (await asyncio.wait_for(proc.stderr.readline(), 10)).decode()
        m = re.search(r"listening on (\S+)", line)
        if m or not line:
            break
    check(bool(m), "ingest is listening")
    addr = m.group(1)
    async with websockets.client.connect(f"ws://{addr}/ws/btcusdt@trade", ping_interval=None) as ws:
        sent = await feed_messages(ws, combined=False, n=300)
        await ws.close(1000)
        check(ws.close_code == 1000, f"ingest echoed close 1000 (got {ws.close_code})")
    async with websockets.client.connect(f"ws://{addr}/stream?streams=btcusdt@trade", ping_interval=None) as ws:
        for i in range(200):
            await ws.send(trade("BTCUSDT", i, True))
        sent += 200
        # A raw frame with RSV1 set, written under the library: ingest must fail it with 1002.
        frame = bytes([0xC1, 0x80 | 2]) + b"\0\0\0\0" + b"{}"
        ws.transport.write(frame)
        try:
            await asyncio.wait_for(ws.wait_closed(), 5)
        except asyncio.TimeoutError:
            pass
        check(ws.close_code == 1002, f"reserved bit -> close 1002 (got {ws.close_code})")
    proc.send_signal(signal.SIGTERM)
    out, err = await asyncio.wait_for(proc.communicate(), 15)
    s = json.loads(out.decode().strip().splitlines()[-1])
    check(proc.returncode == 0, f"ingest exit 0 after SIGTERM (got {proc.returncode})")
    check(s["ticks_in"] == s["ticks_out"] == sent, f"ticks in/out {s['ticks_in']}/{s['ticks_out']} == sent {sent}")
    check(s["errors"]["websocket"].get("reserved_bits") == 1, "reserved_bits counted once")
    check(s["pings_answered"] >= 3, f"pings answered: {s['pings_answered']}")


async def main():
    await asyncio.wait_for(direction_1(), 30)
    await asyncio.wait_for(direction_2(), 30)


asyncio.run(main())
print("FAILED: " + "; ".join(failures) if failures else "all passed")
sys.exit(1 if failures else 0)
