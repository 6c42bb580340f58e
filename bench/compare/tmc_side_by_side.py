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
    bench/compare/tmc_side_by_side.py --tmc-bin DIR ... --profile

With --profile, once the timed rounds are over, one more run of each side of each cell is
sampled with `perf record` (Linux perf: `apt-get install linux-perf`; this machine has no
hardware counters, so the clock is sampled), and the section adds where each side's time went:
its hottest functions and the share of samples on locked (atomic read-modify-write)
instructions. A timer sample lands on the instruction after the one that was executing when the
interrupt came, and a locked instruction's cost (it drains the store buffer) shows up there: the
samples on an instruction that follows a locked one are counted as that locked one's.

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


def pw_argv(binary, workload, workers):
    return [binary, workload, str(workers), "--warm"]


def tmc_argv(tmc_bin, argv, workers):
    return [os.path.join(tmc_bin, argv[0]), *argv[1:], str(workers)]


def run_pw(binary, workload, workers, timeout):
    """(ns per task, peak RSS in MiB, tasks) of one warmed-up run of pw_compare."""
    proc = subprocess.run(pw_argv(binary, workload, workers), stdout=subprocess.PIPE, text=True, timeout=timeout)
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
    command = tmc_argv(tmc_bin, argv, workers)
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


def short_symbol(name):
    """A C++ symbol without its template arguments, parameters and the namespaces every name of
    its side shares: `fixed_fork_awaiter::await_suspend` for the whole instantiation."""
    out, depth = [], 0
    for ch in name:
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    s = "".join(out).split(" [clone")[0].strip()
    for prefix in ("polarway::detail::", "polarway::", "tmc::detail::", "tmc::", "::"):
        s = s.replace(prefix, "", 1) if s.startswith(prefix) else s
    return s or name


# pw_compare's own bookkeeping, outside the timed run: it counts nqueens' tasks by walking the
# tree again once the run is over. Left out of a profile's samples.
NOT_THE_WORKLOAD = {"nqueens_tasks"}


def left_out(symbol):
    """Whether a function (as perf report or perf annotate names it) is NOT_THE_WORKLOAD's."""
    return short_symbol(symbol).split("::")[-1] in NOT_THE_WORKLOAD

# perf annotate's lines: an instruction ("  43.61 :   2d0ef:  je ...") and a function's first
# line (": 5    000000000002d0e0 <name>:").
INSTRUCTION = re.compile(r"^\s*([0-9.]+)\s*:\s*[0-9a-f]+:\s+(.*)$")
FUNCTION_START = re.compile(r"^\s*:\s*\d+\s+[0-9a-f]+ <(.*)>:$")


def is_locked(instruction):
    """A read-modify-write that locks its cache line: a `lock` prefix, or xchg with memory
    (implicitly locked; `xchg %ax,%ax` is a no-op)."""
    return instruction.startswith("lock ") or (instruction.startswith("xchg") and "(" in instruction)


