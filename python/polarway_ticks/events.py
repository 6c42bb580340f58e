"""Status values a subscription yields between data batches, and the decoder's heartbeat event."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Stale:
    """``kind``'s connection has received no bytes, not even a heartbeat, for ``silent_for`` seconds.

    Yielded once per ``stale_after`` seconds of silence; the connection stays open, and
    whatever arrives later ends the silence.
    """

    kind: str
    silent_for: float


@dataclass(frozen=True)
class Lagged:
    """The server dropped ``batches`` undelivered batches of ``kind`` (``policy=lossy`` only)."""

    kind: str
    batches: int


@dataclass(frozen=True)
class Closed:
    """``kind``'s stream has ended; nothing more comes for it.

    ``reason`` is the server's closing reason, the text of a refused request, or a
    description starting with "connect failed: ", "connection lost: " or "protocol error: ".
    ``orderly`` is true only when the server ended the stream with its closing message; it
    is left out of equality so that ``Closed(kind, reason)`` compares by kind and reason.
    """

    kind: str
    reason: str
    orderly: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Heartbeat:
    """The server had nothing to send for ``kind``; ``unix_ns`` is its clock when it said so.

    The decoder reports heartbeats; a subscription only counts them as signs of life.
    """

    kind: str
    unix_ns: int
