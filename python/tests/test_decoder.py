"""The sans-IO decoder on its own: exact round trips, status messages and hostile input."""

import random
import struct

import pyarrow as pa
import pytest

from conftest import (
    END_OF_STREAM,
    batch_message,
    closed_message,
    heartbeat_message,
    lagged_message,
    make_batch,
    refusal_message,
    schema_message,
    stream_bytes,
)
from polarway_ticks import Closed, Heartbeat, Lagged, TickStreamDecoder, tick_schema
from polarway_ticks.decoder import MAX_BODY_LENGTH, MAX_METADATA_LENGTH


def decode(kind, data, piece_size=None):
    decoder = TickStreamDecoder(kind)
    events = []
    step = piece_size or max(len(data), 1)
    for offset in range(0, len(data), step):
        events.extend(decoder.feed(data[offset : offset + step]))
    return decoder, events


def closed_reason(events):
    assert events and isinstance(events[-1], Closed), events
    assert sum(isinstance(event, Closed) for event in events) == 1, events
    return events[-1].reason


@pytest.mark.parametrize("kind", ["trade", "aggTrade", "bookTicker"])
@pytest.mark.parametrize("piece_size", [1, 7, 4096, None])
def test_batches_round_trip_exactly_in_pieces_of_any_size(kind, piece_size):
    batches = [make_batch(kind, 50), make_batch(kind, 1, start=50), make_batch(kind, 300, start=51)]
    decoder, events = decode(kind, stream_bytes(kind, batches, reason="session over"), piece_size)
    assert events[-1] == Closed(kind, "session over")
    assert events[-1].orderly
    received = events[:-1]
    assert len(received) == len(batches)
    for got, sent in zip(received, batches):
        assert got.equals(sent)
        assert got.schema.metadata[b"polarway.kind"] == kind.encode()
        for column in ("price", "quantity", "bid_price", "ask_qty"):
            if column in sent.schema.names:
                assert got.column(column).to_pylist() == sent.column(column).to_pylist()
    assert decoder.finished
    assert decoder.schema.equals(tick_schema(kind), check_metadata=True)


def test_batches_own_their_bytes_once_the_receive_buffer_is_reused():
    batches = [make_batch("trade", 700, start=700 * index) for index in range(6)]
    data = stream_bytes("trade", batches)
    decoder = TickStreamDecoder("trade")
    receive = bytearray(5000)
    events = []
    for offset in range(0, len(data), len(receive)):
        piece = data[offset : offset + len(receive)]
        receive[: len(piece)] = piece
        events.extend(decoder.feed(memoryview(receive)[: len(piece)]))
        receive[:] = b"\xa5" * len(receive)
    assert [batch.equals(sent) for batch, sent in zip(events, batches)] == [True] * len(batches)
    assert events[-1] == Closed("trade", "end of test")


def test_status_messages_become_events_and_empty_data_batches_vanish():
    empty = pa.RecordBatch.from_pylist([], schema=tick_schema("trade"))
    data = b"".join(
        [
            schema_message(tick_schema("trade")),
            heartbeat_message("trade", 123456789),
            batch_message(empty),
            lagged_message("trade", 42),
            batch_message(make_batch("trade", 3)),
            closed_message("trade", "ingest shutting down"),
        ]
    )
    _, events = decode("trade", data)
    assert events[0] == Heartbeat("trade", 123456789)
    assert events[1] == Lagged("trade", 42)
    assert isinstance(events[2], pa.RecordBatch) and events[2].num_rows == 3
    assert events[3] == Closed("trade", "ingest shutting down")
    assert len(events) == 4


def test_input_after_closed_is_ignored():
    decoder, events = decode("trade", stream_bytes("trade", []))
    assert events == [Closed("trade", "end of test")]
    assert decoder.feed(b"garbage after the end") == []
    assert decoder.eof() == []


def test_refused_request_is_closed_with_the_servers_reason():
    _, events = decode("bookTicker", refusal_message("unknown symbol NOPE") + END_OF_STREAM)
    assert events == [Closed("bookTicker", "unknown symbol NOPE")]
    assert not events[0].orderly


@pytest.mark.parametrize("cut", [0, 3, 8, 100, -1])
def test_end_of_file_is_connection_lost(cut):
    data = schema_message(tick_schema("trade")) + batch_message(make_batch("trade", 10))
    decoder, events = decode("trade", data[:cut] if cut else b"")
    assert all(isinstance(event, pa.RecordBatch) for event in events)
    reason = closed_reason(events + decoder.eof())
    assert reason.startswith("connection lost: ")


