#!/usr/bin/env python3
"""The bus end to end, with faults: feed -> polarway-ingest --publish nats:// -> a 3-node
JetStream cluster (replicas 3) -> two polarway-sink processes (--partition 0/2 and 1/2) ->
Parquet, read back with DuckDB: every id of the market exactly once, and the market's sums.

- faults (one run): while the market runs, one server is killed (kill -9) and later restarted,
  another is paused (SIGSTOP) for 5 s, one sink is killed (kill -9) and restarted on its
  directory and consumer, and the ingest is killed (kill -9) and started again with --backfill:
  it resumes each stream after the last id the bus holds from it and fetches what it missed
  from the feed's REST history; it publishes with --nats-compression zstd, so the sinks read
  compressed messages (those merged while the paused server held acknowledgements back) and
  plain ones in one stream. Once the second ingest is done (the market's end closes its
  connection: --once) and both sinks' consumers have nothing pending or unacknowledged (asked
  with nats-py), the sinks are stopped with SIGTERM. Every process but the killed ones is
  expected to exit 0 and the output to be exact.
- the bus unreachable at start: every server killed, polarway-ingest started and seen retrying
  with back-off (never a crash), the servers started again, and the run completes.

The market is aggTrades over 8 symbols (--rate, --count): its totals come from the feed's exit
summary. A sanitizer build passes --scale 0.1 (a tenth of the market at a tenth of the rate:
the same 20 s).

usage: bus_e2e.py FEED INGEST SINK WORK_DIR NODE_DIR VERIFY_MJS NATS_SERVER [--scale F]
(run by a Python that has pyarrow)
Exit 77 (skipped) when DuckDB is not in NODE_DIR (the tick_sink_npm fixture installs it).
"""
import os
import shutil
import sys
import time

import feed_process
from bus_processes import Sink, consumers_caught_up, finish, load, market_totals, read_back, start_ingest
from checklist import check, failures
from nats_cluster import NatsCluster

FEED, INGEST, SINK, WORK, NODE_DIR, VERIFY, NATS_SERVER = sys.argv[1:8]
SCALE = float(sys.argv[9]) if len(sys.argv) == 10 and sys.argv[8] == "--scale" else 1.0
RATE = int(50_000 * SCALE)
# The market lasts 20 s: the faults end at 11 s (the paused server resumes), and the resumed
# ingest may wait up to its bus back-off cap (5 s) past that, plus a leader election, before it
# reads where to resume and connects. It fetches what it missed from REST at once, and a market
# still running then makes its first live ticks meet that catch-up: both are exercised.
MARKET = RATE * 20

if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@duckdb", "node-api")):
    print(f"DuckDB is not installed in {NODE_DIR}: skipped")
    sys.exit(77)
verifier = os.path.join(NODE_DIR, "parquet_sink_verify-bus.mjs")
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
shutil.copy(VERIFY, verifier)


