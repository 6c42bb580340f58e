"""polarway-ticks: the Python subscriber of polarway-ingest's live tick feed.

``subscribe(url, kinds=...)`` returns a ``Subscription``; iterating it (``for`` or
``async for``) yields ``pyarrow.RecordBatch`` data and the status values ``Stale``,
``Lagged`` and ``Closed``. ``TickStreamDecoder`` is the sans-IO stream decoder both paths
use, ``tick_schema`` the schema of each kind, and ``to_polars`` turns a batch into a Polars
DataFrame.
"""

from .decoder import TickStreamDecoder
from .events import Closed, Heartbeat, Lagged, Stale
from .frames import to_polars
from .schemas import KINDS, tick_schema
from .subscription import PROTOCOL, Subscription, request_line, subscribe

__version__ = "0.1.0"

__all__ = [
    "KINDS",
    "PROTOCOL",
    "Closed",
    "Heartbeat",
    "Lagged",
    "Stale",
    "Subscription",
    "TickStreamDecoder",
    "request_line",
    "subscribe",
    "tick_schema",
    "to_polars",
]
