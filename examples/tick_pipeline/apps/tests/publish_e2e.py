"""polarway-ingest --publish, end to end, with the Python package (python/polarway_ticks):

- parity: polarway-feed (trades, 2 connections) -> polarway-ingest --out DIR --publish unix:SOCK
  --publish-wait 1 with a Python subscriber: the subscriber's count, price sum and quantity sum
  equal the feed's totals, and so do the Parquet files' read back by pyarrow and Polars and by
  DuckDB (parquet_sink_verify summary mode); row for row, the subscriber's (symbol, trade_id,
  price, quantity, times, side) equal the Parquet files' (decimals identical, not close);
- hostile subscribers at the same time as a good one: a request that is not one (refused in-band,
  connection closed), a slowloris (half a line, then nothing), a block subscriber that never
  reads (cut off after --publish-stall), a lossy one that never reads; the good subscriber still
  gets every tick and the Parquet output is complete;
- the brain killed with SIGKILL mid-stream: ingest carries on, exit 0, every tick in Parquet;
- examples/python_brain/brain.py against the real ingest (trades and bookTickers of two symbols):
  exit 0 when the feed ends, its per-kind counts equal what ingest received, its sums exact;
- ingest killed with SIGKILL: the subscriber sees Closed at once ("connection lost");
  ingest stopped with SIGSTOP: the subscriber sees Stale within stale_after, then Closed when it
  is killed.
Usage: publish_e2e.py <polarway-feed> <polarway-ingest> <work-dir> <node-dir> <verify.mjs> <verify.py>"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "python"))
import polars as pl  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

import feed_process  # noqa: E402
import polarway_ticks as pt  # noqa: E402
from checklist import check, failures  # noqa: E402

feed_bin, ingest_bin, work, node_dir, verify_mjs, verify_py = sys.argv[1:7]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
python = sys.executable

COLUMNS = ["symbol", "trade_id", "price", "quantity", "event_time", "trade_time", "is_buyer_maker"]


def feed_totals(stderr):
    import re
    m = re.search(r"(\d+) messages, \d+ bytes sent; totals count (\d+) price_sum (\d+) quantity_sum (\d+)", stderr)
    return tuple(map(int, m.groups())) if m else None


def start_ingest(addr, sock, *extra):
    url = f"ws://{addr}/"
    argv = [ingest_bin, "--connect", url, "--connect", url, "--once", "--quiet", "--publish", f"unix:{sock}", *extra]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line, seen = feed_process.wait_for_line(p.stderr, r"publishing on (\S+)")
    if line is None:
        p.kill()
        raise SystemExit(f"polarway-ingest did not say where it publishes: {seen + p.communicate()[1]!r}")
    return p


def collect(url, out, **kw):
    """Runs a subscription to the end; `out` gets the batches and the status items."""
    out["batches"], out["status"] = [], []
    for item in pt.subscribe(url, **kw):
        if isinstance(item, pa.RecordBatch):
            out["batches"].append(item)
        else:
            out["status"].append(item)
            if isinstance(item, pt.Closed):
                break


def raw(decimal_scalar):
    return int(decimal_scalar.as_py().scaleb(8)) if decimal_scalar.is_valid else 0


def send_raw(sock_path, data, read=True):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    if data:
        s.sendall(data)
    if not read:
        return s
    s.settimeout(10)
    got = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    s.close()
    return got


# --- parity, with hostile subscribers beside the good one -------------------------------------
per = 150_000
feed, addr = feed_process.start(feed_bin, "--count", str(per), "--symbols", "8")
out_dir = os.path.join(work, "out")
sock = os.path.join(work, "ticks.sock")
# Queues of 4 batches: the never-reading subscribers fill theirs (and their sockets) early on.
ingest = start_ingest(addr, sock, "--out", out_dir, "--publish-wait", "3", "--publish-stall", "1", "--publish-queue", "4")
url = f"unix:{sock}"
good = {}
good_thread = threading.Thread(target=collect, args=(url, good), kwargs={"kinds": ("trade",), "stale_after": 30})
good_thread.start()
# A request that is not one: refused in-band with an Arrow stream that says why, then closed.
refusal = send_raw(sock, b"GET / HTTP/1.1\r\n\r\n")
reader = pa.ipc.open_stream(pa.py_buffer(refusal))
check(len(reader.schema) == 0 and b"does not start with polarway-ticks/1" in reader.schema.metadata.get(b"polarway.error", b""),
      f"a bad request is refused in-band: {reader.schema.metadata}")
slowloris = send_raw(sock, b"polarway-ticks/1 ki", read=False)
# A block subscriber and a lossy one that never read: together with the good one, the three the
# ingest waits for.
never_block = send_raw(sock, b"polarway-ticks/1 kind=trade policy=block\n", read=False)
never_lossy = send_raw(sock, b"polarway-ticks/1 kind=trade policy=lossy\n", read=False)
good_thread.join(timeout=300)
stdout, stderr = ingest.communicate(timeout=120)
rc_feed, feed_err = feed_process.stop(feed)
totals = feed_totals(feed_err)
summary = json.loads(stdout.strip().splitlines()[-1]) if stdout.strip() else {}
check(ingest.returncode == 0, f"ingest exit {ingest.returncode}: {stderr[-2000:]}")
check(totals is not None and totals[0] == 2 * per, f"feed sent {totals}")
published = summary.get("publish") or {}
check(published.get("stalled") == 1, f"the never-reading block subscriber was cut off: {published}")
check(published.get("lagged_batches", 0) > 0, f"the never-reading lossy subscriber lagged: {published}")
check(published.get("refused", 0) >= 1, f"refusals counted: {published}")

table = pa.Table.from_batches(good["batches"], schema=pt.tick_schema("trade")) if good["batches"] else None
status = good["status"]
check(bool(status) and isinstance(status[-1], pt.Closed) and status[-1].orderly and status[-1].reason == "ingest stopped",
      f"the good subscriber's stream ended in order: {status[-3:]}")
check(not any(isinstance(s, (pt.Lagged, pt.Stale)) for s in status), f"no lag or staleness for the good one: {status[:5]}")
if table is not None and totals:
    n, price_sum, qty_sum = table.num_rows, raw(pc.sum(table["price"])), raw(pc.sum(table["quantity"]))
    check((n, price_sum % 2**64, qty_sum % 2**64) == totals[1:],
          f"Python's count and exact sums equal the feed's: {(n, price_sum, qty_sum)} vs {totals[1:]}")
    files = [os.path.join(d, f) for d, _, fs in os.walk(out_dir) for f in fs if f.endswith(".parquet")]
    parquet = pa.concat_tables([pq.read_table(f, columns=COLUMNS) for f in files])
    key = [("symbol", "ascending"), ("trade_id", "ascending")]
    mine = table.select(COLUMNS).sort_by(key)
    theirs = parquet.cast(mine.schema).sort_by(key)
    check(mine.equals(theirs), f"row for row, the subscriber's trades equal the Parquet files' ({mine.num_rows} rows)")
    check(pl.from_arrow(table)["price"].sum() == pl.from_arrow(parquet)["price"].sum(), "Polars agrees on the price sum")
# DuckDB, pyarrow and Polars read the files back against the feed's totals.
summary["feed_sent"] = {"count": totals[1], "price_sum": totals[2], "quantity_sum": totals[3]} if totals else None
summary_path = os.path.join(work, "summary.json")
with open(summary_path, "w") as f:
    f.write(json.dumps(summary, separators=(",", ":")) + "\n")  # the verifiers' own format
verifier = os.path.join(node_dir, "parquet_sink_verify-publish.mjs")
shutil.copy(verify_mjs, verifier)
for argv, who in (([python, verify_py, "summary", summary_path], "pyarrow and Polars"),
                  (["node", verifier, "summary", summary_path], "DuckDB")):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, f"{who} read the Parquet files back equal to the feed's totals: {r.stderr[-1500:]}")
for s in (slowloris, never_block, never_lossy):
    s.close()

# --- the brain killed mid-stream: ingest carries on --------------------------------------------
# A market of 2 s, so that the brain dies while ticks still come.
feed, addr = feed_process.start(feed_bin, "--rate", "50000", "--count", "100000", "--symbols", "4")
sock2 = os.path.join(work, "kill.sock")
out2 = os.path.join(work, "out2")
ingest = start_ingest(addr, sock2, "--out", out2, "--publish-wait", "1")
brain = subprocess.Popen([python, "-c", f"""
import sys; sys.path.insert(0, {os.path.join(HERE, '..', '..', '..', '..', 'python')!r})
import time, polarway_ticks as pt
for item in pt.subscribe('unix:{sock2}'):
    time.sleep(0.01)  # a slow brain: ingest waits for it (block) until it dies
