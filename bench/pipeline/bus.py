"""Through the bus: feed -> polarway-ingest --publish nats:// (3-node cluster, R3 stream) ->
polarway-sink -> Parquet, beside the same ticks in one process (polarway-demo --out).

    build/venv/bin/python bench/pipeline/bus.py            # 3 rounds -> stdout + docs/benchmarks.md
    build/venv/bin/python bench/pipeline/bus.py --quick    # 1 small round -> stdout only

Each round runs, for N and for 20 x N ticks of trades on --symbols symbols, flat out:
  bus        a fresh 3-node nats-server cluster on free loopback ports (the tests' NatsCluster),
             polarway-sink --expect N started first (it waits for the stream; its defaults
             otherwise, so files are committed every 10 s and at the end), then
             polarway-feed and polarway-ingest --once --publish URLS. Figures: ticks/s into the
             bus (N / the ingest's wall time, which ends once every publish is acknowledged),
             ticks/s end to end (N / the time from the ingest's start to the sink's exit, which
             comes once it has taken N rows and committed them), both processes' peak RSS, and
             where the CPU time goes: each process's own (the ingest's and the sink's from their
             summaries, the feed's and the servers' from /proc before they are stopped).
             The run counts only if the ingest exits 0 with every message acknowledged, and the
             sink exits 0 having taken exactly N rows, none twice, with no bad message and no gap.
  bus_zstd   the same with polarway-ingest --nats-compression zstd (merged messages go out as
             one zstd-compressed record batch).
  in_process polarway-demo --connections 1 --ticks N --out DIR (feed, ingest and Parquet sink in
             one process, the same one connection and trades).
The binaries come from bench/pipeline/run.sh's Release build (build/bench-pipeline), which
this script builds first with polarway-sink added (--no-build to reuse it).
"""
import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "examples", "tick_pipeline", "apps", "tests"))
import report_common  # noqa: E402
import feed_process  # noqa: E402
from bus_processes import Drained, load  # noqa: E402
from nats_cluster import NatsCluster  # noqa: E402

BEGIN, END = "<!-- bus:begin -->", "<!-- bus:end -->"
# The bus paths measured, as res keys and table labels.
BUS_PATHS = (("bus", "bus: ingest → NATS → sink"), ("bus_zstd", "bus, --nats-compression zstd"))
TARGETS = ("polarway-feed", "polarway-ingest", "polarway-sink", "polarway-demo")


class RunError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def build(build_dir):
    os.makedirs(build_dir, exist_ok=True)
    out = os.path.join(build_dir, "build-bus.log")
    log(f"== building {', '.join(TARGETS)} (Release) in {build_dir}; log: {out}")
    with open(out, "w") as f:
        for argv in (["cmake", "-S", REPO, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release", "-DPOLARWAY_BUILD_EXAMPLES=ON",
                      "-DPOLARWAY_BUILD_TESTS=OFF", "-DPOLARWAY_INSTALL=OFF"],
                     ["cmake", "--build", build_dir, "--target", *TARGETS, "-j", "2"]):
            if subprocess.run(["nice", "-n", "10", *argv], stdout=f, stderr=subprocess.STDOUT).returncode != 0:
                raise SystemExit(f"bench/pipeline/bus.py: build failed (log: {out})")


def wait_exit(p, deadline):
    """Waits for `p` until the monotonic `deadline` (killed then); returns (status, end time)."""
    while True:
        code = p.poll()
        if code is not None:
            return code, time.monotonic()
        if time.monotonic() > deadline:
            p.kill()
            p.wait()
            return None, time.monotonic()
        time.sleep(0.01)


