#!/usr/bin/env python3
"""A small "brain" on polarway-ingest's live tick feed.

It subscribes to trades and book tickers, keeps each symbol's exact volume-weighted average
price and its latest bid/ask spread, prints one line a second and every status value (stale,
lagged, closed) as it comes. Sums are exact: pyarrow adds each batch's decimal columns per
symbol (the price * quantity products as decimal256, which cannot overflow), and the batch
sums are added up as Python Decimals in a context that raises rather than rounds.

Exit status: 0 when the run ends normally (--seconds elapsed, Ctrl-C, or the server closed
every stream in order), 1 when a stream closed with an error (refused, connection lost,
protocol error, connect failure), 2 on bad arguments.
"""

import argparse
import asyncio
import decimal
import json
import pathlib
import signal
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc

try:
    import polarway_ticks as pt
except ImportError:
    # Not installed: use the package in this repository's python/ directory.
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "python"))
    import polarway_ticks as pt

KINDS = ("trade", "bookTicker")

# Every sum goes through this context: far more digits than any sum of decimal128(18, 8)
# values can have, and rounding (Inexact) raises, so a sum is exact or the brain stops.
EXACT = decimal.Context(prec=100, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow])
# The VWAP quotient is the one value that is rounded: to 8 fractional digits, for display.
ROUNDED = decimal.Context(prec=50)
EIGHT_DIGITS = decimal.Decimal("1e-8")
ZERO = decimal.Decimal(0)
WIDE = pa.decimal256(18, 8)


def text(value):
    """A Decimal as plain positional text ("0.00000000", never "0E-8"); None stays None."""
    return None if value is None else format(value, "f")


class TradeStats:
    def __init__(self):
        self.count = 0
        self.price_sum = ZERO
        self.quantity_sum = ZERO
        self.notional_sum = ZERO

    def vwap(self):
        if self.quantity_sum == 0:
            return None
        return ROUNDED.divide(self.notional_sum, self.quantity_sum).quantize(EIGHT_DIGITS, context=ROUNDED)


class Quote:
    def __init__(self):
        self.count = 0
        self.bid = None
        self.ask = None

    def spread(self):
        return None if self.bid is None else EXACT.subtract(self.ask, self.bid)


class Brain:
    def __init__(self, symbols):
        self.watch = symbols
        self.trades = {}
        self.quotes = {}
        self.status = {"stale": 0, "lagged": 0, "lagged_batches": 0, "closed": 0}
        self.closed = []
        self.trades_at_last_line = 0

    def on_item(self, item):
        if isinstance(item, pa.RecordBatch):
            if item.schema.metadata[b"polarway.kind"] == b"trade":
                self.on_trades(item)
            else:
                self.on_quotes(item)
        elif isinstance(item, pt.Stale):
            self.status["stale"] += 1
            print(f"status: {item.kind} stale, silent for {item.silent_for:.1f} s", flush=True)
        elif isinstance(item, pt.Lagged):
            self.status["lagged"] += 1
            self.status["lagged_batches"] += item.batches
            print(f"status: {item.kind} lagged, {item.batches} batches dropped by the server", flush=True)
        elif isinstance(item, pt.Closed):
            self.status["closed"] += 1
            self.closed.append(item)
            how = "closed" if item.orderly else "closed with an error"
            print(f"status: {item.kind} {how}: {item.reason}", flush=True)

    def on_trades(self, batch):
        price = batch.column("price")
        quantity = batch.column("quantity")
        table = pa.table(
            {
                "symbol": batch.column("symbol"),
                "price": price,
                "quantity": quantity,
                "notional": pc.multiply(price.cast(WIDE), quantity.cast(WIDE)),
            }
        )
        sums = table.group_by("symbol", use_threads=False).aggregate(
            [("price", "count"), ("price", "sum"), ("quantity", "sum"), ("notional", "sum")]
        )
        for row in sums.to_pylist():
            stats = self.trades.setdefault(row["symbol"], TradeStats())
            stats.count += row["price_count"]
            stats.price_sum = EXACT.add(stats.price_sum, row["price_sum"])
            stats.quantity_sum = EXACT.add(stats.quantity_sum, row["quantity_sum"])
            stats.notional_sum = EXACT.add(stats.notional_sum, row["notional_sum"])

    def on_quotes(self, batch):
        # The latest quote of a symbol is its last row in the batch: the largest row number
        # in the symbol's group.
        rows = pa.array(range(batch.num_rows), pa.int64())
        table = pa.table({"symbol": batch.column("symbol"), "row": rows})
        last = table.group_by("symbol", use_threads=False).aggregate([("row", "max"), ("row", "count")])
        latest = batch.select(["symbol", "bid_price", "ask_price"]).take(last.column("row_max").combine_chunks())
        for quote_row, count in zip(latest.to_pylist(), last.column("row_count").to_pylist()):
            quote = self.quotes.setdefault(quote_row["symbol"], Quote())
            quote.count += count
            quote.bid = quote_row["bid_price"]
            quote.ask = quote_row["ask_price"]

    def line(self, elapsed):
        trades = sum(stats.count for stats in self.trades.values())
        quotes = sum(quote.count for quote in self.quotes.values())
        new = trades - self.trades_at_last_line
        self.trades_at_last_line = trades
        shown = self.watch or sorted(self.trades, key=lambda symbol: -self.trades[symbol].count)[:3]
        parts = [f"[{elapsed:6.1f} s] trades {trades} (+{new}) quotes {quotes}"]
        for symbol in shown:
            stats = self.trades.get(symbol)
            quote = self.quotes.get(symbol)
            vwap = stats.vwap() if stats else None
            spread = quote.spread() if quote else None
            parts.append(f"{symbol} vwap {text(vwap) or '-'} spread {text(spread) or '-'}")
        return " | ".join(parts)

    def summary(self, elapsed, ended_by, exit_code):
        return {
            "seconds": round(elapsed, 3),
            "ended_by": ended_by,
            "exit_code": exit_code,
            "trade": {
                symbol: {
                    "count": stats.count,
                    "price_sum": text(stats.price_sum),
                    "quantity_sum": text(stats.quantity_sum),
                    "notional_sum": text(stats.notional_sum),
                    "vwap": text(stats.vwap()),
                }
                for symbol, stats in sorted(self.trades.items())
            },
            "bookTicker": {
                symbol: {
                    "count": quote.count,
                    "bid_price": text(quote.bid),
                    "ask_price": text(quote.ask),
                    "spread": text(quote.spread()),
                }
                for symbol, quote in sorted(self.quotes.items())
            },
            "status": dict(self.status),
            "closed": [{"kind": c.kind, "reason": c.reason, "orderly": c.orderly} for c in self.closed],
        }


