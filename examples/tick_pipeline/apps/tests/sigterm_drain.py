#!/usr/bin/python3
"""SIGTERM in the middle of a run: polarway-feed serves flat out without end, polarway-ingest
reads it; once ingest reports progress (a stats line with ticks written), it gets SIGTERM and
must stop reading, drain its channel, flush the sink and exit 0 with ticks_in == ticks_out in
its JSON summary. Then the same with SIGINT and a deliberately slow sink (a full channel at
the moment of the signal). Everything is bounded by timeouts; loopback only."""
import json
import re
import signal
import subprocess
import sys
import time

feed_bin, ingest_bin = sys.argv[1:3]


def start_feed():
    feed = subprocess.Popen([feed_bin, "--listen", "127.0.0.1:0", "--symbols", "8", "--quiet"],
                            stderr=subprocess.PIPE, text=True)
    line = feed.stderr.readline()
    m = re.search(r"listening on (\S+)", line)
    if not m:
        feed.kill()
        raise SystemExit(f"feed did not start: {line!r}")
    return feed, m.group(1)


def run_case(sig, extra):
    feed, addr = start_feed()
    try:
        url = f"ws://{addr}/stream?streams=btcusdt@trade/ethusdt@trade/bnbusdt@aggTrade"
        ingest = subprocess.Popen([ingest_bin, "--connect", url, "--connect", url, "--stats-interval", "0.05",
                                   "--duration", "30"] + extra,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        progressed = False
        while time.monotonic() < deadline:
            line = ingest.stderr.readline()
            if not line:
                break
            m = re.search(r"out (\d+)", line)
            if m and int(m.group(1)) > 0:
                progressed = True
                break
        if not progressed:
            ingest.kill()
            raise SystemExit("ingest made no progress")
        ingest.send_signal(sig)
        out, err = ingest.communicate(timeout=20)
        summary = json.loads(out.strip().splitlines()[-1])
        print(f"{signal.Signals(sig).name}: exit {ingest.returncode}, in {summary['ticks_in']}, "
              f"out {summary['ticks_out']}, by signal {summary['stopped_by_signal']}")
        ok = (ingest.returncode == 0 and summary["ticks_in"] == summary["ticks_out"] and summary["ticks_in"] > 0
              and summary["stopped_by_signal"] and summary["errors"]["malformed_json"] == 0
              and summary["errors"]["schema_error"] == 0)
        if not ok:
            print(err[-2000:])
        return ok
    finally:
        feed.send_signal(signal.SIGTERM)
        try:
            feed.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            feed.kill()
            feed.communicate()


results = [run_case(signal.SIGTERM, []),
           run_case(signal.SIGINT, ["--sink-delay-us", "20", "--channel-capacity", "64"])]
sys.exit(0 if all(results) else 1)
