#!/usr/bin/python3
"""polarway-ingest and polarway-feed --metrics under a real Prometheus server.

A feed's market of 40,000 trades (2 s at 20,000/s) is read by an ingest; both serve /metrics;
promtool accepts both pages; a Prometheus server (Debian's, started here on loopback with a
free port and a temporary data directory) scrapes them every second. Once Prometheus has stored
all 40,000 in the ingest's polarway_ticks_received_total and the feed's
polarway_feed_messages_sent_total, the ingest and then the feed are stopped (SIGINT): the
ticks_in of the ingest's JSON summary and the messages of the feed's exit summary must be the
largest values Prometheus stored, and both targets must have been up. Per stream, the largest
received and written counts stored are each stream's share of ticks_in, and Prometheus saw the
channel's size.
The endpoint also answers hostile requests with the right status (unknown path, another method,
a WebSocket upgrade, bytes that are not HTTP, a huge header) and keeps serving after them.
GET /debug/tasks lists the ingest's tasks with their spawn sites, and SIGUSR1 writes the same
dump to stderr, and the flight recorder's trace to a file, while the ingest runs on; GET
/debug/trace (--flight-recorder) is a JSON trace with the runs of named tasks, as is the feed's.
polarway-demo --metrics serves one page with the runtime's, the ingest's and the feed's
families while it runs, which promtool accepts.

usage: metrics_e2e.py FEED INGEST PROMETHEUS PROMTOOL WORK_DIR DEMO
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import feed_process
from checklist import check, failures

FEED, INGEST, PROMETHEUS, PROMTOOL, WORK, DEMO = sys.argv[1:7]


def free_port():
    """A port nothing listens on now (the kernel's choice); Prometheus binds it just after."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raw_request(host, port, data):
    """Sends `data`, returns the status line of the answer ("" if none)."""
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(data)
        answer = b""
        while b"\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n", 1)[0].decode("latin-1")


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def prometheus_query(base, query):
    _, _, body = get(base + "/api/v1/query?" + urllib.parse.urlencode({"query": query}))
    answer = json.loads(body)
    if answer.get("status") != "success":
        return None
    result = answer["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def prometheus_series(base, query, label):
    """{the series' `label`: its value} of a query's vector result ({} on failure)."""
    _, _, body = get(base + "/api/v1/query?" + urllib.parse.urlencode({"query": query}))
    answer = json.loads(body)
    if answer.get("status") != "success":
        return {}
    return {r["metric"].get(label): float(r["value"][1]) for r in answer["data"]["result"]}


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
feed, feed_addr = feed_process.start(FEED, "--symbols", "4", "--kind", "trade", "--rate", "20000", "--count", "40000",
                                     "--quiet", "--metrics", "127.0.0.1:0", "--flight-recorder", "4096")
feed_metrics_url, line = feed_process.wait_for_line(feed.stderr, r"metrics on (http://[\d.]+:\d+/metrics)")
if feed_metrics_url is None:
    feed.kill()
    raise SystemExit(f"the feed did not say where it serves metrics: {line!r}")
feed_target = feed_metrics_url[len("http://"):-len("/metrics")]
summary_path = os.path.join(WORK, "summary.json")
streams = "/".join(f"{s}@trade" for s in ("btcusdt", "ethusdt", "bnbusdt", "solusdt"))
ingest = subprocess.Popen([INGEST, "--connect", f"ws://{feed_addr}/stream?streams={streams}", "--metrics", "127.0.0.1:0",
                           "--flight-recorder", "65536",
                           "--duration", "120", "--quiet", "--backoff-initial", "0.05", "--json-summary", summary_path],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          env=dict(os.environ, TMPDIR=WORK))  # where SIGUSR1 writes the trace
prometheus = None
try:
    metrics_url, line = feed_process.wait_for_line(ingest.stderr, r"metrics on (http://[\d.]+:\d+/metrics)")
    if metrics_url is None:
        raise SystemExit(f"ingest did not say where it serves metrics: {line!r}")
    m = re.match(r"http://([\d.]+):(\d+)/metrics", metrics_url)
    host, port = m.group(1), int(m.group(2))

    for who, url, families in (
            ("ingest", metrics_url, ("polarway_ticks_received_total", "polarway_runtime_worker_polls_total",
                                     "polarway_tick_latency_seconds_bucket", "polarway_process_resident_memory_bytes")),
            ("feed", feed_metrics_url, ("polarway_feed_messages_sent_total", "polarway_runtime_worker_polls_total",
                                        "polarway_process_resident_memory_bytes"))):
        status, ctype, page = get(url)
        check(status == 200 and ctype.startswith("text/plain; version=0.0.4"), f"{who}: GET /metrics: {status} {ctype}")
        lint = subprocess.run([PROMTOOL, "check", "metrics"], input=page, capture_output=True, text=True, timeout=30)
        check(lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(),
              f"{who}: promtool check metrics accepts the page: {lint.returncode} {lint.stdout}{lint.stderr}")
        for family in families:
            check(re.search(rf"^{family}[{{ ]", page, re.M) is not None, f"{who}: the page has {family}")

    # Hostile requests: each answered with its status; the endpoint serves on afterwards.
    for what, data, want in (
            ("unknown path", b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", "404"),
            ("POST", b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "40"),
            ("WebSocket upgrade", b"GET /metrics HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
             "404"),
            ("not HTTP", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n", "400"),
            ("a header line 100 KiB long", b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 100_000 + b"\r\n\r\n", "4")):
        got = raw_request(host, port, data)
        check(got.startswith("HTTP/1.1 " + want), f"{what}: answered {got!r}")
    status, _, _ = get(metrics_url)
    check(status == 200, "GET /metrics still answers after the hostile requests")

    # The task dump, on the same listener and on SIGUSR1 (read from stderr once the ingest ends).
    base = metrics_url[:-len("/metrics")]
    status, ctype, dump = get(base + "/debug/tasks")
    check(status == 200 and ctype.startswith("text/plain"), f"GET /debug/tasks: {status} {ctype}")
    m = re.match(r"task dump: (\d+) tasks\n", dump)
    check(m is not None and int(m.group(1)) >= 1, f"the dump starts with its count: {dump[:200]!r}")
    check(re.search(r"^waiting on [a-z]+ +age +[\d.]+ s +polls +\d+ +\S+/ingest\.cpp:\d+$", dump, re.M) is not None,
          f"the dump lists the ingest's tasks, waiting, with their spawn sites: {dump[:2000]!r}")
    ingest.send_signal(signal.SIGUSR1)

    # The flight recorder's trace (--flight-recorder): JSON with runs and parks on each worker.
    status, ctype, body = get(base + "/debug/trace")
    check(status == 200 and ctype.startswith("application/json"), f"GET /debug/trace: {status} {ctype}")
    try:
        events = json.loads(body)["traceEvents"]
    except (ValueError, KeyError) as e:
        events = []
        check(False, f"the trace loads as JSON: {e}: {body[:300]!r}")
    phases = {e.get("ph") for e in events}
    check({"B", "E", "M"} <= phases and any(".cpp:" in e.get("name", "") for e in events),
          f"the trace has task runs named by their sites: {len(events)} events, phases {sorted(phases)}")
    status, ctype, body = get(feed_metrics_url[:-len("/metrics")] + "/debug/trace")
    check(status == 200 and ctype.startswith("application/json") and '"traceEvents"' in body,
          f"the feed's --flight-recorder: GET /debug/trace: {status} {ctype} {body[:100]!r}")

    # Prometheus scrapes the ingest every second while it runs.
    prom_dir = os.path.join(WORK, "prometheus")
    os.makedirs(prom_dir)
    config = os.path.join(prom_dir, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                "scrape_configs:\n  - job_name: polarway_ingest\n"
                f"    static_configs:\n      - targets: ['{host}:{port}']\n"
                "  - job_name: polarway_feed\n"
                f"    static_configs:\n      - targets: ['{feed_target}']\n")
    prom_port = free_port()
    prom_base = f"http://127.0.0.1:{prom_port}"
    prometheus = subprocess.Popen([PROMETHEUS, "--config.file", config, "--storage.tsdb.path", os.path.join(prom_dir, "data"),
                                   "--web.listen-address", f"127.0.0.1:{prom_port}", "--log.level", "warn"],
                                  stdout=subprocess.DEVNULL, stderr=open(os.path.join(prom_dir, "log"), "w"))
    deadline = time.monotonic() + 30
    ready = False
    while time.monotonic() < deadline and not ready:
        try:
            ready = get(prom_base + "/-/ready", timeout=2)[0] == 200
        except OSError:
            time.sleep(0.2)
    check(ready, "Prometheus is ready")

    # Every tick of the market reaches the one connection that started it; once Prometheus has
    # scraped them all on both sides, and all written, the ingest and the feed are stopped.
    market = 40000
    received = sent = written = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (received, sent, written) != (market, market, market):
        time.sleep(0.5)
        received = prometheus_query(prom_base, 'polarway_ticks_received_total{job="polarway_ingest"}')
        sent = prometheus_query(prom_base, 'polarway_feed_messages_sent_total{job="polarway_feed"}')
        written = prometheus_query(prom_base, 'sum(polarway_stream_ticks_written_total{job="polarway_ingest"})')
    check(received == market, f"Prometheus scraped all {market} ticks received ({received})")
    check(sent == market, f"Prometheus scraped all {market} messages sent ({sent})")
    check(written == market, f"Prometheus scraped all {market} ticks written ({written})")
    ingest.send_signal(signal.SIGINT)
    ingest_err = ingest.communicate(timeout=60)[1]
    check(ingest.returncode == 0, f"ingest exits 0 ({ingest.returncode}): {ingest_err[-500:]}")
    check(re.search(r"^polarway-ingest: task dump: \d+ tasks$", ingest_err, re.M) is not None and
          re.search(r"^polarway-ingest: waiting on ", ingest_err, re.M) is not None,
          f"SIGUSR1 wrote a task dump to stderr and the ingest ran on: {ingest_err[-2000:]}")
    written_to = re.search(r"^polarway-ingest: flight recorder trace written to (\S+)$", ingest_err, re.M)
    check(written_to is not None and written_to.group(1).startswith(WORK),
          f"SIGUSR1 wrote the flight recorder's trace to a file under TMPDIR: {ingest_err[-2000:]}")
    if written_to is not None:
        with open(written_to.group(1)) as f:
            events = json.load(f)["traceEvents"]
        check(any(e.get("ph") == "B" for e in events), f"the trace file has task runs: {len(events)} events")
    with open(summary_path) as f:
        summary = json.load(f)
    ticks_in = summary["ticks_in"]

    # The series ends when the target goes away: ask for the largest value stored (a counter's
    # last), and whether the target was up.
    stored = prometheus_query(prom_base, 'max_over_time(polarway_ticks_received_total{job="polarway_ingest"}[10m])')
    check(stored is not None and int(stored) == ticks_in,
          f"Prometheus stored polarway_ticks_received_total {stored}, the summary says ticks_in {ticks_in}")
    # Per stream: the four symbols' trades, received and written, add up to ticks_in.
    streams_in = prometheus_series(
        prom_base, 'max_over_time(polarway_stream_ticks_received_total{job="polarway_ingest",kind="trade"}[10m])', "symbol")
    streams_out = prometheus_series(
        prom_base, 'max_over_time(polarway_stream_ticks_written_total{job="polarway_ingest",kind="trade"}[10m])', "symbol")
    check(set(streams_in) == {"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT"} and sum(streams_in.values()) == ticks_in,
          f"Prometheus stored each stream's received ticks, adding up to ticks_in {ticks_in}: {streams_in}")
    check(streams_out == streams_in, f"each stream's written ticks equal its received ones: {streams_out}")
    capacity = prometheus_query(prom_base, 'max_over_time(polarway_channel_capacity_batches{channel="decoded"}[10m])')
    check(capacity is not None and capacity >= 1, f"Prometheus stored the channel's capacity ({capacity})")
    _, feed_err = feed_process.stop(feed)
    feed = None
    summary_sent = re.search(r"(\d+) messages, \d+ bytes sent", feed_err)
    stored = prometheus_query(prom_base, 'max_over_time(polarway_feed_messages_sent_total{job="polarway_feed"}[10m])')
    check(summary_sent is not None and stored is not None and int(stored) == int(summary_sent.group(1)),
          f"Prometheus stored polarway_feed_messages_sent_total {stored}, the feed's summary says "
          f"{summary_sent.group(0) if summary_sent else feed_err!r}")
    for job in ("polarway_ingest", "polarway_feed"):
        up = prometheus_query(prom_base, f'max_over_time(up{{job="{job}"}}[10m])')
        check(up == 1, f"the {job} target was up ({up})")
finally:
    if ingest.poll() is None:
        ingest.kill()
        ingest.communicate()
    if prometheus is not None:
        prometheus.send_signal(signal.SIGTERM)
        try:
            prometheus.wait(timeout=30)
        except subprocess.TimeoutExpired:
            prometheus.kill()
            prometheus.wait()
    if feed is not None:
        feed_process.stop(feed)

# The demo: both sides of the pipeline on one page, while it runs (5 s of a 20,000/s market).
demo = subprocess.Popen([DEMO, "--ticks", "100000", "--rate", "20000", "--connections", "1", "--sink", "count",
                         "--quiet", "--metrics", "127.0.0.1:0"],
                        cwd=WORK, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
try:
    demo_url, line = feed_process.wait_for_line(demo.stderr, r"metrics on (http://[\d.]+:\d+/metrics)")
    check(demo_url is not None, f"the demo says where it serves metrics: {line!r}")
    if demo_url is not None:
        status, ctype, page = get(demo_url)
        check(status == 200 and ctype.startswith("text/plain; version=0.0.4"), f"demo: GET /metrics: {status} {ctype}")
        lint = subprocess.run([PROMTOOL, "check", "metrics"], input=page, capture_output=True, text=True, timeout=30)
        check(lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(),
              f"demo: promtool check metrics accepts the page: {lint.returncode} {lint.stdout}{lint.stderr}")
        # (Not the channel families: the page may be read before the run has made its channels.)
        for family in ("polarway_runtime_worker_polls_total", "polarway_ticks_received_total",
                       "polarway_feed_messages_sent_total", "polarway_process_resident_memory_bytes"):
            check(re.search(rf"^{family}[{{ ]", page, re.M) is not None, f"demo: the page has {family}")
        status, _, dump = get(demo_url[:-len("/metrics")] + "/debug/tasks")
        check(status == 200 and dump.startswith("task dump: "), f"demo: GET /debug/tasks: {status} {dump[:80]!r}")
        m = re.match(r"http://([\d.]+):(\d+)/metrics", demo_url)
        got = raw_request(m.group(1), int(m.group(2)), b"GET /debug/trace HTTP/1.1\r\nHost: x\r\n\r\n")
        check(got.startswith("HTTP/1.1 404"), f"demo: no flight recorder, GET /debug/trace is 404: {got[:80]!r}")
    demo_err = demo.communicate(timeout=60)[1]
    check(demo.returncode == 0, f"the demo exits 0 ({demo.returncode}): {demo_err[-500:]}")
finally:
    if demo.poll() is None:
        demo.kill()
        demo.communicate()

if failures:
    sys.exit(f"{len(failures)} failure(s)")
print("ok")
