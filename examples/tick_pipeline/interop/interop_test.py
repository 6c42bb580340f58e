#!/usr/bin/env python3
"""Interop: our sans-I/O WebSocket codec against python-websockets' sans-I/O protocol objects
(websockets 10.4: ClientConnection / ServerConnection), byte for byte, no sockets.

usage: interop_test.py PATH/TO/tick_interop_peer
The peer speaks length-prefixed chunks on stdin/stdout (see interop_peer.cpp)."""
import struct
import subprocess
import sys

from websockets.client import ClientConnection
from websockets.frames import Close, Opcode
from websockets.http11 import Request, Response
from websockets.server import ServerConnection
from websockets.uri import parse_uri

TRADE = '{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}'
BAD = '{"e":"trade","E":1,"s":"BNBBTC","t":1,"price":"1","q":"1","T":1,"m":true}'


class Peer:
    def __init__(self, exe, mode):
        self.proc = subprocess.Popen([exe, mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def read(self):
        head = self.proc.stdout.read(4)
        assert len(head) == 4, "peer closed"
        (n,) = struct.unpack(">I", head)
        return self.proc.stdout.read(n)

    def send(self, data):
        self.proc.stdin.write(struct.pack(">I", len(data)) + data)
        self.proc.stdin.flush()
        return self.read()

    def close(self):
        self.proc.stdin.close()
        assert self.proc.wait(10) == 0, "peer failed"


def frames(conn, data):
    conn.receive_data(data)
    return conn.events_received()


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def our_client_vs_python_server(exe):
    peer = Peer(exe, "client")
    request_bytes = peer.read()
    server = ServerConnection()
    events = frames(server, request_bytes)
    check(len(events) == 1 and isinstance(events[0], Request), "python server parses our upgrade request")
    response = server.accept(events[0])
    check(response.status_code == 101, "python server accepts it (101)")
    server.send_response(response)
    # The first frames ride in the same chunk as the 101 response.
    server.send_text(TRADE[:30].encode(), fin=False)
    server.send_ping(b"p1")
    server.send_continuation(TRADE[30:].encode(), fin=True)
    server.send_text(BAD.encode())
    server.send_binary(b"\x00\x01\x02")
    reply = peer.send(b"".join(server.data_to_send()))
    events = frames(server, reply)
    kinds = [(e.opcode, e.data) for e in events]
    check((Opcode.PONG, b"p1") in kinds, "our client answers python's ping with a pong")
    check((Opcode.TEXT, b"ack BNBBTC 0.00100000") in kinds, "fragmented trade reassembled and decoded")
    check(any(op == Opcode.TEXT and d.startswith(b"err ") and b'field "p": missing' in d for op, d in kinds),
          "schema error names the field")
    check((Opcode.BINARY, b"\x00\x01\x02") in kinds, "binary echoed")
    check(all(getattr(e, "opcode", None) is not None for e in events), "python server parses our masked frames")
    server.send_close(1000, "bye")
    reply = peer.send(b"".join(server.data_to_send()))
    closes = [Close.parse(e.data) for e in frames(server, reply) if e.opcode == Opcode.CLOSE]
    check(len(closes) == 1, "our client echoes the close")
    check(closes[0].code == 1000, "close code 1000 round-trips")
    peer.close()


def python_client_vs_our_server(exe):
    peer = Peer(exe, "server")
    client = ClientConnection(parse_uri("ws://localhost:9000/stream?streams=bnbbtc@trade"))
    client.send_request(client.connect())
    response_bytes = peer.send(b"".join(client.data_to_send()))
    events = frames(client, response_bytes)
    check(len(events) == 1 and isinstance(events[0], Response) and events[0].status_code == 101,
          "python client accepts our 101 (Sec-WebSocket-Accept verified)")
    client.send_text(TRADE.encode())
    client.send_ping(b"p2")
    client.send_text(b"x" * 70000)  # 64-bit length form
    reply = peer.send(b"".join(client.data_to_send()))
    events = frames(client, reply)
    kinds = [(e.opcode, e.data[:40]) for e in events]
    check((Opcode.TEXT, b"ack BNBBTC 0.00100000") in kinds, "our server decodes python's masked trade")
    check((Opcode.PONG, b"p2") in kinds, "our server answers python's ping")
    check(any(op == Opcode.TEXT and d.startswith(b"err ") for op, d in kinds), "70000-byte message reaches the decoder")
    client.send_close(1001, "going")
    reply = peer.send(b"".join(client.data_to_send()))
    closes = [Close.parse(e.data) for e in frames(client, reply) if e.opcode == Opcode.CLOSE]
    check(len(closes) == 1 and closes[0].code == 1001, "our server echoes python's close code")
    peer.close()


def bad_request_gets_400(exe):
    peer = Peer(exe, "server")
    reply = peer.send(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    check(reply.startswith(b"HTTP/1.1 400 Bad Request\r\n"), "missing key answered with 400")
    peer.proc.stdin.close()
    check(peer.proc.wait(10) == 1, "peer reports the failed handshake")


if __name__ == "__main__":
    exe = sys.argv[1]
    our_client_vs_python_server(exe)
    python_client_vs_our_server(exe)
    bad_request_gets_400(exe)
    print("interop: all checks passed")
