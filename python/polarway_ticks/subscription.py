"""Subscriptions to a polarway-ingest tick publisher: one connection per tick kind.

Each kind is its own request and its own Arrow IPC stream (a stream has one schema). A
``Subscription`` multiplexes them, either with blocking sockets and ``selectors`` (``for``)
or on the running asyncio loop (``async for``); both feed the same ``TickStreamDecoder``.
"""

import asyncio
import collections
import re
import selectors
import socket
import time

from .decoder import TickStreamDecoder
from .events import Closed, Heartbeat, Stale
from .schemas import KINDS

PROTOCOL = "polarway-ticks/1"
POLICIES = ("block", "lossy")
MAX_REQUEST_LENGTH = 1024

# How much one receive takes at most; the decoder copies it into per-message buffers, so
# the receive buffer is reused.
_RECEIVE_SIZE = 1 << 20
# asyncio's StreamReader pauses its transport when it holds twice this much unread.
_STREAM_LIMIT = 4 << 20

_SYMBOL = re.compile(r"[A-Z0-9]{1,20}")


def _parse_url(url):
    """("unix", path) or ("tcp", (host, port)) from "unix:PATH" or "tcp:HOST:PORT"."""
    if not isinstance(url, str):
        raise ValueError(f"url must be a string like 'unix:/path' or 'tcp:host:port', not {url!r}")
    scheme, _, rest = url.partition(":")
    if scheme == "unix":
        if not rest:
            raise ValueError(f"url {url!r} has no socket path after 'unix:'")
        return "unix", rest
    if scheme == "tcp":
        host, _, port_text = rest.rpartition(":")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if not host or not port_text.isascii() or not port_text.isdigit():
            raise ValueError(f"url {url!r} is not 'tcp:HOST:PORT'")
        port = int(port_text)
        if not 1 <= port <= 65535:
            raise ValueError(f"url {url!r} has port {port} outside 1..65535")
        return "tcp", (host, port)
    raise ValueError(f"url {url!r} is neither 'unix:PATH' nor 'tcp:HOST:PORT'")


def _parse_kinds(kinds):
    if isinstance(kinds, str):
        kinds = (kinds,)
    kinds = tuple(kinds)
    if not kinds:
        raise ValueError("kinds is empty; subscribe to at least one of " + ", ".join(KINDS))
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"unknown tick kind {kind!r}; expected one of {', '.join(KINDS)}")
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds {kinds!r} names a kind twice")
    return kinds


def _parse_symbols(symbols):
    """None (all symbols) or a tuple of distinct symbols; a string is a comma-separated list."""
    if symbols is None:
        return None
    if isinstance(symbols, str):
        symbols = symbols.split(",")
    parsed = []
    for symbol in symbols:
        if not isinstance(symbol, str) or not _SYMBOL.fullmatch(symbol):
            raise ValueError(f"symbol {symbol!r} is not 1 to 20 of A-Z and 0-9")
        if symbol not in parsed:
            parsed.append(symbol)
    if not parsed:
        raise ValueError("symbols is empty; pass None to subscribe to every symbol")
    return tuple(parsed)


def _positive_seconds(name, value, allow_none):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
    return float(value)


def request_line(kind, symbols=None, policy="block"):
    """The request a subscriber sends for one kind, newline included, as bytes."""
    words = [PROTOCOL, f"kind={kind}"]
    if symbols is not None:
        words.append("symbols=" + ",".join(symbols))
    words.append(f"policy={policy}")
    return (" ".join(words) + "\n").encode("ascii")


def subscribe(url, kinds=("trade",), symbols=None, policy="block", stale_after=1.0, connect_timeout=5.0):
    """A subscription to ``kinds`` at ``url``; nothing connects until iteration starts.

    ``url`` is "unix:PATH" or "tcp:HOST:PORT"; ``symbols`` is None for every symbol, or
    symbols (an iterable, or one comma-separated string); ``policy`` is "block" (the server
    waits for a slow subscriber) or "lossy" (it drops this subscriber's oldest batches and
    says how many with ``Lagged``); ``stale_after`` seconds of silence on a connection
    yield ``Stale`` (None: never). Raises ValueError for any bad argument.
    """
    endpoint = _parse_url(url)
    kinds = _parse_kinds(kinds)
    symbols = _parse_symbols(symbols)
    if policy not in POLICIES:
        raise ValueError(f"policy {policy!r} is not one of {', '.join(POLICIES)}")
    stale_after = _positive_seconds("stale_after", stale_after, allow_none=True)
    connect_timeout = _positive_seconds("connect_timeout", connect_timeout, allow_none=False)
    requests = {kind: request_line(kind, symbols, policy) for kind in kinds}
    for kind, line in requests.items():
        if len(line) > MAX_REQUEST_LENGTH:
            raise ValueError(
                f"the {kind} request is {len(line)} bytes, over the {MAX_REQUEST_LENGTH} allowed; "
                "subscribe to fewer symbols"
            )
    return Subscription(endpoint, requests, stale_after, connect_timeout)


