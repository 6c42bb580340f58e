"""The batch-read benchmark: polarway-query against DuckDB, Polars and a sequential pyarrow loop.

For each size (number of part files), polarway-demo writes the files (one symbol per file, all
of one UTC day); then every engine computes the same aggregate (per symbol and day: count and
the exact sums of price, quantity and price * quantity, min/max price, first/last time) over
the whole directory, in alternating rounds. Each run is one process; the figure compared is the
engine's own time for the query (from listing or opening the files to the answer, reported on
its stderr: interpreter start-up and imports excluded), with the whole process's time beside it
and its peak RSS from wait4. Every engine's answer is checked against DuckDB's,
value for value, in every round; a difference fails the run.

With --docs FILE the report (the command, the machine, the versions, the table) replaces its
marked section of FILE (docs/benchmarks.md: <!-- query:begin --> ... <!-- query:end -->, or with
--label L <!-- query-L:begin --> ...), which bench/compare's rewrite of the file keeps.

usage: run.py --demo BIN --query BIN --node-dir DIR --python PY [--sizes 10,50,100]
              [--rows-per-file N] [--rounds N] [--work DIR] [--docs FILE [--label L] [--command TEXT]]"""
import argparse
import datetime
import decimal
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

D = decimal.Decimal
decimal.getcontext().prec = 80
here = os.path.dirname(os.path.abspath(__file__))
repo = os.path.dirname(os.path.dirname(here))
sys.path.insert(0, os.path.dirname(here))
import report_common  # noqa: E402  (bench/report_common.py)


