#!/usr/bin/python3
"""Tick pipeline benchmark driver: runs polarway-feed and polarway-ingest (separate processes,
loopback WebSocket) and the Python peer (bench/compare/python/ingest_peer.py) in its two stacks,
checks every run, and writes a Markdown section with the medians and the targets.

Normally started by bench/pipeline/run.sh, which builds the two binaries first; see
bench/pipeline/README.md. The measurements, each run --runs times (round-robin, so machine
drift hits all of them alike), every run a fresh feed process and a fresh reader:

  throughput  polarway-feed flat out, polarway-ingest with C connections, ticks/s
  latency     polarway-feed at a fixed offered rate (--rate ticks/s in total) with send times,
              polarway-ingest's p50 / p99 / p99.9 (feed send -> counting sink)
  latency_busy the same with polarway-ingest --busy-poll-us N (an idle worker polls for N us
              before it sleeps: the latency configuration, a core kept busy)
  python      the same feed flat out, ingest_peer.py --stack uvloop-orjson (uvloop + websockets
              + orjson: the strongest Python pipeline), ticks/s
  python_asyncio  the same with --stack asyncio-json (asyncio + websockets + json, the seeds'
              baseline), ticks/s
  parquet     polarway-demo end to end (feed + ingest + Parquet sink in one process, files on
              disk under the state dir), ticks/s and peak RSS, at two volumes (--parquet-ticks
              and 20x that by default) to show the peak does not grow with the volume
  replay      polarway-replay flat out over a recording of --ticks trades (polarway-demo --out,
              made once per benchmark), polarway-ingest with C connections, each a share of
              the symbols, ticks/s
  brain       the feed flat out (--ticks), polarway-ingest --publish unix:SOCK with a Python
              subscriber (brain_reader.py, on python/polarway_ticks) taking every trade into
              pyarrow batches: its ticks/s and its receive cost per CPU second
  brain_latency  the feed at --rate with send times, the same subscriber: p50 / p99 / p99.9
              from the feed's send time to the Python iterator

A run counts only if its checks pass: ticks in == ticks out == the number the feed was told to
send, the feed's own totals (count, price sum, quantity sum, reported when it stops) equal the
reader's, no decode or connection errors. Exit status: 0 all runs checked out, 1 a run failed
or a check did not hold, 2 bad arguments. The targets never affect the exit status.
"""

import argparse
import datetime
import json
import os
import re
import shlex
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
# The Python peer runs in the environment scripts/setup.sh builds (PyPI's uvloop, websockets and
# orjson, pinned), in one of its two stacks per measurement.
PEER_PY = report_common.peer_python(REPO)
PEER = os.path.join(REPO, "bench", "compare", "python", "ingest_peer.py")
PEER_STACKS = {"python": "uvloop-orjson", "python_asyncio": "asyncio-json", "python_wss": "uvloop-orjson"}
PEER_PACKAGES = ("uvloop", "websockets", "orjson")
MEASUREMENTS = ("throughput", "latency", "latency_busy", "python", "python_asyncio", "parquet", "throughput_wss",
                "python_wss", "replay", "brain", "brain_latency")
BRAIN = os.path.join(HERE, "brain_reader.py")
# The wss:// rows: the same feed with --tls-cert, read over TLS (TLS 1.3, OpenSSL's default
# suite) by polarway-ingest (--tls-ca) and by the strongest Python stack (its default SSL
# context, trusting the run's CA through SSL_CERT_FILE).
TLS_KINDS = ("throughput_wss", "python_wss")

BEGIN, END = "<!-- pipeline:begin -->", "<!-- pipeline:end -->"

# The targets the pipeline is held to.
TARGET_TPS = 2_000_000  # ticks/s, flat out
TARGET_P99_NS = 100_000  # p99 < 100 us at 100,000 ticks/s offered
TARGET_RATIO = 30.0  # polarway / Python peer (also polarway over wss:// / Python over wss://)
TARGET_WSS_RATIO = 0.7  # polarway over wss:// / polarway over ws://
TARGET_PARQUET_TPS = 1_000_000  # end to end, feed flat out to Parquet files
TARGET_PARQUET_RSS_MIB = 64
TARGET_REPLAY_TPS = 2_000_000  # polarway-replay flat out into polarway-ingest
TARGET_BRAIN_TPS = 10_000_000  # ticks/s into pyarrow batches in Python, feed and ingest beside it
TARGET_BRAIN_RATIO = 20.0  # the Python brain's ticks/s / the best Python pipeline's
TARGET_BRAIN_P99_NS = 150_000  # feed send -> Python iterator at --rate


class Interrupted(Exception):
    pass


def _on_signal(signum, _frame):
    raise Interrupted(f"interrupted by {signal.Signals(signum).name}")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


LIVE = []  # processes started and not yet reaped, killed on the way out
PIDFILE = None  # run.sh's EXIT trap kills whatever is listed here, should this driver die


def note_pids():
    if PIDFILE:
        with open(PIDFILE, "w") as f:
            f.write("".join(f"{p.pid}\n" for p in LIVE if p.poll() is None))


def spawn(argv, stdout, stderr, env=None):
    try:
        p = subprocess.Popen(argv, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                             start_new_session=True, env=env)
    except OSError as e:
        raise RunError(f"cannot start {argv[0]}: {e}")
    LIVE.append(p)
    note_pids()
    return p


def reap(p, sig=signal.SIGTERM, grace=10.0):
    """Stops a process (signal, then SIGKILL after `grace` s); returns its exit status."""
    if p.poll() is None:
        try:
            p.send_signal(sig)
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        except ProcessLookupError:
            pass
    if p in LIVE:
        LIVE.remove(p)
        note_pids()
    return p.returncode


def kill_all():
    for p in list(LIVE):
        reap(p, grace=3.0)


class RunError(Exception):
    """A run that broke (binary failed, timed out, bad output) or whose checks failed."""


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            lines = f.readlines()[-n:]
        return "".join("    | " + line for line in lines).rstrip()
    except OSError:
        return ""


# Symbol i as polarway-feed names it (examples/tick_pipeline/src/feed_generator.cpp,
# make_symbol): a few real names, then X + base-36 digits of i + USDT. If the two ever disagree
# the feed refuses the handshake and the run fails with that error.
REAL = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT", "DOGEUSDT", "BNBBTC"]


