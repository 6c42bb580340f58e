#!/usr/bin/env python3
"""polarway against TooManyCooks, side by side: skynet, fib and nqueens, alternating in one run.

TooManyCooks is not packaged for Debian, and neither its sources nor a script that builds them
belong in this repository. Build its runtime-benchmarks yourself (github.com/tzcnt/TooManyCooks
and github.com/tzcnt/runtime-benchmarks, the cpp/TooManyCooks programs, their Release flags),
put the three executables in one directory as `skynet`, `fib` and `nqueens`, and say which
commit and flags they were built from; this script builds polarway's side (pw_compare, with the
same -O3 -march=native, with g++ and, with --clang, clang++), runs every pair alternating, and
writes the "TooManyCooks, side by side" section of docs/benchmarks.md (between its markers).

    bench/compare/tmc_side_by_side.py --tmc-bin DIR --tmc-commit SHA --tmc-flags "..." [--clang]
    bench/compare/tmc_side_by_side.py --tmc-bin DIR ... --runs 1 --no-docs

Like TooManyCooks' programs, polarway's side runs each workload once untimed and then once
timed, in one process (pw_compare --warm). A run that fails its own check (a wrong sum, count
or number of solutions) stops the script.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BEGIN, END = "<!-- tmc:begin -->", "<!-- tmc:end -->"

# workload: (pw_compare's name, TooManyCooks' program and its arguments before the thread count)
WORKLOADS = {
    "skynet (10⁸ leaves)": ("skynet_100M", ["skynet"]),
    "fib(30)": ("fib_30", ["fib", "30"]),
    "nqueens(14)": ("nqueens_14", ["nqueens"]),
}
# What TooManyCooks' program prints when its result is right.
TMC_OUTPUT = {"fib": "output: 832040", "nqueens": "output: 365596", "skynet": None}


def tasks_of(pw_workload, detail):
    """Tasks in one run of the workload: the same tree on both sides."""
    if pw_workload == "skynet_100M":
        return 111_111_111
    if pw_workload == "fib_30":
        a, b = 0, 1
        for _ in range(31):
            a, b = b, a + b
        return 2 * a - 1  # 2·fib(31) − 1 calls
    m = re.search(r"(\d+) tasks", detail)
    if not m:
        raise RuntimeError(f"{pw_workload}: no task count in {detail!r}")
    return int(m.group(1))


def run_pw(binary, workload, workers, timeout):
    """(ns per task, peak RSS in MiB, tasks) of one warmed-up run of pw_compare."""
    proc = subprocess.run([binary, workload, str(workers), "--warm"], stdout=subprocess.PIPE, text=True,
                          timeout=timeout)
    lines = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
    if proc.returncode != 0 or len(lines) != 1 or not lines[0].get("ok"):
        raise RuntimeError(f"pw_compare {workload} {workers}: exit {proc.returncode}, output {proc.stdout.strip()!r}")
    detail = lines[0]["detail"]
    m = re.search(r"VmHWM (\d+) kB", detail)
    if not m:
        raise RuntimeError(f"pw_compare {workload}: no VmHWM in {detail!r}")
    return float(lines[0]["value"]), int(m.group(1)) / 1024, tasks_of(workload, detail)


def run_tmc(tmc_bin, argv, workers, timeout):
    """(timed run in ns, peak RSS in MiB) of one run of TooManyCooks' program (it warms up
    itself); the caller divides by the tasks, which pw_compare counts."""
    program = argv[0]
    # Started by a shell that forks it: getrusage's peak counts the pages a process had before
    # its exec, and those of this Python process, were it the parent, would be counted too.
    command = [os.path.join(tmc_bin, program), *argv[1:], str(workers)]
    proc = subprocess.run(["sh", "-c", '"$@"; exit $?', "sh", *command], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=timeout)
    out = proc.stdout
    duration = re.search(r"duration: (\d+) us", out)
    rss = re.search(r"max_rss: (\d+) KiB", out)
    wrong = re.search(r"error|fail", out, re.IGNORECASE)
    expected = TMC_OUTPUT[program]
    if proc.returncode != 0 or not duration or not rss or wrong or (expected and expected not in out):
        raise RuntimeError(f"TooManyCooks {program} {workers}: exit {proc.returncode}, output {out.strip()!r}")
    return int(duration.group(1)) * 1000, int(rss.group(1)) / 1024


def build_pw(name, cxx):
    sys.path.insert(0, HERE)
    import driver  # noqa: E402 (bench/compare/driver.py: run.sh's builder)
    exe = driver.build_cmake(name, os.path.join(HERE, "polarway"), "pw_compare", 2,
                             [f"-DCMAKE_CXX_COMPILER={cxx}", "-DCMAKE_CXX_FLAGS=-march=native"])
    if exe is None:
        raise RuntimeError(f"the {cxx} build of pw_compare failed (log above)")
    return exe


def compiler_version(cxx):
    first = subprocess.run([cxx, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    m = re.search(r"(\d+\.\d+\.\d+)", first)
    return f"{'clang' if 'clang' in first else 'g++'} {m.group(1) if m else '?'}"


def git_head():
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def section(results, sides, args, started):
    o = []
    p = lambda s="": o.append(s)  # noqa: E731
    p(BEGIN)
    p("## TooManyCooks, side by side")
    p()
    p(f"`{args.command}`, {started:%Y-%m-%d %H:%M} UTC, polarway git {git_head()}, "
      f"{platform.node() or 'this machine'} ({os.cpu_count()} CPUs, load average at the start "
      f"{args.load:.2f}). TooManyCooks {args.tmc_commit}, built by the user outside this "
      f"repository: {args.tmc_flags}. polarway's pw_compare: CMake Release (-O3) with "
      f"-march=native. {args.runs} run(s) per cell, every side of a cell run in turn within each "
      f"round (the order rotates each round), so that all sides see the same load. Each run is one "
      f"process that runs the workload once untimed, then once timed; ns/task is the timed run's "
      f"time over the tasks of the tree (every side forks the same tree: skynet's 10-way fan-out, "
      f"fib's two children per call, nqueens' one child per legal placement). Peak RSS is the "
      f"process's maximum resident set (VmHWM for polarway, getrusage for TooManyCooks).")
    p()
    p("| workload | workers | side | ns/task (median) | runs | peak RSS | ÷ TooManyCooks |")
    p("|---|---:|---|---:|---|---:|---:|")
    verdicts = []
    for workload in WORKLOADS:
        for workers in args.workers:
            tmc = statistics.median(r[0] for r in results[workload, workers, "TooManyCooks"])
            for side in sides:
                runs = results[workload, workers, side]
                med = statistics.median(r[0] for r in runs)
                rss = max(r[1] for r in runs)
                if side == "TooManyCooks":
                    ratio = "1"
                else:
                    ratio = f"{med / tmc:.2f}× the time" if med > tmc else f"{tmc / med:.2f}× faster"
                    verdicts.append((workload, workers, side, med <= tmc, med / tmc))
                p(f"| {workload} | {workers} | {side} | {med:.1f} | {', '.join(f'{r[0]:.1f}' for r in runs)} | "
                  f"{rss:.1f} MiB | {ratio} |")
    p()
    met = [v for v in verdicts if v[3]]
    p(f"At least as fast as TooManyCooks (median against median): {len(met)} of {len(verdicts)} "
      f"polarway cells.")
    for workload, workers, side, ok, r in verdicts:
        if not ok:
            p(f"- behind: {workload}, {workers} worker{'s' if workers > 1 else ''}, {side}: "
              f"{r:.2f}× TooManyCooks' time per task.")
    p(END)
    return "\n".join(o)


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
    ap.add_argument("--tmc-bin", required=True, help="directory with TooManyCooks' skynet, fib and nqueens")
    ap.add_argument("--tmc-commit", required=True, help="the TooManyCooks commit they were built from")
    ap.add_argument("--tmc-flags", required=True, help="how they were built (compiler and flags)")
    ap.add_argument("--runs", type=int, default=5, help="runs per cell (default 5)")
    ap.add_argument("--workers", default="1,2", help="worker counts (default 1,2)")
    ap.add_argument("--clang", action="store_true", help="also a clang++ build of pw_compare")
    ap.add_argument("--only", help="comma-separated subset of skynet,fib,nqueens")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per run (default 300)")
    ap.add_argument("--no-docs", action="store_true", help="print the section instead of writing docs/")
    args = ap.parse_args()
    args.workers = [int(w) for w in args.workers.split(",")]
    if args.runs < 1 or any(w < 1 for w in args.workers):
        ap.error("--runs and --workers must be positive")
    if args.only:
        keep = set(args.only.split(","))
        for name in list(WORKLOADS):
            if name.split("(")[0].strip() not in keep:
                del WORKLOADS[name]
    for _, argv in WORKLOADS.values():
        if not os.access(os.path.join(args.tmc_bin, argv[0]), os.X_OK):
            ap.error(f"{args.tmc_bin}/{argv[0]} is not an executable")
    args.command = "bench/compare/tmc_side_by_side.py" + "".join(f" {a!r}" if " " in a else f" {a}"
                                                                 for a in sys.argv[1:])
    started = datetime.datetime.now(datetime.timezone.utc)
    try:
        builds = {}
        gxx = shutil.which("g++") or "g++"
        builds[f"polarway ({compiler_version(gxx)})"] = build_pw("polarway-native", gxx)
        if args.clang:
            clang = shutil.which("clang++") or shutil.which("clang++-14")
            if not clang:
                raise RuntimeError("--clang: no clang++ on PATH (scripts/setup.sh installs it)")
            builds[f"polarway ({compiler_version(clang)})"] = build_pw("polarway-native-clang", clang)
        sides = ["TooManyCooks", *builds]
        args.load = os.getloadavg()[0]
        results = {(w, n, s): [] for w in WORKLOADS for n in args.workers for s in sides}
        tasks = {}
        for round_ in range(args.runs):
            for workload, (pw_name, tmc_argv) in WORKLOADS.items():
                for workers in args.workers:
                    for side in sides[round_ % len(sides):] + sides[:round_ % len(sides)]:
                        if side == "TooManyCooks":
                            ns, rss = run_tmc(args.tmc_bin, tmc_argv, workers, args.timeout)
                        else:
                            ns, rss, tasks[workload] = run_pw(builds[side], pw_name, workers, args.timeout)
                        results[workload, workers, side].append((ns, rss))
                    # TooManyCooks reports a duration: per task once pw_compare has counted the tree
                    tmc = results[workload, workers, "TooManyCooks"]
                    tmc[-1] = (tmc[-1][0] / tasks[workload], tmc[-1][1])
                    line = ", ".join(f"{s} {results[workload, workers, s][-1][0]:.1f}" for s in sides)
                    print(f"round {round_ + 1} {workload} {workers}w: {line} ns/task", file=sys.stderr)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"tmc_side_by_side: {e}", file=sys.stderr)
        return 1
    text = section(results, sides, args, started)
    if args.no_docs:
        print(text)
    else:
        write_docs(os.path.join(REPO, "docs/benchmarks.md"), text)
        print("tmc_side_by_side: wrote its section of docs/benchmarks.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
