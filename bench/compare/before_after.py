#!/usr/bin/python3
"""Before and after: two builds of the polarway side of this harness on one workload.

Runs `BEFORE WORKLOAD WORKERS` and `AFTER WORKLOAD WORKERS` in turn, ROUNDS times (a fresh process
each run, the two alternating so that machine drift hits both alike), reads the first figure's
value from each run's JSON line, and prints each binary's median and minimum and the ratios
after / before. A run that prints no figure or fails its own check is an error.

usage: before_after.py BEFORE AFTER WORKLOAD WORKERS [--rounds N]   (default 21)

Build the two binaries from the two commits, e.g.
  git worktree add /tmp/before <commit>
  cmake -S /tmp/before/bench/compare/polarway -B /tmp/before-build -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake -S bench/compare/polarway -B /tmp/after-build -G Ninja -DCMAKE_BUILD_TYPE=Release
"""
import argparse
import json
import statistics
import subprocess
import sys


def run(binary, workload, workers):
    out = subprocess.run([binary, workload, str(workers)], capture_output=True, text=True, timeout=300)
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            figure = json.loads(line)
            if not figure.get("ok"):
                sys.exit(f"{binary}: the run failed its check: {line}")
            return float(figure["value"])
    sys.exit(f"{binary} {workload} {workers}: no figure (exit {out.returncode}): {out.stderr[-500:]}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("before")
    p.add_argument("after")
    p.add_argument("workload")
    p.add_argument("workers", type=int)
    p.add_argument("--rounds", type=int, default=21)
    a = p.parse_args()
    values = {a.before: [], a.after: []}
    for _ in range(a.rounds):
        for binary in (a.before, a.after):
            values[binary].append(run(binary, a.workload, a.workers))
    b, f = values[a.before], values[a.after]
    print(f"{a.workload} on {a.workers} worker(s), {a.rounds} rounds")
    print(f"before {a.before}: median {statistics.median(b):.2f} min {min(b):.2f}")
    print(f"after  {a.after}: median {statistics.median(f):.2f} min {min(f):.2f}")
    print(f"after / before: median {statistics.median(f) / statistics.median(b):.3f} min {min(f) / min(b):.3f}")


if __name__ == "__main__":
    main()
