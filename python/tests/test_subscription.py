"""Subscriptions against the fake server, each case once with ``for`` and once with ``async for``."""

import asyncio
import random
import threading
import time

import pyarrow as pa
import pytest

from conftest import (
    END_OF_STREAM,
    batch_message,
    closed_message,
    collect,
    heartbeat_message,
    lagged_message,
    make_batch,
    refusal_message,
    schema_message,
    stream_bytes,
)
from polarway_ticks import Closed, Lagged, Stale, subscribe, tick_schema

MODES = ["sync", "async"]


def kinds_of(items):
    return [type(item).__name__ for item in items]


@pytest.mark.parametrize("mode", MODES)
def test_data_batches_round_trip_exactly(fake_server, mode):
    batches = [make_batch("trade", 4096), make_batch("trade", 1, start=4096), make_batch("trade", 777, start=4097)]
    server = fake_server(lambda peer: peer.send(stream_bytes("trade", batches, reason="end of day")))
    items = collect(subscribe(server.url), mode)
    assert items[-1] == Closed("trade", "end of day") and items[-1].orderly
    assert len(items) == len(batches) + 1
    for got, sent in zip(items, batches):
        assert isinstance(got, pa.RecordBatch)
        assert got.equals(sent)
        assert got.column("price").to_pylist() == sent.column("price").to_pylist()
        assert got.column("quantity").to_pylist() == sent.column("quantity").to_pylist()
        assert got.schema.metadata[b"polarway.kind"] == b"trade"
        assert got.schema.metadata[b"polarway.heartbeat_ms"] == b"100"


@pytest.mark.parametrize("mode", MODES)
def test_tcp_urls_work_as_unix_ones_do(fake_server, mode):
    batches = [make_batch("bookTicker", 2000), make_batch("bookTicker", 3, start=2000)]
    server = fake_server(lambda peer: peer.send(stream_bytes("bookTicker", batches)), tcp=True)
    items = collect(subscribe(server.url, kinds=["bookTicker"]), mode)
    assert kinds_of(items) == ["RecordBatch", "RecordBatch", "Closed"]
    assert all(got.equals(sent) for got, sent in zip(items, batches))


@pytest.mark.parametrize("mode", MODES)
def test_request_lines_follow_the_protocol(fake_server, mode):
    server = fake_server(lambda peer: peer.send(stream_bytes(peer.kind, [])))
    collect(subscribe(server.url, kinds=["trade"], symbols=["BTCUSDT", "ETHUSDT"], policy="lossy"), mode)
    collect(subscribe(server.url, kinds="aggTrade"), mode)
    collect(subscribe(server.url, kinds=("bookTicker",), symbols="SOLUSDT,1000PEPEUSDT"), mode)
    assert server.requests == [
        b"polarway-ticks/1 kind=trade symbols=BTCUSDT,ETHUSDT policy=lossy\n",
        b"polarway-ticks/1 kind=aggTrade policy=block\n",
        b"polarway-ticks/1 kind=bookTicker symbols=SOLUSDT,1000PEPEUSDT policy=block\n",
    ]


@pytest.mark.parametrize("mode", MODES)
def test_heartbeats_keep_the_subscription_from_going_stale(fake_server, mode):
    def handler(peer):
        peer.send_schema()
        # Heartbeats at a tenth of stale_after, for twice as long as stale_after.
        for _ in range(20):
            peer.send(heartbeat_message("trade"))
            time.sleep(0.05)
        peer.send(batch_message(make_batch("trade", 10)) + closed_message("trade", "done"))

    server = fake_server(handler)
    items = collect(subscribe(server.url, stale_after=0.5), mode)
    assert kinds_of(items) == ["RecordBatch", "Closed"]


