"""The Arrow schemas of the three tick kinds, as polarway-ticks/1 defines them.

Every field is non-nullable except ``sent_time``, which is null for ticks from a real
exchange (only the feed simulator stamps its send time). Prices and quantities are exact
decimals with 8 fractional digits; event and trade times are exchange milliseconds,
``sent_time`` and ``recv_time`` are nanoseconds.
"""

import pyarrow as pa

KINDS = ("trade", "aggTrade", "bookTicker")

_MILLIS = pa.timestamp("ms", tz="UTC")
_NANOS = pa.timestamp("ns", tz="UTC")
_DECIMAL = pa.decimal128(18, 8)


def _required(name, type_):
    return pa.field(name, type_, nullable=False)


_FIELDS = {
    "trade": [
        _required("event_time", _MILLIS),
        _required("symbol", pa.string()),
        _required("trade_id", pa.int64()),
        _required("price", _DECIMAL),
        _required("quantity", _DECIMAL),
        _required("trade_time", _MILLIS),
        _required("is_buyer_maker", pa.bool_()),
        pa.field("sent_time", _NANOS, nullable=True),
        _required("recv_time", _NANOS),
    ],
    "aggTrade": [
        _required("event_time", _MILLIS),
        _required("symbol", pa.string()),
        _required("agg_trade_id", pa.int64()),
        _required("price", _DECIMAL),
        _required("quantity", _DECIMAL),
        _required("first_trade_id", pa.int64()),
        _required("last_trade_id", pa.int64()),
        _required("trade_time", _MILLIS),
        _required("is_buyer_maker", pa.bool_()),
        pa.field("sent_time", _NANOS, nullable=True),
        _required("recv_time", _NANOS),
    ],
    "bookTicker": [
        _required("update_id", pa.int64()),
        _required("symbol", pa.string()),
        _required("bid_price", _DECIMAL),
        _required("bid_qty", _DECIMAL),
        _required("ask_price", _DECIMAL),
        _required("ask_qty", _DECIMAL),
        _required("event_time", _MILLIS),
        pa.field("sent_time", _NANOS, nullable=True),
        _required("recv_time", _NANOS),
    ],
}


def tick_schema(kind, heartbeat_ms=100):
    """The schema a server announces for ``kind``, with its ``polarway.*`` schema metadata."""
    if kind not in _FIELDS:
        raise ValueError(f"unknown tick kind {kind!r}; expected one of {', '.join(KINDS)}")
    metadata = {"polarway.kind": kind, "polarway.heartbeat_ms": str(heartbeat_ms)}
    return pa.schema(_FIELDS[kind], metadata=metadata)
