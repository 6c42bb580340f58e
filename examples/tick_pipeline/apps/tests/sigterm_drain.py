#!/usr/bin/python3
"""SIGTERM in the middle of a run: polarway-feed serves flat out without end, polarway-ingest
reads it; once ingest reports progress (a stats line with ticks written), it gets SIGTERM and
must stop reading, drain its channel, flush the sink and exit 0 with ticks_in == ticks_out in
its JSON summary. Then the same with SIGINT and a deliberately slow sink (a full channel at
the moment of the signal). The feed itself must exit 0 on SIGTERM. A second signal during the
drain (SIGINT after SIGTERM, a very slow sink) ends ingest at once with status 130. And
polarway-demo, the whole pipeline in one process, stops on SIGINT with every received tick
written. Everything is bounded by timeouts; loopback only."""
import json
import re
import signal
import subprocess
import sys
import time

import feed_process

feed_bin, ingest_bin, demo_bin = sys.argv[1:4]


def start_feed():
    return feed_process.start(feed_bin, "--symbols", "8", "--quiet", stdout=None)


def stop_feed(feed):
    """SIGTERM to the feed: it must close its connections and exit 0."""
    code, _ = feed_process.stop(feed, signal.SIGTERM, timeout=10)
    if code is None:
        print("feed did not stop on SIGTERM")
    elif code != 0:
        print(f"feed exit {code} after SIGTERM")
    return code == 0


def wait_for_progress(proc, deadline_s=20):
    """Reads stats lines until one shows ticks written."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            return False
        m = re.search(r"out (\d+)", line)
        if m and int(m.group(1)) > 0:
            return True
    return False


def run_case(sig, extra):
    feed, addr = start_feed()
    feed_ok = False
    try:
        url = f"ws://{addr}/stream?streams=btcusdt@trade/ethusdt@trade/bnbusdt@aggTrade"
        ingest = subprocess.Popen([ingest_bin, "--connect", url, "--connect", url, "--stats-interval", "0.05",
                                   "--duration", "30"] + extra,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if not wait_for_progress(ingest):
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
    finally:
        feed_ok = stop_feed(feed)
    return ok and feed_ok


def second_signal_case():
    """SIGTERM starts the drain, which a sink of 2 ms per tick makes last; SIGINT during it
    exits at once with 130. (Two different signals: a second SIGTERM still pending with the
    first would merge with it.)"""
    feed, addr = start_feed()
    try:
        url = f"ws://{addr}/stream?streams=btcusdt@trade"
        ingest = subprocess.Popen([ingest_bin, "--connect", url, "--stats-interval", "0.05", "--duration", "30",
                                   "--sink-delay-us", "2000", "--channel-capacity", "4096"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if not wait_for_progress(ingest):
            ingest.kill()
            raise SystemExit("ingest made no progress")
        ingest.send_signal(signal.SIGTERM)
        ingest.send_signal(signal.SIGINT)
        ingest.communicate(timeout=20)
        print(f"SIGTERM then SIGINT: exit {ingest.returncode}")
        return ingest.returncode == 130
    finally:
        stop_feed(feed)


def demo_case():
    """polarway-demo on SIGINT: the run stops early, every received tick is written, and the
    process exits by itself (status 1 is expected: the feed sent more than was read, which the
    demo's end-of-run comparison reports)."""
    demo = subprocess.Popen([demo_bin, "--ticks", "1000000000", "--sink", "count"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # It says it has started (its stats lines come every 5 s when not on a tty); a stall report
    # from the runtime may come first on a loaded machine.
    started, first = feed_process.wait_for_line(demo.stderr, r"(messages over)")
    if started is None:
        demo.kill()
        raise SystemExit(f"demo did not start: {first!r}")
    time.sleep(0.5)
    demo.send_signal(signal.SIGINT)
    out, err = demo.communicate(timeout=20)
    summary = json.loads(out.strip().splitlines()[-1])
    print(f"demo SIGINT: exit {demo.returncode}, in {summary['ticks_in']}, out {summary['ticks_out']}, "
          f"by signal {summary['stopped_by_signal']}")
    ok = (demo.returncode in (0, 1) and summary["stopped_by_signal"]
          and summary["ticks_in"] == summary["ticks_out"])
    if not ok:
        print(err[-2000:])
    return ok


results = [run_case(signal.SIGTERM, []),
           run_case(signal.SIGINT, ["--sink-delay-us", "20", "--channel-capacity", "64"]),
           second_signal_case(),
           demo_case()]
sys.exit(0 if all(results) else 1)
