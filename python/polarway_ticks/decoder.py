"""A sans-IO decoder of one polarway-ticks/1 response: an Arrow IPC stream for one tick kind.

The decoder takes bytes as they arrive, in pieces of any size, and returns what they
completed. It sizes each encapsulated message from its prefix and from the Message
flatbuffer (read by a small bounds-checked reader here), copies the whole message once out
of the caller's buffer, which the caller may then reuse, and hands the copy to pyarrow; the
decoded batch keeps that copy alive. Status messages (heartbeat, lagged, closed) are
answered from the flatbuffer alone, without pyarrow.

Anything the server sends, however malformed, ends in a ``Closed`` event; the decoder never
raises for input bytes.
"""

import struct

import pyarrow as pa

from .events import Closed, Heartbeat, Lagged
from .schemas import KINDS, tick_schema

CONTINUATION = 0xFFFFFFFF
MAX_METADATA_LENGTH = 16 << 20
MAX_BODY_LENGTH = 1 << 30

# An encapsulated message starts with the continuation marker and the metadata length.
_PREFIX = struct.Struct("<Ii")
_PREFIX_SIZE = _PREFIX.size
_UINT8 = struct.Struct("<B")
_UINT16_PAIR = struct.Struct("<HH")
_UINT16 = struct.Struct("<H")
_UINT32 = struct.Struct("<I")
_INT32 = struct.Struct("<i")
_INT64 = struct.Struct("<q")

# Message.header_type values (the MessageHeader union of Message.fbs).
_SCHEMA = 1
_RECORD_BATCH = 3

# Field ids of the Message, RecordBatch and KeyValue tables.
_MESSAGE_HEADER_TYPE = 1
_MESSAGE_HEADER = 2
_MESSAGE_BODY_LENGTH = 3
_MESSAGE_CUSTOM_METADATA = 4
_RECORD_BATCH_LENGTH = 0
_KEY_VALUE_KEY = 0
_KEY_VALUE_VALUE = 1

_HEARTBEAT_KEY = "polarway.heartbeat"
_LAGGED_KEY = "polarway.lagged"
_CLOSED_KEY = "polarway.closed"


class _ProtocolError(Exception):
    """The bytes received break the stream format; the message says how."""


def _check_range(size, position, length):
    if position < 0 or length < 0 or position + length > size:
        raise _ProtocolError(
            f"flatbuffer reference to bytes {position}..{position + length} outside its {size} bytes"
        )


