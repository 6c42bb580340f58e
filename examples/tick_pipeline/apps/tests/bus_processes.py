"""The bus scripts' processes (bus_e2e.py, interop/cluster_demo.py): polarway-ingest publishing to
the bus and polarway-sink partitions reading it, their stderr drained while they run, the wait
until the sinks have caught up with the stream (asked with nats-py), and the DuckDB read-back of
what the sinks wrote against a feed's market.
"""
import asyncio
import json
import os
import re
import signal
import subprocess
import threading
import time

from checklist import check


class Drained(threading.Thread):
    """Reads a process's stderr to the end (so it never blocks on a full pipe), keeping it."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.text, self.lock = stream, "", threading.Lock()
        self.start()

    def run(self):
        for line in self.stream:
            with self.lock:
                self.text += line

    def snapshot(self):
        with self.lock:
            return self.text


class Sink:
    """A polarway-sink partition: `--consumer NAME --out WORK/NAME`, stopped by the caller."""

    def __init__(self, binary, work, name, partition, urls):
        self.name, self.out = name, os.path.join(work, name)
        self.summary = os.path.join(work, name + ".json")
        self.argv = [binary, "--from", urls, "--consumer", name, "--out", self.out, "--partition", partition,
                     "--commit-interval", "1", "--ack-wait", "5", "--json-summary", self.summary]
        self.start()

    def start(self):
        self.process = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.stderr = Drained(self.process.stderr)

    def dump(self):
        """SIGUSR1: the sink writes its task dump on stderr (for a failure's diagnosis)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGUSR1)
            time.sleep(0.5)

    def stop(self, timeout=120):
        """SIGTERM: the sink commits and acknowledges what it has. Returns (status, stderr)."""
        self.process.terminate()
        return finish(self.process, self.stderr, timeout)


def start_ingest(binary, work, name, url, urls, *extra):
    """polarway-ingest --connect URL --publish URLS; returns (process, drained stderr, summary)."""
    summary = os.path.join(work, name + ".json")
    p = subprocess.Popen([binary, "--connect", url, "--publish", urls, "--duration", "300", "--quiet",
                          "--backoff-initial", "0.05", "--json-summary", summary, *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return p, Drained(p.stderr), summary


def finish(p, drained, timeout):
    """Waits for `p` (killed after `timeout` s); returns (status, stderr)."""
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    drained.join(timeout=5)
    return p.returncode, drained.snapshot()


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def consumers_caught_up(urls, names, timeout, stream="TICKS"):
    """Waits until each consumer has been delivered every message of the stream and has
    acknowledged them (a sink acknowledges only what its committed files hold). True if so.

    Acknowledged means the consumer's ack floor has reached the stream's last message: every
    message up to the floor is acknowledged. num_ack_pending alone is not asked for: after a
    leader change nats-server 2.9 (Debian's) can keep counting one message pending below a floor
    that has passed it (its later releases fixed consumer state drift after leader changes).
    What the consumers looked like last is printed when they never got there."""
    import nats

    async def poll():
        nc = await nats.connect(urls.split(","), connect_timeout=5, max_reconnect_attempts=-1)
        try:
            js = nc.jetstream()
            deadline = time.monotonic() + timeout
            last = None
            while time.monotonic() < deadline:
                try:
                    last_seq = (await js.stream_info(stream)).state.last_seq
                    infos = [await js.consumer_info(stream, n) for n in names]
                    last = [(n, i.num_pending, i.num_ack_pending, i.ack_floor.stream_seq, last_seq)
                            for n, i in zip(names, infos)]
                    if all(i.num_pending == 0 and i.ack_floor.stream_seq >= last_seq for i in infos):
                        return True
                except Exception as e:  # a leader election in progress: ask again
                    last = repr(e)
                await asyncio.sleep(0.5)
            print(f"  consumers last seen (name, pending, ack pending, ack floor, stream's last): {last}")
            return False
        finally:
            await nc.close()

    return asyncio.run(poll())


def market_totals(feed_err, kind):
    """(count, price_sum, quantity_sum) of the feed's market of `kind`, from its exit summary."""
    m = re.search(rf"market {kind} produced (\d+) messages; totals price_sum (\d+) quantity_sum (\d+)", feed_err)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def read_back(verifier, work, name, dirs, kind, totals):
    """DuckDB over every sink's directory: the market of `kind` exactly once, with its sums."""
    want = os.path.join(work, f"{name}-{kind}-market.json")
    wrap = (1 << 64) - 1
    with open(want, "w") as f:
        json.dump({"dirs": dirs, "stream": kind, "count": str(totals[0]),
                   "price_sum": str(totals[1] & wrap), "quantity_sum": str(totals[2] & wrap)}, f)
    r = subprocess.run(["node", verifier, "ids", want], capture_output=True, text=True, timeout=300)
    print("  " + r.stderr.strip().replace("\n", "\n  "))
    return check(r.returncode == 0, f"{name}: DuckDB finds every {kind} id of the market exactly once, over "
                                     f"{len(dirs)} sink directories")