def _flatbuffer_message(root_and_rest):
    """An encapsulated message whose metadata is ``root_and_rest`` padded to 8 bytes."""
    metadata = root_and_rest + b"\x00" * (-len(root_and_rest) % 8)
    return struct.pack("<Ii", 0xFFFFFFFF, len(metadata)) + metadata


SCHEMA = schema_message(tick_schema("trade"))
BATCH = batch_message(make_batch("trade", 5))

HOSTILE = {
    "wrong continuation": b"\xfe\xff\xff\xff\x10\x00\x00\x00" + b"\x00" * 16,
    "pre-1.0 prefix without continuation": SCHEMA[4:],
    "negative metadata length": struct.pack("<Ii", 0xFFFFFFFF, -8),
    "huge metadata length": struct.pack("<Ii", 0xFFFFFFFF, MAX_METADATA_LENGTH + 8),
    "root offset past the end": _flatbuffer_message(struct.pack("<I", 4096)),
    "vtable before the buffer": _flatbuffer_message(struct.pack("<Ii", 4, 1 << 20)),
    "vtable past the end": _flatbuffer_message(struct.pack("<Ii", 4, -4096)),
    "truncated flatbuffer": SCHEMA[:8] + SCHEMA[8:24] + b"\x00" * (len(SCHEMA) - 24),
    "all-zero metadata": _flatbuffer_message(b"\x00" * 16),
    "data before the schema": BATCH,
    "a second schema": SCHEMA + SCHEMA,
    "schema of another kind": schema_message(tick_schema("bookTicker")),
    "schema with other fields": schema_message(
        pa.schema([pa.field("price", pa.float64())], metadata={"polarway.kind": "trade"})
    ),
    "end of stream without closing": SCHEMA + END_OF_STREAM,
    "end of stream first": END_OF_STREAM,
    "status message with rows": SCHEMA
    + batch_message(make_batch("trade", 2), {"polarway.heartbeat": "1"}),
    "lagged count not a number": SCHEMA + batch_message(
        pa.RecordBatch.from_pylist([], schema=tick_schema("trade")), {"polarway.lagged": "-3"}
    ),
    "body of the batch scrambled": SCHEMA + BATCH[: len(BATCH) // 2] + b"\xff" * (len(BATCH) - len(BATCH) // 2),
}


def _with_body_length(message, body_length):
    """``message`` with its Message.bodyLength field rewritten in place."""
    metadata_length = struct.unpack_from("<i", message, 4)[0]
    metadata = message[8 : 8 + metadata_length]
    table = struct.unpack_from("<I", metadata, 0)[0]
    vtable = table - struct.unpack_from("<i", metadata, table)[0]
    field_offset = struct.unpack_from("<H", metadata, vtable + 4 + 2 * 3)[0]
    patched = bytearray(message)
    struct.pack_into("<q", patched, 8 + table + field_offset, body_length)
    return bytes(patched)


HOSTILE["body over 1 GiB"] = SCHEMA + _with_body_length(BATCH, MAX_BODY_LENGTH + 1)
HOSTILE["negative body length"] = SCHEMA + _with_body_length(BATCH, -1)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_bytes_are_protocol_errors(name):
    for piece_size in (None, 1):
        _, events = decode("trade", HOSTILE[name], piece_size)
        assert closed_reason(events).startswith("protocol error: "), (name, events)


def _random_messages(rng):
    """Byte strings that look more or less like a stream, for the seeded fuzz loop."""
    choice = rng.randrange(4)
    if choice == 0:
        return rng.randbytes(rng.randrange(1, 2000))
    if choice == 1:
        return SCHEMA + _flatbuffer_message(rng.randbytes(rng.randrange(1, 300)))
    valid = SCHEMA + BATCH + heartbeat_message("trade") + closed_message("trade", "bye")
    mutated = bytearray(valid if choice == 2 else SCHEMA + BATCH)
    for _ in range(rng.randrange(1, 8)):
        mutated[rng.randrange(len(mutated))] = rng.randrange(256)
    return bytes(mutated[: rng.randrange(1, len(mutated) + 1)])


def test_seeded_random_input_never_raises():
    allowed = (pa.RecordBatch, Heartbeat, Lagged, Closed)
    for seed in range(1500):
        rng = random.Random(seed)
        data = _random_messages(rng)
        piece_size = rng.choice([1, 13, 512, None])
        decoder, events = decode("trade", data, piece_size)
        events += decoder.eof()
        assert all(isinstance(event, allowed) for event in events), (seed, events)
        reason = closed_reason(events)
        assert events[-1].orderly or reason.startswith(("protocol error: ", "connection lost: ")), (seed, reason)
        for event in events:
            if isinstance(event, pa.RecordBatch):
                event.validate(full=True)


def test_unknown_kind_is_a_caller_mistake():
    with pytest.raises(ValueError):
        TickStreamDecoder("depth")
