#!/usr/bin/python3
"""Side-by-side benchmark driver: builds the implementations under bench/compare/, runs every
workload on every runtime (interleaved round-robin), writes docs/benchmarks.{md,csv,svg}.

Normally started through bench/compare/run.sh, which runs scripts/setup.sh first (it installs what is missing).
The protocol every implementation follows is in bench/compare/README.md.
"""

import argparse
import csv
import datetime
import io
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))
import report_common  # noqa: E402  (bench/report_common.py)
# Build and state directory; COMPARE_BUILD_DIR moves it (e.g. to keep a second checkout's or a
# smoke test's builds and last-run.json apart from the one the docs were generated from).
BUILD = os.path.abspath(os.environ.get("COMPARE_BUILD_DIR") or os.path.join(REPO, "build", "bench-compare"))
# The Python peers run in the environment scripts/setup.sh builds (PyPI's uvloop, pinned).
PEER_PY = report_common.peer_python(REPO)

# Invocation name -> figure names it prints (timers print two lines).
WORKLOADS = [
    ("spawn_many_100k", ["spawn_many_100k"]),
    ("yield_many_200x1000", ["yield_many_200x1000"]),
    ("ping_pong_100k", ["ping_pong_100k"]),
    ("chained_spawn_1000x100", ["chained_spawn_1000x100"]),
    ("mpsc_4x250k_cap1024", ["mpsc_4x250k_cap1024"]),
    ("mpsc_4x2500k_cap1024", ["mpsc_4x2500k_cap1024"]),
    ("mpsc_1x1M_cap1024", ["mpsc_1x1M_cap1024"]),
    ("semaphore_1000t_10p_x100", ["semaphore_1000t_10p_x100"]),
    ("timers_5k", ["timers_5k_sched", "timers_5k_total"]),
    ("timers_100k", ["timers_100k_sched", "timers_100k_total"]),
    ("tcp_echo_50c_x2000_64B", ["tcp_echo_50c_x2000_64B"]),
    ("skynet_1M", ["skynet_1M"]),
    ("skynet_100M", ["skynet_100M"]),
    ("fib_30", ["fib_30"]),
    ("call_soon_50k", ["call_soon_50k"]),
    ("loop_overhead_10k", ["loop_overhead_10k"]),
    ("udp_pingpong_64B", ["udp_pingpong_64B"]),
    ("udp_flood_64B", ["udp_flood_64B"]),
    ("broadcast_1to8_100k", ["broadcast_1to8_100k"]),
    ("watch_100k", ["watch_100k"]),
    ("race_100k", ["race_100k"]),
]
# Not run unless named in --only or --slow is given (about 25 s per run on Tokio).
OPT_IN = {"skynet_100M"}
# Per-run timeout in seconds (--timeout overrides the default).
SLOW_TIMEOUT = {"skynet_100M": 900}

UNITS = {  # unit -> (lower is better, label)
    "ns/task": (True, "ns/task"),
    "ns/yield": (True, "ns/yield"),
    "ns/round_trip": (True, "ns/round trip"),
    "ns/spawn": (True, "ns/spawn"),
    "ns/acquire": (True, "ns/acquire"),
    "ns/iter": (True, "ns/iter"),
    "ms": (True, "ms"),
    "msg/s": (False, "msg/s"),
    "timers/s": (False, "timers/s"),
    "ops/s": (False, "ops/s"),
}


class Runtime:
    def __init__(self, key, name, workers, kind, notes=None, peer=True):
        self.key = key  # --runtimes name
        self.name = name
        self.workers = workers
        self.kind = kind
        self.notes = notes or {}
        self.peer = peer
        self.cmd = None  # filled in by build()
        self.version = ""


def short_name(rt):
    return rt.name  # versions are listed above the table; a name carries one only to tell two apart


def config_label(rt, w):
    short = short_name(rt)
    if rt.key in ("asyncio", "uvloop"):
        return short
    if rt.key == "asio":
        return f"{short} {w} thread{'s' if w > 1 else ''}"
    if rt.kind == "tokio" and w == 1:
        return f"{short} current_thread"
    return f"{short} {w} worker{'s' if w > 1 else ''}"


# Deviations from the workload definitions, shown under the table (keyed by runtime).
ASIO_NOTES = {
    "semaphore_1000t_10p_x100": "no semaphore in Asio 1.22: a channel holding 10 tokens "
    "(acquire = async_receive, release = try_send)",
    "spawn_many_100k": "the spawner waits on a one-shot event built with async_initiate "
    "(Asio has no task-join primitive)",
    "call_soon_50k": "asio::post of no-op handlers",
    "udp_flood_64B": "no batched receive in Asio: async_wait(wait_read), then non-blocking "
    "receive() until would_block; acknowledgement timeouts by a parallel_group with a timer",
    "race_100k": "experimental::make_parallel_group(receive, timer wait)"
    ".async_wait(wait_for_one()) over deferred operations",
}
TOKIO_NOTES = {
    "call_soon_50k": "Tokio has no callback queue: 50,000 no-op tasks spawned, then joined",
    "udp_flood_64B": "no batched receive (recvmmsg) in Tokio: after each readiness, try_recv "
    "until the socket is drained",
    "race_100k": "tokio::select! (unbiased: the branches are polled in random order)",
}
PY_NOTES = {
    "tcp_echo_50c_x2000_64B": "asyncio streams (StreamReader.readexactly / write + drain)",
    "yield_many_200x1000": "yield = asyncio.sleep(0)",
    "udp_pingpong_64B": "datagram protocols (create_datagram_endpoint): the echo answers in "
    "datagram_received, the other side awaits a future per echo; asyncio's selector transport "
    "receives each datagram into a fresh 256 KiB buffer",
    "udp_flood_64B": "datagram protocol callbacks, one datagram per callback (asyncio has no "
    "batched receive); acknowledgements awaited with asyncio.wait_for",
    "race_100k": "asyncio.wait(FIRST_COMPLETED) over a Queue.get() task and a sleep task; the "
    "loser is cancelled",
}