def timed(cmd, work):
    """Runs cmd; returns (process seconds, the engine's own seconds from its stderr, peak RSS in
    MiB from wait4, stdout)."""
    out_path, err_path = os.path.join(work, "answer.json"), os.path.join(work, "answer.err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.monotonic() - start
    with open(out_path) as f, open(err_path) as e:
        stdout, stderr = f.read(), e.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {stderr[-2000:]}")
    # polarway-query: "... bytes read in S s"; the peers: "query: S s".
    m = re.search(r"(?:bytes read in|query:) ([0-9.e-]+) s", stderr)
    if not m:
        raise SystemExit(f"{' '.join(cmd)} did not report its time: {stderr[-2000:]}")
    return seconds, float(m.group(1)), usage.ru_maxrss / 1024, stdout


def answer_of(engine, out):
    """Every engine's output as {"SYMBOL day": (count, sum_price, sum_quantity, notional)}."""
    if engine == "polarway":
        rows = json.loads(out)["groups"]
        epoch = datetime.date(1970, 1, 1)
        return {f"{g['symbol']} {(datetime.date.fromisoformat(g['day']) - epoch).days}":
                (g["count"], D(g["sum_price"]), D(g["sum_quantity"]), D(g["notional"])) for g in rows}
    if engine == "duckdb":
        return {f"{r['symbol']} {r['day']}": (int(r["count"]), D(r["sum_price"]), D(r["sum_quantity"]), D(r["notional"]))
                for r in json.loads(out)}
    return {k: (v[0], D(v[1]), D(v[2]), D(v[3])) for k, v in json.loads(out).items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--demo", required=True)
    ap.add_argument("--query", required=True)
    ap.add_argument("--node-dir", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--sizes", default="10,50,100")
    ap.add_argument("--rows-per-file", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(repo, "build", "bench-query"))
    ap.add_argument("--docs", help="write the report into this file's marked section")
    ap.add_argument("--label", default="", help="a second section: <!-- query-LABEL:begin -->")
    ap.add_argument("--command", default="", help="the command to show in the report")
    a = ap.parse_args()
    load_start = report_common.loadavg()
    started = time.time()
    os.makedirs(a.work, exist_ok=True)
    shutil.copy(os.path.join(repo, "examples", "tick_pipeline", "interop", "query_verify.mjs"),
                os.path.join(a.node_dir, "query_verify.mjs"))
    engines_py = os.path.join(here, "engines.py")
    results = []
    for files in [int(s) for s in a.sizes.split(",")]:
        data = os.path.join(a.work, f"files-{files}")
        shutil.rmtree(data, ignore_errors=True)
        # Eight connections: the demo's event times advance a millisecond per message of a
        # connection from 19:43 UTC, so at the default sizes every symbol's trades stay within
        # one UTC day and make one part file (the large sizes span more days).
        subprocess.run([a.demo, "--ticks", str(files * a.rows_per_file), "--symbols", str(files), "--quiet",
                        "--connections", "8", "--no-send-time", "--out", data, "--row-group-rows", "65536",
                        "--file-rows", str(a.rows_per_file * 2)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        trade = os.path.join(data, "trade")
        n_files = sum(len(f) for _, _, f in os.walk(trade))
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(trade) for f in fs)
        commands = {
            "polarway": [a.query, trade, "--json"],
            "duckdb": ["node", os.path.join(a.node_dir, "query_verify.mjs"), trade, "-", "-", "-"],
            "polars": [a.python, engines_py, "polars", trade],
            "pyarrow loop": [a.python, engines_py, "pyarrow", trade],
        }
        times = {e: [] for e in commands}       # the engine's own time
        process = {e: [] for e in commands}     # the whole process, start-up included
        rss = {e: 0.0 for e in commands}
        for _ in range(a.rounds):
            answers = {}
            for engine, cmd in commands.items():
                seconds, own, peak, out = timed(cmd, a.work)
                rss[engine] = max(rss[engine], peak)
                times[engine].append(own)
                process[engine].append(seconds)
                answers[engine] = answer_of(engine.split()[0], out)
            for engine, got in answers.items():
                if got != answers["duckdb"]:
                    diff = [k for k in answers["duckdb"] if got.get(k) != answers["duckdb"][k]][:3]
                    raise SystemExit(f"{engine} differs from DuckDB on {files} files: {diff}")
        results.append((files, n_files, size, files * a.rows_per_file, times, process, rss))
        print(f"{files} files ({n_files} part files, {size / 2**20:.0f} MiB, {files * a.rows_per_file} rows): " +
              ", ".join(f"{e} {statistics.median(t):.3f} s ({rss[e]:.0f} MiB)" for e, t in times.items()), flush=True)

    table = ["| part files | MiB | rows | engine | query s (median) | runs (s) | process s (median) | peak RSS MiB | "
             "engine / polarway |", "|---:|---:|---:|---|---:|---|---:|---:|---:|"]
    for files, n_files, size, rows, times, process, rss in results:
        ours = statistics.median(times["polarway"])
        for e, t in times.items():
            m = statistics.median(t)
            table.append(f"| {n_files} | {size / 2**20:,.0f} | {rows:,} | {e} | {m:.3f} | "
                         f"{', '.join(f'{x:.3f}' for x in t)} | {statistics.median(process[e]):.3f} | {rss[e]:.0f} | "
                         f"{m / ours:.2f}x |")
    print()
    print("\n".join(table))
    if a.docs:
        report_common.splice(a.docs, render(a, results, table, started, load_start), *markers(a.label))
        print(f"== wrote its section of {a.docs}")


def markers(label):
    name = "query" + (f"-{label}" if label else "")
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def render(a, results, table, started, load_start):
    m = report_common.machine(repo)
    versions = report_common.package_versions(a.python, ["polars", "pyarrow"])
    duckdb = report_common.sh(["node", "-e", "console.log(require('" + os.path.join(
        a.node_dir, "node_modules", "@duckdb", "node-api", "package.json") + "').version)"])
    rss = [r[6]["polarway"] for r in results]
    lines = [markers(a.label)[0],
             "## Reading Parquet back: polarway-query, DuckDB, Polars, pyarrow" + (f" ({a.label})" if a.label else ""),
             "",
             "<!-- Generated by bench/query/run.py; do not edit by hand. -->",
             "",
             "The batch aggregate of `polarway-query` (per symbol and UTC day: count, exact sums of price, "
             "quantity and notional, min/max price, first/last time) over part files polarway-demo wrote "
             f"({a.rows_per_file:,} trades per symbol over 8 connections, row groups of 65,536 rows, snappy; "
             "a symbol's trades of one UTC day make one part file), computed by each "
             "engine over the whole directory: DuckDB (`read_parquet` with a `**` glob, "
             "`examples/tick_pipeline/interop/query_verify.mjs`), Polars (`scan_parquet`, lazy, multi-threaded), "
             "and a sequential pyarrow loop (read each file's four columns, group, merge: the seeds' baseline; "
             "`bench/query/engines.py`). polarway-query runs with its defaults (4 files at once, workers = cores). "
             f"{a.rounds} alternating rounds; every engine's answer equals DuckDB's in every round (checked). "
             "**query s** is the engine's own time from listing the files to the answer (interpreter start-up "
             "and imports excluded), **process s** the whole process; peak RSS from wait4, the highest of the "
             "rounds. engine / polarway > 1 means polarway is faster.",
             "",
             f"- Command: `{a.command or 'bench/query/run.py ' + ' '.join(sys.argv[1:])}` "
             f"({datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}); "
             f"wall time {(time.time() - started) / 60:.1f} min",
             f"- Machine: {m['cpu']}, {m['nproc']} cores; Linux {m['kernel']}; {m['gxx']}. Load average "
             f"{load_start} at the start, {report_common.loadavg()} at the end.",
             f"- Peers: DuckDB {duckdb or '?'} (@duckdb/node-api, npm), Polars {versions['polars'] or '?'}, "
             f"pyarrow {versions['pyarrow'] or '?'} (PyPI, build/venv)",
             f"- polarway: {m['git']}",
             f"- polarway-query's peak RSS: {min(rss):.0f} to {max(rss):.0f} MiB over "
             f"{results[0][2] / 2**20:,.0f} to {results[-1][2] / 2**20:,.0f} MiB of files.",
             "",
             *table,
             markers(a.label)[1]]
    return "\n".join(lines) + "\n"

if __name__ == "__main__":
    main()
