#!/usr/bin/python3
"""Before and after: two builds of the polarway side of this harness on one workload.

Runs `BEFORE WORKLOAD WORKERS` and `AFTER WORKLOAD WORKERS` in turn, ROUNDS times (a fresh process
each run, the two alternating, and which goes first alternating too, so that machine drift hits
both alike), reads the first figure's value from each run's JSON line, and prints each binary's
quantiles (minimum, 10th, 25th, 50th, 75th and 90th percentile) and their ratios after / before.
On a shared VM the run times are often bimodal, the slow mode set by the host rather than by
the binary, so the low quantiles are the ones that compare the code. A run that prints no
figure or fails its own check is an error.

usage: before_after.py BEFORE AFTER WORKLOAD WORKERS [--rounds N]   (default 21)

Build the two binaries from the two commits, e.g.
  git worktree add /tmp/before <commit>
  cmake -S /tmp/before/bench/compare/polarway -B /tmp/before-build -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake -S bench/compare/polarway -B /tmp/after-build -G Ninja -DCMAKE_BUILD_TYPE=Release
"""
import argparse
import json
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
    for i in range(a.rounds):
        for binary in (a.before, a.after) if i % 2 == 0 else (a.after, a.before):
            values[binary].append(run(binary, a.workload, a.workers))
    b, f = values[a.before], values[a.after]
    qs = (0, 10, 25, 50, 75, 90)

    def quantiles(v):
        v = sorted(v)
        return [v[min(len(v) - 1, len(v) * q // 100)] for q in qs]

    qb, qf = quantiles(b), quantiles(f)
    print(f"{a.workload} on {a.workers} worker(s), {a.rounds} rounds; quantiles " + "/".join(f"q{q}" for q in qs))
    print(f"before {a.before}: " + " ".join(f"{v:.2f}" for v in qb))
    print(f"after  {a.after}: " + " ".join(f"{v:.2f}" for v in qf))
    print("after / before: " + " ".join(f"{x / y:.3f}" for x, y in zip(qf, qb)))

if __name__ == "__main__":
    main()