def make_runtimes():
    return [
        Runtime("polarway", "polarway", [2, 1], "polarway", peer=False),
        Runtime("tokio", "Tokio", [2, 1], "tokio", TOKIO_NOTES),
        # The same program against Debian's Tokio 1.24, kept beside today's release because the
        # two differ widely here (docs/benchmarks.md): "best peer" takes the faster of them.
        Runtime("tokio_debian", "Tokio 1.24", [2, 1], "tokio", TOKIO_NOTES),
        Runtime("asio", "Asio", [2, 1], "asio", ASIO_NOTES),
        Runtime("asyncio", "asyncio", [1], "python", PY_NOTES),
        Runtime("uvloop", "uvloop", [1], "python", PY_NOTES),
    ]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(cmd, **kw):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, **kw).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def first_line(s):
    return s.splitlines()[0] if s else ""


def dpkg_version(pkg):
    return sh(["dpkg-query", "-W", "-f=${Version}", pkg])


def run_build(cmd, cwd=None, env=None, logfile=None):
    """Runs a build step at low priority, output to a log file; returns True on success."""
    full = ["nice", "-n", "10"] + cmd
    log("  $ " + " ".join(cmd))
    with open(logfile, "a") as lf:
        lf.write("$ " + " ".join(cmd) + "\n")
        lf.flush()
        r = subprocess.run(full, cwd=cwd, env=env, stdout=lf, stderr=subprocess.STDOUT)
    return r.returncode == 0


def tail(path, n=30):
    try:
        with open(path) as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def build_cmake(name, src, target, jobs, configure_args=()):
    """Configures (Release, plus `configure_args`) and builds `target` in BUILD/name; returns the
    executable, or None after logging the failure."""
    bdir = os.path.join(BUILD, name)
    logf = os.path.join(BUILD, f"build-{name}.log")
    os.makedirs(BUILD, exist_ok=True)
    open(logf, "w").close()
    ok = run_build(["cmake", "-S", src, "-B", bdir, "-DCMAKE_BUILD_TYPE=Release", *configure_args],
                   logfile=logf)
    ok = ok and run_build(["cmake", "--build", bdir, "--target", target, "-j", str(jobs)],
                          logfile=logf)
    exe = os.path.join(bdir, target)
    if not ok or not os.path.exists(exe):
        log(f"build of {name} failed; log: {logf}\n{tail(logf)}")
        return None
    return exe


# Runtime key -> the cargo project under bench/compare/ that builds it. Both build tokio/src/main.rs:
# tokio/ at the crate versions of its Cargo.lock (fetched from the Rust crate registry by
# scripts/setup.sh), tokio-debian/ against Debian's packaged crate sources (librust-tokio-dev).
TOKIO_PROJECTS = {"tokio": "tokio", "tokio_debian": "tokio-debian"}


def build_tokio(key):
    """Builds a Tokio implementation offline and locked; returns the executable and Tokio's
    version, or (None, "") after logging the failure."""
    project = TOKIO_PROJECTS[key]
    src = os.path.join(HERE, project)
    target = os.path.join(BUILD, project)
    logf = os.path.join(BUILD, f"build-{project}.log")
    open(logf, "w").close()
    if shutil.which("cargo") is None:
        log("cargo not found (install a Rust toolchain: rustup, or Debian's cargo)")
        return None, ""
    env = dict(os.environ, CARGO_TARGET_DIR=target)
    ok = run_build(["cargo", "build", "--release", "--offline", "--locked"], cwd=src, env=env, logfile=logf)
    exe = os.path.join(target, "release", "tokio_compare")
    if not ok or not os.path.exists(exe):
        log(f"build of {project} failed (scripts/setup.sh fetches tokio/'s crates and installs "
            f"librust-tokio-dev for tokio-debian/); "
            f"log: {logf}\n{tail(logf)}")
        return None, ""
    return exe, locked_version(os.path.join(src, "Cargo.lock"), "tokio")


def locked_version(lock, crate):
    """The version of `crate` that a Cargo.lock pins, or ""."""
    try:
        with open(lock) as f:
            m = re.search(r'name = "%s"\nversion = "([^"]+)"' % re.escape(crate), f.read())
            return m.group(1) if m else ""
    except OSError:
        return ""


def build_all(runtimes, args):
    os.makedirs(BUILD, exist_ok=True)
    jobs = max(1, min(2, os.cpu_count() or 1))
    for rt in runtimes:
        t0 = time.time()
        if rt.key == "polarway":
            if args.polarway_bin:
                rt.cmd = [os.path.abspath(args.polarway_bin)]
            elif args.no_build:
                exe = os.path.join(BUILD, "polarway", "pw_compare")
                rt.cmd = [exe] if os.path.exists(exe) else None
            else:
                exe = build_cmake("polarway", os.path.join(HERE, "polarway"), "pw_compare", jobs)
                rt.cmd = [exe] if exe else None
            rev = sh(["git", "-C", REPO, "rev-parse", "--short", "HEAD"])
            rt.version = f"git {rev}" if rev else "working tree"
        elif rt.kind == "tokio":
            if args.no_build:
                project = TOKIO_PROJECTS[rt.key]
                exe = os.path.join(BUILD, project, "release", "tokio_compare")
                rt.cmd = [exe] if os.path.exists(exe) else None
                rt.version = locked_version(os.path.join(HERE, project, "Cargo.lock"), "tokio")
            else:
                exe, rt.version = build_tokio(rt.key)
                rt.cmd = [exe] if exe else None
        elif rt.key == "asio":
            if args.no_build:
                exe = os.path.join(BUILD, "asio", "asio_compare")
                rt.cmd = [exe] if os.path.exists(exe) else None
            else:
                exe = build_cmake("asio", os.path.join(HERE, "asio"), "asio_compare", jobs)
                rt.cmd = [exe] if exe else None
            rt.version = dpkg_version("libasio-dev")
        elif rt.key in ("asyncio", "uvloop"):
            v = sh([PEER_PY, "-c", "import platform; print(platform.python_version())"]) \
                if rt.key == "asyncio" else report_common.package_versions(PEER_PY, ["uvloop"])["uvloop"]
            rt.cmd = [PEER_PY, os.path.join(HERE, "python", "bench.py"), "--loop", rt.key] if v else None
            rt.version = v
            if not v:
                log(f"{rt.key}: {PEER_PY} cannot run it (scripts/setup.sh builds that environment)")
        if rt.cmd and rt.kind != "python":
            log(f"built {rt.key} in {time.time() - t0:.0f} s: {rt.cmd[0]}")