def cpu_ms_of(pid):
    """The CPU time (user and system) a running process has used so far, in ms."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the command's closing parenthesis: fields 3 onwards of proc(5); utime and stime are
    # fields 14 and 15, in clock ticks.
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def bus_run(args, bins, ticks, work, compression=None):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    with NatsCluster(3) as cluster:
        sink_summary = os.path.join(work, "sink.json")
        sink = subprocess.Popen([bins["polarway-sink"], "--from", cluster.urls, "--consumer", "bench",
                                 "--out", os.path.join(work, "parquet"), "--expect", str(ticks),
                                 "--json-summary", sink_summary],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        sink_err = Drained(sink.stderr)
        feed, addr = feed_process.start(bins["polarway-feed"], "--symbols", str(args.symbols), "--kind", "trade",
                                        "--count", str(ticks), "--quiet")
        try:
            ingest_summary = os.path.join(work, "ingest.json")
            start = time.monotonic()
            ingest = subprocess.Popen([bins["polarway-ingest"], "--connect", f"ws://{addr}/", "--publish", cluster.urls,
                                       "--once", "--quiet", "--json-summary", ingest_summary] +
                                      (["--nats-compression", compression] if compression else []),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            ingest_err = Drained(ingest.stderr)
            deadline = start + args.timeout
            ingest_code, ingest_end = wait_exit(ingest, deadline)
            sink_code, sink_end = wait_exit(sink, deadline)
            # The feed and the servers are still up: their CPU time so far is this run's.
            feed_cpu_ms = cpu_ms_of(feed.pid)
            servers_cpu_ms = sum(cpu_ms_of(pid) for pid in cluster.pids())
        finally:
            feed_process.stop(feed)
            if sink.poll() is None:
                sink.kill()
                sink.wait()
        ingest_err.join(5)
        sink_err.join(5)
    i, s = load(ingest_summary), load(sink_summary)
    problems = []
    if ingest_code != 0 or i is None:
        problems.append(f"ingest exit {ingest_code}: {ingest_err.snapshot()[-2000:]}")
    elif i.get("ticks_out") != ticks or i["bus"]["acknowledged"] != i["bus"]["messages"]:
        problems.append(f"ingest: {i.get('ticks_out')} ticks out, bus {i['bus']}")
    if sink_code != 0 or s is None:
        problems.append(f"sink exit {sink_code}: {sink_err.snapshot()[-2000:]}")
    elif s["rows_taken"] != ticks or s["bad_messages"] or s["bus_gaps"] or s["parquet"].get("rows_written", ticks) != ticks:
        problems.append(f"sink: {json.dumps(s)}")
    if problems:
        raise RunError("; ".join(problems))
    return {"ticks": ticks, "into_bus_per_s": ticks / (ingest_end - start),
            "end_to_end_per_s": ticks / (sink_end - start), "messages": i["bus"]["messages"],
            "ingest_rss_kib": i["peak_rss_kib"], "sink_rss_kib": s["peak_rss_kib"],
            "wall_s": sink_end - start, "cpu_ms": {"feed": feed_cpu_ms, "ingest": i["cpu_ms"], "servers": servers_cpu_ms,
                                                   "sink": s["cpu_ms"]}}


def in_process_run(args, bins, ticks, work):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    summary = os.path.join(work, "demo.json")
    r = subprocess.run([bins["polarway-demo"], "--ticks", str(ticks), "--symbols", str(args.symbols), "--connections", "1",
                        "--quiet",
                        "--out", os.path.join(work, "parquet"), "--json-summary", summary],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=args.timeout)
    d = load(summary)
    if r.returncode != 0 or d is None or d.get("ticks_out") != ticks:
        raise RunError(f"polarway-demo exit {r.returncode}: {r.stderr[-2000:]}")
    return {"ticks": ticks, "end_to_end_per_s": d["ticks_per_s"], "rss_kib": d["peak_rss_kib"]}


def med(xs):
    return statistics.median(xs) if xs else None


def span(xs, fmt):
    return f"{fmt(med(xs))} ({fmt(min(xs))}–{fmt(max(xs))})" if xs else "no run"


def mticks(v):
    return f"{v / 1e6:.3f} M"


def mib(v):
    return f"{v / 1024:.0f} MiB"


def cpu_s(run, who):
    """CPU seconds `who` ("all" for every process) spent in one bus run."""
    return (sum(run["cpu_ms"].values()) if who == "all" else run["cpu_ms"][who]) / 1000


def cpu_per_million(runs, ticks, who):
    """Median CPU seconds per million ticks of `who` over the runs of `ticks` ticks."""
    runs = [r for r in runs if r["ticks"] == ticks and "cpu_ms" in r]
    return med([cpu_s(r, who) / (ticks / 1e6) for r in runs]) if runs else None


def cpu_findings(res, sizes, cores):
    """What the CPU table says about compression and about the ceiling `cores` cores put on the
    bus path, as Markdown list lines."""
    lines = []
    for ticks in sizes:
        change = {}
        for who in ("servers", "ingest"):
            plain_cpu, zstd_cpu = cpu_per_million(res["bus"], ticks, who), cpu_per_million(res["bus_zstd"], ticks, who)
            if plain_cpu and zstd_cpu:
                change[who] = zstd_cpu / plain_cpu - 1
        plain_rate = [r["end_to_end_per_s"] for r in res["bus"] if r["ticks"] == ticks]
        zstd_rate = [r["end_to_end_per_s"] for r in res["bus_zstd"] if r["ticks"] == ticks]
        if len(change) == 2 and plain_rate and zstd_rate:
            lines.append(f"- {ticks:,} ticks, --nats-compression zstd against none: the 3 servers' CPU per million "
                         f"ticks {change['servers']:+.0%}, the ingest's {change['ingest']:+.0%}; end to end "
                         f"{mticks(med(zstd_rate))} against {mticks(med(plain_rate))} ticks/s (medians).")
        every = cpu_per_million(res["bus"], ticks, "all")
        if every:
            lines.append(f"- {ticks:,} ticks, bus path: {every:.2f} CPU s per million ticks over all processes: at that "
                         f"cost, {cores} cores carry at most {mticks(cores / every * 1e6)} ticks/s end to end.")
    return lines


def render(args, res, errors, meta):
    n, big = args.ticks, args.ticks * 20
    out = [BEGIN, "", "## Through the bus (R3, 3 nodes) beside one process", "",
           "<!-- Generated by bench/pipeline/bus.py; do not edit by hand. -->", "",
           f"{meta['date']}, {meta['cpu']}, {meta['nproc']} cores, {meta['kernel']}, {meta['git']}; "
           f"`{meta['command']}`, {args.rounds} round(s), medians (min–max); {args.symbols} symbols of trades, "
           "flat out; target ≥ 1 M ticks/s end to end through the bus, peak RSS flat from N to 20 × N.", "",
           "| ticks | path | ticks/s into the bus | ticks/s end to end (into Parquet) | peak RSS |",
           "|---|---|---|---|---|"]
    for ticks in (n, big):
        for path, label in BUS_PATHS:
            b = [r for r in res[path] if r["ticks"] == ticks]
            out.append(f"| {ticks:,} | {label} | {span([r['into_bus_per_s'] for r in b], mticks)} | "
                       f"{span([r['end_to_end_per_s'] for r in b], mticks)} | ingest "
                       f"{span([r['ingest_rss_kib'] for r in b], mib)}, sink {span([r['sink_rss_kib'] for r in b], mib)} |")
        p = [r for r in res["in_process"] if r["ticks"] == ticks]
        out.append(f"| {ticks:,} | one process (polarway-demo --out) | — | "
                   f"{span([r['end_to_end_per_s'] for r in p], mticks)} | {span([r['rss_kib'] for r in p], mib)} |")
    out.append("")
    for ticks in (n, big):
        b = [r["end_to_end_per_s"] for r in res["bus"] if r["ticks"] == ticks]
        p = [r["end_to_end_per_s"] for r in res["in_process"] if r["ticks"] == ticks]
        if b and p:
            out.append(f"- {ticks:,} ticks: the bus path runs at {med(b) / med(p):.2f}× the in-process one (medians).")
    for who in ("ingest", "sink"):
        small = [r[f"{who}_rss_kib"] for r in res["bus"] if r["ticks"] == n]
        large = [r[f"{who}_rss_kib"] for r in res["bus"] if r["ticks"] == big]
        if small and large:
            growth = med(large) / med(small) - 1
            out.append(f"- {who} peak RSS from {n:,} to {big:,} ticks: {growth:+.0%} (medians; target within ±10%: "
                       f"{'met' if abs(growth) <= 0.10 else 'not met'}).")
    for path, label in BUS_PATHS:
        b = [r for r in res[path] if r["ticks"] == n]
        if b:
            out.append(f"- Rows per bus message at {n:,} ticks, {label}: {med([r['ticks'] / r['messages'] for r in b]):.1f} "
                       "(median).")
    # Where the time goes: each process's CPU time over the run, per million ticks, and its share
    # of the two cores' time over the run's wall time.
    who = ("feed", "ingest", "servers", "sink")
    out += ["", "Where the time goes on the bus path (CPU seconds per million ticks; in brackets, the share of "
            f"{meta['nproc']} cores × the run's wall time; medians):", "",
            "| ticks | path | " + " | ".join("3 nats-servers" if w == "servers" else w for w in who) + " | all | wall |",
            "|---|---|" + "---|" * (len(who) + 2)]
    for ticks, (path, label) in ((t, p) for t in (n, big) for p in BUS_PATHS):
        b = [r for r in res[path] if r["ticks"] == ticks and "cpu_ms" in r]
        if not b:
            continue
        cells = []
        for w in who + ("all",):
            per_m = cpu_per_million(b, ticks, w)
            share = med([cpu_s(r, w) / (r["wall_s"] * int(meta["nproc"])) for r in b])
            cells.append(f"{per_m:.2f} s ({share:.0%})")
        out.append(f"| {ticks:,} | {label} | " + " | ".join(cells) + f" | {med([r['wall_s'] for r in b]):.1f} s |")
    out.append("")
    out += cpu_findings(res, (n, big), int(meta["nproc"]))
    if errors:
        out += ["", "Failed runs:", ""] + [f"- {e.splitlines()[0][:300]}" for e in errors]
    out += ["", END, ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 round of 100,000 (and 2,000,000) ticks; docs untouched")
    ap.add_argument("--rounds", type=int, default=None, help="rounds (default 3, quick 1)")
    ap.add_argument("--ticks", type=int, default=None, help="N (default 1,000,000; quick 100,000); also 20 x N")
    ap.add_argument("--symbols", type=int, default=20, help="symbols (default 20)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds a run may take (default 900)")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "build", "bench-pipeline"))
    ap.add_argument("--no-build", action="store_true", help="reuse the binaries in --build-dir")
    ap.add_argument("--docs", default=None, help="Markdown file whose bus section is replaced "
                                                 "(default docs/benchmarks.md; none with --quick)")
    args = ap.parse_args()
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.ticks = args.ticks or (100_000 if args.quick else 1_000_000)
    if args.rounds < 1 or args.ticks < 1 or not 1 <= args.symbols <= 10_000:
        log("bench/pipeline/bus.py: --rounds, --ticks and --symbols must be positive (symbols at most 10000)")
        return 2
    docs = args.docs or (None if args.quick else os.path.join(REPO, "docs", "benchmarks.md"))
    if not args.no_build:
        build(args.build_dir)
    bins = {t: os.path.join(args.build_dir, "examples", "tick_pipeline", t) for t in TARGETS}
    missing = [b for b in bins.values() if not os.access(b, os.X_OK)]
    if missing:
        log(f"bench/pipeline/bus.py: not built: {', '.join(missing)}")
        return 2
    work = os.path.join(args.build_dir, "bus-work")
    res, errors = {"bus": [], "bus_zstd": [], "in_process": []}, []
    t0 = time.time()
    for r in range(1, args.rounds + 1):
        for ticks in (args.ticks, args.ticks * 20):
            paths = (("bus", bus_run), ("bus_zstd", lambda *a: bus_run(*a, compression="zstd")),
                     ("in_process", in_process_run))
            for kind, run in paths:
                tag = f"{kind}-{ticks}-{r}"
                try:
                    out = run(args, bins, ticks, os.path.join(work, tag))
                except (RunError, subprocess.TimeoutExpired) as e:
                    errors.append(f"{tag}: {e}")
                    log(f"[{tag}] FAILED: {str(e)[:2000]}")
                    continue
                res[kind].append(out)
                log(f"[{tag}] {json.dumps(out)}")
    shutil.rmtree(work, ignore_errors=True)
    meta = report_common.machine(REPO)
    meta.update(command="build/venv/bin/python bench/pipeline/bus.py" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else ""),
                date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"))
    section = render(args, res, errors, meta)
    sys.stdout.write(section)
    if docs:
        report_common.splice(docs, section, BEGIN, END)
        log(f"== wrote the bus section of {docs} ({time.time() - t0:.0f} s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
