"""polarway-replay end to end, over real processes and sockets, checked against DuckDB:
- recording: polarway-feed flat out (3 symbols; trade, aggTrade, bookTicker) into polarway-ingest
  --out A, with small row groups and several part files per partition;
- replay A into polarway-ingest --out B: per kind, the same rows as A (DuckDB EXCEPT ALL empty
  both ways, equal counts); the replay ends the connection with 1000, so the ingest exits 0;
- order: a client of the combined URL gets every row of A once, in the merge's order: by
  event_time, ties in file order (paths, part numbers numerically) then row order; so "E"
  never goes back and each stream's ids increase. "/" sends the same messages, raw;
- --from/--to (as integer ms, ISO time and date) with --symbol: the replay re-ingested equals A
  filtered the same way (DuckDB), and is not empty;
- --speed 4 over 2 s of event time: at least 0.45 s from the first message to the last (pacing
  never runs ahead of the recording; no upper bound is checked), the same messages as flat out;
- hostile: a missing DIR, a truncated part file, a text file named .parquet, a Parquet file
  without the tick columns (exit 1, the message names the file), an empty DIR (exit 1); usage
  errors (exit 2); a stream not recorded is refused at the handshake with 404; files and
  directories whose names start with '.' are skipped.
Every replay started is stopped by a signal, exits 0 and prints its summary line, also when a
check fails. Ports are the kernel's choice.
Needs DuckDB in <node-dir> (the tick_sink_npm fixture; exit 77 without it); runs under
build/venv's python, which has pyarrow and websockets.
Usage: replay_e2e.py <polarway-feed> <polarway-ingest> <polarway-replay> <work-dir> <node-dir>
                     <replay_verify.mjs>"""
import datetime
import glob
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pyarrow as pa
import pyarrow.parquet as pq
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

import feed_process
from checklist import check, failures

FEED, INGEST, REPLAY, WORK, NODE_DIR, VERIFY_MJS = sys.argv[1:7]

COUNT = 60000  # messages of the recording, a third of each kind
SYMBOLS = ["BTCUSDT", "ETHUSDT", "BNBUSDT"]
KINDS = ["trade", "aggTrade", "bookTicker"]
ID_KEY = {"trade": "t", "aggTrade": "a", "bookTicker": "u"}
ID_COLUMN = {"trade": "trade_id", "aggTrade": "agg_trade_id", "bookTicker": "update_id"}
STREAMS = "/".join(f"{s.lower()}@{k}" for s in SYMBOLS for k in KINDS)
SUMMARY = re.compile(r"polarway-replay: (\d+) connections, (\d+) messages, (\d+) bytes sent")
started = time.monotonic()


