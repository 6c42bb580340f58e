"""Caller mistakes raise ValueError before any I/O; status values; to_polars."""

import sys
from decimal import Decimal

import pytest

from conftest import make_batch
from polarway_ticks import Closed, Lagged, Stale, request_line, subscribe, to_polars

URL = "unix:/nonexistent/polarway.sock"


@pytest.mark.parametrize(
    "arguments",
    [
        {"url": "http://localhost:80"},
        {"url": "unix:"},
        {"url": "tcp:localhost"},
        {"url": "tcp::9000"},
        {"url": "tcp:localhost:0"},
        {"url": "tcp:localhost:65536"},
        {"url": "tcp:localhost:http"},
        {"url": None},
        {"kinds": ()},
        {"kinds": ("trade", "depth")},
        {"kinds": ("trade", "trade")},
        {"symbols": []},
        {"symbols": ["btcusdt"]},
        {"symbols": "BTCUSDT,"},
        {"symbols": ["BTC-USDT"]},
        {"symbols": ["A" * 21]},
        {"symbols": [b"BTCUSDT"]},
        {"symbols": [f"S{index:019d}" for index in range(60)]},
        {"policy": "drop"},
        {"stale_after": 0},
        {"stale_after": -1.0},
        {"stale_after": "1"},
        {"connect_timeout": 0},
        {"connect_timeout": None},
    ],
)
def test_bad_arguments_raise_value_error(arguments):
    arguments = {"url": URL, **arguments}
    with pytest.raises(ValueError):
        subscribe(**arguments)


def test_good_arguments_are_accepted_without_connecting():
    subscription = subscribe("tcp:[::1]:9000", kinds=["trade", "bookTicker"], symbols="BTCUSDT,ETHUSDT",
                             policy="lossy", stale_after=None, connect_timeout=0.5)
    assert subscription.kinds == ("trade", "bookTicker")
    subscription.close()


def test_a_request_of_up_to_1024_bytes_is_accepted():
    symbols = [f"S{index:019d}" for index in range(46)]
    assert len(request_line("bookTicker", symbols, "block")) == 1020
    subscribe(URL, kinds="bookTicker", symbols=symbols).close()


def test_status_values_are_frozen_and_compare_by_value():
    assert Stale("trade", 1.5) == Stale("trade", 1.5)
    assert Lagged("trade", 3) != Lagged("trade", 4)
    assert Closed("trade", "bye", orderly=True) == Closed("trade", "bye")
    with pytest.raises(AttributeError):
        Closed("trade", "bye").reason = "other"


def test_to_polars_keeps_every_value():
    batch = make_batch("trade", 100)
    frame = to_polars(batch)
    assert frame.shape == (100, len(batch.schema))
    assert frame.columns == batch.schema.names
    assert frame["price"].to_list() == batch.column("price").to_pylist()
    assert frame["quantity"].sum() == sum(batch.column("quantity").to_pylist(), Decimal(0))
    assert frame["sent_time"].null_count() == batch.column("sent_time").null_count


def test_to_polars_without_polars_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(ImportError, match="polars"):
        to_polars(make_batch("trade", 1))
