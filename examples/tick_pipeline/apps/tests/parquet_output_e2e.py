#!/usr/bin/python3
"""The programs writing Parquet, end to end (the demo):
- polarway-demo --out DIR for each codec (20,000 trades, 5 symbols, 2 connections): exit 0, the
  summary says the sink's totals EQUAL the feed's and every tick is in a committed file, the part
  files on disk are the ones the summary counts (files, bytes), and DuckDB, pyarrow and Polars
  read them back with the same row count and exact sums as the feed sent
  (parquet_sink_verify.mjs summary and parquet_sink_verify.py summary, as scripts/demo.sh runs
  them), while a summary with one unit changed in a sum is caught by both verifiers;
- a second run into the same directory replaces the first run's files, a directory holding
  anything else is refused (status 2) and left untouched;
- a Parquet sink failure (RLIMIT_FSIZE, so the writes get EFBIG) gives exit 1 and names the
  partition file in both summaries;
- polarway-ingest --out, reading polarway-feed: exit 0, rows written == ticks in; a second run
  adds part files next to the first run's.
The DuckDB read-back needs DuckDB in <node-dir> (the tick_parquet_sink_npm_install fixture puts
it there); without it, everything else is checked and the test exits 77 (CTest: skipped). The
pyarrow and Polars read-back runs with <python> (build/venv's interpreter, scripts/setup.sh);
without pyarrow and Polars there, the test fails.
Usage: parquet_output_e2e.py <polarway-demo> <polarway-feed> <polarway-ingest> <work-dir> <node-dir> <verify.mjs>
                             <python> <verify.py>"""
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys

import feed_process
from checklist import check, failures

demo, feed_bin, ingest_bin, work, node_dir, verify, python, verify_py = sys.argv[1:9]


def summary_of(stdout):
    lines = stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def part_files(root):
    found = []
    for d, _, names in os.walk(root):
        found += [os.path.join(d, n) for n in names if re.fullmatch(r"part-\d{5,}\.parquet", n)]
    return sorted(found)


def run_demo(out, *extra, limit_file_size=None):
    def child():
        if limit_file_size:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a killed process
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))
    args = [demo, "--ticks", "20000", "--symbols", "5", "--connections", "2", "--quiet", "--out", out, *extra]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=work,
                          preexec_fn=child if limit_file_size else None)


have_duckdb = os.path.isdir(os.path.join(node_dir, "node_modules", "@duckdb", "node-api"))
# ES modules resolve packages next to the script: it runs from the install directory, under a
# name of its own. The sink's read-back and crash tests share that directory and may run at the
# same time; a copy truncates before it writes, and node runs an empty module as a success. (A
# shared name is what once let a tampered summary through with exit 0 and nothing on stderr.)
verifier = os.path.join(node_dir, "parquet_sink_verify-e2e.mjs")
if have_duckdb:
    shutil.copy(verify, verifier)


def read_back(summary_path):
    return subprocess.run(["node", verifier, "summary", summary_path],
                          capture_output=True, text=True, timeout=300)


def read_back_python(summary_path):
    return subprocess.run([python, verify_py, "summary", summary_path],
                          capture_output=True, text=True, timeout=300)


shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
have_readers = check(os.access(python, os.X_OK) and
                     subprocess.run([python, "-c", "import pyarrow, polars"], capture_output=True).returncode == 0,
                     f"{python} imports pyarrow and polars (scripts/setup.sh builds build/venv)")

# --- the demo, each codec ------------------------------------------------------------------------
for codec, name in (("snappy", "snappy"), ("zstd", "zstd"), ("none", "uncompressed")):
    out = os.path.join(work, codec)
    p = run_demo(out, "--codec", codec)
    s = summary_of(p.stdout)
    pq = s.get("parquet") or {}
    files = part_files(out)
    if not check(p.returncode == 0, f"demo {codec}: exit {p.returncode}"):
        print(p.stderr[-3000:])
    check("sink totals EQUAL the feed's" in p.stderr, f"demo {codec}: totals equal")
    check(pq.get("complete") is True and pq.get("rows_written") == 20000 and s.get("ticks_in") == 20000,
          f"demo {codec}: 20000 rows written, complete ({pq.get('rows_written')})")
    check(pq.get("codec") == name and pq.get("dir") == out, f"demo {codec}: codec {pq.get('codec')}, dir")
    check(s.get("feed_sent") == s.get("feed_totals"), f"demo {codec}: feed_sent == feed_totals")
    check(len(files) == pq.get("files_written") and len(files) >= 5,
          f"demo {codec}: {len(files)} part files on disk, summary {pq.get('files_written')}")
    check(sum(os.path.getsize(f) for f in files) == pq.get("bytes_written"), f"demo {codec}: bytes on disk")
    check(re.search(rf"parquet: {len(files)} files, .* 20000 rows written \(equal to the ticks written\) in {re.escape(out)} \({name}\)",
                    p.stderr) is not None, f"demo {codec}: text summary line")
    summary_path = os.path.join(work, f"summary-{codec}.json")
    with open(summary_path, "w") as f:
        f.write(p.stdout)
    # One unit off in the quantity sum must be caught.
    tampered = re.sub(r'("feed_sent":\{"count":\d+,"price_sum":\d+,"quantity_sum":)(\d+)',
                      lambda m: m.group(1) + str(int(m.group(2)) + 1), p.stdout)
    bad_path = os.path.join(work, f"summary-{codec}-tampered.json")
    with open(bad_path, "w") as f:
        f.write(tampered)
    readers = []
    if have_duckdb:
        readers.append((read_back, ["DuckDB"]))
    if have_readers:
        readers.append((read_back_python, ["pyarrow", "Polars"]))
    for run, names in readers:
        r = run(summary_path)
        check(r.returncode == 0 and all(f"read-back ({name}): 20000 rows in {len(files)} files, sums EQUAL" in r.stderr
                                        for name in names),
              f"demo {codec}: {' and '.join(names)} read-back: {r.stderr.strip()[-300:]}")
        r = run(bad_path)
        # Every reader must report it. The verifier's own words go into the message, so that a
        # failure says what it saw.
        check(tampered != p.stdout and r.returncode == 1 and r.stderr.count("sum of quantity") == len(names),
              f"demo {codec}: {' and '.join(names)}: a wrong quantity sum is caught (exit {r.returncode}, tampered "
              f"{'differs' if tampered != p.stdout else 'UNCHANGED'}: {r.stderr.strip()[-300:]!r})")

