#!/usr/bin/env python3
"""skynet_100M for polarway alone, at 1 and 2 workers, beside the TooManyCooks reference figure.

The side-by-side table leaves skynet_100M out by default (one run takes minutes on the slower
peers; see README.md). This runs polarway's pw_compare (built by bench/compare/run.sh) a few
times per worker count, records ns/task and peak RSS, and writes the "skynet_100M" section of
docs/benchmarks.md (between its markers; the rest of the file is left as it is).

    bench/compare/skynet_100m.py                 # 3 runs per worker count -> docs/benchmarks.md
    bench/compare/skynet_100m.py --runs 1 --no-docs
"""
import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BEGIN, END = "<!-- skynet100m:begin -->", "<!-- skynet100m:end -->"
# ../shared/WORKLOADS.md, "Reference figures": TooManyCooks' own skynet, 2 threads, g++ 12 -O3.
TMC_NS = 16.9


def run_measured(binary, workers, timeout):
    """One run: (ns per task, peak RSS in MiB, detail). Raises on a failed, wrong or hung run."""
    try:
        proc = subprocess.run([binary, "skynet_100M", str(workers)], stdout=subprocess.PIPE, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{workers} workers: no result within {timeout} s")
    if proc.returncode != 0:
        raise RuntimeError(f"{workers} workers: exit status {proc.returncode}")
    lines = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
    if len(lines) != 1 or not lines[0].get("ok"):
        raise RuntimeError(f"{workers} workers: unexpected output {proc.stdout.strip()!r}")
    detail = lines[0].get("detail", "")
    # The benchmark reports its own peak resident set (VmHWM): measured from here, the pages of
    # this Python process that the fork shares would count too.
    m = re.search(r"VmHWM (\d+) kB", detail)
    if not m:
        raise RuntimeError(f"{workers} workers: no VmHWM in {detail!r} (pw_compare too old? rebuild it)")
    return float(lines[0]["value"]), int(m.group(1)) / 1024, detail


def section(results, args, started):
    o = []
    p = lambda s="": o.append(s)  # noqa: E731
    p(BEGIN)
    p("## skynet_100M: polarway against TooManyCooks")
    p()
    p(f"`{args.command}`, {started:%Y-%m-%d %H:%M} UTC, polarway git {git_head()}, "
      f"{platform.node() or 'this machine'} ({os.cpu_count()} CPUs, load average at the start "
      f"{args.load:.2f}). "
      f"{args.runs} run(s) per worker count; the skynet tree of 10⁸ leaves "
      f"(111,111,111 tasks, recursive 10-way fan-out with `pw::join_all`), as in "
      f"[the workload definitions](../bench/compare/README.md#workloads). Peak RSS is the "
      f"benchmark process's maximum resident set. TooManyCooks is not run here (it is not "
      f"packaged for Debian): its figure is the reference in ../shared/WORKLOADS.md, its own "
      f"skynet with 2 threads on this kind of machine.")
    p()
    p("| configuration | ns/task (median) | runs | peak RSS | ÷ TooManyCooks (16.9 ns, 2 threads) |")
    p("|---|---:|---|---:|---:|")
    med = {}
    for workers, runs in results.items():
        ns = [r[0] for r in runs]
        med[workers] = statistics.median(ns)
        rss = max(r[1] for r in runs)
        p(f"| polarway, {workers} worker{'s' if workers > 1 else ''} | {med[workers]:.1f} | "
          f"{', '.join(f'{x:.1f}' for x in ns)} | {rss:.1f} MiB | {med[workers] / TMC_NS:.2f}× slower |")
    p()
    if 1 in med and 2 in med:
        p(f"Scaling: 2 workers take {med[2] / med[1]:.2f}× the time per task of 1 worker "
          f"({med[1] / med[2]:.2f}× the throughput). Target (issue #3): at least as fast as "
          f"TooManyCooks; {'met' if med[2] <= TMC_NS else 'not met'}.")
    p(END)
    return "\n".join(o)


def git_head():
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_docs(path, text):
    with open(path) as f:
        old = f.read()
    i, j = old.find(BEGIN), old.find(END)
    if i >= 0 and j > i:
        new = old[:i] + text + old[j + len(END):]
    else:  # first time: before the raw output, which stays last
        k = old.find("## Raw output")
        if k < 0:
            raise RuntimeError(f"{path}: no '## Raw output' heading to insert the section before")
        new = old[:k] + text + "\n\n" + old[k:]
    with open(path, "w") as f:
        f.write(new)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="runs per worker count (default 3)")
    ap.add_argument("--binary", default=os.path.join(REPO, "build/bench-compare/polarway/pw_compare"),
                    help="pw_compare (default: the one bench/compare/run.sh builds)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per run (default 600)")
    ap.add_argument("--no-docs", action="store_true", help="print the section instead of writing docs/")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    if not os.access(args.binary, os.X_OK):
        ap.error(f"{args.binary} is not an executable; build it with bench/compare/run.sh first")
    args.command = "bench/compare/skynet_100m.py" + "".join(f" {a}" for a in sys.argv[1:])
    started = datetime.datetime.now(datetime.timezone.utc)
    args.load = os.getloadavg()[0]
    results = {}
    try:
        for workers in (1, 2):
            results[workers] = []
            for n in range(args.runs):
                ns, rss, detail = run_measured(args.binary, workers, args.timeout)
                print(f"skynet_100M polarway {workers}w run {n + 1}: {ns:.1f} ns/task, "
                      f"peak RSS {rss:.1f} MiB ({detail})", file=sys.stderr)
                results[workers].append((ns, rss))
    except RuntimeError as e:
        print(f"skynet_100m: {e}", file=sys.stderr)
        return 1
    text = section(results, args, started)
    if args.no_docs:
        print(text)
    else:
        write_docs(os.path.join(REPO, "docs/benchmarks.md"), text)
        print("skynet_100m: wrote its section of docs/benchmarks.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
