#!/usr/bin/env python3
"""polarway-ingest --backfill end to end, over real processes and sockets.

A feed with a rate is a market; --disconnect-every makes it reset every connection after N
messages, so each reconnect misses what the market produced meanwhile. The ingest must fetch
those ids from the feed's REST history and write every id exactly once, in the Parquet output:
per symbol, count == distinct ids == last - first + 1, and every row's price, quantity and
times equal what the feed's REST history says for that id (the stream's values, byte for byte).
Without an API key a trade gap cannot be filled: exit status 1, and 0 with --allow-gaps.

usage: backfill_e2e.py FEED INGEST WORK_DIR   (run by a Python that has pyarrow)
"""
import decimal
import json
import os
import urllib.request
import re
import shutil
import signal
import subprocess
import sys

import pyarrow.dataset as ds

FEED, INGEST, WORK = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def start_feed(kind, extra=()):
    # An endless market (no --count): the ingest stops at --expect, and every id it saw is
    # still in the feed's history to compare with.
    feed = subprocess.Popen([FEED, "--listen", "127.0.0.1:0", "--symbols", "4", "--kind", kind, "--rate", "100000",
                             "--disconnect-every", "20000", "--quiet", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = feed.stderr.readline()
    port = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not port:
        feed.kill()
        raise SystemExit("feed did not say where it listens: " + line)
    return feed, port.group(1)


def stop_feed(feed):
    feed.send_signal(signal.SIGINT)
    feed.communicate(timeout=30)


def run_ingest(port, out, until, extra=()):
    summary = os.path.join(WORK, "summary.json")
    r = subprocess.run([INGEST, "--connect", f"ws://127.0.0.1:{port}/", "--backfill", "--out", out, *until,
                        "--quiet", "--backoff-initial", "0.01", "--json-summary", summary, *extra],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120)
    with open(summary) as f:
        return r.returncode, json.load(f), r.stderr


def history(port, kind, symbol, first, last):
    """The feed's REST rows for ids first..last: {id: (price, quantity, trade time ms)}."""
    path, id_key, p_key, q_key, t_key = (("historicalTrades", "id", "price", "qty", "time") if kind == "trade"
                                         else ("aggTrades", "a", "p", "q", "T"))
    rows = {}
    while first <= last:
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v3/{path}?symbol={symbol}&fromId={first}&limit=1000",
                                     headers={"X-MBX-APIKEY": "test-key-1"})
        with urllib.request.urlopen(req, timeout=30) as r:
            page = json.load(r)
        if not page:
            break
        for row in page:
            if row[id_key] <= last:
                rows[row[id_key]] = (decimal.Decimal(row[p_key]), decimal.Decimal(row[q_key]), row[t_key])
        first = page[-1][id_key] + 1
    return rows


def verify(out, stream, kind, id_col, port, at_least):
    table = ds.dataset(os.path.join(out, stream), format="parquet", partitioning="hive").to_table()
    check(table.num_rows >= at_least, f"{stream}: {table.num_rows} rows written (at least {at_least})")
    cols = {c: table.column(c).to_pylist() for c in ("symbol", id_col, "price", "quantity", "trade_time")}
    per = {}
    for i in range(table.num_rows):
        per.setdefault(cols["symbol"][i], []).append(i)
    for s, idx in sorted(per.items()):
        ids = [cols[id_col][i] for i in idx]
        check(len(ids) == len(set(ids)) == max(ids) - min(ids) + 1,
              f"{stream} {s}: {len(ids)} rows, {len(set(ids))} distinct ids, span {max(ids) - min(ids) + 1}")
        want = history(port, kind, s, min(ids), max(ids))
        got = {cols[id_col][i]: (cols["price"][i], cols["quantity"][i],
                                 int(cols["trade_time"][i].timestamp() * 1000 + 0.5)) for i in idx}
        check(got == want, f"{stream} {s}: every row equals the feed's history for its id")


def case(name, kind, stream, id_col, feed_extra=("--api-key", "test-key-1"), ingest_extra=(), want_gaps_filled=True):
    """want_gaps_filled: run until 200,000 ticks are written (at most 60 s), then compare the
    output with the feed's history while the feed still runs; else run for 3 s."""
    out = os.path.join(WORK, name)
    shutil.rmtree(out, ignore_errors=True)
    count = 200000
    feed, port = start_feed(kind, feed_extra)
    try:
        until = ("--expect", str(count), "--duration", "60") if want_gaps_filled else ("--duration", "3")
        code, summary, err = run_ingest(port, out, until, ingest_extra)
        if want_gaps_filled and code == 0:
            verify(out, stream, kind, id_col, port, count)
    finally:
        stop_feed(feed)
    b = summary["backfill"]
    print(f"  {name}: exit {code}, backfill {b}")
    check(b["gaps_found"] > 0, f"{name}: the resets made gaps ({b['gaps_found']})")
    if want_gaps_filled:
        check(code == 0, f"{name}: ingest exits 0")
        check(b["ticks_backfilled"] > 0 and b["gaps_unfilled"] == 0,
              f"{name}: every gap filled ({b['ticks_backfilled']} ticks backfilled)")
    return code, b, err


os.makedirs(WORK, exist_ok=True)
case("agg_trades", "aggTrade", "aggTrade", "agg_trade_id")
key = os.path.join(WORK, "api_key")
with open(key, "w") as f:
    f.write("test-key-1\n")
case("trades", "trade", "trade", "trade_id", ingest_extra=("--api-key-file", key))

# No key: historicalTrades cannot be asked, so trade gaps stay unfilled, loudly.
code, b, err = case("trades_no_key", "trade", "trade", "trade_id", want_gaps_filled=False)
check(code == 1 and b["gaps_unfilled"] > 0, f"no key: exit 1 with {b['gaps_unfilled']} gaps unfilled")
check("--api-key-file" in err, "no key: the log says why")
code, b, _ = case("trades_allow_gaps", "trade", "trade", "trade_id", want_gaps_filled=False,
                  ingest_extra=("--allow-gaps",))
check(code == 0 and b["gaps_unfilled"] > 0, "--allow-gaps: exit 0 although gaps are unfilled")

print("FAILED: " + "; ".join(failures) if failures else "all backfill checks passed")
sys.exit(1 if failures else 0)
