#!/usr/bin/python3
"""wss:// end to end: polarway-feed --tls-cert and polarway-ingest --connect wss://, against
each other and against an independent TLS + WebSocket stack (Python's ssl module with
python-websockets 10.4). Certificates are made here with the openssl command-line tool.

1. feed (TLS) -> ingest over 3 wss://localhost connections with --tls-ca: every tick the feed
   reports sent arrives (count and exact sums), in == out. Meanwhile two hostile clients
   connect to the same feed: one sends garbage instead of a ClientHello, one stops in the
   middle of its ClientHello; the feed drops each (the stalled one at --handshake-timeout)
   and counts both, and the good connections are unaffected.
2. Verification failures, each against its own feed: a self-signed certificate (no
   --tls-ca), a certificate for another host name, a certificate for "localhost" reached as
   127.0.0.1, an expired certificate. Ingest must report a TLS failure naming the host and
   the reason, in its log and its summary, and accept no tick.
3. python-websockets + ssl server sending Binance frames -> ingest (wss://, --tls-ca).
4. python-websockets + ssl client -> feed (TLS): valid Binance frames, then close 1000.

Every wait is bounded; the script takes a few seconds."""
import asyncio
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import websockets
import websockets.client
import websockets.server

FEED, INGEST = sys.argv[1:3]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_pki(d):
    """ca.pem/ca.key; leaf (DNS:localhost, signed by the CA); other (DNS:feed.example, CA);
    self (self-signed, DNS:localhost); expired (DNS:localhost, CA, valid in 2020 only)."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=wss-test-ca", "-days", "2",
            "-addext", "basicConstraints=critical,CA:TRUE", cwd=d)
    for name, san in (("leaf", "DNS:localhost"), ("other", "DNS:feed.example")):
        openssl("req", "-x509", *ec, "-keyout", f"{name}.key", "-out", f"{name}.pem", "-subj", "/CN=" + san[4:],
                "-days", "2", "-addext", f"subjectAltName={san}", "-CA", "ca.pem", "-CAkey", "ca.key", cwd=d)
    openssl("req", "-x509", *ec, "-keyout", "self.key", "-out", "self.pem", "-subj", "/CN=localhost", "-days", "2",
            "-addext", "subjectAltName=DNS:localhost", cwd=d)
    # `openssl ca` is the one OpenSSL 3.0 command that sets arbitrary validity dates.
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write(f"[ca]\ndefault_ca = t\n[t]\ndatabase = {d}/index.txt\nnew_certs_dir = {d}\nserial = {d}/serial\n"
                "default_md = sha256\npolicy = any\ncopy_extensions = copy\n[any]\ncommonName = supplied\n")
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("01\n")
    openssl("req", "-new", *ec, "-keyout", "expired.key", "-out", "expired.csr", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost", cwd=d)
    openssl("ca", "-batch", "-notext", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in",
            "expired.csr", "-out", "expired.pem", "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", cwd=d)


async def start_feed(d, cert, *extra):
    proc = await asyncio.create_subprocess_exec(
        FEED, "--listen", "127.0.0.1:0", "--tls-cert", os.path.join(d, f"{cert}.pem"), "--tls-key",
        os.path.join(d, f"{cert}.key"), "--symbols", "5", *extra, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # A stall report from the runtime may come before it on a loaded machine.
    line, m = "", None
    for _ in range(100):
        line = (await asyncio.wait_for(proc.stderr.readline(), 10)).decode()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+) \(wss://\)", line)
        if m or not line or "listening on" in line:
            break
    check(bool(m), f"feed with --tls-cert {cert}.pem listens on wss:// ({line.strip()})")
    return proc, int(m.group(1)) if m else 0


FEED_LOG = {}  # feed process -> the stderr lines read so far


async def await_feed_lines(proc, needle, count, timeout=20):
    """Reads the feed's log until `count` lines containing `needle` have appeared: the feed has
    handled what the test did before the test goes on (no sleeping and hoping)."""
    lines = FEED_LOG.setdefault(proc, [])
    deadline = time.monotonic() + timeout
    while sum(needle in x for x in lines) < count:
        line = await asyncio.wait_for(proc.stderr.readline(), max(0.1, deadline - time.monotonic()))
        if not line:
            break
        lines.append(line.decode())
    return sum(needle in x for x in lines) >= count


async def stop_feed(proc):
    proc.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(proc.communicate(), 15)
    return proc.returncode, "".join(FEED_LOG.pop(proc, [])) + err.decode()


async def run_ingest(*args):
    proc = await asyncio.create_subprocess_exec(INGEST, *args, "--quiet", stdout=subprocess.PIPE,
                                                stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    lines = out.decode().strip().splitlines()
    return proc.returncode, (json.loads(lines[-1]) if lines else {}), err.decode()


def client_hello_prefix():
    """The first bytes of a real ClientHello (from Python's ssl), cut in the middle."""
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    return hello[: len(hello) // 2]


def closed_by_peer(sock, within):
    """Whether the peer closes `sock` (end of stream or reset) within `within` seconds."""
    sock.settimeout(within)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


async def pipeline(d):
    print("-- feed (TLS) -> ingest (wss://), with hostile clients on the same feed")
    per_connection = 20000
    feed, port = await start_feed(d, "leaf", "--count", str(per_connection), "--handshake-timeout", "1",
                                  "--with-send-time")
    garbage = socket.create_connection(("127.0.0.1", port))
    garbage.sendall(b"GET /stream?streams=btcusdt@trade HTTP/1.1\r\nHost: localhost\r\n\r\n" + os.urandom(512))
    hello_prefix = client_hello_prefix()
    started = time.monotonic()  # before the connect: the feed's deadline runs from its accept
    stalled = socket.create_connection(("127.0.0.1", port))
    stalled.sendall(hello_prefix)
    socket.create_connection(("127.0.0.1", port)).close()  # a client that vanishes at once
    check(await await_feed_lines(feed, "TLS: 127.0.0.1:", 2), "the feed logged the garbage and the vanished client")
    urls = [f"wss://localhost:{port}/stream?streams=btcusdt@trade/ethusdt@aggTrade",
            f"wss://localhost:{port}/ws/bnbusdt@bookTicker", f"wss://localhost:{port}/stream?streams=btcusdt@trade"]
    args = []
    for u in urls:
        args += ["--connect", u]
    status, s, err = await run_ingest(*args, "--tls-ca", os.path.join(d, "ca.pem"), "--once", "--duration", "25")
    check(status == 0, f"ingest exit status 0 (got {status}; {err.strip()[-300:]})")
    check(s.get("ticks_in") == s.get("ticks_out") == per_connection * len(urls),
          f"ticks in/out {s.get('ticks_in')}/{s.get('ticks_out')} == {per_connection * len(urls)}")
    check(s.get("errors", {}).get("tls_failures") == 0 and s.get("last_tls_error") is None, "no TLS failure")
    check(s.get("sessions") == len(urls), f"{len(urls)} sessions ({s.get('sessions')})")
    check(closed_by_peer(garbage, 5), "the feed closed the connection that sent garbage instead of a ClientHello")
    check(closed_by_peer(stalled, 10), "the feed closed the connection that stopped mid-handshake")
    check(time.monotonic() - started >= 0.9, "... at the handshake deadline, not before")
    check(await await_feed_lines(feed, "TLS: 127.0.0.1:", 3), "the feed logged the stalled client")
    garbage.close()
    stalled.close()
    status, ferr = await stop_feed(feed)
    check(status == 0, f"feed exit status 0 (got {status})")
    m = re.search(r"totals count (\d+) price_sum (\d+) quantity_sum (\d+)", ferr)
    t = s.get("feed_totals", {})
    check(bool(m) and [int(x) for x in m.groups()] == [t.get("count"), t.get("price_sum"), t.get("quantity_sum")],
          f"ingest's totals {t} equal the feed's ({m.groups() if m else ferr[-200:]})")
    m = re.search(r"(\d+) TLS handshakes failed", ferr)
    check(bool(m) and int(m.group(1)) == 3, f"the feed counted the 3 failed TLS handshakes ({m.group(0) if m else ''})")
    check("3 connections" in ferr, "the feed served the 3 good connections")


async def refused(d, cert, host, reason, with_ca):
    feed, port = await start_feed(d, cert, "--count", "1000")
    args = ["--connect", f"wss://{host}:{port}/ws/btcusdt@trade", "--duration", "1.5", "--backoff-initial", "0.2"]
    if with_ca:
        args += ["--tls-ca", os.path.join(d, "ca.pem")]
    status, s, err = await run_ingest(*args)
    feed_status, _ = await stop_feed(feed)
    last = s.get("last_tls_error") or ""
    what = f"{cert}.pem via {host}"
    check(status == 0 and feed_status == 0, f"{what}: ingest and feed exit 0 (got {status}, {feed_status})")
    check(s.get("ticks_in") == 0 and s.get("messages") == 0 and s.get("sessions") == 0, f"{what}: no tick accepted")
    check(s.get("errors", {}).get("tls_failures", 0) >= 1, f"{what}: TLS failures counted ({s.get('errors')})")
    check(f"{host}:{port}" in last and reason in last, f"{what}: summary names host and reason ({last!r})")
    check(re.search(rf"TLS: {re.escape(host)}:{port}: certificate verify failed: .*{re.escape(reason)}", err)
          is not None, f"{what}: the log names host and reason")
    check("failed handshakes (no tick accepted from them), the last: " + last in err,
          f"{what}: the text summary reports the TLS failures")


async def hostile_server(reply, name):
    """A TCP server on 127.0.0.1 that answers a ClientHello with `reply` and closes: ingest must
    report a TLS failure (not a connect failure) and accept nothing."""
    async def handler(reader, writer):
        await reader.read(1)
        writer.write(reply)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        status, s, err = await run_ingest("--connect", f"wss://localhost:{port}/ws/btcusdt@trade", "--duration", "1",
                                          "--backoff-initial", "0.2")
    last = s.get("last_tls_error") or ""
    check(status == 0, f"{name}: ingest exit 0 (got {status})")
    check(s.get("ticks_in") == 0 and s.get("sessions") == 0, f"{name}: no tick accepted, no session")
    check(s.get("errors", {}).get("tls_failures", 0) >= 1 and s["errors"].get("connect_failures") == 0,
          f"{name}: counted as TLS failures ({s.get('errors')})")
    check(f"localhost:{port}: TLS" in last, f"{name}: the summary names host and reason ({last!r})")


async def verify_failures(d):
    print("-- certificate verification failures")
    await refused(d, "self", "localhost", "self-signed certificate", with_ca=False)
    await refused(d, "leaf", "localhost", "unable to get local issuer certificate", with_ca=False)
    await refused(d, "other", "localhost", "hostname mismatch", with_ca=True)
    await refused(d, "leaf", "127.0.0.1", "IP address mismatch", with_ca=True)
    await refused(d, "expired", "localhost", "certificate has expired", with_ca=True)
    print("-- servers that do not speak TLS")
    await hostile_server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", "a plaintext HTTP answer")
    await hostile_server(b"\x16\x03\x03\xff\xff" + os.urandom(64), "a truncated oversized TLS record")
    await hostile_server(b"", "a server that hangs up")


def trade(sym, i):
    data = {"e": "trade", "E": 1672515782136 + i, "s": sym, "t": 1000 + i, "p": "16500.%02d" % (i % 100),
            "q": "0.001", "T": 1672515782130 + i, "m": bool(i & 1), "M": True}
    return json.dumps({"stream": sym.lower() + "@trade", "data": data}, separators=(",", ":"))


async def python_server(d):
    print("-- python-websockets + ssl server -> ingest (wss://)")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(os.path.join(d, "leaf.pem"), os.path.join(d, "leaf.key"))
    n = 3000
    result = {}

    async def handler(ws, path):
        result["path"] = path
        for i in range(n):
            await ws.send(trade("BTCUSDT", i))
        await ws.close(1000, "done")
        result["closed"] = ws.close_code

    async with websockets.server.serve(handler, "127.0.0.1", 0, ssl=ctx) as server:
        port = server.sockets[0].getsockname()[1]
        status, s, err = await run_ingest("--connect", f"wss://localhost:{port}/stream?streams=btcusdt@trade",
                                          "--tls-ca", os.path.join(d, "ca.pem"), "--once", "--duration", "20")
    check(status == 0, f"ingest exit status 0 (got {status}; {err.strip()[-300:]})")
    check(s.get("ticks_in") == s.get("ticks_out") == n, f"ticks in/out {s.get('ticks_in')}/{s.get('ticks_out')} == {n}")
    check(s.get("feed_totals", {}).get("count") == n, "decoded totals count every message")
    check(s.get("close_codes_received", {}).get("normal_1000") == 1 and result.get("closed") == 1000,
          "close 1000 in both directions over TLS")


async def python_client(d):
    print("-- python-websockets + ssl client -> feed (TLS)")
    feed, port = await start_feed(d, "leaf", "--count", "2000")
    ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
    got = 0
    valid = True
    async with websockets.client.connect(f"wss://localhost:{port}/stream?streams=btcusdt@trade/ethusdt@trade",
                                         ssl=ctx, ping_interval=None) as ws:
        try:
            while True:
                msg = await asyncio.wait_for(ws.recv(), 10)
                m = json.loads(msg)
                data = m["data"]
                valid = valid and m["stream"] in ("btcusdt@trade", "ethusdt@trade") and data["e"] == "trade" and \
                    m["stream"] == data["s"].lower() + "@trade" and float(data["p"]) > 0
                got += 1
        except websockets.exceptions.ConnectionClosedOK:
            pass
        code = ws.close_code
    check(got == 2000 and valid, f"2000 valid Binance trade frames received over TLS (got {got}, valid {valid})")
    check(code == 1000, f"the feed closed with 1000 (got {code})")
    # Python refuses the feed when it cannot verify it: the same feed without the CA.
    try:
        async with websockets.client.connect(f"wss://localhost:{port}/ws/btcusdt@trade",
                                             ssl=ssl.create_default_context()):
            check(False, "an unverified feed is refused by Python")
    except ssl.SSLCertVerificationError:
        check(True, "an unverified feed is refused by Python")
    check(await await_feed_lines(feed, "TLS: 127.0.0.1:", 1), "the feed logged Python's refusal")
    status, ferr = await stop_feed(feed)
    check(status == 0 and "1 TLS handshakes failed" in ferr, f"the feed counted Python's refusal ({ferr[-120:]!r})")


async def main():
    with tempfile.TemporaryDirectory() as d:
        make_pki(d)
        await asyncio.wait_for(pipeline(d), 60)
        await asyncio.wait_for(verify_failures(d), 60)
        await asyncio.wait_for(python_server(d), 30)
        await asyncio.wait_for(python_client(d), 30)


asyncio.run(main())
print("FAILED: " + "; ".join(failures) if failures else "all passed")
sys.exit(1 if failures else 0)
