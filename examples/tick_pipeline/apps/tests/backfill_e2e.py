#!/usr/bin/env python3
"""polarway-ingest --backfill end to end, over real processes and sockets.

A feed with a rate is a market; --disconnect-every makes it reset every connection after N
messages, so each reconnect misses what the market produced meanwhile. The ingest must fetch
those ids from the feed's REST history and write every id exactly once, in the Parquet output:
per symbol, count == distinct ids == last - first + 1, and every row's price, quantity and
times equal what the feed's REST history says for that id (the stream's values, byte for byte).
Without an API key a trade gap cannot be filled: exit status 1, and 0 with --allow-gaps.
The feed's --session-max-s ends each connection after 1 s (a 6 s run): the same holds across
those ends.
The feed's --stall-ms silences make gaps with no disconnect (filled mid-stream), or, with an
--idle-timeout shorter than the silence, a drop and a reconnect (filled after it).
Across a restart too: an ingest killed with SIGKILL once each symbol has committed part files,
then started again on the same --out, resumes each stream after its last committed id, and the
two runs' files together hold every id exactly once; and so must they when the second starts
after the market has ended, with no live tick to show what it missed, also when the feed's REST
answers 429 beyond 10 requests a second (--rest-limit) and the catch-up must wait each out, or
503 for 2 s and the catch-up must retry after growing pauses.

usage: backfill_e2e.py FEED INGEST WORK_DIR   (run by a Python that has pyarrow)
"""
import decimal
import glob
import http.server
import json
import os
import urllib.error
import urllib.request
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import pyarrow.dataset as ds
import pyarrow.parquet as pq

import feed_process
from checklist import check, failures

FEED, INGEST, WORK = sys.argv[1], sys.argv[2], sys.argv[3]


def start_feed(kind, extra=(), disconnect_every=20000, rate=100000):
    """An endless market (no --count): the ingest stops at --expect, and every id it saw is
    still in the feed's history to compare with. Returns (feed, port)."""
    feed, addr = feed_process.start(FEED, "--symbols", "4", "--kind", kind, "--rate", str(rate),
                                    "--disconnect-every", str(disconnect_every), "--quiet", *extra)
    return feed, feed_process.port_of(addr)


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
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                page = json.load(r)
        except urllib.error.HTTPError as e:
            if e.code != 429:  # a feed with --rest-limit: wait as it says, and ask again
                raise
            time.sleep(int(e.headers.get("Retry-After", "1")))
            continue
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
        feed_process.stop(feed)
    b = summary["backfill"]
    print(f"  {name}: exit {code}, backfill {b}")
    check(b["gaps_found"] > 0, f"{name}: the resets made gaps ({b['gaps_found']})")
    if want_gaps_filled:
        check(code == 0, f"{name}: ingest exits 0")
        check(b["ticks_backfilled"] > 0 and b["gaps_unfilled"] == 0,
              f"{name}: every gap filled ({b['ticks_backfilled']} ticks backfilled)")
    return code, b, err