def positive_seconds(value):
    seconds = float(value)
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number of seconds")
    return seconds


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the publisher: unix:PATH or tcp:HOST:PORT")
    parser.add_argument("--symbols", help="comma-separated symbols (default: every symbol)")
    parser.add_argument("--seconds", type=positive_seconds, help="stop after this many seconds")
    parser.add_argument("--policy", choices=("block", "lossy"), default="block")
    parser.add_argument("--json-summary", metavar="PATH", help="write the final counts and sums here as JSON")
    arguments = parser.parse_args(argv)
    try:
        subscription = pt.subscribe(arguments.url, kinds=KINDS, symbols=arguments.symbols, policy=arguments.policy)
    except ValueError as error:
        parser.error(str(error))
    return arguments, subscription


async def run(arguments, subscription):
    symbols = arguments.symbols.split(",") if arguments.symbols else None
    brain = Brain(symbols)
    started = time.monotonic()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    async def consume():
        async for item in subscription:
            brain.on_item(item)

    async def report():
        while True:
            await asyncio.sleep(1.0)
            print(brain.line(time.monotonic() - started), flush=True)

    async with subscription:
        consumer = asyncio.create_task(consume())
        stopper = asyncio.create_task(stop.wait())
        reporter = asyncio.create_task(report())
        done, _ = await asyncio.wait(
            {consumer, stopper}, timeout=arguments.seconds, return_when=asyncio.FIRST_COMPLETED
        )
        if consumer in done:
            consumer.result()
            ended_by = "feed closed"
        else:
            ended_by = "interrupted" if stopper in done else "time"
        for task in (consumer, stopper, reporter):
            task.cancel()
        await asyncio.gather(consumer, stopper, reporter, return_exceptions=True)

    elapsed = time.monotonic() - started
    print(brain.line(elapsed), flush=True)
    exit_code = 1 if any(not closed.orderly for closed in brain.closed) else 0
    if arguments.json_summary:
        summary = brain.summary(elapsed, ended_by, exit_code)
        pathlib.Path(arguments.json_summary).write_text(json.dumps(summary, indent=2) + "\n")
    return exit_code


def main(argv=None):
    arguments, subscription = parse_arguments(argv)
    return asyncio.run(run(arguments, subscription))


if __name__ == "__main__":
    sys.exit(main())
