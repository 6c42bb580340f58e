"""The Python brain's side of the pipeline benchmark: subscribes to polarway-ingest's --publish
feed with polarway_ticks (python/), takes every trade batch as a pyarrow.RecordBatch until the
stream closes, and prints one JSON line: the ticks, their exact price and quantity sums (in
units of 1e-8, comparable with the feed's totals), the time from the first batch to the last,
the CPU time this process spent receiving, and with --latency the percentiles of now -
sent_time, "now" being the moment the batch came out of the iterator.

Flat out, each batch is summed as it comes and let go, as a brain would. With --latency, the
loop only keeps each batch and its arrival time, and the sums and latencies are computed once
the stream has closed, so that the measuring's own work does not delay the next batch.

Usage: brain_reader.py --url unix:PATH [--latency] [--timeout S]
The ingest runs with --publish-wait 1, so that it reads no tick before this subscriber is there."""
import argparse
import gc
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

import polarway_ticks as pt  # noqa: E402


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def raw_units(decimal_sum):
    """A decimal128(38, 8) sum as an integer count of 1e-8."""
    return int(decimal_sum.as_py().scaleb(8)) if decimal_sum.is_valid else 0


class Totals:
    """The ticks, batches and exact price and quantity sums of the batches added."""

    def __init__(self):
        self.ticks = self.batches = self.price_sum = self.quantity_sum = 0

    def add(self, batch):
        self.ticks += batch.num_rows
        self.batches += 1
        self.price_sum += raw_units(pc.sum(batch.column("price")))
        self.quantity_sum += raw_units(pc.sum(batch.column("quantity")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--latency", action="store_true", help="percentiles of now - sent_time")
    ap.add_argument("--timeout", type=float, default=300.0)
    args = ap.parse_args()

    totals = Totals()
    first = last = None
    cpu_first = None
    latencies = []
    closed = None
    deadline = time.monotonic() + args.timeout
    sub = pt.subscribe(args.url, kinds=("trade",), stale_after=1.0)
    received = []  # --latency: (arrival unix ns, batch)
    # The batches kept for --latency make each of the cyclic collector's full passes longer as the
    # run goes on, a cost of this measuring loop, not of the feed: it is paused while receiving.
    # The batches hold no reference cycles.
    gc.disable()
    for item in sub:
        if isinstance(item, pa.RecordBatch):
            now = time.time_ns()
            if first is None:
                first, cpu_first = time.perf_counter(), cpu_seconds()
            if args.latency:
                received.append((now, item))
            else:
                totals.add(item)
            last = time.perf_counter()
        elif isinstance(item, pt.Closed):
            closed = item
            break
        if time.monotonic() > deadline:
            break
    cpu = cpu_seconds() - (cpu_first if cpu_first is not None else cpu_seconds())
    gc.enable()
    for now, batch in received:
        totals.add(batch)
        latencies.append(pc.subtract(pa.scalar(now, pa.int64()), batch.column("sent_time").cast(pa.int64())))
    seconds = (last - first) if first is not None and last is not None else 0.0
    out = {"ok": closed is not None and closed.orderly, "closed": closed.reason if closed else None,
           "ticks": totals.ticks, "batches": totals.batches, "price_sum": totals.price_sum,
           "quantity_sum": totals.quantity_sum,
           "seconds": seconds, "cpu_s": cpu, "ticks_per_s": totals.ticks / seconds if seconds > 0 else 0.0,
           "ticks_per_cpu_s": totals.ticks / cpu if cpu > 0 else 0.0}
    if latencies:
        all_ns = pa.chunked_array(latencies).combine_chunks().drop_null()
        q = pc.quantile(all_ns, q=[0.5, 0.99, 0.999], interpolation="higher").to_pylist()
        out["latency_ns"] = {"samples": len(all_ns), "p50": q[0], "p99": q[1], "p999": q[2],
                             "max": pc.max(all_ns).as_py()}
    print(json.dumps(out), flush=True)
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
