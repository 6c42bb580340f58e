#!/usr/bin/python3
"""polarway-ingest --streams-file against polarway-feed, real processes on loopback: 1,500
streams shard over two connections (each <= 1024, every SUBSCRIBE and LIST_SUBSCRIPTIONS
answered, the feed never closes a client for its message rate, though it pings every 0.5 s);
then SIGHUP with an edited file subscribes the new streams and unsubscribes the removed ones on
the same connections (no new session): ticks of the new streams arrive and those of removed ones
stop; a bad file on reload is reported and the old set kept."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from checklist import check, failures

feed_bin, ingest_bin = sys.argv[1:3]


def symbols(n):
    """The feed generator's symbol names (lowercase), without the duplicate it has at 997."""
    real = ["btcusdt", "ethusdt", "bnbusdt", "solusdt", "xrpusdt", "adausdt", "dogeusdt", "bnbbtc"]
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = []
    for i in range(n):
        if i < len(real):
            out.append(real[i])
            continue
        code, k = "", i
        while k > 0:
            code = digits[k % 36] + code
            k //= 36
        out.append("x" + code + "usdt")
    return list(dict.fromkeys(out))


def wait_line(stream, pattern, deadline_s=20):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            return None
        m = re.search(pattern, line)
        if m:
            return m
    return None


names = [f"{s}@{k}" for k in ("trade", "aggTrade", "bookTicker") for s in symbols(600)][:1500]
tmp = tempfile.mkdtemp()
streams = os.path.join(tmp, "streams.txt")
summary = os.path.join(tmp, "summary.json")
with open(streams, "w") as f:
    f.write("# 1,500 streams\n" + "\n".join(names) + "\n")

feed = subprocess.Popen([feed_bin, "--listen", "127.0.0.1:0", "--symbols", "600", "--rate", "400",
                         "--ping-every", "0.5", "--pong-timeout", "5"], stderr=subprocess.PIPE, text=True)
m = wait_line(feed.stderr, r"listening on (\S+)")
if not m:
    feed.kill()
    sys.exit("feed did not start")
addr = m.group(1)
ingest = subprocess.Popen([ingest_bin, "--connect", f"ws://{addr}/stream", "--streams-file", streams,
                           "--json-summary", summary, "--stats-interval", "0.2"],
                          stderr=subprocess.PIPE, text=True)
try:
    m = wait_line(ingest.stderr, r"(\d+) streams over (\d+) connections")
    check(m and m.group(1) == "1500" and m.group(2) == "2", f"1500 streams over 2 connections: {m and m.group(0)}")
    check(wait_line(ingest.stderr, r"out [1-9]") is not None, "ticks arrive")

    # The edit: drop the last 100 streams (all bookTicker), add 100 aggTrade... of symbols not
    # yet used for that kind: here the bookTicker streams of the first 100 symbols are removed
    # and trade streams are unchanged, so the removed kind can be watched stopping.
    removed = [n for n in names if n.endswith("@bookTicker")]
    kept = [n for n in names if not n.endswith("@bookTicker")]
    added = [f"{s}@bookTicker" for s in symbols(600)[len(removed):len(removed) + 50]]
    time.sleep(1.0)  # let the first LIST_SUBSCRIPTIONS round finish
    with open(streams, "w") as f:
        f.write("\n".join(kept + added) + "\n")
    ingest.send_signal(signal.SIGHUP)
    m = wait_line(ingest.stderr, r"(\d+) streams over (\d+) connections")
    check(m and m.group(1) == str(len(kept) + len(added)), f"reload applied: {m and m.group(0)}")
    # A bad file: reported, the old set kept.
    time.sleep(1.5)
    with open(streams, "w") as f:
        f.write("btcusdt@trade\nNOT A STREAM\n")
    ingest.send_signal(signal.SIGHUP)
    check(wait_line(ingest.stderr, r"SIGHUP: .*line 2") is not None, "a bad file on reload is reported with its line")
    time.sleep(2.0)
finally:
    ingest.send_signal(signal.SIGTERM)
    try:
        ingest.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        ingest.kill()
        ingest.communicate()
    feed.send_signal(signal.SIGTERM)
    _, feed_err = feed.communicate(timeout=20)

check(ingest.returncode == 0, f"ingest exit {ingest.returncode}")
with open(summary) as f:
    s = json.load(f)
ctl = s["control"]
check(s["sessions"] == 2 and s["reconnects"] == 0, f"two sessions, no reconnect: {s['sessions']}, {s['reconnects']}")
check(ctl["errors"] == 0 and ctl["requests"] == ctl["replies"], f"every request answered, none refused: {ctl}")
check(ctl["lists_verified"] >= 3 and ctl["lists_mismatched"] == 0, f"LIST_SUBSCRIPTIONS verified: {ctl}")
check(ctl["reloads"] == 1 and ctl["reload_failures"] == 1, f"one reload, one refused file: {ctl}")
check(s["errors"]["schema_error"] == 0 and s["errors"]["malformed_json"] == 0, "control replies are not decode errors")
check(s["pings_answered"] > 0, "the feed's pings were answered")
m = re.search(r"(\d+) clients closed for more than 5 messages/s, (\d+) for a missed pong", feed_err)
check(m and m.group(1) == "0" and m.group(2) == "0", f"the feed closed no client: {m and m.group(0)}")
m = re.search(r"(\d+) control requests \((\d+) errors\)", feed_err)
check(m and int(m.group(1)) == ctl["requests"] and m.group(2) == "0", f"feed answered every request: {m and m.group(0)}")
print("streams_file_e2e:", "FAIL" if failures else "ok", s["control"])
sys.exit(1 if failures else 0)
