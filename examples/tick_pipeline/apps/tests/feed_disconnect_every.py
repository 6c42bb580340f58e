#!/usr/bin/python3
"""polarway-feed --disconnect-every, a real process on loopback: a raw-socket WebSocket client
reads exactly N messages from each connection and then gets ECONNRESET (no close frame), for a
flat-out feed, for a market (--rate) and over wss:// (Python's ssl: no close_notify either);
the feed's summary counts the resets; a bad value is refused."""
import base64
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile

import feed_process
from checklist import check, failures

feed_bin = sys.argv[1]


def start_feed(extra):
    """Returns (feed, (host, port))."""
    feed, addr = feed_process.start(feed_bin, "--symbols", "3", *extra, stdout=None)
    host, port = addr.rsplit(":", 1)
    return feed, (host, int(port))


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def count_until_end(addr, path, tls=None):
    """Messages read on one connection until it ends: (count, how it ended). `tls`: an
    ssl.SSLContext to speak wss:// with."""
    sock = socket.create_connection(addr, timeout=20)
    if tls is not None:
        sock = tls.wrap_socket(sock, server_hostname="localhost", suppress_ragged_eofs=False)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += read_exact(sock, 1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        return 0, "refused"
    count = 0
    try:
        while True:
            b0, b1 = read_exact(sock, 2)
            size = b1 & 0x7F
            if size == 126:
                size = int.from_bytes(read_exact(sock, 2), "big")
            elif size == 127:
                size = int.from_bytes(read_exact(sock, 8), "big")
            read_exact(sock, size)
            opcode = b0 & 0x0F
            if opcode == 1:
                count += 1
            elif opcode == 8:
                return count, "close frame"
    except ConnectionResetError:
        return count, "reset"
    except ssl.SSLEOFError:
        return count, "TLS end without close_notify"
    except EOFError:
        return count, "end of stream"
    finally:
        sock.close()


certs = tempfile.mkdtemp(prefix="feed_disconnect_every")
cert, key = os.path.join(certs, "localhost.pem"), os.path.join(certs, "localhost.key")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key, "-out", cert, "-subj", "/CN=localhost", "-days", "2",
                "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True, timeout=30)
tls = ssl.create_default_context(cafile=cert)

for extra, client_tls in ((["--kind", "trade", "--disconnect-every", "1000"], None),
                          (["--rate", "50000", "--kind", "aggTrade", "--disconnect-every", "1000"], None),
                          (["--rate", "50000", "--kind", "aggTrade", "--disconnect-every", "1000",
                            "--tls-cert", cert, "--tls-key", key], tls)):
    feed, addr = start_feed(extra)
    try:
        for i in range(2):
            got = count_until_end(addr, "/", client_tls)
            # Python's ssl reports the reset under TLS as an end without close_notify.
            end = "reset" if client_tls is None else "TLS end without close_notify"
            check(got == (1000, end), f"{extra}: connection {i}: 1000 messages then {end}, got {got}")
    finally:
        code, err = feed_process.stop(feed, signal.SIGTERM, timeout=20)
    check(code == 0, f"{extra}: the feed exits 0, got {code}: {err}")
    check("2 connections reset after 1000 messages" in err, f"{extra}: the summary counts the resets: {err}")

# Without the flag a connection ends with a close frame after --count.
feed, addr = start_feed(["--count", "500"])
got = count_until_end(addr, "/")
code, err = feed_process.stop(feed, signal.SIGTERM, timeout=20)
check(code == 0, f"no --disconnect-every: the feed exits 0, got {code}: {err}")
check(got == (500, "close frame"), f"no --disconnect-every: 500 messages then a close frame, got {got}")

for bad in (["--disconnect-every", "x"], ["--disconnect-every", "-1"]):
    r = subprocess.run([feed_bin, *bad], capture_output=True, text=True, timeout=20)
    check(r.returncode == 2 and "--disconnect-every" in r.stderr, f"{bad} refused with status 2: {r.returncode} {r.stderr}")

if failures:
    sys.exit(f"{len(failures)} failure(s)")
print("ok")