@pytest.mark.parametrize("mode", MODES)
def test_silence_is_reported_stale_until_data_resumes(fake_server, mode):
    resume = threading.Event()
    stale_reports = []

    def handler(peer):
        peer.send_schema()
        assert resume.wait(20), "the subscriber never reported the silence"
        peer.send(batch_message(make_batch("trade", 5)) + closed_message("trade", "done"))

    def on_item(item):
        if isinstance(item, Stale):
            stale_reports.append(item)
            if len(stale_reports) == 2:
                resume.set()

    server = fake_server(handler)
    items = collect(subscribe(server.url, stale_after=0.2), mode, on_item=on_item)
    first_data = kinds_of(items).index("RecordBatch")
    assert all(isinstance(item, Stale) for item in items[:first_data]) and first_data >= 2
    assert kinds_of(items[first_data:]) == ["RecordBatch", "Closed"]
    assert stale_reports[0].kind == "trade"
    assert stale_reports[0].silent_for >= 0.2
    assert stale_reports[1].silent_for >= 0.4


@pytest.mark.parametrize("mode", MODES)
def test_lagged_is_reported_between_batches(fake_server, mode):
    def handler(peer):
        peer.send_schema()
        peer.send(batch_message(make_batch("trade", 3)))
        peer.send(lagged_message("trade", 7))
        peer.send(batch_message(make_batch("trade", 4)))
        peer.send(closed_message("trade", "done"))

    server = fake_server(handler)
    items = collect(subscribe(server.url, policy="lossy"), mode)
    assert kinds_of(items) == ["RecordBatch", "Lagged", "RecordBatch", "Closed"]
    assert items[1] == Lagged("trade", 7)