def mem_limit_bytes():
    """Address-space limit for every run (60% of RAM), so that a runtime that needs more (e.g.
    skynet_100M expanded breadth-first) fails fast instead of pushing a shared machine into
    the OOM killer."""
    try:
        with open("/proc/meminfo") as f:
            return int(int(f.readline().split()[1]) * 1024 * 0.6)
    except (OSError, ValueError, IndexError):
        return None


MEM_LIMIT = mem_limit_bytes()


def _limit_memory():
    if MEM_LIMIT:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (MEM_LIMIT, MEM_LIMIT))


OOM_MARKERS = ("memory allocation of", "bad_alloc", "MemoryError", "Cannot allocate memory",
               "out of memory")


def run_once(cmd, workload, workers, scale, timeout):
    """Runs one invocation; returns (figures, error or None, not-implemented reason, wall s)."""
    argv = cmd + [workload, str(workers)] + (["--scale", "small"] if scale == "small" else [])
    t0 = time.time()
    try:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True, preexec_fn=_limit_memory)
    except OSError as e:
        return [], f"cannot start: {e}", None, 0.0
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.communicate()
        return [], f"timeout after {timeout} s", None, time.time() - t0
    wall = time.time() - t0
    figs = []
    for line in out.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(d, dict) and "workload" in d:
            figs.append(d)
    if p.returncode == 2 and figs and str(figs[0].get("detail", "")).startswith("not implemented"):
        return [], None, figs[0]["detail"][len("not implemented"):].lstrip(": "), wall
    if not figs:
        e = (err.strip().splitlines() or [""])[-1][:200]
        if any(m in err for m in OOM_MARKERS):
            return [], (f"out of memory (address-space limit {MEM_LIMIT / 2**30:.0f} GiB, 60% of "
                        f"RAM) after {wall:.0f} s; stderr: {e}"), None, wall
        return [], f"exit {p.returncode}, no JSON line; stderr: {e}", None, wall
    problems = []
    for d in figs:
        if d.get("workers") != workers:
            problems.append(f"workers={d.get('workers')} != {workers}")
        if d.get("unit") not in UNITS:
            problems.append(f"unknown unit {d.get('unit')!r}")
        if not isinstance(d.get("value"), (int, float)) or isinstance(d.get("value"), bool):
            problems.append(f"value {d.get('value')!r} is not a number")
        if not isinstance(d.get("ok"), bool):
            problems.append("ok is not a boolean")
    if p.returncode not in (0, 1) and not problems:
        problems.append(f"exit code {p.returncode}")
    return figs, ("; ".join(problems) if problems else None), None, wall


class Cell:
    def __init__(self):
        self.values = []
        self.oks = []
        self.details = []
        self.unit = None
        self.na = None  # reason the cell is not applicable / not implemented
        self.error = None  # harness-level failure (crash, timeout, bad output)

    @property
    def median(self):
        return statistics.median(self.values) if self.values else None

    @property
    def ok(self):
        return bool(self.oks) and all(self.oks)