class _Connection:
    """One kind's connection: its decoder and its silence clock."""

    def __init__(self, kind, now, stale_after):
        self.kind = kind
        self.decoder = TickStreamDecoder(kind)
        self.last_heard = now
        self.stale_at = None if stale_after is None else now + stale_after
        # Set by the sync path (a socket) or by the async path (a stream pair and the read
        # under way on it).
        self.sock = None
        self.reader = None
        self.writer = None
        self.read_task = None

    def heard(self, now, stale_after):
        self.last_heard = now
        if stale_after is not None:
            self.stale_at = now + stale_after

    def stale_check(self, now, stale_after):
        """A ``Stale`` if another ``stale_after`` of silence has passed since the last one."""
        if self.stale_at is None or now < self.stale_at:
            return None
        silent_for = now - self.last_heard
        # The next report comes at the next whole multiple of stale_after of silence, so a
        # consumer that fell behind gets one report, not a burst.
        self.stale_at = self.last_heard + stale_after * (int(silent_for / stale_after) + 1)
        return Stale(self.kind, silent_for)


def _items_of(events):
    """The events a subscriber sees: heartbeats only keep the connection from going stale."""
    return [event for event in events if not isinstance(event, Heartbeat)]


class Subscription:
    """Tick batches and status values of one or more kinds, from ``for`` or ``async for``.

    Iteration yields ``pyarrow.RecordBatch`` (data, at least one row) and the status values
    ``Stale``, ``Lagged`` and ``Closed``; it ends after every kind's ``Closed``. Breaking out
    of a loop and iterating again resumes the same streams. A subscription is iterated
    either synchronously or asynchronously, from one thread.
    """

    def __init__(self, endpoint, requests, stale_after, connect_timeout):
        self._endpoint = endpoint
        self._requests = requests
        self._stale_after = stale_after
        self._connect_timeout = connect_timeout
        self._connections = []
        self._closed = False
        self._iterator = None
        self._async_iterator = None

    @property
    def kinds(self):
        return tuple(self._requests)

    def close(self):
        """Closes every connection; iteration, sync or async, then ends. Safe to call again."""
        self._closed = True
        if self._iterator is not None and not self._iterator.gi_running:
            self._iterator.close()
        self._release()

    async def aclose(self):
        """Closes every connection and finishes an ``async for`` that is under way."""
        self._closed = True
        if self._async_iterator is not None and not self._async_iterator.ag_running:
            await self._async_iterator.aclose()
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info):
        await self.aclose()

    def _release(self):
        for connection in self._connections:
            if connection.sock is not None:
                connection.sock.close()
            if connection.read_task is not None:
                connection.read_task.cancel()
            if connection.writer is not None:
                connection.writer.close()
        self._connections = []

    def _stale_items(self, live, now):
        items = []
        for connection in live:
            stale = connection.stale_check(now, self._stale_after)
            if stale is not None:
                items.append(stale)
        return items

    def _timeout(self, live, now):
        """Seconds until the earliest stale report is due, or None if none ever is."""
        deadlines = [connection.stale_at for connection in live if connection.stale_at is not None]
        return max(0.0, min(deadlines) - now) if deadlines else None

    # Synchronous iteration: blocking connects, then non-blocking reads under a selector.

    def __iter__(self):
        if self._async_iterator is not None:
            raise RuntimeError("this subscription is already iterated with 'async for'")
        if self._iterator is None:
            self._iterator = self._iterate()
        return self._iterator

    def _connect(self, kind):
        family, address = self._endpoint
        if family == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(self._connect_timeout)
                sock.connect(address)
            except BaseException:
                sock.close()
                raise
        else:
            sock = socket.create_connection(address, timeout=self._connect_timeout)
        try:
            sock.sendall(self._requests[kind])
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return sock

    def _iterate(self):
        pending = collections.deque()
        selector = selectors.DefaultSelector()
        receive_buffer = bytearray(_RECEIVE_SIZE)
        receive_view = memoryview(receive_buffer)
        live = []
        try:
            for kind in self._requests:
                if self._closed:
                    return
                try:
                    sock = self._connect(kind)
                except OSError as error:
                    pending.append(Closed(kind, f"connect failed: {error}"))
                    continue
                connection = _Connection(kind, time.monotonic(), self._stale_after)
                connection.sock = sock
                self._connections.append(connection)
                selector.register(sock, selectors.EVENT_READ, connection)
                live.append(connection)
            while True:
                while pending:
                    yield pending.popleft()
                    if self._closed:
                        return
                if not live:
                    return
                ready = selector.select(self._timeout(live, time.monotonic()))
                for key, _ in ready:
                    connection = key.data
                    try:
                        count = connection.sock.recv_into(receive_buffer)
                    except BlockingIOError:
                        continue
                    except OSError as error:
                        events = [Closed(connection.kind, f"connection lost: {error}")]
                    else:
                        connection.heard(time.monotonic(), self._stale_after)
                        if count:
                            events = connection.decoder.feed(receive_view[:count])
                        else:
                            events = connection.decoder.eof()
                    pending.extend(_items_of(events))
                    if events and isinstance(events[-1], Closed):
                        selector.unregister(connection.sock)
                        connection.sock.close()
                        live.remove(connection)
                pending.extend(self._stale_items(live, time.monotonic()))
        finally:
            selector.close()
            self._release()

    # Asynchronous iteration: the running loop's streams, one pending read per connection.

    def __aiter__(self):
        if self._iterator is not None:
            raise RuntimeError("this subscription is already iterated with 'for'")
        if self._async_iterator is None:
            self._async_iterator = self._aiterate()
        return self._async_iterator

    async def _open(self, kind):
        family, address = self._endpoint
        if family == "unix":
            opening = asyncio.open_unix_connection(address, limit=_STREAM_LIMIT)
        else:
            opening = asyncio.open_connection(*address, limit=_STREAM_LIMIT)
        reader, writer = await asyncio.wait_for(opening, self._connect_timeout)
        # Registered at once, so that closing the subscription closes it whatever happens next.
        connection = _Connection(kind, time.monotonic(), self._stale_after)
        connection.reader = reader
        connection.writer = writer
        self._connections.append(connection)
        try:
            writer.write(self._requests[kind])
            await asyncio.wait_for(writer.drain(), self._connect_timeout)
        except BaseException:
            writer.close()
            connection.writer = None
            raise
        connection.heard(time.monotonic(), self._stale_after)
        return connection

    async def _aiterate(self):
        pending = collections.deque()
        live = []
        by_task = {}
        try:
            if self._closed:
                return
            kinds = list(self._requests)
            opened = await asyncio.gather(*(self._open(kind) for kind in kinds), return_exceptions=True)
            for kind, result in zip(kinds, opened):
                if isinstance(result, BaseException):
                    if not isinstance(result, (OSError, asyncio.TimeoutError)):
                        raise result
                    pending.append(Closed(kind, f"connect failed: {str(result) or 'timed out'}"))
                    continue
                connection = result
                connection.read_task = asyncio.ensure_future(connection.reader.read(_RECEIVE_SIZE))
                by_task[connection.read_task] = connection
                live.append(connection)
            while True:
                while pending:
                    yield pending.popleft()
                    if self._closed:
                        return
                if not live or self._closed:
                    return
                done, _ = await asyncio.wait(
                    by_task, timeout=self._timeout(live, time.monotonic()),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if self._closed:
                    return
                for task in done:
                    connection = by_task.pop(task)
                    connection.read_task = None
                    try:
                        data = task.result()
                    except OSError as error:
                        events = [Closed(connection.kind, f"connection lost: {error}")]
                    else:
                        connection.heard(time.monotonic(), self._stale_after)
                        events = connection.decoder.feed(data) if data else connection.decoder.eof()
                    pending.extend(_items_of(events))
                    if events and isinstance(events[-1], Closed):
                        connection.writer.close()
                        connection.writer = None
                        live.remove(connection)
                    else:
                        connection.read_task = asyncio.ensure_future(connection.reader.read(_RECEIVE_SIZE))
                        by_task[connection.read_task] = connection
                pending.extend(self._stale_items(live, time.monotonic()))
        finally:
            self._release()