@pytest.mark.parametrize("mode", MODES)
def test_refused_request_closes_with_the_servers_reason(fake_server, mode):
    server = fake_server(lambda peer: peer.send(refusal_message("unknown symbol XYZ") + END_OF_STREAM))
    items = collect(subscribe(server.url, symbols=["XYZ"]), mode)
    assert items == [Closed("trade", "unknown symbol XYZ")]
    assert not items[0].orderly


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("sent", ["nothing", "half a batch"])
def test_end_of_file_without_end_of_stream_is_connection_lost(fake_server, mode, sent):
    def handler(peer):
        if sent == "half a batch":
            message = batch_message(make_batch("trade", 100))
            peer.send(schema_message(tick_schema("trade")) + message[: len(message) // 2])

    server = fake_server(handler)
    items = collect(subscribe(server.url), mode)
    assert len(items) == 1 and isinstance(items[0], Closed)
    assert items[0].reason.startswith("connection lost: ")


HOSTILE = {
    "wrong continuation": b"\x00\x00\x00\x10" + b"\x00" * 24,
    "huge metadata length": b"\xff\xff\xff\xff\xff\xff\xff\x7f",
    "truncated flatbuffer": b"\xff\xff\xff\xff\x10\x00\x00\x00" + b"\xf0\x00\x00\x00" + b"\x00" * 12,
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_bytes_close_with_a_protocol_error(fake_server, mode, name):
    def handler(peer):
        peer.send_schema()
        peer.send(HOSTILE[name])
        # The connection stays open: only the subscriber's own check can end it.
        assert peer.wait_for_disconnect(), "the subscriber kept the connection open"

    server = fake_server(handler)
    items = collect(subscribe(server.url), mode)
    assert len(items) == 1 and items[0].reason.startswith("protocol error: "), items


@pytest.mark.parametrize("mode", MODES)
def test_seeded_random_garbage_closes_with_a_protocol_error(fake_server, mode):
    def handler(peer):
        seed = int(peer.symbols)
        garbage = random.Random(seed).randbytes(8 + seed * 37)
        if seed % 2:
            peer.send_schema()
        peer.send(garbage)
        assert peer.wait_for_disconnect(), "the subscriber kept the connection open"

    server = fake_server(handler)
    for seed in range(12):
        # The seed travels to the handler as the (valid) symbol list.
        items = collect(subscribe(server.url, symbols=[str(seed)]), mode)
        assert len(items) == 1 and items[0].reason.startswith("protocol error: "), (seed, items)


@pytest.mark.parametrize("mode", MODES)
def test_connect_failure_is_closed(tmp_path, mode):
    items = collect(subscribe(f"unix:{tmp_path}/nobody-listens.sock", kinds=["trade", "bookTicker"]), mode)
    assert [item.kind for item in items] == ["trade", "bookTicker"]
    assert all(isinstance(item, Closed) and item.reason.startswith("connect failed: ") for item in items)


@pytest.mark.parametrize("mode", MODES)
def test_kinds_are_multiplexed_over_their_own_connections(fake_server, mode):
    rows = {"trade": 11, "aggTrade": 22, "bookTicker": 33}

    def handler(peer):
        if peer.kind == "aggTrade":
            peer.send(refusal_message("aggTrade is not published") + END_OF_STREAM)
            return
        peer.send_schema()
        for start in range(0, 3 * rows[peer.kind], rows[peer.kind]):
            peer.send(batch_message(make_batch(peer.kind, rows[peer.kind], start=start)))
            peer.send(heartbeat_message(peer.kind))
        peer.send(closed_message(peer.kind, f"{peer.kind} done"))

    server = fake_server(handler)
    items = collect(subscribe(server.url, kinds=["trade", "aggTrade", "bookTicker"]), mode)
    closed = [item for item in items if isinstance(item, Closed)]
    assert sorted(closed, key=lambda item: item.kind) == [
        Closed("aggTrade", "aggTrade is not published"),
        Closed("bookTicker", "bookTicker done"),
        Closed("trade", "trade done"),
    ]
    for kind in ("trade", "bookTicker"):
        batches = [item for item in items if isinstance(item, pa.RecordBatch)
                   and item.schema.metadata[b"polarway.kind"] == kind.encode()]
        assert [batch.num_rows for batch in batches] == [rows[kind]] * 3
        assert pa.Table.from_batches(batches).equals(pa.Table.from_batches([make_batch(kind, 3 * rows[kind])]))
        assert items.index(Closed(kind, f"{kind} done")) > items.index(batches[-1])
    assert not any(isinstance(item, pa.RecordBatch) and item.schema.metadata[b"polarway.kind"] == b"aggTrade"
                   for item in items)


def _endless_handler(left):
    def handler(peer):
        # One write that the kernel buffers whole, so that it is done before the subscriber,
        # having read its first batch, may leave.
        first = schema_message(tick_schema("trade")) + batch_message(make_batch("trade", 5))
        peer.send(first + batch_message(make_batch("trade", 6)))
        peer.heartbeat_until_disconnect()
        if not peer.stopping.is_set():
            left.set()

    return handler


def test_closing_mid_iteration_hangs_up(fake_server):
    left = threading.Event()
    server = fake_server(_endless_handler(left))
    with subscribe(server.url) as subscription:
        for item in subscription:
            assert isinstance(item, pa.RecordBatch)
            break
    assert left.wait(10), "the server never saw the subscriber leave"
    assert list(subscription) == []


def test_iteration_resumes_after_a_break(fake_server):
    left = threading.Event()
    server = fake_server(_endless_handler(left))
    with subscribe(server.url) as subscription:
        first = next(iter(subscription))
        for item in subscription:
            second = item
            break
    assert (first.num_rows, second.num_rows) == (5, 6)
    assert left.wait(10)


def test_async_close_hangs_up(fake_server):
    left = threading.Event()
    server = fake_server(_endless_handler(left))

    async def first_batch():
        async with subscribe(server.url) as subscription:
            async for item in subscription:
                return item

    assert asyncio.run(first_batch()).num_rows == 5
    assert left.wait(10), "the server never saw the subscriber leave"


def test_nothing_connects_before_iteration(fake_server):
    server = fake_server(lambda peer: peer.send(stream_bytes("trade", [])))
    subscription = subscribe(server.url)
    assert not server.accepted.acquire(timeout=0.2)
    assert collect(subscription, "sync") == [Closed("trade", "end of test")]
    assert server.accepted.acquire(timeout=0)


def test_one_subscription_is_iterated_one_way(fake_server):
    server = fake_server(lambda peer: peer.send(stream_bytes("trade", [])))
    subscription = subscribe(server.url)
    iter(subscription)
    with pytest.raises(RuntimeError):
        subscription.__aiter__()
    subscription.close()