def fmt_value(v, unit):
    if v is None:
        return ""
    if unit.endswith("/s"):
        for div, suf in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
            if v >= div:
                x = v / div
                return (f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}") + suf
        return f"{v:.0f}"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def speed(v, unit):
    """Higher is better, whatever the unit."""
    lower = UNITS[unit][0]
    return (1.0 / v if v > 0 else float("inf")) if lower else v


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="CI mode: every workload once at --scale small; writes to "
                         "build/bench-compare/quick/, fails only on broken runs, never on timings")
    ap.add_argument("--runs", type=int, default=5, help="measured runs per cell (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="discarded warm-up runs (default 1)")
    ap.add_argument("--only", default="", help="comma-separated workloads (invocation names)")
    ap.add_argument("--runtimes", default="polarway,tokio,tokio_debian,asio,asyncio,uvloop",
                    help="comma-separated runtimes (default: all; polarway only if built)")
    ap.add_argument("--workers", default="1,2", help="worker counts to run (default 1,2)")
    ap.add_argument("--slow", action="store_true", help="also run the opt-in skynet_100M")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per run (default 180; 30 with --quick; skynet_100M 900)")
    ap.add_argument("--scale", choices=["full", "small"], default=None)
    ap.add_argument("--out", default=None, help="output directory (default docs/, or "
                                                 "build/bench-compare/quick for --quick)")
    ap.add_argument("--no-build", action="store_true", help="use existing binaries")
    ap.add_argument("--polarway-bin", default=os.environ.get("POLARWAY_COMPARE_BIN"),
                    help="prebuilt polarway implementation (default: build "
                         "bench/compare/polarway/ with CMake, target pw_compare)")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite the report from the last run (build/bench-compare/last-run.json)")
    ap.add_argument("--command", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    t_start = time.time()
    load_start = report_common.loadavg()

    scale = args.scale or ("small" if args.quick else "full")
    runs = 1 if args.quick else max(1, args.runs)
    warmup = 0 if args.quick else max(0, args.warmup)
    out_dir = args.out or (os.path.join(BUILD, "quick") if args.quick else os.path.join(REPO, "docs"))
    wanted_workers = [int(x) for x in args.workers.split(",") if x.strip()]
    if args.report_only:
        with open(STATE) as f:
            state = json.load(f)
        out = args.out or (os.path.join(BUILD, "quick") if state["meta"]["scale"] == "small"
                           else os.path.join(REPO, "docs"))
        return report(state, out)

    names = [w for w, _ in WORKLOADS]
    if args.only:
        only = [x.strip() for x in args.only.split(",") if x.strip()]
        bad = [x for x in only if x not in names]
        if bad:
            ap.error(f"unknown workload(s): {', '.join(bad)}; known: {', '.join(names)}")
        workloads = [(w, f) for w, f in WORKLOADS if w in only]
    else:
        workloads = [(w, f) for w, f in WORKLOADS if w not in OPT_IN or args.slow]

    keys = [x.strip() for x in args.runtimes.split(",") if x.strip()]
    all_rt = make_runtimes()
    unknown = [k for k in keys if k not in {r.key for r in all_rt}]
    if unknown:
        ap.error(f"unknown runtime(s): {', '.join(unknown)}")
    runtimes = [r for r in all_rt if r.key in keys]
    pw = next((r for r in runtimes if r.key == "polarway"), None)
    if pw and not (args.polarway_bin or os.path.exists(os.path.join(HERE, "polarway", "CMakeLists.txt"))):
        log("bench/compare/polarway/ does not exist yet: polarway column shown as n/a")
        pw.cmd = None
        runtimes_to_build = [r for r in runtimes if r is not pw]
    else:
        runtimes_to_build = runtimes

    log(f"== building ({', '.join(r.key for r in runtimes_to_build)})")
    build_all(runtimes_to_build, args)
    t_built = time.time()

    configs = []  # (runtime, workers) in column order
    for rt in runtimes:
        for w in rt.workers:
            if w in wanted_workers:
                configs.append((rt, w))
    runnable = [(rt, w) for rt, w in configs if rt.cmd]

    cells = {}  # (figure, rt.key, w) -> Cell
    raw = []  # every JSON line, with run metadata
    failures = [f"{rt.name}: build failed or not available (see build/bench-compare/build-{rt.key}.log)"
                for rt in runtimes_to_build if not rt.cmd]
    findings = []
    for wl, figs in workloads:
        for rt, w in configs:
            for f in figs:
                cells[(f, rt.key, w)] = Cell()
    total_runs = len(workloads) * len(runnable) * (runs + warmup)
    log(f"== running {len(workloads)} workloads x {len(runnable)} configurations x "
        f"{warmup} warm-up + {runs} runs = {total_runs} runs (scale {scale})")
    done_runs = 0
    for wl, figs in workloads:
        if args.timeout:
            timeout = args.timeout
        elif args.quick:
            timeout = 30
        else:
            timeout = SLOW_TIMEOUT.get(wl, 180)
        dead = set()  # configs that stopped: n/a, timeout, crash
        for r in range(warmup + runs):
            # Round-robin, starting one further each round so no runtime always goes first.
            order = runnable[r % len(runnable):] + runnable[:r % len(runnable)] if runnable else []
            for rt, w in order:
                if (rt.key, w) in dead:
                    continue
                got, err, na, wall = run_once(rt.cmd, wl, w, scale, timeout)
                done_runs += 1
                is_warm = r < warmup
                tag = "warm-up" if is_warm else f"run {r - warmup + 1}/{runs}"
                if na:
                    for f in figs:
                        cells[(f, rt.key, w)].na = na
                    dead.add((rt.key, w))
                    log(f"[{done_runs}/{total_runs}] {wl} {config_label(rt, w)}: n/a ({na})")
                    continue
                for d in got:
                    raw.append(dict(d, runtime=rt.key, run=("warm-up" if is_warm else r - warmup + 1)))
                if err:
                    for f in figs:
                        cells[(f, rt.key, w)].error = err
                    # Running out of the memory limit is a finding about the runtime (reported
                    # in the table), not a broken harness.
                    (findings if err.startswith("out of memory") else failures).append(
                        f"{wl} on {config_label(rt, w)}: {err}")
                    dead.add((rt.key, w))
                    log(f"[{done_runs}/{total_runs}] {wl} {config_label(rt, w)}: ERROR {err}")
                    continue
                summary = []
                for d in got:
                    key = (d["workload"], rt.key, w)
                    if key not in cells:
                        failures.append(f"{wl} on {config_label(rt, w)}: unexpected figure "
                                        f"{d['workload']!r}")
                        continue
                    c = cells[key]
                    c.unit = d["unit"]
                    if not is_warm:
                        c.values.append(float(d["value"]))
                        c.oks.append(d["ok"])
                        c.details.append(str(d.get("detail", "")))
                    summary.append(f"{d['workload']}={fmt_value(d['value'], d['unit'])} "
                                   f"{d['unit']}{'' if d['ok'] else ' CHECK FAILED'}")
                missing = [f for f in figs if f not in {d["workload"] for d in got}]
                if missing:
                    failures.append(f"{wl} on {config_label(rt, w)}: missing {missing}")
                log(f"[{done_runs}/{total_runs}] {tag} {config_label(rt, w)}: "
                    + ", ".join(summary) + f" ({wall:.1f} s)")
    t_end = time.time()

    os.makedirs(out_dir, exist_ok=True)
    meta = machine_info(runtimes)
    meta.update(
        command=args.command or ("bench/compare/driver.py " + " ".join(sys.argv[1:])).strip(),
        date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        build_s=t_built - t_start, run_s=t_end - t_built, total_s=t_end - t_start,
        runs=runs, warmup=warmup, scale=scale, n_runs=done_runs,
        load_start=load_start, load_end=report_common.loadavg())
    state = {
        "meta": meta, "workloads": workloads, "failures": failures, "findings": findings,
        "raw": raw,
        "configs": [[rt.key, w] for rt, w in configs],
        "runtimes": {rt.key: {"version": rt.version, "built": bool(rt.cmd)} for rt in runtimes},
        "cells": [[f, k, w, c.__dict__] for (f, k, w), c in cells.items()],
    }
    with open(STATE, "w") as f:
        json.dump(state, f)
    with open(os.path.join(BUILD, "last-run.jsonl"), "w") as f:
        for d in raw:
            f.write(json.dumps(d) + "\n")
    return report(state, out_dir)


STATE = os.path.join(BUILD, "last-run.json")


def report(state, out_dir):
    """Writes benchmarks.{md,csv,svg} from a run's state; returns the exit code."""
    rts = {rt.key: rt for rt in make_runtimes()}
    for key, info in state["runtimes"].items():
        rts[key].version = info["version"]
        rts[key].cmd = ["built"] if info["built"] else None
    configs = [(rts[k], w) for k, w in state["configs"]]
    cells = {}
    for f, k, w, d in state["cells"]:
        c = Cell()
        c.__dict__.update(d)
        cells[(f, k, w)] = c
    workloads = [(w, figs) for w, figs in state["workloads"]]
    failures, raw, meta = state["failures"], state["raw"], state["meta"]
    findings = state.get("findings", [])
    # Check failures: polarway's are errors, peers' are findings reported in the table.
    check_fail = []
    for (f, key, w), c in cells.items():
        if c.values and not c.ok:
            check_fail.append((f, key, w, c.details[[i for i, o in enumerate(c.oks) if not o][0]]))
    os.makedirs(out_dir, exist_ok=True)
    rows = table_rows(workloads, configs, cells)
    chart_name = write_chart(rows, configs, out_dir)
    write_csv(rows, configs, cells, out_dir)
    write_markdown(rows, configs, cells, raw, meta, out_dir, chart_name, failures, check_fail,
                   findings)
    log(f"== wrote {out_dir}/benchmarks.md, benchmarks.csv"
        + (f", {chart_name}" if chart_name else "") +
        f"; build {meta['build_s']:.0f} s, runs {meta['run_s']:.0f} s, total {meta['total_s']:.0f} s")
    rc = 0
    if failures:
        log("== broken runs:\n  " + "\n  ".join(failures))
        rc = 1
    for f, key, w, detail in check_fail:
        who = "polarway" if key == "polarway" else "peer"
        log(f"== {who} check failed: {f} on {key} w={w}: {detail}")
        if key == "polarway":
            rc = 1
    return rc


def machine_info(runtimes):
    cpu = report_common.cpu_model()
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    os_name = ""
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    os_name = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return {
        "cpu": cpu, "cores": os.cpu_count(), "mem": mem, "kernel": platform.release(),
        "os": os_name,
        "gxx": first_line(sh(["g++", "--version"])),
        "rustc": sh(["rustc", "--version"]),
        "cargo": sh(["cargo", "--version"]),
        "cmake": first_line(sh(["cmake", "--version"])),
        "python": sh([PEER_PY, "--version"]),
        "versions": {r.key: r.version for r in runtimes},
        "debs": {p: dpkg_version(p) for p in ("libasio-dev", "python3-matplotlib")},
    }


def table_rows(workloads, configs, cells):
    """One row per figure: values per config, best peer, polarway ratio."""
    rows = []
    for wl, figs in workloads:
        for f in figs:
            unit = next((cells[(f, rt.key, w)].unit for rt, w in configs
                         if cells[(f, rt.key, w)].unit), None)
            row = {"figure": f, "workload": wl, "unit": unit, "cells": {}, "best_peer": None,
                   "best_pw": None, "ratio": None}
            for rt, w in configs:
                row["cells"][(rt.key, w)] = cells[(f, rt.key, w)]
            if unit:
                peers = [(speed(c.median, unit), (rt, w), c.median) for rt, w in configs
                         for c in [cells[(f, rt.key, w)]]
                         if rt.peer and c.median is not None and c.ok]
                pws = [(speed(c.median, unit), (rt, w), c.median) for rt, w in configs
                       for c in [cells[(f, rt.key, w)]]
                       if not rt.peer and c.median is not None]
                if peers:
                    row["best_peer"] = max(peers, key=lambda x: x[0])
                if pws:
                    row["best_pw"] = max(pws, key=lambda x: x[0])
                if peers and pws:
                    row["ratio"] = row["best_pw"][0] / row["best_peer"][0]
            rows.append(row)
    return rows


def cell_text(c):
    if c.error:
        return "out of memory" if c.error.startswith("out of memory") else "error"
    if c.na:
        return "n/a"
    if c.median is None:
        return ""
    return fmt_value(c.median, c.unit) + ("" if c.ok else " ⚠")


def write_csv(rows, configs, cells, out_dir):
    with open(os.path.join(out_dir, "benchmarks.csv"), "w", newline="") as f:
        wr = csv.writer(f)
        wr.writerow(["figure", "unit", "lower_is_better", "runtime", "workers", "median", "min",
                     "max", "runs", "ok", "relative_to_best_peer", "note"])
        for row in rows:
            unit = row["unit"] or ""
            for rt, w in configs:
                c = row["cells"][(rt.key, w)]
                rel = ""
                if c.median is not None and row["best_peer"] and unit:
                    rel = f"{speed(c.median, unit) / row['best_peer'][0]:.4g}"
                note = c.error or (("n/a: " + c.na) if c.na else "")
                if c.values and not c.ok:
                    note = next(d for d, o in zip(c.details, c.oks) if not o)
                wr.writerow([row["figure"], unit, UNITS.get(unit, (True,))[0] if unit else "",
                             rt.key, w,
                             f"{c.median:.6g}" if c.median is not None else "",
                             f"{min(c.values):.6g}" if c.values else "",
                             f"{max(c.values):.6g}" if c.values else "",
                             len(c.values), c.ok if c.values else "", rel, note])


COLORS = {
    ("polarway", 2): "#c0392b", ("polarway", 1): "#f1948a",
    ("tokio", 2): "#a0522d", ("tokio", 1): "#e0a070",
    ("tokio_debian", 2): "#6b4226", ("tokio_debian", 1): "#c8a27a",
    ("asio", 2): "#1f5fa8", ("asio", 1): "#8ab8e6",
    ("asyncio", 1): "#2e8b57", ("uvloop", 1): "#8e44ad",
}


def write_chart(rows, configs, out_dir):
    """Grouped horizontal bars: one group per figure, speed relative to the best peer (log x)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        matplotlib.rcParams["svg.fonttype"] = "none"  # real <text>: smaller, searchable SVG
        matplotlib.rcParams["svg.hashsalt"] = "polarway"  # stable ids between runs
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator
    except ImportError:
        log("python3-matplotlib not available: no chart")
        return None
    rows = [r for r in rows if r["best_peer"]]
    if not rows:
        return None
    present = [(rt, w) for rt, w in configs
               if any(r["cells"][(rt.key, w)].median is not None for r in rows)]
    n = len(present)
    bar_h = 0.8 / max(n, 1)
    fig_h = 1.4 + len(rows) * (0.12 * n + 0.22)
    fig, ax = plt.subplots(figsize=(9.5, fig_h))
    for gi in range(0, len(rows), 2):  # shade every other group so groups read apart
        ax.axhspan(gi - 0.5, gi + 0.5, color="#f2f2f2", zorder=0)
    lo, hi = 1.0, 1.0
    for gi, row in enumerate(rows):
        base = row["best_peer"][0]
        for ci, (rt, w) in enumerate(present):
            c = row["cells"][(rt.key, w)]
            if c.median is None:
                continue
            rel = speed(c.median, row["unit"]) / base
            lo, hi = min(lo, rel), max(hi, rel)
            y = gi + (ci - (n - 1) / 2) * bar_h
            ax.barh(y, rel, height=bar_h * 0.92, zorder=2, color=COLORS.get((rt.key, w), "#777777"),
                    hatch=None if c.ok else "///", edgecolor="black" if not c.ok else None,
                    linewidth=0.4)
            label = fmt_value(c.median, row["unit"])
            ax.text(rel * 1.04, y, label, va="center", ha="left", fontsize=6.5)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{r['figure']}\n({UNITS[r['unit']][1]}, "
                        f"{'lower' if UNITS[r['unit']][0] else 'higher'} is better)"
                        for r in rows], fontsize=8)
    ax.set_xscale("log")
    left = 10 ** (int(__import__("math").floor(__import__("math").log10(lo))) if lo < 1 else -1)
    ax.set_xlim(left, max(hi * 2.5, 2.0))
    ticks = [t for t in (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10) if left <= t <= hi * 2.5]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.axvline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.grid(axis="x", which="major", linewidth=0.3, alpha=0.6)
    ax.set_xlabel("speed relative to the best peer in the row (log scale; 1× = best peer; right "
                  "is faster)\nbar labels: the measured median; hatched: the result check failed",
                  fontsize=8)
    handles = [plt.Rectangle((0, 0), 1, 1, color=COLORS.get((rt.key, w), "#777777"))
               for rt, w in present]
    ax.set_ylim(len(rows) - 0.5, -0.5)
    fig.suptitle("polarway vs peers: same machine, same run (medians)", fontsize=11, y=0.995)
    fig.legend(handles, [config_label(rt, w) for rt, w in present], fontsize=8,
               loc="upper center", bbox_to_anchor=(0.5, 1 - 0.3 / fig_h), ncol=4, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.75 / fig_h))
    name = "benchmarks.svg"
    fig.savefig(os.path.join(out_dir, name), format="svg", metadata={"Date": None})
    if os.environ.get("COMPARE_CHART_PNG"):
        fig.savefig(os.environ["COMPARE_CHART_PNG"], dpi=110)
    plt.close(fig)
    return name


# Sections of benchmarks.md that other scripts own: kept verbatim (markers included) when this
# driver rewrites the file. bench/pipeline/run.sh writes the tick pipeline's section,
# bench/io/run.sh the I/O one, bench/compare/tmc_side_by_side.py the TooManyCooks one,
# bench/query/run.sh the batch-read ones, bench/pipeline/bus.py the bus one; the observability
# and nats.c-threads sections are written by hand. Text outside every marked section is this
# driver's and is rewritten (tests/docs/benchmark_sections_test.py checks that none is left there).
KEPT_SECTIONS = [
    ("<!-- pipeline:begin -->", "<!-- pipeline:end -->",
     "_The tick pipeline benchmark (`bench/pipeline/run.sh`) has not written its figures here "
     "yet._"),
    ("<!-- io:begin -->", "<!-- io:end -->",
     "_The I/O benchmarks (`bench/io/run.sh`) have not written their figures here yet._"),
    ("<!-- observability:begin -->", "<!-- observability:end -->",
     "_The observability costs (measured by hand, commands inside) are not here._"),
    ("<!-- tmc:begin -->", "<!-- tmc:end -->",
     "_`bench/compare/tmc_side_by_side.py` has not written its figures here yet._"),
    ("<!-- query:begin -->", "<!-- query:end -->",
     "_The batch-read benchmark (`bench/query/run.sh`) has not written its figures here yet._"),
    ("<!-- query-large:begin -->", "<!-- query-large:end -->",
     "_`bench/query/run.sh --sizes 10,100 --rows-per-file 4000000 --label large` has not written its "
     "figures here yet._"),
    ("<!-- bus:begin -->", "<!-- bus:end -->",
     "_`bench/pipeline/bus.py` has not written its figures here yet._"),
    ("<!-- nats-hooks:begin -->", "<!-- nats-hooks:end -->",
     "_The nats.c threads-or-reactor comparison (`tick_nats_hooks_bench`, by hand) is not here._"),
]


def kept_section(old_text, begin, end, placeholder):
    """The text from `begin` to `end` (both included) in the previous file, or an empty section
    holding `placeholder` if the file or the markers are missing."""
    i = old_text.find(begin)
    j = old_text.find(end, i + len(begin)) if i >= 0 else -1
    if i >= 0 and j >= 0:
        return old_text[i:j + len(end)]
    return f"{begin}\n{placeholder}\n{end}"


def scaling_factor(row, key):
    """How much faster `key`'s 2-worker configuration ran `row` than its 1-worker one (speed
    ratio: 2.0 is twice the throughput, below 1 means the second worker slowed it down), or None
    when a cell is missing or failed its check."""
    one, two = row["cells"].get((key, 1)), row["cells"].get((key, 2))
    if not (one and two and one.median and two.median and one.ok and two.ok):
        return None
    lower_is_better = UNITS[row["unit"]][0]
    return one.median / two.median if lower_is_better else two.median / one.median


def write_scaling(p, rows, configs):
    """Each workload's speed on 2 workers against 1: one column per runtime that has both
    configurations."""
    keys = [rt for rt in dict.fromkeys(rt for rt, _ in configs) if set(rt.workers) >= {1, 2}]
    table = [(row, [scaling_factor(row, rt.key) for rt in keys]) for row in rows if row["unit"]]
    if not any(f is not None for _, fs in table for f in fs):
        return
    p("## Scaling: 2 workers against 1")
    p()
    p("Speed on 2 workers (threads) ÷ speed on 1, from the medians above: 2× is perfect "
      "scaling when two cores are free; below 1× the second worker costs more than it brings, "
      "as in a chain of dependent steps, where each hand-off between threads costs more than "
      "the step it hands off.")
    p()
    p("| workload | " + " | ".join(short_name(rt) for rt in keys) + " |")
    p("|---|" + "---:|" * len(keys))
    for row, fs in table:
        p(f"| `{row['figure']}` | " + " | ".join("" if f is None else f"{f:.2f}×" for f in fs) + " |")
    p()


def write_markdown(rows, configs, cells, raw, meta, out_dir, chart, failures, check_fail,
                   findings=()):
    o = io.StringIO()
    p = lambda s="": o.write(s + "\n")  # noqa: E731
    have_pw = any(not rt.peer and rt.cmd for rt, _ in configs)
    p("# polarway vs peers: side-by-side benchmarks")
    p()
    p("<!-- Generated by bench/compare/run.sh; do not edit by hand. -->")
    p()
    if chart:
        p(f"![Speed of each runtime relative to the best peer, per workload]({chart})")
        p()
    p(f"The same workloads ([definitions](../bench/compare/README.md#workloads)) on every runtime, "
      f"on one machine, in one run: {meta['warmup']} warm-up run discarded, then the median of "
      f"{meta['runs']} run{'s' if meta['runs'] != 1 else ''}; the runs of different runtimes are "
      f"interleaved round-robin, so machine drift hits them alike. Scale: {meta['scale']}. "
      f"Compare within this table, as ratios; absolute figures move 10-20% between runs.")
    p()
    p(f"- Command: `{meta['command']}` ({meta['date']}); wall time {meta['total_s'] / 60:.1f} min "
      f"(builds {meta['build_s']:.0f} s, {meta['n_runs']} runs {meta['run_s']:.0f} s)")
    p(f"- Machine: {meta['cpu']}, {meta['cores']} cores, {meta['mem']} RAM; {meta['os']}; "
      f"Linux {meta['kernel']}."
      + (f" Load average (1/5/15 min) {meta['load_start']} at the start, {meta['load_end']} at "
         f"the end: a load above the core count means other work competed for the CPU and the "
         f"figures are noisier." if meta.get("load_start") else ""))
    p(f"- Compilers: {meta['gxx']}; {meta['rustc']}; {meta['cmake']}; {meta['python']}")
    v, d = meta["versions"], meta["debs"]
    p(f"- Peers: Tokio {v.get('tokio') or '-'} (Rust crate registry, pinned in "
      f"bench/compare/tokio/Cargo.lock; cargo release, lto, codegen-units 1, opt-level 3); "
      f"Tokio {v.get('tokio_debian') or '-'} (Debian librust-tokio-dev, the same program and "
      f"profile); "
      f"Asio {d['libasio-dev'] or '-'} (Debian libasio-dev, g++ -O3 C++20 coroutines); "
      f"Python {v.get('asyncio') or '-'} asyncio; uvloop {v.get('uvloop') or '-'} "
      f"(PyPI, pinned in scripts/python-requirements.txt)")
    p(f"- polarway: {v.get('polarway') or '-'}"
      + ("" if have_pw else " — **not measured in this run** (no polarway implementation was "
                            "built); its columns and the ratio read n/a"))
    p()
    p("## Results")
    p()
    hdr = ["workload", "unit"] + [config_label(rt, w) for rt, w in configs] + \
          ["best peer", "polarway vs best peer"]
    p("| " + " | ".join(hdr) + " |")
    p("|" + "|".join(["---", "---"] + ["---:"] * len(configs) + ["---", "---:"]) + "|")
    for row in rows:
        unit = row["unit"]
        ulabel = (UNITS[unit][1] + (" ↓" if UNITS[unit][0] else " ↑")) if unit else ""
        cols = [f"`{row['figure']}`", ulabel]
        for rt, w in configs:
            c = row["cells"][(rt.key, w)]
            if rt.key in ("asyncio", "uvloop") and w != 1:
                cols.append("")
            elif not rt.cmd and not c.values:
                cols.append("n/a")
            else:
                t = cell_text(c)
                if t == "" and unit is None:
                    t = "n/a"
                cols.append(t)
        bp = row["best_peer"]
        cols.append(config_label(*bp[1]) if bp else "")
        if row["ratio"] is not None:
            cols.append(f"**{row['ratio']:.2f}×** ({config_label(*row['best_pw'][1])})")
        else:
            cols.append("n/a")
        p("| " + " | ".join(cols) + " |")
    p()
    noisy = []
    for row in rows:
        for rt, w in configs:
            c = row["cells"][(rt.key, w)]
            if len(c.values) >= 3 and c.median:
                spread = (max(c.values) - min(c.values)) / c.median
                if spread > 0.3:
                    noisy.append(f"`{row['figure']}` {config_label(rt, w)} "
                                 f"({fmt_value(min(c.values), c.unit)}–{fmt_value(max(c.values), c.unit)})")
    if noisy:
        p("Noisy cells (min–max over the measured runs wider than 30% of the median; the CSV "
          "has min and max for every cell): " + "; ".join(noisy) + ".")
        p()
    p("↓ lower is better, ↑ higher is better. **polarway vs best peer** is polarway's best "
      "configuration as a speed ratio to the fastest peer configuration in the row "
      "(> 1× means polarway is faster; for ↓ units it is best peer ÷ polarway). "
      "⚠ = the implementation's own result check failed in at least one run (see notes); such "
      "cells are left out of \"best peer\". Empty cells: asyncio and uvloop run one event loop "
      "on one thread, so they have no 2-worker figure.")
    p()
    write_scaling(p, rows, configs)
    p("## Notes")
    p()
    p("- Workers: `1` runs a single-threaded runtime (Tokio `current_thread`, one thread calling "
      "`io_context::run`, the asyncio event loop); `2` runs Tokio's multi-thread scheduler with "
      "2 workers and Asio's io_context run by 2 threads (Asio then uses its thread-safe "
      "`experimental::concurrent_channel`, with 1 thread the plain `experimental::channel`).")
    notes = {}  # workload -> {note text: [runtime names]}
    for rt in dict.fromkeys(rt for rt, _ in configs):
        for wl, n in rt.notes.items():
            notes.setdefault(wl, {}).setdefault(n, []).append(rt.name)
    for wl in dict.fromkeys(r["workload"] for r in rows):
        for n, who in notes.get(wl, {}).items():
            p(f"- `{wl}` — {' and '.join(who)}: {n}.")
    na = {}
    for row in rows:
        for (key, w), c in row["cells"].items():
            if c.na:
                na.setdefault((row["workload"], key, c.na), []).append(w)
    for (wl, key, why), ws in na.items():
        p(f"- `{wl}` on {key}: not run — {why}.")
    for f, key, w, detail in sorted(set(check_fail)):
        p(f"- ⚠ `{f}` on {key} ({w} worker{'s' if w > 1 else ''}): check failed — {detail}.")
    for fl in findings:
        p(f"- `{fl.split(' on ')[0]}` on {fl.split(' on ', 1)[1]}.")
    for fl in failures:
        p(f"- error: {fl}")
    if any(r["workload"].startswith("timers_") for r in rows):
        p("- timers: `_sched` is N ÷ the time to spawn the N sleeping tasks; `_total` is the "
          "time from the first spawn until the last task has woken (≥ 9 ms by construction). "
          "Each task checks that it slept at least its (i mod 10) ms, measured from when it "
          "started.")
    if not any(r["workload"] == "skynet_100M" for r in rows):
        p("- `skynet_100M` is not in this table: it is opt-in (`--slow` or `--only skynet_100M`), "
          "as one run takes minutes per runtime (see bench/compare/README.md); single-threaded "
          "runtimes that expand the tree breadth-first exceed the memory limit (60% of RAM); "
          "not run on Python. skynet at 10⁸ leaves against TooManyCooks is in the "
          "\"TooManyCooks, side by side\" section below (`bench/compare/tmc_side_by_side.py`).")
    p()
    try:
        with open(os.path.join(out_dir, "benchmarks.md")) as f:
            old_text = f.read()
    except OSError:
        old_text = ""
    for begin, end, placeholder in KEPT_SECTIONS:
        p(kept_section(old_text, begin, end, placeholder))
        p()
    p("## Raw output")
    p()
    p(f"Every JSON line the implementations printed (warm-up runs included, marked). "
      f"Regenerate with `{meta['command']}`.")
    p()
    p("<details><summary>raw JSON lines</summary>")
    p()
    p("```")
    for d in raw:
        p(json.dumps({k: v for k, v in d.items() if k != "scale"}, separators=(",", ":")))
    p("```")
    p()
    p("</details>")
    with open(os.path.join(out_dir, "benchmarks.md"), "w") as f:
        f.write(o.getvalue())


if __name__ == "__main__":
    sys.exit(main())