class _FlatTable:
    """A flatbuffer table whose vtable and inline fields lie within the buffer.

    Every read is checked against the buffer's size before it happens, so a hostile buffer
    can only produce a ``_ProtocolError``.
    """

    __slots__ = ("_buf", "_size", "_position", "_vtable", "_vtable_size", "_table_size")

    def __init__(self, buf, size, position):
        _check_range(size, position, 4)
        vtable = position - _INT32.unpack_from(buf, position)[0]
        _check_range(size, vtable, 4)
        vtable_size, table_size = _UINT16_PAIR.unpack_from(buf, vtable)
        # The vtable holds its own two sizes and whole uint16 entries; the table holds at
        # least its vtable offset; both lie within the buffer.
        if vtable_size < 4 or vtable_size % 2 or vtable + vtable_size > size:
            raise _ProtocolError(f"flatbuffer vtable of {vtable_size} bytes at {vtable} in {size}")
        if table_size < 4 or position + table_size > size:
            raise _ProtocolError(f"flatbuffer table of {table_size} bytes at {position} in {size}")
        self._buf = buf
        self._size = size
        self._position = position
        self._vtable = vtable
        self._vtable_size = vtable_size
        self._table_size = table_size

    def _field(self, field_id, width):
        """The absolute position of a present field of ``width`` bytes, or None if absent."""
        entry = 4 + 2 * field_id
        if entry + 2 > self._vtable_size:
            return None
        offset = _UINT16.unpack_from(self._buf, self._vtable + entry)[0]
        if offset == 0:
            return None
        if offset + width > self._table_size:
            raise _ProtocolError(f"flatbuffer field {field_id} outside its table")
        return self._position + offset

    def _target(self, field_id):
        """Where a reference field (a uoffset relative to itself) points, or None if absent."""
        position = self._field(field_id, 4)
        if position is None:
            return None
        target = position + _UINT32.unpack_from(self._buf, position)[0]
        _check_range(self._size, target, 4)
        return target

    def uint8(self, field_id, default):
        position = self._field(field_id, 1)
        return default if position is None else _UINT8.unpack_from(self._buf, position)[0]

    def int64(self, field_id, default):
        position = self._field(field_id, 8)
        return default if position is None else _INT64.unpack_from(self._buf, position)[0]

    def table(self, field_id):
        target = self._target(field_id)
        return None if target is None else _FlatTable(self._buf, self._size, target)

    def string(self, field_id):
        target = self._target(field_id)
        if target is None:
            return None
        length = _UINT32.unpack_from(self._buf, target)[0]
        _check_range(self._size, target + 4, length)
        try:
            return bytes(self._buf[target + 4 : target + 4 + length]).decode("utf-8")
        except UnicodeDecodeError as error:
            raise _ProtocolError(f"flatbuffer string is not UTF-8: {error}") from None

    def tables(self, field_id):
        """The tables of a vector-of-tables field; an absent field is an empty vector."""
        target = self._target(field_id)
        if target is None:
            return []
        count = _UINT32.unpack_from(self._buf, target)[0]
        _check_range(self._size, target + 4, 4 * count)
        tables = []
        for index in range(count):
            element = target + 4 + 4 * index
            tables.append(
                _FlatTable(self._buf, self._size, element + _UINT32.unpack_from(self._buf, element)[0])
            )
        return tables


def _read_message_header(metadata):
    """(header_type, body_length, custom metadata, row count) of a Message flatbuffer.

    The row count is read only for a record batch with custom metadata, where it must be
    checked to be 0 before the message is taken as a status message; it is None otherwise,
    as pyarrow reads data batches' row counts itself.
    """
    size = len(metadata)
    _check_range(size, 0, 4)
    message = _FlatTable(metadata, size, _UINT32.unpack_from(metadata, 0)[0])
    header_type = message.uint8(_MESSAGE_HEADER_TYPE, 0)
    body_length = message.int64(_MESSAGE_BODY_LENGTH, 0)
    custom_metadata = {}
    for pair in message.tables(_MESSAGE_CUSTOM_METADATA):
        custom_metadata[pair.string(_KEY_VALUE_KEY)] = pair.string(_KEY_VALUE_VALUE)
    batch_length = None
    if custom_metadata and header_type == _RECORD_BATCH:
        header = message.table(_MESSAGE_HEADER)
        if header is None:
            raise _ProtocolError("record batch message without its header")
        batch_length = header.int64(_RECORD_BATCH_LENGTH, 0)
    return header_type, body_length, custom_metadata, batch_length


def _parse_count(key, text):
    """A non-negative decimal integer; ``int()`` alone would also take signs, blanks and '_'."""
    if text is None or not text or not text.isascii() or not text.isdigit():
        raise _ProtocolError(f"{key} value {text!r} is not a non-negative integer")
    return int(text)


def _schema_difference(received, expected):
    """The first way ``received`` departs from ``expected``, for the protocol error's text."""
    for index, wanted in enumerate(expected):
        if index >= len(received):
            return f"field {index} ({wanted}) is missing"
        got = received.field(index)
        if not got.equals(wanted):
            return f"field {index} is {got}, expected {wanted}"
    return f"{len(received) - len(expected)} fields more than the {len(expected)} expected"