def symbol(i):
    if i < len(REAL):
        return REAL[i]
    digits, code, n = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "", i
    while n > 0:
        code = digits[n % 36] + code
        n //= 36
    return "X" + code + "USDT"


def target_path(symbols):
    """The combined stream of every symbol (what polarway-demo reads); "/" (all symbols, raw
    stream) when that URL would not fit a handshake comfortably."""
    path = "/stream?streams=" + "/".join(symbol(i).lower() + "@trade" for i in range(symbols))
    return path if len(path) <= 4000 else "/"


class Feed:
    """One polarway-feed process on 127.0.0.1, port chosen by the kernel (port 0); with `argv`,
    that server instead (polarway-replay, which reports the same way)."""

    def __init__(self, args, per_connection, rate, logdir, tag, tls=None, argv=None):
        self.err_path = os.path.join(logdir, f"{tag}.feed.stderr")
        if argv is None:
            argv = [args.feed, "--listen", "127.0.0.1:0", "--symbols", str(args.symbols), "--count",
                    str(per_connection), "--with-send-time", "--quiet"]
            if rate:
                argv += ["--rate", str(rate)]
            if tls:
                argv += ["--tls-cert", tls["cert"], "--tls-key", tls["key"]]
        self.argv = argv
        self.err = open(self.err_path, "w")
        self.proc = spawn(argv, subprocess.DEVNULL, self.err)
        deadline = time.monotonic() + 15
        self.addr = None
        while time.monotonic() < deadline:
            with open(self.err_path) as f:
                m = re.search(r"listening on (\S+)", f.read())
            if m:
                self.addr = m.group(1)
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        if not self.addr:
            rc = reap(self.proc)
            self.err.close()
            raise RunError(f"{os.path.basename(argv[0])} did not start (exit {rc}): {show(argv)}\n"
                           f"{tail(self.err_path)}")

    def stop(self):
        """SIGTERM (it closes its connections and prints what it sent), then its totals."""
        rc = reap(self.proc)
        self.err.close()
        with open(self.err_path, errors="replace") as f:
            text = f.read()
        m = re.search(r"(\d+) connections, (\d+) messages, (\d+) bytes sent; totals count (\d+) "
                      r"price_sum (\d+) quantity_sum (\d+)", text)
        if rc != 0 or not m:
            raise RunError(f"{os.path.basename(self.argv[0])} exited {rc} without its totals line: "
                           f"{show(self.argv)}\n{tail(self.err_path)}")
        keys = ("connections", "messages", "bytes", "count", "price_sum", "quantity_sum")
        return dict(zip(keys, map(int, m.groups())))


def run_reader(argv, timeout, tag, logdir, what, env=None):
    """Runs a reader to completion; returns its last JSON line on stdout (a dict) and exit code."""
    err_path = os.path.join(logdir, f"{tag}.{what}.stderr")
    with open(err_path, "w") as err:
        p = spawn(argv, subprocess.PIPE, err, env)
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            reap(p, signal.SIGKILL)
            raise RunError(f"{what} timed out after {timeout:.0f} s: {show(argv)}\n"
                           f"{tail(err_path)}")
        finally:
            if p.poll() is not None and p in LIVE:
                LIVE.remove(p)
                note_pids()
    summary = None
    for line in out.decode(errors="replace").splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                summary = json.loads(line)
            except json.JSONDecodeError:
                pass
    if summary is None:
        raise RunError(f"{what} exited {p.returncode} without a JSON summary: {show(argv)}\n"
                       f"{tail(err_path)}")
    return summary, p.returncode, err_path


def show(argv):
    """A command line for a message, long arguments (the stream URLs) shortened."""
    return shlex.join(a if len(a) <= 72 else a[:60] + "..." for a in argv)


def check(problems, cond, text):
    if not cond:
        problems.append(text)


