#!/usr/bin/env python3
"""The scale-out demo (scripts/cluster-demo.sh, and CTest's tick_apps_cluster_demo): three
nats-server nodes clustered on loopback with JetStream, two polarway-ingest processes each
publishing its own feed to the replicated stream (replicas 3), two polarway-sink partitions
writing Parquet, and DuckDB reading both directories back.

The two ingests share the work by kind: one reads a market of trades, the other a market of
aggTrades, each from a polarway-feed of its own (a market's clock starts with its first client,
so each ingest gets its whole market). Once both ingests are done and both sinks' consumers have
nothing pending or unacknowledged, the sinks are stopped (SIGTERM). Then, for each kind, DuckDB
must find the market's count of rows, as many distinct (symbol, id) pairs, each symbol's ids one
unbroken run, and the market's sums of price and quantity, across the two sinks' directories.

usage: cluster_demo.py FEED INGEST SINK WORK_DIR NODE_DIR VERIFY_MJS [NATS_SERVER] [--ticks N]
(NODE_DIR holds DuckDB's @duckdb/node-api; exit 77 when it does not)
"""
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "apps", "tests"))

import feed_process  # noqa: E402
from bus_processes import Sink, consumers_caught_up, finish, load, market_totals, read_back, start_ingest  # noqa: E402
from checklist import check, failures  # noqa: E402
from nats_cluster import NatsCluster  # noqa: E402

args = sys.argv[1:]
ticks = 400_000
if "--ticks" in args:
    i = args.index("--ticks")
    ticks = int(args[i + 1])
    del args[i:i + 2]
FEED, INGEST, SINK, WORK, NODE_DIR, VERIFY = args[:6]
NATS_SERVER = args[6] if len(args) > 6 else None
RATE = max(1, ticks // 4)  # each market lasts 4 s

if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@duckdb", "node-api")):
    print(f"DuckDB is not installed in {NODE_DIR}: skipped")
    sys.exit(77)
verifier = os.path.join(NODE_DIR, "parquet_sink_verify-cluster.mjs")
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
shutil.copy(VERIFY, verifier)

began = time.monotonic()
with NatsCluster(3, server=NATS_SERVER) as cluster:
    urls = cluster.urls
    print(f"cluster: 3 nodes at {urls}")
    sinks = [Sink(SINK, WORK, "sink0", "0/2", urls), Sink(SINK, WORK, "sink1", "1/2", urls)]
    feeds, ingests = [], []
    for kind in ("trade", "aggTrade"):
        # Sent every 20 ms: fewer, larger reads, so fewer bus messages for the sinks to drain.
        feed, addr = feed_process.start(FEED, "--symbols", "8", "--kind", kind, "--rate", str(RATE),
                                        "--count", str(ticks), "--pace-us", "20000", "--quiet")
        feeds.append((kind, feed))
        ingests.append((kind, *start_ingest(INGEST, WORK, f"ingest-{kind}", f"ws://127.0.0.1:{feed_process.port_of(addr)}/",
                                            urls, "--expect", str(ticks), "--nats-source", f"ingest-{kind}")))
    for kind, p, drained, summary in ingests:
        code, err = finish(p, drained, 300)
        s = load(summary)
        print(f"ingest ({kind}): exit {code}, {s and s['ticks_out']} ticks, bus {s and s['bus']}")
        check(code == 0 and s is not None and s["bus"]["acknowledged"] == s["bus"]["messages"],
              f"ingest ({kind}): every tick published and acknowledged")
        if code != 0:
            print(err[-3000:])
    totals = {kind: market_totals(feed_process.stop(feed)[1], kind) for kind, feed in feeds}
    if not check(consumers_caught_up(urls, [s.name for s in sinks], 120), "both sinks caught up with the stream"):
        for sink in sinks:
            sink.dump()
    for sink in sinks:
        code, err = sink.stop()
        s = load(sink.summary)
        print(f"{sink.name}: exit {code}, {s and s['messages']} messages, {s and s['rows_taken']} rows, "
              f"{s and s['parquet']['files_written']} files, peak RSS {s and s['peak_rss_kib']} KiB")
        check(code == 0, f"{sink.name} exits 0")
        if code != 0:
            print(err[-3000:])
for kind, t in totals.items():
    if check(t is not None and t[0] == ticks, f"the {kind} feed reports a market of {ticks}"):
        read_back(verifier, WORK, "cluster", [s.out for s in sinks], kind, t)
print(f"{time.monotonic() - began:.1f} s; " + ("FAILED: " + "; ".join(failures) if failures else "every id exactly once"))
sys.exit(1 if failures else 0)
