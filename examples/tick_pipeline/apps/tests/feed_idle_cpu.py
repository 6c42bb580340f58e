#!/usr/bin/python3
"""polarway-feed --rate with no client connected does (almost) no work: its pacing thread
sleeps until a connection subscribes. Measured as the CPU time the process is charged
(/proc/<pid>/stat utime + stime) over ~2 s idle, against a bound of 2% of one core: a bound on
work done while nothing is asked for, with wide slack (a pacing thread ticking every 100 us for
nobody costs several times the bound). Then a client is served at the rate (the thread wakes
for it), and once it has gone the feed is idle again. Loopback only, every wait bounded."""
import json
import os
import signal
import subprocess
import sys
import time

import feed_process

feed_bin, ingest_bin = sys.argv[1:3]
IDLE_S = 2.0
MAX_SHARE = 0.02
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        # The command name (field 2) may hold spaces: split after its closing parenthesis.
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime: fields 14 and 15


def idle_share(pid):
    before, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(IDLE_S)
    after, t1 = cpu_seconds(pid), time.monotonic()
    return (after - before) / (t1 - t0)


def main():
    feed, addr = feed_process.start(feed_bin, "--rate", "2000", "--symbols", "4", "--quiet", stdout=None)
    ok = True
    try:
        time.sleep(0.3)  # start-up work is not idle work

        share = idle_share(feed.pid)
        print(f"idle before any client: {share * 100:.2f}% of a core")
        ok &= share < MAX_SHARE

        ingest = subprocess.run([ingest_bin, "--connect", f"ws://{addr}/ws/btcusdt@trade", "--expect", "400", "--once",
                                 "--quiet", "--duration", "20"], capture_output=True, text=True, timeout=60)
        summary = json.loads(ingest.stdout.strip().splitlines()[-1])
        print(f"client: exit {ingest.returncode}, ticks out {summary['ticks_out']}")
        ok &= ingest.returncode == 0 and summary["ticks_out"] >= 400

        time.sleep(0.3)  # the connection's close handshake
        share = idle_share(feed.pid)
        print(f"idle after the client left: {share * 100:.2f}% of a core")
        ok &= share < MAX_SHARE
    finally:
        code, _ = feed_process.stop(feed, signal.SIGTERM, timeout=10)
    ok &= code == 0
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


sys.exit(main())
