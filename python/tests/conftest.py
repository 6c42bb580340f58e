"""A fake polarway-ingest publisher and stream-building helpers for the tests.

The fake server listens on a Unix socket under the test's tmp_path, reads each
subscriber's request line, and hands the connection to the test's handler in its own
thread; the handler writes Arrow IPC messages made by pyarrow, byte for byte as the
protocol lays them out.
"""

import asyncio
import faulthandler
import io
import pathlib
import socket
import struct
import sys
import threading
from decimal import Decimal

import pyarrow as pa
import pytest

PYTHON_DIR = pathlib.Path(__file__).resolve().parents[1]
REPO_DIR = PYTHON_DIR.parent
# The package is importable from the tree, without installing it.
sys.path.insert(0, str(PYTHON_DIR))

from polarway_ticks import tick_schema  # noqa: E402

END_OF_STREAM = b"\xff\xff\xff\xff\x00\x00\x00\x00"

# A test that hangs is a failure: past this many seconds the process dumps every thread's
# stack and exits.
HANG_LIMIT_SECONDS = 60


@pytest.fixture(autouse=True)
def fail_on_hang():
    faulthandler.dump_traceback_later(HANG_LIMIT_SECONDS, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


def schema_message(schema):
    return schema.serialize().to_pybytes()


def refusal_message(why):
    return schema_message(pa.schema([], metadata={"polarway.error": why}))


def batch_message(batch, custom_metadata=None):
    """One encapsulated RecordBatch message, as a stream writer writes it."""
    sink = io.BytesIO()
    writer = pa.ipc.new_stream(sink, batch.schema)
    writer.write_batch(batch, custom_metadata=custom_metadata)
    data = sink.getvalue()
    # The writer puts the schema first; what follows it is the batch's message.
    _, schema_length = struct.unpack_from("<Ii", data, 0)
    return data[8 + schema_length :]


def status_message(kind, key, value):
    empty = pa.RecordBatch.from_pylist([], schema=tick_schema(kind))
    return batch_message(empty, {key: str(value)})


def heartbeat_message(kind, unix_ns=1_700_000_000_000_000_000):
    return status_message(kind, "polarway.heartbeat", unix_ns)


def lagged_message(kind, batches):
    return status_message(kind, "polarway.lagged", batches)


def closed_message(kind, reason):
    return status_message(kind, "polarway.closed", reason) + END_OF_STREAM


def make_batch(kind, rows, symbols=("BTCUSDT", "ETHUSDT"), start=0):
    """``rows`` ticks of ``kind`` with exact decimal prices that differ row by row."""
    schema = tick_schema(kind)
    columns = {}
    for index in range(start, start + rows):
        symbol = symbols[index % len(symbols)]
        price = Decimal(16_000_00 + index * 7) / 100 + Decimal("0.00000001") * (index % 97)
        quantity = Decimal(index % 1000 + 1) / 1000 + Decimal("0.00000003")
        values = {
            "event_time": 1_672_531_200_000 + index,
            "symbol": symbol,
            "trade_id": index,
            "agg_trade_id": index,
            "first_trade_id": 2 * index,
            "last_trade_id": 2 * index + 1,
            "update_id": index,
            "price": price,
            "quantity": quantity,
            "bid_price": price,
            "bid_qty": quantity,
            "ask_price": price + Decimal("0.01"),
            "ask_qty": quantity * 2,
            "trade_time": 1_672_531_200_000 + index,
            "is_buyer_maker": index % 3 == 0,
            "sent_time": None if index % 5 == 0 else 1_672_531_200_000_000_000 + index * 1000,
            "recv_time": 1_672_531_200_000_500_000 + index * 1000,
        }
        for field in schema:
            columns.setdefault(field.name, []).append(values[field.name])
    arrays = []
    for field in schema:
        values = columns.get(field.name, [])
        if pa.types.is_timestamp(field.type):
            arrays.append(pa.array(values, pa.int64()).cast(field.type))
        else:
            arrays.append(pa.array(values, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def stream_bytes(kind, batches, reason="end of test"):
    """A whole accepted response: schema, ``batches``, closing message, end-of-stream."""
    parts = [schema_message(tick_schema(kind))]
    parts.extend(batch_message(batch) for batch in batches)
    parts.append(closed_message(kind, reason))
    return b"".join(parts)


class Peer:
    """The server's side of one subscriber connection."""

    def __init__(self, sock, request, stopping):
        self.sock = sock
        self.request = request
        self.stopping = stopping
        words = dict(word.split("=", 1) for word in request.decode("ascii", "replace").split()[1:] if "=" in word)
        self.kind = words.get("kind")
        self.symbols = words.get("symbols")
        self.policy = words.get("policy")

    def send(self, data):
        self.sock.sendall(data)

    def send_schema(self):
        self.send(schema_message(tick_schema(self.kind)))

    def wait_for_disconnect(self, timeout=10.0):
        """True once the subscriber closed its side (reads return end of file)."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(4096):
                pass
        except OSError:
            return False
        return True

    def heartbeat_until_disconnect(self, interval=0.05):
        """Heartbeats every ``interval`` seconds until the subscriber leaves or the server stops."""
        while not self.stopping.wait(interval):
            try:
                self.send(heartbeat_message(self.kind))
            except OSError:
                return


class FakeServer:
    """Accepts subscribers on a Unix socket (or TCP on 127.0.0.1) and runs ``handler(peer)`` for each."""

    def __init__(self, path, handler, tcp=False):
        self.handler = handler
        self.requests = []
        self.failures = []
        self.accepted = threading.Semaphore(0)
        self._stopping = threading.Event()
        self._threads = []
        if tcp:
            self._listener = socket.create_server(("127.0.0.1", 0), backlog=16)
            self.url = "tcp:127.0.0.1:%d" % self._listener.getsockname()[1]
        else:
            self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._listener.bind(str(path))
            self._listener.listen(16)
            self.url = f"unix:{path}"
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def _accept(self):
        while True:
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock):
        with sock:
            try:
                request = self._read_request(sock)
                self.requests.append(request)
                self.accepted.release()
                self.handler(Peer(sock, request, self._stopping))
            except (BrokenPipeError, ConnectionResetError):
                pass
            except BaseException as error:
                self.failures.append(error)

    @staticmethod
    def _read_request(sock):
        request = b""
        sock.settimeout(10.0)
        while not request.endswith(b"\n") and len(request) < 1024:
            piece = sock.recv(1)
            if not piece:
                break
            request += piece
        sock.settimeout(None)
        return request

    def stop(self):
        self._stopping.set()
        # Shutting the listener down wakes the acceptor thread blocked in accept().
        self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._acceptor.join(10.0)
        for thread in self._threads:
            thread.join(10.0)
        assert not self.failures, f"the fake server's handler failed: {self.failures!r}"


@pytest.fixture
def fake_server(tmp_path):
    """``fake_server(handler, tcp=False)`` starts a FakeServer; each is stopped afterwards."""
    servers = []

    def start(handler, tcp=False):
        server = FakeServer(tmp_path / f"feed{len(servers)}.sock", handler, tcp)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def collect(subscription, mode, on_item=None, limit=10_000):
    """Every item a subscription yields, iterating it with ``for`` or ``async for``.

    ``on_item(item)`` runs as each item arrives (to steer the fake server); ``limit`` stops
    a runaway test instead of letting it loop.
    """
    items = []
    if mode == "sync":
        with subscription:
            for item in subscription:
                items.append(item)
                if on_item is not None:
                    on_item(item)
                if len(items) >= limit:
                    break
        return items

    async def gather():
        async with subscription:
            async for item in subscription:
                items.append(item)
                if on_item is not None:
                    on_item(item)
                if len(items) >= limit:
                    break

    asyncio.run(gather())
    return items