"""])
time.sleep(0.5)
brain.kill()
brain.wait()
stdout, stderr = ingest.communicate(timeout=120)
feed_process.stop(feed)
s2 = json.loads(stdout.strip().splitlines()[-1]) if stdout.strip() else {}
check(ingest.returncode == 0 and s2.get("ticks_in", 0) >= 100_000 and
      (s2.get("parquet") or {}).get("rows_written") == s2.get("ticks_in"),
      f"the brain killed mid-stream: ingest exit {ingest.returncode}, {s2.get('ticks_in')} in, "
      f"{(s2.get('parquet') or {}).get('rows_written')} rows in Parquet")
check((s2.get("publish") or {}).get("gone") == 1, f"the dead subscriber was dropped: {s2.get('publish')}")

# --- the example brain against the real thing ---------------------------------------------------
# A market of 3,000 messages of each kind at 1,500/s; the brain's two connections (trade,
# bookTicker) are the two subscribers the ingest waits for.
feed, addr = feed_process.start(feed_bin, "--rate", "1500", "--count", "3000", "--symbols", "2")
sock4 = os.path.join(work, "brain.sock")
url4 = f"ws://{addr}/stream?streams=btcusdt@trade/ethusdt@trade/btcusdt@bookTicker/ethusdt@bookTicker"
ingest = subprocess.Popen([ingest_bin, "--connect", url4, "--once", "--quiet", "--publish", f"unix:{sock4}",
                           "--publish-wait", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
feed_process.wait_for_line(ingest.stderr, r"publishing on (\S+)")
brain_summary = os.path.join(work, "brain.json")
brain = subprocess.run([python, os.path.join(HERE, "..", "..", "..", "python_brain", "brain.py"), "--url", f"unix:{sock4}",
                        "--seconds", "60", "--json-summary", brain_summary], capture_output=True, text=True, timeout=120)
stdout, stderr = ingest.communicate(timeout=60)
feed_process.stop(feed)
s4 = json.loads(stdout.strip().splitlines()[-1]) if stdout.strip() else {}
b = json.load(open(brain_summary)) if os.path.exists(brain_summary) else {}
kinds4 = s4.get("per_kind", {})
trades4 = sum(v["count"] for v in b.get("trade", {}).values())
quotes4 = sum(v["count"] for v in b.get("bookTicker", {}).values())
check(brain.returncode == 0 and b.get("ended_by") == "feed closed",
      f"the brain ran to the feed's end: exit {brain.returncode}, {b.get('ended_by')}: {brain.stderr[-500:]}")
check(trades4 == kinds4.get("trade") and quotes4 == kinds4.get("bookTicker") and trades4 >= 2900,
      f"the brain saw every tick: {trades4} trades, {quotes4} quotes; ingest {kinds4}")
check(sorted(b.get("trade", {})) == ["BTCUSDT", "ETHUSDT"] and brain.stdout.count("\n") >= 2,
      f"per-symbol lines: {sorted(b.get('trade', {}))}, {brain.stdout.count(chr(10))} lines")

# --- ingest killed, and ingest frozen ----------------------------------------------------------
for how in ("SIGKILL", "SIGSTOP"):
    feed, addr = feed_process.start(feed_bin, "--rate", "2000", "--symbols", "2")
    sock3 = os.path.join(work, f"{how}.sock")
    ingest = start_ingest(addr, sock3)
    seen = []
    sub = pt.subscribe(f"unix:{sock3}", stale_after=0.3)
    it = iter(sub)
    began = time.monotonic()
    while time.monotonic() - began < 1.0:  # ticks flowing
        seen.append(next(it))
    got_data = any(isinstance(x, pa.RecordBatch) for x in seen)
    stopped = time.monotonic()
    ingest.send_signal(getattr(signal, how))
    first_status = next(x for x in it if not isinstance(x, pa.RecordBatch))
    after = time.monotonic() - stopped
    if how == "SIGKILL":
        check(got_data and isinstance(first_status, pt.Closed) and first_status.reason.startswith("connection lost")
              and after < 1.0, f"ingest killed: {first_status} after {after:.3f} s")
    else:
        check(got_data and isinstance(first_status, pt.Stale) and 0.2 <= after < 1.5,
              f"ingest frozen: {first_status} after {after:.3f} s (stale_after 0.3)")
        ingest.kill()
        closed = next(x for x in it if isinstance(x, pt.Closed))
        check(closed.reason.startswith("connection lost"), f"then killed: {closed}")
    sub.close()
    ingest.kill()
    ingest.communicate()
    feed_process.stop(feed)

if failures:
    print(f"{len(failures)} checks FAILED")
    sys.exit(1)
print("all checks passed")
