#!/usr/bin/python3
"""Hostile argv for polarway-feed, polarway-ingest and polarway-demo: each must exit with
status 2 and a message on stderr that names the problem, without starting anything; --help
exits 0. Bounded: every run has a 10 s timeout."""
import os
import subprocess
import sys
import tempfile

feed, ingest, demo = sys.argv[1:4]

BAD = [
    (feed, ["--bogus"], "unknown option"),
    (feed, ["--symbols"], "needs a value"),
    (feed, ["--symbols", "0"], "--symbols"),
    (feed, ["--symbols", "12abc"], "--symbols"),
    (feed, ["--symbols", "-5"], "--symbols"),
    (feed, ["--symbols", "99999999999999999999999999"], "--symbols"),
    (feed, ["--rate", "fast"], "--rate"),
    (feed, ["--kind", "TRADE"], "--kind"),
    (feed, ["--listen", "nowhere"], "--listen"),
    (feed, ["--with-send-time=1"], "takes no value"),
    (feed, ["stray"], "unexpected argument"),
    (feed, ["--count", ""], "--count"),
    (feed, ["--handshake-timeout", "0.0001"], "--handshake-timeout"),
    (ingest, [], "--connect"),
    (ingest, ["--connect", "http://127.0.0.1:1/"], "ws://"),
    (ingest, ["--connect", "ws://host..invalid:1/"], "bad host"),
    (ingest, ["--connect", "wss://127.0.0.1:70000/"], "bad port"),
    (ingest, ["--connect", "wss://127.0.0.1:1/", "--tls-ca", "/nonexistent/ca.pem"], "/nonexistent/ca.pem"),
    (ingest, ["--connect", "ws://127.0.0.1:1/", "--tls-ca", "/nonexistent/ca.pem"], "--tls-ca: only with a wss://"),
    (feed, ["--tls-cert", "/nonexistent/cert.pem"], "--tls-cert: needs --tls-key"),
    (feed, ["--tls-key", "/nonexistent/key.pem"], "--tls-key: needs --tls-cert"),
    (feed, ["--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"], "/nonexistent/cert.pem"),
    (feed, ["--tls-cert", "/etc/hostname", "--tls-key", "/etc/hostname"], "cannot load certificate chain /etc/hostname"),
    (feed, ["--tls-cert", ""], "--tls-cert: needs a file name"),
    (ingest, ["--listen", "127.0.0.1:0", "--channel-capacity", "0"], "--channel-capacity"),
    (ingest, ["--listen", "127.0.0.1:0", "--channel-capacity", "1e3"], "--channel-capacity"),
    (ingest, ["--listen", "127.0.0.1:0", "--duration", "abc"], "--duration"),
    (ingest, ["--listen", "127.0.0.1:0", "--expect", "-1"], "--expect"),
    (ingest, ["--listen", "127.0.0.1:0", "--max-message-size", "18446744073709551616"], "--max-message-size"),
    (ingest, ["--listen", "127.0.0.1:0", "--sink-delay-us", "1.5"], "--sink-delay-us"),
    (ingest, ["--listen", "127.0.0.1:0", "--nope"], "unknown option"),
    (demo, ["--ticks", "0"], "--ticks"),
    (demo, ["--connections", "x"], "--connections"),
    (demo, ["--frobnicate"], "unknown option"),
    # Parquet output (--out and its knobs), both programs.
    (ingest, ["--listen", "127.0.0.1:0", "--codec", "zstd"], "--codec: only with --out"),
    (ingest, ["--listen", "127.0.0.1:0", "--out", "x", "--codec", "lz4"], "--codec: 'lz4' is not snappy, zstd or none"),
    (ingest, ["--listen", "127.0.0.1:0", "--out", ""], "--out: needs a directory name"),
    (ingest, ["--listen", "127.0.0.1:0", "--out"], "--out: needs a value"),
    (ingest, ["--listen", "127.0.0.1:0", "--out", "x", "--row-group-rows", "0"], "--row-group-rows"),
    (ingest, ["--listen", "127.0.0.1:0", "--out", "x", "--max-open-files", "1e3"], "--max-open-files"),
    (demo, ["--codec", "gzip"], "--codec: 'gzip' is not snappy, zstd or none"),
    (demo, ["--codec", ""], "--codec"),
    (demo, ["--codec=Snappy"], "--codec"),
    (demo, ["--out="], "--out: needs a directory name"),
    (demo, ["--out"], "--out: needs a value"),
    (demo, ["--out", "/dev/null"], "is not a directory"),
    (demo, ["--sink", "csv"], "--sink: 'csv' is not count or parquet"),
    (demo, ["--sink"], "--sink: needs a value"),
    (demo, ["--no-parquet=1"], "takes no value"),
    (demo, ["--no-parquet", "--out", "x"], "--out: means Parquet output"),
    (demo, ["--sink", "count", "--codec", "zstd"], "--codec: means Parquet output"),
    (demo, ["--row-group-rows", "-1"], "--row-group-rows"),
    (demo, ["--row-group-rows", "99999999999"], "--row-group-rows"),
    (demo, ["--file-rows", "0"], "--file-rows"),
    (demo, ["--file-rows", "ten"], "--file-rows"),
    (demo, ["--max-open-files", "0"], "--max-open-files"),
    (demo, ["--max-open-files", "18446744073709551616"], "--max-open-files"),
]

failures = 0

# A replay file the feed cannot use is refused at startup (status 1), naming the file and why:
# its lines are checked for UTF-8 once there, since the connections then send them unchecked.
with tempfile.TemporaryDirectory() as tmp:
    for name, content, needle in [
        ("bad_utf8.jsonl", b'{"e":"trade"}\n{"e":"tr\xc3\x28de"}\n', "line 2 is not valid UTF-8"),
        ("truncated_utf8.jsonl", b'\n{"s":"\xe2\x82"}\n', "line 2 is not valid UTF-8"),
        ("empty.jsonl", b"\n\n", "no lines"),
    ]:
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(content)
        p = subprocess.run([feed, "--listen", "127.0.0.1:0", "--replay", path], capture_output=True, text=True,
                           timeout=10)
        if p.returncode != 1 or needle not in p.stderr or name not in p.stderr:
            failures += 1
            print(f"FAIL feed --replay {name}: status {p.returncode}, stderr {p.stderr!r}")
        else:
            print(f"ok   feed --replay {name}: {p.stderr.splitlines()[0]}")

for exe, args, needle in BAD:
    p = subprocess.run([exe] + args, capture_output=True, text=True, timeout=10)
    name = exe.rsplit("/", 1)[-1]
    if p.returncode != 2 or needle not in p.stderr:
        failures += 1
        print(f"FAIL {name} {args}: status {p.returncode}, stderr {p.stderr!r}")
    else:
        print(f"ok   {name} {args}: {p.stderr.splitlines()[0]}")
for exe in (feed, ingest, demo):
    p = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=10)
    if p.returncode != 0 or "usage" not in p.stdout:
        failures += 1
        print(f"FAIL {exe} --help: status {p.returncode}")
print(f"{len(BAD) + 6 - failures}/{len(BAD) + 6} passed")
sys.exit(1 if failures else 0)