def faults_case():
    with NatsCluster(3, server=NATS_SERVER) as cluster:
        urls = cluster.urls
        # The sinks start first: the stream does not exist yet, and they wait for it.
        sinks = [Sink(SINK, WORK, "sink0", "0/2", urls), Sink(SINK, WORK, "sink1", "1/2", urls)]
        # Sent every 20 ms: fewer, larger reads, so fewer bus messages for the sinks to drain.
        feed, addr = feed_process.start(FEED, "--symbols", "8", "--kind", "aggTrade", "--rate", str(RATE),
                                        "--count", str(MARKET), "--pace-us", "20000", "--quiet")
        ingest, ingest_err, ingest_summary = start_ingest(INGEST, WORK, "faults-ingest",
                                                          f"ws://127.0.0.1:{feed_process.port_of(addr)}/", urls,
                                                          "--expect", str(MARKET))
        began = time.monotonic()

        def at(t):
            time.sleep(max(0.0, began + t - time.monotonic()))

        at(1.5)
        cluster.kill(0)
        at(2.5)
        sinks[0].process.kill()
        sinks[0].process.wait()
        sinks[0].start()
        at(4.0)
        cluster.restart(0)
        at(5.0)
        ingest.kill()
        killed, _ = finish(ingest, ingest_err, 30)
        check(killed == -9, f"faults: the first ingest was killed (status {killed})")
        at(5.5)
        ingest, ingest_err, ingest_summary = start_ingest(INGEST, WORK, "faults-ingest-again",
                                                          f"ws://127.0.0.1:{feed_process.port_of(addr)}/", urls,
                                                          "--backfill", "--once", "--nats-compression", "zstd")
        at(6.0)
        cluster.pause(1)
        at(11.0)
        cluster.resume(1)
        code, err = finish(ingest, ingest_err, 300)
        feed_err = feed_process.stop(feed)[1]
        s = load(ingest_summary)
        bus = s["bus"] if s else None
        backfill = s["backfill"] if s else None
        print(f"  faults: second ingest exit {code}, bus {bus}, backfill {backfill}")
        check(code == 0, "faults: the second ingest exits 0 (every tick published and acknowledged)")
        check(bus is not None and bus["acknowledged"] == bus["messages"] and bus["failure"] is None,
              "faults: the bus acknowledged every message")
        check(backfill is not None and backfill["resumed_streams"] == 8 and "streams resume after the last id the bus holds" in err,
              "faults: the second ingest resumed the 8 streams from what the bus holds")
        check(backfill is not None and backfill["ticks_backfilled"] > 0 and backfill["gaps_unfilled"] == 0,
              "faults: what the kill lost was fetched from REST")
        if code != 0:
            print(err[-3000:])
        # The sinks run until told to stop: once both have taken and acknowledged everything.
        if not check(consumers_caught_up(urls, ["sink0", "sink1"], 120), "faults: both sinks caught up with the stream"):
            for sink in sinks:
                sink.dump()
        for sink in sinks:
            sink_code, sink_err = sink.stop()
            ss = load(sink.summary)
            keys = ("messages", "redelivered", "rows_taken", "other_partition", "bad_messages", "commits", "repositions",
                    "bus_gaps", "duplicate_rows")
            print(f"  faults: {sink.name} exit {sink_code}, {ss and {k: ss[k] for k in keys}}, "
                  f"rows already written {ss and ss['parquet']['rows_already_written']}")
            check(sink_code == 0, f"faults: {sink.name} exits 0")
            if sink_code != 0:
                print(sink_err[-3000:])
        check(all(load(x.summary) and load(x.summary)["other_partition"] > 0 for x in sinks),
              "faults: the sinks split the symbols between them")
        totals = market_totals(feed_err, "aggTrade")
        if check(totals is not None and totals[0] == MARKET, f"faults: the feed reports a market of {MARKET}"):
            read_back(verifier, WORK, "faults", [x.out for x in sinks], "aggTrade", totals)


def unreachable_case():
    market = RATE * 2
    with NatsCluster(3, server=NATS_SERVER) as cluster:
        urls = cluster.urls
        for i in range(cluster.size):
            cluster.kill(i)
        feed, addr = feed_process.start(FEED, "--symbols", "2", "--kind", "aggTrade", "--rate", str(RATE),
                                        "--count", str(market), "--pace-us", "20000", "--quiet")
        ingest, drained, summary = start_ingest(INGEST, WORK, "unreachable-ingest",
                                                f"ws://127.0.0.1:{feed_process.port_of(addr)}/", urls,
                                                "--expect", str(market))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and drained.snapshot().count("retrying in") < 3 and ingest.poll() is None:
            time.sleep(0.1)
        seen = drained.snapshot()
        check(ingest.poll() is None, "unreachable: ingest waits for the bus (still running)")
        check(seen.count("retrying in") >= 3 and "cannot reach the bus" in seen,
              f"unreachable: each failed attempt is logged with its back-off ({seen.count('retrying in')} seen)")
        cluster.restart(*range(cluster.size))
        code, err = finish(ingest, drained, 120)
        feed_process.stop(feed)
        s = load(summary)
        print(f"  unreachable: ingest exit {code}, bus {s and s['bus']}")
        check(code == 0, "unreachable: once the bus is up, the run completes (exit 0)")
        check(s is not None and s["bus"]["acknowledged"] == s["bus"]["messages"] > 0,
              "unreachable: every message acknowledged")
        if code != 0:
            print(err[-3000:])


faults_case()
unreachable_case()
print("FAILED: " + "; ".join(failures) if failures else "the bus delivered every id exactly once")
sys.exit(1 if failures else 0)