def restart_case():
    out = os.path.join(WORK, "restart")
    shutil.rmtree(out, ignore_errors=True)
    feed, port = start_feed("aggTrade", ("--api-key", "test-key-1"))
    try:
        first = subprocess.Popen([INGEST, "--connect", f"ws://127.0.0.1:{port}/", "--backfill", "--out", out,
                                  "--file-rows", "5000", "--quiet", "--backoff-initial", "0.01"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Kill it once every symbol has two committed part files (and, most likely, rows in
        # open temporaries that only a refetch can bring back).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            per_symbol = [len(glob.glob(os.path.join(d, "date=*", "part-*.parquet")))
                          for d in glob.glob(os.path.join(out, "aggTrade", "symbol=*"))]
            if len(per_symbol) == 4 and min(per_symbol) >= 2:
                break
            time.sleep(0.05)
        first.kill()
        first.wait(timeout=30)
        check(first.returncode == -signal.SIGKILL, f"restart: the first ingest was killed (status {first.returncode})")
        code, summary, err = run_ingest(port, out, ("--expect", "100000", "--duration", "60"), ("--file-rows", "5000"))
        b = summary["backfill"]
        print(f"  restart: exit {code}, backfill {b}")
        check(code == 0, "restart: the second ingest exits 0")
        check(b["resumed_streams"] == 4, f"restart: 4 streams resumed from the output ({b['resumed_streams']})")
        check("streams resume after the last id" in err, "restart: the log says where it resumed")
        check(b["ticks_backfilled"] > 0 and b["gaps_unfilled"] == 0,
              f"restart: what the kill lost was fetched ({b['ticks_backfilled']} ticks backfilled)")
        if code == 0:
            verify(out, "aggTrade", "aggTrade", "agg_trade_id", port, 100000)
    finally:
        feed_process.stop(feed)


class FlakyRest:
    """A REST front for the feed's history that answers 503 (Binance's -1001) to every request
    in its first `down_s` seconds, counted from the first request, and forwards the rest."""

    def __init__(self, feed_port, down_s):
        flaky = self
        self.refused = self.forwarded = 0
        self.first = None

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                now = time.monotonic()
                flaky.first = flaky.first or now
                if now - flaky.first < down_s:
                    flaky.refused += 1
                    status, body = 503, b'{"code":-1001,"msg":"Internal error; unable to process your request."}'
                else:
                    flaky.forwarded += 1
                    req = urllib.request.Request(f"http://127.0.0.1:{feed_port}{self.path}",
                                                 headers={k: v for k, v in self.headers.items() if k == "X-MBX-APIKEY"})
                    with urllib.request.urlopen(req, timeout=30) as r:
                        status, body = r.status, r.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def quiet_restart_case(name, market, rate, rest_limit=0, rest_down_s=0):
    """A restart into a market that has ended: no live tick will ever show the gap, so the
    resumed streams must catch up from REST at once. The first ingest is killed mid-market; the
    second starts once the market's last id is history and must write exactly what the first
    did not commit, all of it fetched. With rest_limit, the feed answers 429 (Retry-After: 1)
    beyond that many requests a second: the catch-up must pause for it and still finish, and
    a client that waits out each 429 sees few of them. With rest_down_s, the ingest's REST is a
    front that answers 503 for that long: the catch-up must retry after growing pauses and lose
    nothing."""
    out = os.path.join(WORK, name)
    shutil.rmtree(out, ignore_errors=True)
    limit = ("--rest-limit", str(rest_limit)) if rest_limit else ()
    feed, port = start_feed("aggTrade", ("--api-key", "test-key-1", "--count", str(market), *limit),
                            disconnect_every=0, rate=rate)
    err = ""
    try:
        first = subprocess.Popen([INGEST, "--connect", f"ws://127.0.0.1:{port}/", "--backfill", "--out", out,
                                  "--file-rows", "5000", "--quiet", "--backoff-initial", "0.01"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = time.monotonic()
        deadline = started + 60
        while time.monotonic() < deadline:
            if len({os.path.dirname(os.path.dirname(p)) for p in committed_parts(out)}) == 4:
                break  # every symbol has a committed part file
            time.sleep(0.05)
        first.kill()
        first.wait(timeout=30)
        # The market's clock started when the first connection was admitted: past its length,
        # REST holds every id and no connection will be sent another.
        time.sleep(max(0.0, started + market / rate + 1.0 - time.monotonic()))
        committed = sum(pq.ParquetFile(p).metadata.num_rows for p in committed_parts(out))
        check(0 < committed < market, f"{name}: the killed ingest committed {committed} of {market} rows")
        remaining = market - committed
        flaky = FlakyRest(port, rest_down_s) if rest_down_s else None
        rest = ("--rest-url", f"http://127.0.0.1:{flaky.port}") if flaky else ()
        try:
            code, summary, log = run_ingest(port, out, ("--expect", str(remaining), "--duration", "60"),
                                            ("--file-rows", "5000", *rest))
        finally:
            if flaky:
                flaky.close()
        b = summary["backfill"]
        print(f"  {name}: exit {code}, backfill {b}")
        check(code == 0, f"{name}: the second ingest exits 0")
        check(b["resumed_streams"] == 4, f"{name}: 4 streams resumed ({b['resumed_streams']})")
        check(b["ticks_backfilled"] == remaining and b["gaps_found"] == 0,
              f"{name}: all {remaining} missing rows came from the catch-up ({b['ticks_backfilled']})")
        if flaky:
            # 4 pages in flight when it goes down, then pauses of 0.25, 0.5, 1, 2 s... between tries.
            check(0 < flaky.refused <= 12 and b["request_failures"] == flaky.refused and b["gaps_unfilled"] == 0,
                  f"{name}: {flaky.refused} answers 503 in {rest_down_s} s, retried after pauses "
                  f"({b['request_failures']} failures counted)")
        if rest_limit:
            check(b["rate_limited"] > 0 and "backfill paused 1 s: HTTP 429" in log,
                  f"{name}: the ingest was rate limited and paused ({b['rate_limited']} answers 429)")
        else:
            check(b["rate_limited"] == 0, f"{name}: no 429 without a limit")
        if code == 0:
            verify(out, "aggTrade", "aggTrade", "agg_trade_id", port, market)
            rows = sum(pq.ParquetFile(p).metadata.num_rows for p in committed_parts(out))
            check(rows == market, f"{name}: the output holds the whole market ({rows} of {market} rows)")
    finally:
        err = feed_process.stop(feed)[1]
    if rest_limit:
        m = re.search(r"(\d+) REST requests, (\d+) answered 429", err)
        check(m is not None, f"{name}: the feed counted its 429s ({err!r})")
        if m:
            total, refused = int(m.group(1)), int(m.group(2))
            # Each 429 pauses every fetch for a second, so at most the pages in flight then
            # (4) meet the same limit: refused ones stay a small part of those answered.
            check(0 < refused <= (total - refused) // 2,
                  f"{name}: {refused} of {total} requests answered 429 (the client waited them out)")


def committed_parts(out):
    return glob.glob(os.path.join(out, "aggTrade", "symbol=*", "date=*", "part-*.parquet"))


def sessions_case():
    """The feed ends every connection after 1 s (--session-max-s, close 1001): each reconnect
    misses what came meanwhile, and the backfill fills it."""
    out = os.path.join(WORK, "sessions")
    shutil.rmtree(out, ignore_errors=True)
    feed, port = start_feed("aggTrade", ("--api-key", "test-key-1", "--session-max-s", "1"), disconnect_every=0)
    err = ""
    try:
        # At least one close and the reconnect after it: a TSan build fits only 2 to 4 sessions
        # in these 6 s (a plain build 6).
        code, summary, _ = run_ingest(port, out, ("--duration", "6"))
        b = summary["backfill"]
        print(f"  sessions: exit {code}, sessions {summary['sessions']}, backfill {b}")
        check(code == 0, "sessions: ingest exits 0")
        check(summary["sessions"] >= 2, f"sessions: the ingest reconnected after the closes ({summary['sessions']} sessions)")
        check(b["gaps_found"] > 0 and b["gaps_unfilled"] == 0, f"sessions: every gap filled ({b['gaps_found']} found)")
        if code == 0:
            verify(out, "aggTrade", "aggTrade", "agg_trade_id", port, 1)
    finally:
        err = feed_process.stop(feed)[1]
    closed = re.search(r"(\d+) connections closed at --session-max-s", err)
    check(closed is not None and int(closed.group(1)) >= 1,
          f"sessions: the feed closed each session at --session-max-s ({closed.group(0) if closed else err!r})")


def stall_case(name, stall_ms, ingest_extra, want_reconnects):
    """The feed goes silent for stall_ms every 20,000 messages of a connection (--stall-ms) and then
    skips what the market produced meanwhile: a gap with no disconnect, found and filled
    mid-stream; or, with --idle-timeout shorter than the stall, a dropped connection and the
    same gap after the reconnect.

    The market runs at 20,000 messages/s, which a sanitizer build sharing two cores with other
    tests still reads as they come. A reader that lags instead drains the socket buffers during
    the stall and never sees it as silence: an idle timeout would then be right not to fire."""
    out = os.path.join(WORK, name)
    shutil.rmtree(out, ignore_errors=True)
    feed, port = start_feed("aggTrade", ("--api-key", "test-key-1", "--stall-ms", str(stall_ms), "--stall-every", "20000"),
                            disconnect_every=0, rate=20000)
    try:
        # 40,000 ticks: past the first stall of each connection.
        code, summary, _ = run_ingest(port, out, ("--expect", "40000", "--duration", "60"), ingest_extra)
        b = summary["backfill"]
        print(f"  {name}: exit {code}, sessions {summary['sessions']}, idle timeouts "
              f"{summary['errors']['idle_timeouts']}, backfill {b}")
        check(code == 0, f"{name}: ingest exits 0")
        check(b["gaps_found"] > 0 and b["ticks_backfilled"] > 0 and b["gaps_unfilled"] == 0,
              f"{name}: the stalls' gaps were filled ({b['gaps_found']} found, {b['ticks_backfilled']} backfilled)")
        if want_reconnects:
            check(summary["errors"]["idle_timeouts"] > 0 and summary["reconnects"] > 0,
                  f"{name}: the silent connection was dropped and replaced")
        else:
            check(summary["sessions"] == 1, f"{name}: one session throughout ({summary['sessions']})")
        if code == 0:
            verify(out, "aggTrade", "aggTrade", "agg_trade_id", port, 40000)
    finally:
        err = feed_process.stop(feed)[1]
    stalls = re.search(rf"(\d+) stalls of {stall_ms} ms", err)
    check(stalls is not None and int(stalls.group(1)) >= 1, f"{name}: the feed stalled ({err!r})")


os.makedirs(WORK, exist_ok=True)
stall_case("stall_mid_stream", 400, (), want_reconnects=False)
stall_case("stall_idle_timeout", 1000, ("--idle-timeout", "0.2"), want_reconnects=True)
restart_case()
# 4 s markets over 4 symbols; the second catches up at most 10 pages a second.
quiet_restart_case("quiet_restart", 200000, 50000)
quiet_restart_case("quiet_restart_rate_limited", 100000, 25000, rest_limit=10)
quiet_restart_case("quiet_restart_rest_down", 100000, 25000, rest_down_s=2.0)
sessions_case()
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