class Replay:
    """A polarway-replay process on a kernel-chosen port. Its stderr is drained by a thread, so
    a replay that logs never blocks on a full pipe. `running` holds those not yet stopped."""

    running = []

    def __init__(self, directory, *flags):
        self.what = " ".join(["replay", os.path.basename(directory), *flags])
        self.proc = subprocess.Popen([REPLAY, directory, "--listen", "127.0.0.1:0", "--quiet", *flags],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        Replay.running.append(self)
        self.lines = []
        addr = queue.Queue()

        def drain():
            for line in self.proc.stderr:
                self.lines.append(line)
                m = re.search(r"polarway-replay: listening on (\S+) \(ws://\)", line)
                if m:
                    addr.put(m.group(1))
            addr.put(None)

        self.reader = threading.Thread(target=drain, daemon=True)
        self.reader.start()
        try:
            a = addr.get(timeout=60)
        except queue.Empty:
            a = None
        if a is None:
            Replay.running.remove(self)
            self.proc.kill()
            self.proc.wait()
            self.reader.join(timeout=10)
            raise SystemExit(f"{self.what}: did not say where it listens: {''.join(self.lines)!r}")
        self.port = feed_process.port_of(a)

    def url(self, path):
        return f"ws://127.0.0.1:{self.port}{path}"

    def stop(self, sig=signal.SIGTERM):
        """Signals the replay, waits for it, and checks exit 0 and its summary line; returns
        (connections, messages) from it, or None."""
        if self not in Replay.running:
            return None
        Replay.running.remove(self)
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(timeout=10)
        err = "".join(self.lines)
        ok = self.proc.returncode == 0
        check(ok, f"{self.what}: exit 0 after {signal.Signals(sig).name} ({self.proc.returncode})" + why(ok, err))
        m = SUMMARY.search(err)
        check(m is not None, f"{self.what}: summary line on stderr" + why(m is not None, err))
        return (int(m.group(1)), int(m.group(2))) if m else None


def why(ok, text):
    """What a failed check shows of a process's stderr."""
    return "" if ok else f": {text.strip()[-600:]!r}"


def one_line(text):
    return " | ".join(line.strip() for line in text.strip().splitlines())


def run_replay(*args):
    """A replay expected not to start: returns (exit status, stderr). One that starts serving
    anyway is killed after 20 s and reported as status None."""
    p = subprocess.Popen([REPLAY, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        err = p.communicate(timeout=20)[1]
        return p.returncode, err
    except subprocess.TimeoutExpired:
        p.kill()
        return None, p.communicate()[1]


def ingest(url, out, *extra):
    """polarway-ingest --once --out OUT on URL; returns (exit status, JSON summary or {}, stderr)."""
    summary = os.path.join(WORK, os.path.basename(out) + ".summary.json")
    r = subprocess.run([INGEST, "--connect", url, "--once", "--quiet", "--out", out, "--json-summary", summary, *extra],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120)
    try:
        with open(summary) as f:
            return r.returncode, json.load(f), r.stderr
    except (OSError, ValueError):
        return r.returncode, {}, r.stderr


def duckdb(a, b, from_ms="-", to_ms="-", symbols="-"):
    r = subprocess.run(["node", os.path.join(NODE_DIR, "replay_verify.mjs"), a, b, str(from_ms), str(to_ms), symbols],
                       capture_output=True, text=True, timeout=300)
    if not check(r.returncode == 0, f"DuckDB compares {os.path.basename(a)} with {os.path.basename(b)}"
                                    + ("" if r.returncode == 0 else f": {r.stderr.strip()}")):
        return {}
    return json.loads(r.stdout)


def same_rows(what, res, nonempty):
    """res: replay_verify.mjs's answer; every kind equal both ways, the kinds in `nonempty` with rows."""
    for kind in KINDS:
        c = res.get(kind, {"a": 0, "b": 0, "a_except_b": 0, "b_except_a": 0})
        check(c["a"] == c["b"] and c["a_except_b"] == 0 and c["b_except_a"] == 0,
              f"{what}: {kind} {c['b']} rows, the same as A's {c['a']} (except: {c['a_except_b']}, {c['b_except_a']})")
        if kind in nonempty:
            check(c["a"] > 0, f"{what}: {kind} has rows ({c['a']})")


def read_all(url, timeout=20):
    """Every message of one connection until the server closes it: (messages, close code,
    seconds from the first message to the last)."""
    msgs, first, last = [], None, None
    with connect(url, max_size=None, open_timeout=10, close_timeout=10) as ws:
        try:
            while True:
                msgs.append(ws.recv(timeout=timeout))
                last = time.monotonic()
                if first is None:
                    first = last
        except (ConnectionClosed, TimeoutError):
            pass
        code = ws.close_code
    return msgs, code, (last - first) if msgs else 0.0


def handshake_status(port, path):
    """The status line a WebSocket upgrade request for PATH gets."""
    req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    data = b""
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as s:
        s.sendall(req.encode())
        try:
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
    return data.split(b"\r\n", 1)[0].decode(errors="replace")


def part_files(d):
    return sorted(glob.glob(os.path.join(d, "**", "*.parquet"), recursive=True))


def merge_key(path, root):
    """The replay's file order: by directory (as bytes), then part number (as a number), then name."""
    rel = os.path.relpath(path, root)
    d, name = os.path.split(rel)
    m = re.fullmatch(r"part-(\d+)\.parquet", name)
    return (d.encode(), int(m.group(1)) if m else 0, name.encode())


def iso_ms(ms):
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def day_ms(ms):
    """(YYYY-MM-DD of ms, that day's first ms, the next day's first ms), UTC."""
    first = ms - ms % 86400000
    return datetime.datetime.fromtimestamp(first / 1000, datetime.timezone.utc).strftime("%Y-%m-%d"), first, first + 86400000


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"first difference at message {i}: {x} != {y}"
    return f"lengths {len(a)} != {len(b)}" if len(a) != len(b) else ""


if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@duckdb", "node-api")):
    print(f"DuckDB is not installed in {NODE_DIR}")
    sys.exit(77)
shutil.copy(VERIFY_MJS, os.path.join(NODE_DIR, "replay_verify.mjs"))
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
A = os.path.join(WORK, "A")

try:
    # ---- the recording ----------------------------------------------------------------------
    feed, addr = feed_process.start(FEED, "--symbols", "3", "--count", str(COUNT), "--quiet")
    try:
        code, summ, err = ingest(f"ws://{addr}/stream?streams={STREAMS}", A,
                                 "--row-group-rows", "4096", "--file-rows", "5000")
    finally:
        fcode, ferr = feed_process.stop(feed, signal.SIGTERM)
    check(fcode == 0, f"polarway-feed exits 0 after SIGTERM ({fcode})")
    rows_a = summ.get("parquet", {}).get("rows_written")
    ok = code == 0 and rows_a == COUNT
    if not check(ok, f"recording: ingest exit {code}, {rows_a} rows written" + why(ok, err)):
        raise SystemExit("no recording to replay")
    files_a = part_files(A)
    groups = [pq.ParquetFile(f).metadata.num_row_groups for f in files_a]
    parts = {}
    for f in files_a:
        parts[os.path.dirname(f)] = parts.get(os.path.dirname(f), 0) + 1
    check(max(groups) > 1 and min(parts.values()) > 1,
          f"recording: {len(files_a)} part files in {len(parts)} partitions, up to {max(groups)} row groups each")

    # The replay's order of A's rows, (E, stream, id): a stable sort by event_time of the rows
    # taken file by file in the replay's file order.
    expected = []
    kind_rows = {k: 0 for k in KINDS}
    for f in sorted(files_a, key=lambda f: merge_key(f, A)):
        kind = os.path.relpath(f, A).split(os.sep)[0]
        t = pq.read_table(f, columns=["event_time", "symbol", ID_COLUMN[kind]])
        kind_rows[kind] += t.num_rows
        expected += [(e, f"{s.lower()}@{kind}", i) for e, s, i in
                     zip(t["event_time"].cast(pa.int64()).to_pylist(), t["symbol"].to_pylist(),
                         t[ID_COLUMN[kind]].to_pylist())]
    expected.sort(key=lambda r: r[0])
    trade_times = [r[0] for r in expected if not r[1].endswith("@bookTicker")]
    book_times = [r[0] for r in expected if r[1].endswith("@bookTicker")]
    t_lo, t_hi = min(trade_times), max(trade_times)
    b_lo, b_hi = min(book_times), max(book_times)

    # ---- A replayed: re-ingested, and read by clients ---------------------------------------------
    r1 = Replay(A)
    B = os.path.join(WORK, "B")
    code, summ, err = ingest(r1.url(f"/stream?streams={STREAMS}"), B)
    ok = code == 0 and summ.get("parquet", {}).get("rows_written") == COUNT
    check(ok, f"replay of A -> ingest B: exit {code}, {summ.get('parquet', {}).get('rows_written')} rows" + why(ok, err))
    check(summ.get("close_codes_received", {}).get("normal_1000") == 1,
          f"the replay ends with close 1000 ({summ.get('close_codes_received')})")
    same_rows("B = A", duckdb(A, B), KINDS)

    combined, code, _ = read_all(r1.url(f"/stream?streams={STREAMS}"))
    check(code == 1000, f"combined client: closed with {code}")
    got, backwards, not_increasing, last_id, prev_e = [], 0, 0, {}, None
    for m in combined:
        msg = json.loads(m)
        stream, data = msg.get("stream", ""), msg.get("data", {})
        e, i = data.get("E"), data.get(ID_KEY.get(stream.partition("@")[2], "?"))
        got.append((e, stream, i))
        if e is None or (prev_e is not None and e < prev_e):
            backwards += 1
        prev_e = e if e is not None else prev_e
        if i is None or (stream in last_id and i <= last_id[stream]):
            not_increasing += 1
        last_id[stream] = i
    check(len(combined) == COUNT, f"combined client: {len(combined)} messages, A holds {COUNT} rows")
    check(backwards == 0, f"combined client: \"E\" never goes back ({backwards} times it does or is missing)")
    check(not_increasing == 0 and len(last_id) == 9,
          f"combined client: each of {len(last_id)} streams' ids increase ({not_increasing} do not or are missing)")
    check(got == expected, "combined client: A's rows in merge order (event_time; ties by file, then row) "
                           + first_difference(got, expected))

    raw, code, _ = read_all(r1.url("/"))
    check(code == 1000 and [json.loads(m) for m in raw] == [json.loads(m).get("data") for m in combined],
          f"'/': every recorded stream raw, the combined client's messages in the same order "
          f"({len(raw)} messages, close {code})")

    # /stream with no stream yet, then SUBSCRIBE: the stream's rows from the start of the
    # recording (nothing was replayed before it), in order, then close 1000.
    sub, sub_code, sub_reply = [], None, None
    with connect(r1.url("/stream"), max_size=None, open_timeout=10, close_timeout=10) as ws:
        ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["ethusdt@aggTrade"], "id": 7}))
        try:
            while True:
                m = json.loads(ws.recv(timeout=20))
                if "id" in m and "stream" not in m:
                    sub_reply = m
                else:
                    sub.append(m)
        except (ConnectionClosed, TimeoutError):
            pass
        sub_code = ws.close_code
    want = [r for r in expected if r[1] == "ethusdt@aggTrade"]
    check(sub_reply == {"result": None, "id": 7}, f"SUBSCRIBE on /stream is answered ({sub_reply})")
    check(sub_code == 1000 and [(m["data"]["E"], m["stream"], m["data"]["a"]) for m in sub] == want,
          f"after SUBSCRIBE: every ethusdt@aggTrade row of A in order ({len(sub)} messages of {len(want)}, "
          f"close {sub_code})")

    for path in ("/ws/solusdt@trade", "/stream?streams=btcusdt@trade/xrpusdt@aggTrade"):
        status = handshake_status(r1.port, path)
        check(status.startswith("HTTP/1.1 404"), f"a stream not recorded ({path}) is refused: {status!r}")
    stats = r1.stop()
    if stats:
        check(stats[0] >= 4 and stats[1] == 3 * COUNT + len(want),
              f"replay A: summary counts {stats[0]} connections (at least 4), {stats[1]} messages "
              f"({3 * COUNT + len(want)})")

    # --count N: the merge's first N rows, then close 1000.
    r_count = Replay(A, "--count", "1000")
    try:
        first, code, _ = read_all(r_count.url(f"/stream?streams={STREAMS}"))
    finally:
        r_count.stop()
    check(code == 1000 and [(json.loads(m)["data"]["E"], json.loads(m)["stream"],
                             json.loads(m)["data"][ID_KEY[json.loads(m)["stream"].partition("@")[2]]])
                            for m in first] == expected[:1000],
          f"--count 1000: the merge's first 1000 rows, then close 1000 ({len(first)} messages, close {code})")

    # ---- --from / --to / --symbol ----------------------------------------------------------------
    third = (t_hi - t_lo) // 3
    b_third = (b_hi - b_lo) // 3
    day, day_first, day_next = day_ms(t_lo)
    subsets = [
        ("the middle third of the trades' time, BTCUSDT", (t_lo + third, t_lo + 2 * third), ["BTCUSDT"],
         (str(t_lo + third), str(t_lo + 2 * third)), ["trade", "aggTrade"]),
        ("the middle third of the bookTickers' time (ISO), ETHUSDT and BNBUSDT", (b_lo + b_third, b_lo + 2 * b_third + 1),
         ["ETHUSDT", "BNBUSDT"], (iso_ms(b_lo + b_third), iso_ms(b_lo + 2 * b_third + 1)), ["bookTicker"]),
        (f"the trades' day ({day}), every symbol", (day_first, day_next), [],
         (day, day_ms(day_next)[0]), ["trade", "aggTrade"]),
    ]
    for n, (what, (lo, hi), syms, (from_arg, to_arg), nonempty) in enumerate(subsets):
        flags = ["--from", from_arg, "--to", to_arg] + [x for s in syms for x in ("--symbol", s)]
        r = Replay(A, *flags)
        C = os.path.join(WORK, f"C{n}")
        try:
            code, summ, err = ingest(r.url("/"), C)
        finally:
            r.stop()
        check(code == 0, f"subset {what}: ingest exit {code}" + why(code == 0, err))
        same_rows(f"subset {what}", duckdb(A, C, lo, hi, ",".join(syms) or "-"), nonempty)

    # ---- --speed ---------------------------------------------------------------------------------
    lo, hi = t_lo + 1000, t_lo + 3000
    flat = [m for m in raw if lo <= json.loads(m).get("E", 0) < hi]
    r = Replay(A, "--speed", "4", "--from", str(lo), "--to", str(hi))
    try:
        paced, code, span = read_all(r.url("/"))
    finally:
        r.stop()
    times = [json.loads(m).get("E", 0) for m in paced] or [0]
    check(len(paced) > 0 and [json.loads(m) for m in paced] == [json.loads(m) for m in flat],
          f"--speed 4: the same {len(flat)} messages as flat out ({len(paced)}) " + first_difference(paced, flat))
    check(span >= 0.45, f"--speed 4: {span:.3f} s from the first message to the last, "
                        f"{max(times) - min(times)} ms of event time (at least 0.45 s)")

    # One stream at the recorded pace: its rows are milliseconds apart, so the replay waits on a
    # timer between them as well as on the pacing ticks; still never ahead of the recording.
    sparse_flat = [m for m in raw if lo <= json.loads(m).get("E", 0) < lo + 1000
                   and json.loads(m).get("s") == "BTCUSDT" and json.loads(m).get("e") == "trade"]
    r = Replay(A, "--speed", "1", "--from", str(lo), "--to", str(lo + 1000))
    try:
        sparse, code, span = read_all(r.url("/ws/btcusdt@trade"))
    finally:
        r.stop()
    times = [json.loads(m).get("E", 0) for m in sparse] or [0]
    need = (max(times) - min(times)) / 1000 - 0.05
    check(len(sparse) > 0 and sparse == sparse_flat and code == 1000,
          f"--speed 1, one stream: the same {len(sparse_flat)} messages as flat out ({len(sparse)}, close {code})")
    check(span >= need, f"--speed 1, one stream: {span:.3f} s from the first message to the last for "
                        f"{max(times) - min(times)} ms of event time (at least {need:.3f} s)")

    # ---- hostile input -----------------------------------------------------------------------------
    missing = os.path.join(WORK, "missing-recording")
    code, err = run_replay(missing, "--listen", "127.0.0.1:0")
    check(code == 1 and "missing-recording" in err, f"a missing DIR: exit 1 naming it ({code}: {one_line(err)})")

    one = files_a[0]
    rel = os.path.relpath(one, A)
    bad = os.path.join(WORK, "truncated")
    os.makedirs(os.path.dirname(os.path.join(bad, rel)))
    shutil.copy(one, os.path.join(bad, rel))
    cut = os.path.join(os.path.dirname(os.path.join(bad, rel)), "part-00007.parquet")
    with open(one, "rb") as f:
        data = f.read()
    with open(cut, "wb") as f:
        f.write(data[: len(data) // 2])
    code, err = run_replay(bad, "--listen", "127.0.0.1:0")
    check(code == 1 and "part-00007.parquet" in err, f"a truncated part file: exit 1 naming it ({code}: {one_line(err)})")

    text = os.path.join(WORK, "text")
    shutil.copytree(os.path.join(A, "trade"), os.path.join(text, "trade"))
    with open(os.path.join(text, "x.parquet"), "w") as f:
        f.write("not a parquet file\n")
    code, err = run_replay(text, "--listen", "127.0.0.1:0")
    check(code == 1 and "x.parquet" in err, f"a text file named x.parquet: exit 1 naming it ({code}: {one_line(err)})")

    foreign = os.path.join(WORK, "foreign")
    weather = os.path.join(foreign, "trade", "symbol=BTCUSDT", "date=2024-11-22", "weather.parquet")
    os.makedirs(os.path.dirname(weather))
    pq.write_table(pa.table({"city": ["Oslo", "Lima"], "temperature": [-3.5, 21.0]}), weather)
    code, err = run_replay(foreign, "--listen", "127.0.0.1:0")
    check(code == 1 and "weather.parquet" in err and re.search(r"column|event_time|symbol|temperature|city", err),
          f"a Parquet file without the tick columns: exit 1 naming it and a column ({code}: {one_line(err)})")

    empty = os.path.join(WORK, "empty")
    os.makedirs(empty)
    code, err = run_replay(empty, "--listen", "127.0.0.1:0")
    check(code == 1, f"an empty DIR: exit 1 ({code}: {one_line(err)})")
    with open(os.path.join(empty, "notes.txt"), "w") as f:
        f.write("no ticks here\n")
    code, err = run_replay(empty, "--listen", "127.0.0.1:0")
    check(code == 1, f"a DIR with no *.parquet file: exit 1 ({code}: {one_line(err)})")

    for args in (["--speed", "0"], ["--speed", "abc"], ["--from", "notatime"], ["--bogus"], ["--rate", "100"],
                 ["--from", "2024-01-02", "--to", "2024-01-01"], ["--pace-us", "100"]):
        code, err = run_replay(A, "--listen", "127.0.0.1:0", *args)
        check(code == 2 and bool(err.strip()), f"usage error {' '.join(args)}: exit 2 ({code}: {one_line(err)})")
    code, err = run_replay("--listen", "127.0.0.1:0")
    check(code == 2 and bool(err.strip()), f"usage error, no DIR: exit 2 ({code}: {one_line(err)})")

    # Names starting with '.' are not read: a text file and a directory of junk beside A's trades.
    dotted = os.path.join(WORK, "dotted")
    shutil.copytree(os.path.join(A, "trade"), os.path.join(dotted, "trade"))
    with open(os.path.join(dotted, ".junk.parquet"), "w") as f:
        f.write("not a parquet file\n")
    os.makedirs(os.path.join(dotted, ".staging"))
    with open(os.path.join(dotted, ".staging", "part-00000.parquet"), "w") as f:
        f.write("not a parquet file either\n")
    r = Replay(dotted)
    try:
        btc, code, _ = read_all(r.url("/ws/btcusdt@trade"))
        want = sum(1 for e in expected if e[1] == "btcusdt@trade")
        check(len(btc) == want and code == 1000,
              f"names starting with '.' skipped: /ws/btcusdt@trade sends {len(btc)} trades ({want}), close {code}")
        for path in ("/ws/btcusdt@aggTrade", "/stream?streams=btcusdt@trade/btcusdt@bookTicker"):
            status = handshake_status(r.port, path)
            check(status.startswith("HTTP/1.1 404"), f"a kind not recorded ({path}) is refused: {status!r}")
    finally:
        r.stop(signal.SIGINT)
finally:
    for r in list(Replay.running):
        r.stop()

print(f"replay_e2e: {COUNT} recorded ticks replayed and re-ingested (DuckDB), merge order, "
      f"{len(subsets)} --from/--to/--symbol subsets, --speed, hostile input; "
      f"{time.monotonic() - started:.1f} s")
if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