def make_tls(dirname):
    """A CA and a certificate for DNS:localhost signed by it (openssl CLI), for the wss:// rows."""
    os.makedirs(dirname, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"]
    for argv in (["req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=bench-ca",
                  "-addext", "basicConstraints=critical,CA:TRUE"],
                 ["req", "-x509", *ec, "-keyout", "feed.key", "-out", "feed.pem", "-subj", "/CN=localhost",
                  "-addext", "subjectAltName=DNS:localhost", "-CA", "ca.pem", "-CAkey", "ca.key"]):
        r = subprocess.run(["openssl", *argv], cwd=dirname, capture_output=True, text=True)
        if r.returncode != 0:
            raise RunError(f"openssl {argv[0]} failed: {r.stderr.strip()[-300:]}")
    return {"ca": os.path.join(dirname, "ca.pem"), "cert": os.path.join(dirname, "feed.pem"),
            "key": os.path.join(dirname, "feed.key")}


def against_feed(args, per, rate, logdir, tag, read, tls=None):
    """Starts a fresh feed (serving wss:// with `tls`), returns (read(url), the feed's totals once
    stopped). A feed that fails to stop cleanly fails the run (unless the reader already failed:
    its error comes first)."""
    feed = Feed(args, per, rate, logdir, tag, tls)
    try:
        # wss:// dials the name the certificate is for; the feed listens on 127.0.0.1.
        port = feed.addr.rsplit(":", 1)[1]
        out = read(f"wss://localhost:{port}{target_path(args.symbols)}" if tls else
                   f"ws://{feed.addr}{target_path(args.symbols)}")
    finally:
        try:
            feed_totals = feed.stop()
        except RunError as e:
            feed_error = e
        else:
            feed_error = None
    if feed_error:
        raise feed_error
    return out, feed_totals


def polarway_run(args, kind, tag, logdir, tls=None):
    """kind: "throughput" (flat out), "throughput_wss" (the same over TLS), "latency" (fixed
    offered rate) or "latency_busy" (the same, ingest busy-polling). Returns a result dict."""
    c = args.connections
    if kind in ("throughput", "throughput_wss"):
        per, rate, timeout = args.ticks // c, 0, args.timeout
    else:
        rate = args.rate // c
        per = rate * args.latency_seconds
        timeout = args.latency_seconds + args.timeout
    expected = per * c

    def read(url):
        argv = [args.ingest, "--once", "--quiet"]
        if kind == "latency_busy":
            argv += ["--workers", str(args.busy_poll_workers), "--busy-poll-us", str(args.busy_poll_us)]
        if tls:
            argv += ["--tls-ca", tls["ca"]]
        for _ in range(c):
            argv += ["--connect", url]
        return run_reader(argv, timeout, tag, logdir, "ingest")

    (s, rc, err_path), feed_totals = against_feed(args, per, rate, logdir, tag, read, tls)
    problems = []
    if rate:
        # With a rate the feed is a market of `per` messages that every connection joins in
        # progress: one admitted after the first misses what the market produced meanwhile. So
        # what counts is what the feed sent, all of which must arrive; and each connection
        # must have joined within the market's first 1% (a slower handshake is a fault).
        sent = feed_totals["messages"]
        check(problems, per * c * 0.99 <= sent <= per * c,
              f"the feed sent {sent} of the market's {per} messages x {c} connections (more than 1% missed)")
        expected = sent
    check(problems, rc == 0, f"polarway-ingest exit status {rc}")
    check(problems, s.get("ticks_in") == expected and s.get("ticks_out") == expected,
          f"ticks_in {s.get('ticks_in')}, ticks_out {s.get('ticks_out')}, expected {expected}")
    ft = s.get("feed_totals", {})
    check(problems, feed_totals["messages"] == expected and feed_totals["count"] == expected,
          f"feed sent {feed_totals['messages']} messages (totals count {feed_totals['count']}), "
          f"expected {expected}")
    check(problems, (ft.get("count"), ft.get("price_sum"), ft.get("quantity_sum")) ==
          (feed_totals["count"], feed_totals["price_sum"], feed_totals["quantity_sum"]),
          f"ingest totals {ft} != feed totals {feed_totals}")
    errs = s.get("errors", {})
    nerr = sum(v for k, v in errs.items() if isinstance(v, int)) + sum(errs.get("websocket", {}).values())
    check(problems, nerr == 0, f"ingest errors: {errs}")
    check(problems, s.get("sessions") == c, f"sessions {s.get('sessions')}, expected {c}")
    lat = s.get("latency_ns", {})
    check(problems, lat.get("samples") == expected,
          f"latency samples {lat.get('samples')}, expected {expected}")
    if problems:
        raise RunError(f"{kind} run {tag}: check failed: " + "; ".join(problems) +
                       f" (ingest stderr: {err_path})")
    return {"ticks": expected, "ticks_per_s": float(s["ticks_per_s"]), "elapsed_s": float(s["elapsed_s"]),
            "p50_ns": lat["p50"], "p99_ns": lat["p99"], "p999_ns": lat["p999"], "max_ns": lat["max"],
            "peak_rss_kib": s.get("peak_rss_kib"), "rate_per_connection": rate,
            "per_connection": per}


def python_run(args, kind, tag, logdir, tls=None):
    c = args.connections
    per = args.python_ticks // c
    expected = per * c
    # Over wss://, the peer's default SSL context verifies the feed against the run's CA.
    env = dict(os.environ, SSL_CERT_FILE=tls["ca"]) if tls else None

    def read(url):
        argv = [PEER_PY, PEER, "--stack", PEER_STACKS[kind], "--url", url, "--connections", str(c),
                "--expect", str(expected), "--duration", str(args.timeout)]
        return run_reader(argv, args.timeout + 30, tag, logdir, kind, env)

    (s, rc, err_path), feed_totals = against_feed(args, per, 0, logdir, tag, read, tls)
    problems = []
    check(problems, rc == 0 and s.get("ok") is True, f"ingest_peer.py exit {rc}, ok {s.get('ok')}")
    check(problems, s.get("ticks") == expected, f"ticks {s.get('ticks')}, expected {expected}")
    check(problems, feed_totals["messages"] == expected, f"feed sent {feed_totals['messages']}, "
          f"expected {expected}")
    check(problems, (s.get("price_sum"), s.get("quantity_sum")) ==
          (feed_totals["price_sum"], feed_totals["quantity_sum"]),
          f"Python sums ({s.get('price_sum')}, {s.get('quantity_sum')}) != feed totals {feed_totals}")
    if problems:
        raise RunError(f"{kind} run {tag}: check failed: " + "; ".join(problems) +
                       f" (stderr: {err_path})")
    return {"ticks": expected, "ticks_per_s": float(s["ticks_per_s"]), "elapsed_s": float(s["seconds"]),
            "per_connection": per}


def brain_run(args, kind, tag, logdir):
    """kind: "brain" (feed flat out) or "brain_latency" (feed at --rate): polarway-ingest
    --publish on a Unix socket, --publish-wait 1, and brain_reader.py subscribed to its trades.
    Returns a result dict."""
    c = args.connections
    if kind == "brain":
        per, rate, timeout = args.ticks // c, 0, args.timeout
    else:
        rate = args.rate // c
        per = rate * args.latency_seconds
        timeout = args.latency_seconds + args.timeout
    sock = os.path.join(logdir, f"{tag}.sock")
    ingest_err = os.path.join(logdir, f"{tag}.ingest.stderr")
    ingest_out = os.path.join(logdir, f"{tag}.ingest.stdout")
    holder = {}

    def read(url):
        argv = [args.ingest, "--once", "--quiet", "--publish", f"unix:{sock}", "--publish-wait", "1"]
        for _ in range(c):
            argv += ["--connect", url]
        with open(ingest_out, "w") as out, open(ingest_err, "w") as err:
            ingest = spawn(argv, out, err)
        deadline = time.monotonic() + 15
        while not os.path.exists(sock) and ingest.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            reader = run_reader([PEER_PY, BRAIN, "--url", f"unix:{sock}", *(["--latency"] if rate else []),
                                 "--timeout", str(timeout)], timeout + 30, tag, logdir, "brain")
            ingest.wait(timeout=60)
        finally:
            holder["ingest_rc"] = reap(ingest)
        return reader

    (s, rc, err_path), feed_totals = against_feed(args, per, rate, logdir, tag, read)
    with open(ingest_out) as f:
        lines = [ln for ln in f.read().splitlines() if ln.startswith("{")]
    ingest = json.loads(lines[-1]) if lines else {}
    problems = []
    sent = feed_totals["messages"]
    if rate:
        check(problems, per * c * 0.99 <= sent <= per * c,
              f"the feed sent {sent} of the market's {per} messages x {c} connections (more than 1% missed)")
    else:
        check(problems, sent == per * c, f"the feed sent {sent}, expected {per * c}")
    check(problems, holder.get("ingest_rc") == 0, f"polarway-ingest exit status {holder.get('ingest_rc')}")
    check(problems, rc == 0 and s.get("ok") is True, f"brain_reader.py exit {rc}, ok {s.get('ok')}, closed {s.get('closed')}")
    check(problems, s.get("ticks") == sent and ingest.get("ticks_in") == sent,
          f"Python received {s.get('ticks')}, ingest {ingest.get('ticks_in')}, the feed sent {sent}")
    check(problems, (s.get("price_sum", 0) % 2**64, s.get("quantity_sum", 0) % 2**64) ==
          (feed_totals["price_sum"], feed_totals["quantity_sum"]),
          f"Python's sums ({s.get('price_sum')}, {s.get('quantity_sum')}) != the feed's {feed_totals}")
    lat = s.get("latency_ns", {})
    if rate:
        check(problems, lat.get("samples") == sent, f"latency samples {lat.get('samples')}, expected {sent}")
    if problems:
        raise RunError(f"{kind} run {tag}: check failed: " + "; ".join(problems) +
                       f" (stderr: {err_path}, {ingest_err})")
    out = {"ticks": sent, "ticks_per_s": float(s["ticks_per_s"]), "elapsed_s": float(s["seconds"]),
           "ticks_per_cpu_s": float(s["ticks_per_cpu_s"]), "batches": s.get("batches"),
           "ingest_ticks_per_s": float(ingest.get("ticks_per_s", 0.0)), "peak_rss_kib": ingest.get("peak_rss_kib")}
    if rate:
        out.update(p50_ns=lat["p50"], p99_ns=lat["p99"], p999_ns=lat["p999"], max_ns=lat["max"])
    return out


def parquet_run(args, tag, logdir, ticks):
    """polarway-demo, the README's main job: feed flat out -> ingest -> Parquet files on disk."""
    out_dir = os.path.join(logdir, f"{tag}.parquet-out")
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    argv = [args.demo, "--ticks", str(ticks), "--symbols", str(args.symbols), "--connections",
            str(args.connections), "--quiet", "--out", out_dir]
    s, rc, err_path = run_reader(argv, args.timeout, tag, logdir, f"demo-{ticks}")
    problems = []
    check(problems, rc == 0, f"polarway-demo exit status {rc}")
    check(problems, s.get("ticks_in") == ticks and s.get("ticks_out") == ticks,
          f"ticks_in {s.get('ticks_in')}, ticks_out {s.get('ticks_out')}, expected {ticks}")
    ft, sent = s.get("feed_totals", {}), s.get("feed_sent", {})
    check(problems, ft == sent and sent.get("count") == ticks, f"sink totals {ft} != feed sent {sent}")
    pq = s.get("parquet") or {}
    check(problems, pq.get("complete") is True and pq.get("rows_written") == ticks and not pq.get("failure"),
          f"parquet: complete {pq.get('complete')}, rows_written {pq.get('rows_written')}, "
          f"failure {pq.get('failure')}")
    if problems:
        raise RunError(f"parquet run {tag}: check failed: " + "; ".join(problems) + f" (stderr: {err_path})")
    shutil.rmtree(out_dir, ignore_errors=True)
    return {"ticks": ticks, "ticks_per_s": float(s["ticks_per_s"]), "elapsed_s": float(s["elapsed_s"]),
            "peak_rss_kib": s.get("peak_rss_kib"), "files": pq.get("files_written"),
            "bytes": pq.get("bytes_written"), "codec": pq.get("codec")}


def record(args, logdir):
    """The replay's recording: --ticks trades over --symbols symbols from polarway-demo --out on
    one connection (each trade once), and the demo's totals of what it recorded."""
    out_dir = os.path.join(logdir, "recording")
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    argv = [args.demo, "--ticks", str(args.ticks), "--symbols", str(args.symbols), "--connections", "1",
            "--quiet", "--out", out_dir]
    s, rc, err_path = run_reader(argv, args.timeout, "recording", logdir, "demo")
    pq = s.get("parquet") or {}
    if rc != 0 or pq.get("rows_written") != args.ticks or not pq.get("complete"):
        raise RunError(f"the recording failed: polarway-demo exit {rc}, rows written {pq.get('rows_written')} "
                       f"of {args.ticks} (stderr: {err_path})")
    return {"dir": out_dir, "totals": s["feed_totals"]}


def replay_run(args, tag, logdir, recording):
    """polarway-replay flat out over the recording; connection k reads the symbols i with
    i % C == k, so the C connections together read every recorded trade once."""
    c = args.connections
    expected = args.ticks
    server = Feed(args, 0, 0, logdir, tag,
                  argv=[args.replay, recording["dir"], "--listen", "127.0.0.1:0", "--quiet"])
    try:
        argv = [args.ingest, "--once", "--quiet"]
        for k in range(c):
            streams = [symbol(i).lower() + "@trade" for i in range(args.symbols) if i % c == k]
            if streams:
                argv += ["--connect", f"ws://{server.addr}/stream?streams=" + "/".join(streams)]
        s, rc, err_path = run_reader(argv, args.timeout, tag, logdir, "ingest")
    finally:
        sent = server.stop()
    problems = []
    check(problems, rc == 0, f"polarway-ingest exit status {rc}")
    check(problems, s.get("ticks_in") == expected and s.get("ticks_out") == expected,
          f"ticks_in {s.get('ticks_in')}, ticks_out {s.get('ticks_out')}, expected {expected}")
    rec = recording["totals"]
    got = s.get("feed_totals", {})
    check(problems, (sent["count"], sent["price_sum"], sent["quantity_sum"]) ==
          (rec["count"], rec["price_sum"], rec["quantity_sum"]),
          f"replay sent totals {sent} != the recording's {rec}")
    check(problems, (got.get("count"), got.get("price_sum"), got.get("quantity_sum")) ==
          (rec["count"], rec["price_sum"], rec["quantity_sum"]), f"ingest totals {got} != the recording's {rec}")
    errs = s.get("errors", {})
    nerr = sum(v for k, v in errs.items() if isinstance(v, int)) + sum(errs.get("websocket", {}).values())
    check(problems, nerr == 0, f"ingest errors: {errs}")
    if problems:
        raise RunError(f"replay run {tag}: check failed: " + "; ".join(problems) + f" (ingest stderr: {err_path})")
    return {"ticks": expected, "ticks_per_s": float(s["ticks_per_s"]), "elapsed_s": float(s["elapsed_s"]),
            "peak_rss_kib": s.get("peak_rss_kib")}


# ---- report -----------------------------------------------------------------------------------

def machine():
    m = report_common.machine(REPO)
    m["python"] = report_common.sh([PEER_PY, "--version"])
    m["peer_packages"] = report_common.package_versions(PEER_PY, PEER_PACKAGES)
    return m


def rate_text(v):
    if v is None:
        return "—"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M"
    if v >= 1e3:
        return f"{v / 1e3:.1f} k"
    return f"{v:.0f}"


def us(ns):
    if ns is None:
        return "—"
    return f"{ns / 1e3:.1f} µs" if ns < 1_000_000 else f"{ns / 1e3:,.0f} µs"


def med(xs):
    return statistics.median(xs) if xs else None


def verdict(ok):
    if ok is None:
        return "not measured (no run passed its checks)"
    return "**met**" if ok else "**not met**"


def render(args, res, errors, meta):
    o = []
    p = o.append
    quick = args.quick
    c = args.connections
    tp, lt, lb = res["throughput"], res["latency"], res["latency_busy"]
    py, pya = res["python"], res["python_asyncio"]
    tp_med = med([r["ticks_per_s"] for r in tp])
    p(BEGIN)
    p("## Tick pipeline: polarway-feed → polarway-ingest over loopback")
    p("")
    p("<!-- Generated by bench/pipeline/run.sh; do not edit by hand. -->")
    p("")
    if quick:
        p("**Quick mode (smoke test, small counts, one run): these figures only show that the "
          "pipeline runs and checks out; they are not comparable with the targets.**")
        p("")
    p(f"Two processes on this machine: `polarway-feed` serves Binance-format trades "
      f"(`--with-send-time`) over WebSocket on 127.0.0.1 (kernel-chosen port), and "
      f"`polarway-ingest` reads them on {c} connections, each the combined stream of all "
      f"{args.symbols} symbols, decodes them and pushes them through its bounded channel into "
      f"the counting sink; both share the machine's cores. Every run is a fresh feed and a fresh "
      f"reader, and counts only if ticks in = ticks out = what the feed was told to send (at a "
      f"rate, what the feed sent: its market is joined in progress, so a connection admitted "
      f"after the first misses what came meanwhile, at most 1% here) and the feed's own totals "
      f"(count, price sum, quantity sum) equal the reader's. Median of "
      f"{args.runs} run{'s' if args.runs != 1 else ''} per measurement, the measurements "
      f"interleaved round-robin.")
    p("")
    p(f"- Command: `{meta['command']}` ({meta['date']}); wall time {meta['wall_s']:.0f} s")
    p(f"- Machine: {meta['cpu']}, {meta['nproc']} cores (nproc); Linux {meta['kernel']}; "
      f"load average (1/5/15 min) {meta['load_start']} at the start, {meta['load_end']} at the "
      f"end")
    p(f"- Build: polarway {meta['git']}, CMake Release, {meta['gxx']}; Python peer: "
      f"{meta['python']}, " + ", ".join(f"{n} {v or '?'}" for n, v in meta["peer_packages"].items())
      + " (PyPI, pinned in scripts/python-requirements.txt)")
    p("")
    p("| measurement | target | median | runs | met? |")
    p("|---|---|---:|---|---|")
    p(f"| ingest throughput, feed flat out ({args.symbols} symbols, {c} connections, "
      f"{args.ticks:,} ticks per run) | ≥ {TARGET_TPS:,} ticks/s | {rate_text(tp_med)} ticks/s | "
      f"{', '.join(rate_text(r['ticks_per_s']) for r in tp) or '—'} | "
      f"{verdict(None if tp_med is None else tp_med >= TARGET_TPS)} |")
    tw, pyw = res["throughput_wss"], res["python_wss"]
    tw_med = med([r["ticks_per_s"] for r in tw])
    if tw or pyw:
        wss_ratio = tw_med / tp_med if tw_med and tp_med else None
        p(f"| ingest throughput over wss:// (TLS, feed `--tls-cert`, ingest `--tls-ca`), same feed and "
          f"connections; ratio to ws:// | ≥ {TARGET_WSS_RATIO:.1f}× of ws:// | {rate_text(tw_med)} ticks/s, "
          f"{'—' if wss_ratio is None else f'{wss_ratio:.2f}×'} | "
          f"{', '.join(rate_text(r['ticks_per_s']) for r in tw) or '—'} | "
          f"{verdict(None if wss_ratio is None else wss_ratio >= TARGET_WSS_RATIO)} |")
    for rows, how in ((lt, "idle workers sleep (default)"),
                      (lb, f"`--workers {args.busy_poll_workers} --busy-poll-us {args.busy_poll_us}`: "
                           f"an idle worker polls")):
        if rows is lb and not rows:
            continue  # not asked for (--only)
        p99_med = med([r["p99_ns"] for r in rows])
        p(f"| latency p99, {args.rate:,} ticks/s offered ({c} × {args.rate // c:,}/s, "
          f"{args.latency_seconds} s); {how} | < {TARGET_P99_NS / 1e3:.0f} µs | {us(p99_med)} | "
          f"{', '.join(us(r['p99_ns']) for r in rows) or '—'} | "
          f"{verdict(None if p99_med is None else p99_med < TARGET_P99_NS)} |")
    # polarway's median over the Python peer's, each over ws:// or each over wss://.
    for rows, how, polarway_med, target, shown in (
            (py, "polarway ÷ Python peer (uvloop + websockets + orjson, the strongest Python pipeline",
             tp_med, TARGET_RATIO, True),
            (pya, "polarway ÷ Python peer (asyncio + websockets + json, the seeds' baseline", tp_med, None, bool(pya)),
            (pyw, "polarway over wss:// ÷ Python peer over wss:// (uvloop + websockets + orjson, Python's ssl",
             tw_med, TARGET_RATIO, bool(tw or pyw))):
        if not shown:
            continue  # not asked for (--only)
        py_med = med([r["ticks_per_s"] for r in rows])
        ratio = polarway_med / py_med if polarway_med and py_med else None
        p(f"| {how}: ingest_peer.py, {args.python_ticks:,} ticks per run, "
          f"{rate_text(py_med)} ticks/s) | {'—' if target is None else f'≥ {target:.0f}×'} | "
          f"{'—' if ratio is None else f'{ratio:.1f}×'} | Python: "
          f"{', '.join(rate_text(r['ticks_per_s']) for r in rows) or '—'} | "
          f"{'(for reference)' if target is None else verdict(None if ratio is None else ratio >= target)} |")
    pq, pq20 = res["parquet"], res.get("parquet_x20", [])
    if pq or pq20:
        pq_med = med([r["ticks_per_s"] for r in pq])
        rss = [r["peak_rss_kib"] for r in pq if r.get("peak_rss_kib")]
        rss20 = [r["peak_rss_kib"] for r in pq20 if r.get("peak_rss_kib")]
        rss_med, rss20_med = med(rss), med(rss20)
        peak = max(rss + rss20) if rss + rss20 else None
        growth = (rss20_med / rss_med - 1) if rss_med and rss20_med else None
        p(f"| end to end with Parquet: `polarway-demo` ({args.parquet_ticks:,} ticks, files on disk) "
          f"| ≥ {TARGET_PARQUET_TPS:,} ticks/s | {rate_text(pq_med)} ticks/s | "
          f"{', '.join(rate_text(r['ticks_per_s']) for r in pq) or '—'} | "
          f"{verdict(None if pq_med is None else pq_med >= TARGET_PARQUET_TPS)} |")
        p(f"| peak RSS with Parquet, {args.parquet_ticks:,} and {20 * args.parquet_ticks:,} ticks | "
          f"≤ {TARGET_PARQUET_RSS_MIB} MiB, not growing with volume (±10%) | "
          f"{'—' if rss_med is None else f'{rss_med / 1024:.0f} MiB'} / "
          f"{'—' if rss20_med is None else f'{rss20_med / 1024:.0f} MiB'} | "
          f"{', '.join(f'{k / 1024:.0f}' for k in rss) or '—'} / {', '.join(f'{k / 1024:.0f}' for k in rss20) or '—'} MiB | "
          f"{verdict(None if peak is None or growth is None else peak <= TARGET_PARQUET_RSS_MIB * 1024 and abs(growth) <= 0.10)}"
          f"{'' if growth is None else f' ({growth * 100:+.0f}%)'} |")
    rp = res["replay"]
    if rp:
        rp_med = med([r["ticks_per_s"] for r in rp])
        p(f"| replay flat out: `polarway-replay` over a recording of {args.ticks:,} trades → `polarway-ingest`, "
          f"{c} connections | ≥ {TARGET_REPLAY_TPS:,} ticks/s | {rate_text(rp_med)} ticks/s | "
          f"{', '.join(rate_text(r['ticks_per_s']) for r in rp)} | "
          f"{verdict(None if rp_med is None else rp_med >= TARGET_REPLAY_TPS)} |")
    br, brl = res["brain"], res["brain_latency"]
    if br:
        br_med = med([r["ticks_per_s"] for r in br])
        cpu_med = med([r["ticks_per_cpu_s"] for r in br])
        py_med = med([r["ticks_per_s"] for r in py])
        ratio = br_med / py_med if br_med and py_med else None
        p(f"| Python brain flat out: feed → `polarway-ingest --publish unix:` → Python "
          f"(`polarway_ticks`, every trade into pyarrow batches), {args.ticks:,} ticks | "
          f"≥ {TARGET_BRAIN_TPS:,} ticks/s | {rate_text(br_med)} ticks/s | "
          f"{', '.join(rate_text(r['ticks_per_s']) for r in br)} | "
          f"{verdict(None if br_med is None else br_med >= TARGET_BRAIN_TPS)} |")
        p(f"| the same runs: the subscriber's receive cost, ticks per CPU second of its process (the "
          f"rate one core of its own would take) | ≥ {TARGET_BRAIN_TPS:,} per CPU s | {rate_text(cpu_med)} | "
          f"{', '.join(rate_text(r['ticks_per_cpu_s']) for r in br)} | "
          f"{verdict(None if cpu_med is None else cpu_med >= TARGET_BRAIN_TPS)} (capacity, not the end-to-end rate) |")
        p(f"| Python brain ÷ Python peer (uvloop + websockets + orjson), same feed | ≥ {TARGET_BRAIN_RATIO:.0f}× | "
          f"{'—' if ratio is None else f'{ratio:.1f}×'} | Python peer: {', '.join(rate_text(r['ticks_per_s']) for r in py) or '—'} | "
          f"{verdict(None if ratio is None else ratio >= TARGET_BRAIN_RATIO)} |")
    if brl:
        p99_med = med([r["p99_ns"] for r in brl])
        p(f"| Python brain latency p99, feed send → Python iterator, {args.rate:,} ticks/s offered "
          f"({args.latency_seconds} s; default sleeping workers) | < {TARGET_BRAIN_P99_NS / 1e3:.0f} µs | {us(p99_med)} | "
          f"{', '.join(us(r['p99_ns']) for r in brl)} | "
          f"{verdict(None if p99_med is None else p99_med < TARGET_BRAIN_P99_NS)} |")
    if pq or pq20:
        p("")
        p(f"End to end with Parquet: `polarway-demo` runs the feed, ingest and the Parquet sink in one "
          f"process ({args.symbols} symbols, {c} connections, flat out; {pq[0]['codec'] if pq else 'snappy'}, "
          f"files written, fsynced and renamed under the state directory, removed after each checked "
          f"run); a run counts only if every tick the feed sent is in a committed file (rows written "
          f"= ticks) and the sums equal the feed's. The {20 * args.parquet_ticks:,}-tick run "
          f"({', '.join(rate_text(r['ticks_per_s']) for r in pq20) or '—'} ticks/s) is there for "
          f"the memory comparison.")
    p("")
    for rows, how in ((lt, "idle workers sleep"),
                      (lb, f"`--workers {args.busy_poll_workers} --busy-poll-us {args.busy_poll_us}`")):
        if rows:
            p(f"Latency at {args.rate:,} ticks/s offered, {how} (feed send time `pw_ts`, wall "
              f"clock, → counting sink; histogram resolution ~3%): median p50 "
              f"{us(med([r['p50_ns'] for r in rows]))}, p99 {us(med([r['p99_ns'] for r in rows]))}, "
              f"p99.9 {us(med([r['p999_ns'] for r in rows]))}.")
            p("")
    p("<details><summary>every run</summary>")
    p("")
    p("| measurement | run | ticks | seconds | ticks/s | p50 | p99 | p99.9 | max | peak RSS |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, rows in (("throughput", tp), ("latency", lt), ("latency, busy poll", lb), ("python (uvloop + orjson)", py),
                       ("python (asyncio + json)", pya), ("parquet", res["parquet"]),
                       ("parquet ×20", res.get("parquet_x20", [])), ("throughput over wss://", res["throughput_wss"]),
                       ("python over wss:// (uvloop + orjson)", res["python_wss"]), ("replay", res["replay"]),
                       ("Python brain", res["brain"]), ("Python brain latency", res["brain_latency"])):
        for r in rows:
            lat = "p50_ns" in r
            p(f"| {name} | {r['run']} | {r['ticks']:,} | {r['elapsed_s']:.3f} | "
              f"{r['ticks_per_s']:,.0f} | {us(r['p50_ns']) if lat else ''} | "
              f"{us(r['p99_ns']) if lat else ''} | {us(r['p999_ns']) if lat else ''} | "
              f"{us(r['max_ns']) if lat else ''} | "
              f"{(str(r['peak_rss_kib'] // 1024) + ' MiB') if r.get('peak_rss_kib') else ''} |")
    p("")
    p("</details>")
    p("")
    p("Notes:")
    p("")
    p("- polarway's ticks/s is `ticks_per_s` from polarway-ingest's JSON summary: ticks written "
      "÷ the whole run, connects and handshakes included. The Python peer's clock runs from its "
      "first tick to its last (a little in its favour). It reads a smaller count than the "
      "throughput runs (it is much slower), over the same number of connections to the same "
      "feed, with the same checks against the feed's totals; the ratio is polarway's median "
      "ticks/s ÷ the Python peer's. Both Python stacks use websockets' asyncio implementation "
      "and take each frame as bytes (no UTF-8 decode to str before parsing).")
    p("- The throughput runs' latency columns measure queueing at flat out, not the latency "
      "target; that is the latency rows, at a fixed offered rate (the feed sends what is due "
      "every 100 µs, its default `--pace-us`).")
    p("- The feed and the reader compete for the same cores; on a 2-core machine that caps "
      "both figures.")
    if res["replay"]:
        p(f"- The replay row: `polarway-demo --connections 1 --out` records {args.ticks:,} trades of "
          f"{args.symbols} symbols once per benchmark; each run is a fresh `polarway-replay DIR` "
          f"(flat out) and a fresh `polarway-ingest --once` whose {c} connections each ask for a "
          f"share of the symbols' trade streams, so together they read every recorded trade once, "
          f"merged by event time from the Parquet files. A run counts only if the ingest received "
          f"every row and the sums of what the replay sent and of what the ingest received equal "
          f"the recording's.")
    if res["brain"] or res["brain_latency"]:
        p("- The Python brain rows: three processes on the machine's cores (the feed, polarway-ingest "
          "with `--publish unix:SOCK --publish-wait 1`, and `bench/pipeline/brain_reader.py`, which "
          "subscribes with `python/polarway_ticks` to the trades). The subscriber's clock runs from "
          "its first batch to its last; what it times is the receive alone (each batch kept with "
          "its arrival time; sums and latencies computed after the stream closed). A run counts "
          "only if the subscriber received every tick the feed sent, with the feed's exact sums, "
          "and the stream ended with its closing message. The CPU figure is the subscriber "
          "process's user + system time while receiving. Latency is the subscriber's wall clock "
          "when the batch came out of the iterator minus the feed's `pw_ts`, over every tick.")
    p(f"- The latency configuration (`--workers {args.busy_poll_workers} --busy-poll-us "
      f"{args.busy_poll_us}`; `runtime_options::busy_poll`) keeps an ingest worker polling its "
      f"ring instead of sleeping between messages: at this rate that worker's core stays busy "
      f"the whole run. It is there because waking a sleeping thread on this VM takes most of "
      f"the latency budget (a 100 µs sleep overshoots by ~90 µs at the median). One worker: "
      f"100,000 ticks/s is a few percent of a core, and a second worker only adds wake-ups and "
      f"competes with the feed for the other core. The default configuration sleeps.")
    for e in errors:
        first = e.splitlines()[0]
        p(f"- **run failed:** {first}")
    p(END)
    return "\n".join(o) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feed", required=True, help="polarway-feed binary")
    ap.add_argument("--ingest", required=True, help="polarway-ingest binary")
    ap.add_argument("--demo", default=None, help="polarway-demo binary (for the parquet and replay measurements)")
    ap.add_argument("--replay", default=None, help="polarway-replay binary (for the replay measurement)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 1 run, 200,000 ticks, 2 s of latency, 50,000 Python ticks; "
                         "does not touch docs/ unless --docs is given")
    ap.add_argument("--runs", type=int, default=None, help="runs per measurement (default 3, quick 1)")
    ap.add_argument("--symbols", type=int, default=20, help="symbols (default 20)")
    ap.add_argument("--connections", type=int, default=4, help="connections (default 4)")
    ap.add_argument("--ticks", type=int, default=None,
                    help="ticks per throughput run, in total (default 5,000,000; quick 200,000)")
    ap.add_argument("--rate", type=int, default=100_000,
                    help="offered rate of the latency runs, ticks/s in total (default 100,000)")
    ap.add_argument("--latency-seconds", type=int, default=None,
                    help="length of a latency run (default 10; quick 2)")
    ap.add_argument("--python-ticks", type=int, default=None,
                    help="ticks per Python run, either stack (default 500,000; quick 50,000)")
    ap.add_argument("--parquet-ticks", type=int, default=None,
                    help="ticks per Parquet end-to-end run; each round also runs 20x that once "
                         "(default 1,000,000 and 20,000,000; quick 100,000 and 2,000,000)")
    ap.add_argument("--only", default=",".join(MEASUREMENTS),
                    help="measurements to run (comma-separated: " + ", ".join(MEASUREMENTS) + ")")
    ap.add_argument("--busy-poll-us", type=int, default=200,
                    help="polarway-ingest --busy-poll-us of the latency_busy runs (default 200)")
    ap.add_argument("--busy-poll-workers", type=int, default=1,
                    help="polarway-ingest --workers of the latency_busy runs (default 1)")
    ap.add_argument("--timeout", type=float, default=300,
                    help="seconds a reader may take (latency runs: their length plus this)")
    ap.add_argument("--docs", default=None,
                    help="Markdown file whose pipeline section is replaced (default "
                         "docs/benchmarks.md; none with --quick)")
    ap.add_argument("--no-docs", action="store_true", help="write no docs file")
    ap.add_argument("--state-dir", required=True, help="where logs and the last run go")
    ap.add_argument("--pidfile", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--command", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    q = args.quick
    args.runs = args.runs if args.runs is not None else (1 if q else 3)
    args.ticks = args.ticks if args.ticks is not None else (200_000 if q else 5_000_000)
    args.latency_seconds = args.latency_seconds if args.latency_seconds is not None else (2 if q else 10)
    args.python_ticks = args.python_ticks if args.python_ticks is not None else (50_000 if q else 500_000)
    args.parquet_ticks = args.parquet_ticks if args.parquet_ticks is not None else (100_000 if q else 1_000_000)
    only = [x.strip() for x in args.only.split(",") if x.strip()]
    bad = [x for x in only if x not in MEASUREMENTS]
    c = args.connections
    for cond, msg in (
            (not bad, f"--only: unknown measurement(s) {', '.join(bad)}"),
            (args.runs >= 1, "--runs must be at least 1"),
            (1 <= args.symbols <= 10_000, "--symbols must be 1..10000"),
            (1 <= c <= 1000, "--connections must be 1..1000"),
            (args.ticks >= c and args.ticks % c == 0,
             f"--ticks ({args.ticks}) must be a multiple of --connections ({c})"),
            (args.python_ticks >= c and args.python_ticks % c == 0,
             f"--python-ticks ({args.python_ticks}) must be a multiple of --connections ({c})"),
            (args.rate >= c and args.rate % c == 0,
             f"--rate ({args.rate}) must be a multiple of --connections ({c})"),
            (args.latency_seconds >= 1, "--latency-seconds must be at least 1"),
            (1 <= args.busy_poll_us <= 1_000_000, "--busy-poll-us must be 1..1000000"),
            (1 <= args.busy_poll_workers <= 1024, "--busy-poll-workers must be 1..1024"),
            (os.access(args.feed, os.X_OK), f"polarway-feed not found or not executable: {args.feed}"),
            (os.access(args.ingest, os.X_OK), f"polarway-ingest not found or not executable: {args.ingest}"),
            (not PEER_STACKS.keys() & set(only) or os.path.exists(PEER), f"missing {PEER}"),
            (not {"parquet", "replay"} & set(only) or (args.demo and os.access(args.demo, os.X_OK)),
             f"polarway-demo not found or not executable: {args.demo}"),
            ("replay" not in only or (args.replay and os.access(args.replay, os.X_OK)),
             f"polarway-replay not found or not executable: {args.replay}"),
            (args.parquet_ticks >= c, "--parquet-ticks must be at least --connections")):
        if not cond:
            log(f"bench/pipeline: {msg}")
            return 2
    if PEER_STACKS.keys() & set(only) and not all(report_common.package_versions(PEER_PY, PEER_PACKAGES).values()):
        log(f"bench/pipeline: {PEER_PY} lacks one of {', '.join(PEER_PACKAGES)} (scripts/setup.sh builds "
            f"that environment; run.sh runs it)")
        return 2
    docs = None if args.no_docs else (args.docs or (None if q else os.path.join(REPO, "docs", "benchmarks.md")))

    global PIDFILE
    PIDFILE = args.pidfile
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)

    out_dir = os.path.join(args.state_dir, "quick" if q else "full")
    logdir = os.path.join(out_dir, "logs")
    os.makedirs(logdir, exist_ok=True)
    t0 = time.time()
    load_start = report_common.loadavg()
    res = {m: [] for m in MEASUREMENTS}
    errors = []
    raw = []
    log(f"== {args.runs} round(s) of {', '.join(only)}: {args.ticks:,} ticks flat out, "
        f"{args.rate:,} ticks/s for {args.latency_seconds} s, {args.python_ticks:,} Python ticks; "
        f"{args.symbols} symbols, {c} connections")
    recording = None
    try:
        for r in range(1, args.runs + 1):
            for kind in only:
                tag = f"{kind}-{r}"
                t = time.time()
                try:
                    tls = make_tls(os.path.join(out_dir, "tls")) if kind in TLS_KINDS else None
                    if kind in PEER_STACKS:
                        out = python_run(args, kind, tag, logdir, tls)
                    elif kind == "parquet":
                        # The volume run: 20x the ticks, for the peak-RSS comparison.
                        big = parquet_run(args, tag + "-x20", logdir, args.parquet_ticks * 20)
                        big["run"] = r
                        res["parquet_x20"] = res.get("parquet_x20", []) + [big]
                        raw.append(dict(big, measurement="parquet_x20"))
                        out = parquet_run(args, tag, logdir, args.parquet_ticks)
                    elif kind == "replay":
                        recording = recording or record(args, logdir)
                        out = replay_run(args, tag, logdir, recording)
                    elif kind in ("brain", "brain_latency"):
                        out = brain_run(args, kind, tag, logdir)
                    else:
                        out = polarway_run(args, kind, tag, logdir, tls)
                except RunError as e:
                    errors.append(str(e))
                    log(f"[{tag}] FAILED: {e}")
                    continue
                out["run"] = r
                res[kind].append(out)
                raw.append(dict(out, measurement=kind))
                extra = (f", p50 {us(out['p50_ns'])}, p99 {us(out['p99_ns'])}, "
                         f"p99.9 {us(out['p999_ns'])}") if "p50_ns" in out else ""
                log(f"[{tag}] {out['ticks']:,} ticks, {out['ticks_per_s']:,.0f} ticks/s{extra} "
                    f"(checked; {time.time() - t:.1f} s)")
    except Interrupted as e:
        log(f"bench/pipeline: {e}; stopping the feed and readers")
        kill_all()
        return 130
    finally:
        kill_all()

    meta = machine()
    meta.update(command=args.command or "bench/pipeline/pipeline.py " + shlex.join(sys.argv[1:]),
                date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
                wall_s=time.time() - t0, load_start=load_start, load_end=report_common.loadavg())
    section = render(args, res, errors, meta)
    with open(os.path.join(out_dir, "pipeline.md"), "w") as f:
        f.write(section)
    with open(os.path.join(out_dir, "last-run.jsonl"), "w") as f:
        for d in raw:
            f.write(json.dumps(d) + "\n")
    sys.stdout.write(section)
    sys.stdout.flush()
    if docs:
        report_common.splice(docs, section, BEGIN, END)
        log(f"== wrote the pipeline section of {docs}")
    log(f"== {out_dir}/pipeline.md, last-run.jsonl; logs in {logdir}")
    if errors:
        log("== failed runs:\n  " + "\n  ".join(e.splitlines()[0] for e in errors))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