# --- a second run replaces the first's files; a foreign directory is refused ---------------------
out = os.path.join(work, "snappy")
before = part_files(out)
p = run_demo(out)
pq = summary_of(p.stdout).get("parquet") or {}
check(p.returncode == 0 and f"removed {len(before)} part files of an earlier run" in p.stderr,
      f"demo again: exit {p.returncode}, earlier files removed")
check(len(part_files(out)) == pq.get("files_written"), "demo again: only this run's files are left")

foreign = os.path.join(work, "foreign")
os.makedirs(os.path.join(foreign, "trade"))
with open(os.path.join(foreign, "notes.txt"), "w") as f:
    f.write("mine")
p = run_demo(foreign)
check(p.returncode == 2 and "notes.txt" in p.stderr and "is not part of the Parquet sink's output" in p.stderr,
      f"demo into a directory with other files: exit {p.returncode}: {p.stderr.strip()[:200]}")
check(sorted(os.listdir(foreign)) == ["notes.txt", "trade"], "demo into a directory with other files: untouched, no lock file")

afile = os.path.join(work, "a-file")
open(afile, "w").close()
p = run_demo(afile)
check(p.returncode == 2 and "is not a directory" in p.stderr, f"demo --out <a file>: exit {p.returncode}")

# --- a failing sink: EFBIG at 16 KiB per file --------------------------------------------------
p = run_demo(os.path.join(work, "efbig"), "--codec", "none", "--row-group-rows", "1000", limit_file_size=16384)
s = summary_of(p.stdout)
failure = (s.get("parquet") or {}).get("failure") or ""
named = re.search(r"efbig/trade/symbol=[A-Z0-9]+/date=\d{4}-\d{2}-\d{2}/part-\d{5}\.parquet: .*File too large", failure)
check(p.returncode == 1 and named is not None, f"sink failure: exit {p.returncode}, JSON failure {failure!r}")
check(re.search(r"parquet sink FAILED: \S+/efbig/trade/symbol=\w+/date=[\d-]+/part-\d{5}\.parquet: .*File too large",
                p.stderr) is not None, "sink failure: named in the text summary")
check(s.get("sink_error") is not None and (s.get("parquet") or {}).get("complete") is False, "sink failure: sink_error set")

# --- polarway-ingest --out ------------------------------------------------------------------------
ingest_out = os.path.join(work, "ingest")
for run in (1, 2):
    feed, addr = feed_process.start(feed_bin, "--symbols", "4", "--count", "6000", "--quiet", stdout=None)
    try:
        url = f"ws://{addr}/stream?streams=btcusdt@trade/ethusdt@trade/bnbusdt@aggTrade/btcusdt@bookTicker"
        p = subprocess.run([ingest_bin, "--connect", url, "--once", "--quiet", "--out", ingest_out, "--codec", "zstd",
                            "--file-rows", "1000"], capture_output=True, text=True, timeout=120)
        s = summary_of(p.stdout)
        pq = s.get("parquet") or {}
        streams = pq.get("streams", {})
        check(p.returncode == 0 and s.get("ticks_in") == 6000 and pq.get("rows_written") == 6000 and pq.get("complete"),
              f"ingest run {run}: exit {p.returncode}, in {s.get('ticks_in')}, rows {pq.get('rows_written')}")
        check(all(streams.get(k, {}).get("rows_written", 0) > 0 for k in ("trade", "aggTrade", "bookTicker")),
              f"ingest run {run}: every stream written")
        check(len(part_files(ingest_out)) == pq.get("files_written") * run,
              f"ingest run {run}: {len(part_files(ingest_out))} part files in all (the earlier run's are kept)")
    finally:
        feed_process.stop(feed, signal.SIGTERM, timeout=10)

print(f"{len(failures)} failed")
if failures:
    sys.exit(1)
if not have_duckdb:
    print(f"DuckDB is not installed in {node_dir} (the tick_parquet_sink_npm_install fixture installs it): "
          "the read-back was not checked")
    sys.exit(77)