class TickStreamDecoder:
    """Decodes the response stream of one subscription request for ``kind``.

    ``feed(data)`` returns, in stream order, the events that ``data`` completed:
    ``pyarrow.RecordBatch`` for data batches with at least one row (their schema is the
    announced one, metadata included), ``Heartbeat``, ``Lagged`` and finally one ``Closed``.
    After ``Closed`` the decoder is ``finished`` and ignores further input. ``eof()`` reports
    the end of the connection, a ``Closed("connection lost: ...")`` unless already finished.
    """

    def __init__(self, kind):
        if kind not in KINDS:
            raise ValueError(f"unknown tick kind {kind!r}; expected one of {', '.join(KINDS)}")
        self.kind = kind
        self.schema = None
        self.finished = False
        self._expected_schema = tick_schema(kind)
        # Bytes of a prefix or of metadata that arrived split across feeds.
        self._pending = bytearray()
        # Metadata length of the message whose prefix is read; -1 while reading a prefix.
        self._metadata_length = -1
        # The message whose body is arriving across feeds: its Arrow buffer, a writable byte
        # view of it, how many bytes of it have arrived, and what its flatbuffer header said.
        self._message_buffer = None
        self._message = None
        self._message_filled = 0
        self._header = None

    def feed(self, data):
        events = []
        if self.finished:
            return events
        view = memoryview(data)
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
        position, end = 0, len(view)
        try:
            while position < end and not self.finished:
                if self._message is not None:
                    position = self._fill_message(view, position, end, events)
                elif self._metadata_length < 0:
                    position = self._read_prefix(view, position, end)
                else:
                    position = self._read_metadata(view, position, end, events)
        except _ProtocolError as error:
            self._finish(events, Closed(self.kind, f"protocol error: {error}"))
        except MemoryError:
            # A message of a size the protocol allows (up to 1 GiB of body) did not fit.
            self._finish(events, Closed(self.kind, "protocol error: no memory for the message"))
        return events

    def eof(self):
        events = []
        if not self.finished:
            if self._pending or self._metadata_length >= 0 or self._message is not None:
                what = "end of file inside a message"
            else:
                what = "end of file before the end of the stream"
            self._finish(events, Closed(self.kind, f"connection lost: {what}"))
        return events

    def _finish(self, events, closed):
        self.finished = True
        self._pending = bytearray()
        self._message_buffer = self._message = self._header = None
        events.append(closed)

    def _read_prefix(self, view, position, end):
        if not self._pending and end - position >= _PREFIX_SIZE:
            continuation, length = _PREFIX.unpack_from(view, position)
            position += _PREFIX_SIZE
        else:
            take = min(_PREFIX_SIZE - len(self._pending), end - position)
            self._pending += view[position : position + take]
            position += take
            if len(self._pending) < _PREFIX_SIZE:
                return position
            continuation, length = _PREFIX.unpack_from(self._pending)
            self._pending.clear()
        if continuation != CONTINUATION:
            raise _ProtocolError(f"continuation marker 0x{continuation:08X}, expected 0xFFFFFFFF")
        if length == 0:
            if self.schema is None:
                raise _ProtocolError("end of stream before the schema")
            raise _ProtocolError("end of stream without a closing message")
        if length < 0 or length > MAX_METADATA_LENGTH:
            raise _ProtocolError(f"metadata length {length} outside 1..{MAX_METADATA_LENGTH}")
        self._metadata_length = length
        return position

    def _read_metadata(self, view, position, end, events):
        length = self._metadata_length
        if not self._pending and end - position >= length:
            metadata = view[position : position + length]
            position += length
        else:
            take = min(length - len(self._pending), end - position)
            self._pending += view[position : position + take]
            position += take
            if len(self._pending) < length:
                return position
            metadata = self._pending
        header_type, body_length, custom_metadata, batch_length = _read_message_header(metadata)
        if header_type not in (_SCHEMA, _RECORD_BATCH):
            raise _ProtocolError(f"unexpected message type {header_type}")
        if body_length < 0 or body_length > MAX_BODY_LENGTH:
            raise _ProtocolError(f"body length {body_length} outside 0..{MAX_BODY_LENGTH}")
        header = (header_type, custom_metadata, batch_length)
        self._metadata_length = -1
        if end - position >= body_length:
            # The body is in this piece: the message is copied whole, its prefix rebuilt.
            body = view[position : position + body_length]
            message = b"".join((_PREFIX.pack(CONTINUATION, length), metadata, body))
            self._pending.clear()
            self._decode(pa.py_buffer(message), header, events)
            return position + body_length
        # The body is still to come: one Arrow allocation of the message's exact size
        # (64-byte aligned, not zero-filled) that the bytes fill as they arrive.
        buffer = pa.allocate_buffer(_PREFIX_SIZE + length + body_length)
        message = memoryview(buffer).cast("B")
        _PREFIX.pack_into(message, 0, CONTINUATION, length)
        message[_PREFIX_SIZE : _PREFIX_SIZE + length] = metadata
        self._pending.clear()
        self._message_buffer = buffer
        self._message = message
        self._message_filled = _PREFIX_SIZE + length
        self._header = header
        return position

    def _fill_message(self, view, position, end, events):
        filled = self._message_filled
        take = min(len(self._message) - filled, end - position)
        self._message[filled : filled + take] = view[position : position + take]
        self._message_filled = filled + take
        if self._message_filled == len(self._message):
            buffer, header = self._message_buffer, self._header
            self._message.release()
            self._message_buffer = self._message = self._header = None
            self._decode(buffer, header, events)
        return position + take

    def _decode(self, buffer, header, events):
        """Decodes one whole message; the batches it yields keep ``buffer`` alive."""
        header_type, custom_metadata, batch_length = header
        if header_type == _SCHEMA:
            self._on_schema(buffer, events)
        else:
            self._on_record_batch(buffer, custom_metadata, batch_length, events)

    def _on_schema(self, buffer, events):
        if self.schema is not None:
            raise _ProtocolError("a second schema message")
        try:
            schema = pa.ipc.read_schema(buffer)
        except Exception as error:
            raise _ProtocolError(f"undecodable schema: {error}") from None
        metadata = schema.metadata or {}
        refusal = metadata.get(b"polarway.error")
        if refusal is not None:
            self._finish(events, Closed(self.kind, refusal.decode("utf-8", "replace")))
            return
        announced = metadata.get(b"polarway.kind")
        if announced is None:
            raise _ProtocolError("schema without polarway.kind metadata")
        announced = announced.decode("utf-8", "replace")
        if announced != self.kind:
            raise _ProtocolError(f"schema is for kind {announced!r}, the request was for {self.kind!r}")
        if not schema.equals(self._expected_schema, check_metadata=False):
            difference = _schema_difference(schema, self._expected_schema)
            raise _ProtocolError(f"{self.kind} schema is not polarway-ticks/1's: {difference}")
        self.schema = schema

    def _on_record_batch(self, buffer, custom_metadata, batch_length, events):
        if self.schema is None:
            raise _ProtocolError("record batch before the schema")
        if custom_metadata and (
            _HEARTBEAT_KEY in custom_metadata
            or _LAGGED_KEY in custom_metadata
            or _CLOSED_KEY in custom_metadata
        ):
            self._on_status(batch_length, custom_metadata, events)
            return
        try:
            batch = pa.ipc.read_record_batch(buffer, self.schema)
            # Full validation checks offsets and UTF-8 too, so that a hostile batch is
            # refused here rather than crashing whoever reads its columns later.
            batch.validate(full=True)
        except Exception as error:
            raise _ProtocolError(f"undecodable record batch: {error}") from None
        if batch.num_rows:
            events.append(batch)

    def _on_status(self, batch_length, custom_metadata, events):
        if batch_length != 0:
            raise _ProtocolError(f"status message with {batch_length} rows")
        heartbeat = custom_metadata.get(_HEARTBEAT_KEY)
        if heartbeat is not None:
            events.append(Heartbeat(self.kind, _parse_count(_HEARTBEAT_KEY, heartbeat)))
        lagged = custom_metadata.get(_LAGGED_KEY)
        if lagged is not None:
            events.append(Lagged(self.kind, _parse_count(_LAGGED_KEY, lagged)))
        reason = custom_metadata.get(_CLOSED_KEY)
        if reason is not None:
            self._finish(events, Closed(self.kind, reason, orderly=True))
