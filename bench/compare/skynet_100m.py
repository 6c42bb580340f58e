#!/usr/bin/env python3
"""skynet_100M for polarway alone, at 1 and 2 workers, beside the TooManyCooks reference figure.

The side-by-side table leaves skynet_100M out by default (one run takes minutes on the slower
peers; see README.md). This runs polarway's pw_compare (built by bench/compare/run.sh) a few
times per worker count, records ns/task and peak RSS, and writes the "skynet_100M" section of
docs/benchmarks.md (between its markers; the rest of the file is left as it is).

    bench/compare/skynet_100m.py                 # 3 runs per worker count -> docs/benchmarks.md
    bench/compare/skynet_100m.py --runs 1 --no-docs
    bench/compare/skynet_100m.py --clang         # also a clang build of pw_compare, alternating

TooManyCooks' reference figure was measured with g++ 12 -O3, so the verdict on the target is
taken from the g++ build; a clang build's rows are there for users who build with clang.
"""
import argparse
import datetime
import glob
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
    p("| configuration | ns/task (median) | runs | peak RSS | ÷ TooManyCooks (16.9 ns, 2 threads, g++ 12) |")
    p("|---|---:|---|---:|---:|")
    med = {}
    for (build, workers), runs in results.items():
        ns = [r[0] for r in runs]
        med[build, workers] = m = statistics.median(ns)
        rss = max(r[1] for r in runs)
        ratio = f"{m / TMC_NS:.2f}× slower" if m > TMC_NS else f"{TMC_NS / m:.2f}× faster"
        p(f"| polarway ({build}), {workers} worker{'s' if workers > 1 else ''} | {m:.1f} | "
          f"{', '.join(f'{x:.1f}' for x in ns)} | {rss:.1f} MiB | {ratio} |")
    p()
    builds = list(dict.fromkeys(b for b, _ in results))
    for build in builds:
        if (build, 1) in med and (build, 2) in med:
            one, two = med[build, 1], med[build, 2]
            p(f"Scaling ({build}): 2 workers take {two / one:.2f}× the time per task of 1 worker "
              f"({one / two:.2f}× the throughput).")
    reference = builds[0]  # the build run.sh makes (g++ on Debian), like TooManyCooks' reference
    if (reference, 2) in med:
        p()
        p(f"Target (issue #3): at least as fast as TooManyCooks, like for like (its reference was "
          f"built with g++ 12 -O3): {'met' if med[reference, 2] <= TMC_NS else 'not met'} with the "
          f"{reference} build.")
        for build in builds[1:]:
            if (build, 2) in med:
                p(f"The {build} build, on 2 workers, is {'at or below' if med[build, 2] <= TMC_NS else 'above'} "
                  f"that figure; TooManyCooks itself was not measured with clang.")
    p(END)
    return "\n".join(o)


def compiler_of(binary):
    """'g++ 12.2.0', 'clang 14.0.6', ...: from the CMake build directory that made `binary`."""
    found = glob.glob(os.path.join(os.path.dirname(binary), "CMakeFiles", "*", "CMakeCXXCompiler.cmake"))
    if found:
        with open(found[0]) as f:
            text = f.read()
        ident = re.search(r'set\(CMAKE_CXX_COMPILER_ID "([^"]*)"\)', text)
        version = re.search(r'set\(CMAKE_CXX_COMPILER_VERSION "([^"]*)"\)', text)
        if ident and version:
            name = {"GNU": "g++", "Clang": "clang"}.get(ident.group(1), ident.group(1))
            return f"{name} {version.group(1)}"
    return "compiler unknown"


def build_with_clang():
    """Builds pw_compare with clang++ next to run.sh's build (the driver's build step, with the
    compiler set); returns the binary."""
    cxx = shutil.which("clang++") or shutil.which("clang++-14")
    if not cxx:
        raise RuntimeError("--clang: no clang++ on PATH (scripts/setup.sh installs it)")
    sys.path.insert(0, HERE)
    import driver  # noqa: E402 (bench/compare/driver.py: run.sh's builder)
    exe = driver.build_cmake("polarway-clang", os.path.join(HERE, "polarway"), "pw_compare", 2,
                             [f"-DCMAKE_CXX_COMPILER={cxx}"])
    if exe is None:
        raise RuntimeError("--clang: the clang build of pw_compare failed (log above)")
    return exe


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
    ap.add_argument("--clang", action="store_true",
                    help="also build pw_compare with clang++ and run it, alternating with --binary")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    if not os.access(args.binary, os.X_OK):
        ap.error(f"{args.binary} is not an executable; build it with bench/compare/run.sh first")
    args.command = "bench/compare/skynet_100m.py" + "".join(f" {a}" for a in sys.argv[1:])
    started = datetime.datetime.now(datetime.timezone.utc)
    results = {}
    try:
        binaries = {compiler_of(args.binary): args.binary}
        if args.clang:
            clang = build_with_clang()
            label = compiler_of(clang)
            binaries[label if label not in binaries else label + " (--clang build)"] = clang
        args.load = os.getloadavg()[0]
        for workers in (1, 2):
            for build in binaries:
                results[build, workers] = []
            for n in range(args.runs):
                for build, binary in binaries.items():  # alternating, so that both see the same load
                    ns, rss, detail = run_measured(binary, workers, args.timeout)
                    print(f"skynet_100M polarway ({build}) {workers}w run {n + 1}: {ns:.1f} ns/task, "
                          f"peak RSS {rss:.1f} MiB ({detail})", file=sys.stderr)
                    results[build, workers].append((ns, rss))
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