def profile(command, timeout):
    """Samples one run of `command`; returns (samples, CPU time sampled in ns, [(share, function)]
    of the hottest, share of samples on locked instructions)."""
    data = os.path.join(REPO, "build", "tmc-profile.data")
    os.makedirs(os.path.dirname(data), exist_ok=True)
    rec = subprocess.run(["perf", "record", "-q", "-F", "10000", "-o", data, "--", *command],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if rec.returncode != 0:
        raise RuntimeError(f"perf record {' '.join(command)}: exit {rec.returncode}: {rec.stderr.strip()}")
    report = subprocess.run(["perf", "report", "-i", data, "-n", "--stdio", "--sort", "sym"],
                            capture_output=True, text=True, check=True).stdout
    by_function, total, not_counted = {}, 0, 0
    event_count = re.search(r"Event count \(approx\.\): (\d+)", report)  # cpu-clock: nanoseconds
    if not event_count:
        raise RuntimeError(f"perf report {' '.join(command)}: no event count")
    for line in report.splitlines():
        m = re.match(r"^\s*[0-9.]+%\s+(\d+)\s+\[[.k]\]\s+(.*)$", line)
        if m:
            n, name = int(m.group(1)), short_symbol(m.group(2))
            if left_out(name):
                not_counted += n
                continue
            total += n
            by_function[name] = by_function.get(name, 0) + n
    if total == 0:
        raise RuntimeError(f"perf report {' '.join(command)}: no samples")
    # perf annotate gives each function's sample count and the share of it on each instruction.
    annotate = subprocess.run(["perf", "annotate", "-i", data, "--stdio"], capture_output=True, text=True).stdout
    locked, samples, after_locked = 0.0, 0, False
    for line in annotate.splitlines():
        head = re.search(r"Disassembly of .* \((\d+) samples", line)
        if head:
            samples, after_locked = int(head.group(1)), False
            continue
        start = FUNCTION_START.match(line)
        if start and left_out(start.group(1)):
            samples = 0  # a function left out: its instructions count for nothing
        m = INSTRUCTION.match(line)
        if not m:
            continue
        if after_locked:
            locked += float(m.group(1)) / 100 * samples
        after_locked = is_locked(m.group(2).strip())
    hottest = sorted(((n / total, f) for f, n in by_function.items()), reverse=True)[:6]
    cpu_ns = int(event_count.group(1)) * total // (total + not_counted)
    return total, cpu_ns, hottest, locked / total


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


def section(results, sides, args, started, profiles, tasks):
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
    if profiles:
        p()
        p("### Where the time goes")
        p()
        p("One more run of each side of each cell, sampled with `perf record -F 10000` (the clock: this "
          "machine has no hardware counters); warm-up and start-up are in it, as in the timed runs' "
          "processes. *Locked* is the share of samples on locked read-modify-write instructions "
          "(`lock`-prefixed, or xchg with memory): each of those drains the store buffer, and a timer "
          "sample lands on the instruction after it, so the samples on an instruction that follows a "
          "locked one are counted as its. CPU per task is the CPU time sampled (all threads) over the "
          "tasks of the two trees each process runs (untimed, then timed), start-up included; "
          "pw_compare's count of nqueens' tasks, a walk of the tree after the timed run, is left out. "
          "Functions are named without template arguments; a function inlined into another counts as "
          "part of it.")
        p()
        p("| workload | workers | side | samples | CPU per task | locked | of it locked | hottest functions "
          "(share of samples) |")
        p("|---|---:|---|---:|---:|---:|---:|---|")
        for (workload, workers, side), (total, cpu_ns, hottest, locked) in profiles.items():
            per_task = cpu_ns / (2 * tasks[workload])
            top = "; ".join(f"`{f}` {share:.0%}" for share, f in hottest if share >= 0.01)
            p(f"| {workload} | {workers} | {side} | {total:,} | {per_task:.1f} ns | {locked:.0%} | "
              f"{per_task * locked:.1f} ns | {top} |")
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
    ap.add_argument("--profile", action="store_true",
                    help="also sample one run of each side with perf and report where the time went")
    args = ap.parse_args()
    args.workers = [int(w) for w in args.workers.split(",")]
    if args.runs < 1 or any(w < 1 for w in args.workers):
        ap.error("--runs and --workers must be positive")
    if args.only:
        keep = set(args.only.split(","))
        for name in list(WORKLOADS):
            if name.split("(")[0].strip() not in keep:
                del WORKLOADS[name]
    if args.profile and not shutil.which("perf"):
        ap.error("--profile needs Linux perf on PATH (apt-get install linux-perf)")
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
            for workload, (pw_name, tmc_program) in WORKLOADS.items():
                for workers in args.workers:
                    for side in sides[round_ % len(sides):] + sides[:round_ % len(sides)]:
                        if side == "TooManyCooks":
                            ns, rss = run_tmc(args.tmc_bin, tmc_program, workers, args.timeout)
                        else:
                            ns, rss, tasks[workload] = run_pw(builds[side], pw_name, workers, args.timeout)
                        results[workload, workers, side].append((ns, rss))
                    # TooManyCooks reports a duration: per task once pw_compare has counted the tree
                    tmc = results[workload, workers, "TooManyCooks"]
                    tmc[-1] = (tmc[-1][0] / tasks[workload], tmc[-1][1])
                    line = ", ".join(f"{s} {results[workload, workers, s][-1][0]:.1f}" for s in sides)
                    print(f"round {round_ + 1} {workload} {workers}w: {line} ns/task", file=sys.stderr)
        profiles = {}
        if args.profile:
            pw_gxx = next(iter(builds))  # the g++ build: the one TooManyCooks' programs match
            for workload, (pw_name, tmc_program) in WORKLOADS.items():
                for workers in args.workers:
                    for side, command in (("TooManyCooks", tmc_argv(args.tmc_bin, tmc_program, workers)),
                                          (pw_gxx, pw_argv(builds[pw_gxx], pw_name, workers))):
                        profiles[workload, workers, side] = profile(command, args.timeout)
                        print(f"profiled {workload} {workers}w {side}: locked "
                              f"{profiles[workload, workers, side][3]:.0%}", file=sys.stderr)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print(f"tmc_side_by_side: {e}", file=sys.stderr)
        return 1
    text = section(results, sides, args, started, profiles, tasks)
    if args.no_docs:
        print(text)
    else:
        write_docs(os.path.join(REPO, "docs/benchmarks.md"), text)
        print("tmc_side_by_side: wrote its section of docs/benchmarks.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
