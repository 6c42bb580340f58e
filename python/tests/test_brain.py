"""examples/python_brain/brain.py against the fake server, as a separate process."""

import json
import subprocess
import sys
from decimal import Context, Decimal, Inexact

import pyarrow as pa

from conftest import END_OF_STREAM, REPO_DIR, batch_message, closed_message, make_batch, refusal_message

BRAIN = REPO_DIR / "examples" / "python_brain" / "brain.py"
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
EXACT = Context(prec=100, traps=[Inexact])

TRADES = [make_batch("trade", 1000, SYMBOLS), make_batch("trade", 4096, SYMBOLS, start=1000),
          make_batch("trade", 7, SYMBOLS, start=5096)]
QUOTES = [make_batch("bookTicker", 500, SYMBOLS), make_batch("bookTicker", 64, SYMBOLS, start=500)]


def run_brain(*arguments, timeout=30):
    return subprocess.run([sys.executable, str(BRAIN), *arguments], capture_output=True, text=True,
                          timeout=timeout)


def expected_trades():
    rows = pa.Table.from_batches(TRADES).to_pylist()
    expected = {}
    for row in rows:
        sums = expected.setdefault(row["symbol"], {"count": 0, "price_sum": Decimal(0), "quantity_sum": Decimal(0),
                                                   "notional_sum": Decimal(0)})
        sums["count"] += 1
        sums["price_sum"] = EXACT.add(sums["price_sum"], row["price"])
        sums["quantity_sum"] = EXACT.add(sums["quantity_sum"], row["quantity"])
        sums["notional_sum"] = EXACT.add(sums["notional_sum"], EXACT.multiply(row["price"], row["quantity"]))
    return expected


def test_brain_keeps_exact_sums_and_ends_after_its_seconds(fake_server, tmp_path):
    def handler(peer):
        batches = TRADES if peer.kind == "trade" else QUOTES
        peer.send_schema()
        for batch in batches:
            peer.send(batch_message(batch))
        peer.heartbeat_until_disconnect()

    server = fake_server(handler)
    summary_path = tmp_path / "summary.json"
    result = run_brain("--url", server.url, "--symbols", ",".join(SYMBOLS), "--seconds", "2",
                       "--json-summary", str(summary_path))
    assert result.returncode == 0, result.stderr
    assert sorted(server.requests) == sorted(
        f"polarway-ticks/1 kind={kind} symbols={','.join(SYMBOLS)} policy=block\n".encode()
        for kind in ("trade", "bookTicker")
    )
    summary = json.loads(summary_path.read_text())
    assert summary["ended_by"] == "time" and 2.0 <= summary["seconds"] < 10
    assert summary["status"] == {"stale": 0, "lagged": 0, "lagged_batches": 0, "closed": 0}

    expected = expected_trades()
    assert sorted(summary["trade"]) == sorted(expected)
    for symbol, sums in expected.items():
        got = summary["trade"][symbol]
        assert got["count"] == sums["count"]
        for name in ("price_sum", "quantity_sum", "notional_sum"):
            assert Decimal(got[name]) == sums[name], (symbol, name)
        assert got["price_sum"] == format(sums["price_sum"], "f")

    last_quotes = {row["symbol"]: row for row in pa.Table.from_batches(QUOTES).to_pylist()}
    counts = {symbol: 0 for symbol in SYMBOLS}
    for row in pa.Table.from_batches(QUOTES).to_pylist():
        counts[row["symbol"]] += 1
    for symbol, row in last_quotes.items():
        got = summary["bookTicker"][symbol]
        assert got["count"] == counts[symbol]
        assert Decimal(got["bid_price"]) == row["bid_price"]
        assert Decimal(got["spread"]) == row["ask_price"] - row["bid_price"]

    lines = result.stdout.splitlines()
    assert any(line.startswith("[") and "BTCUSDT vwap" in line for line in lines), result.stdout


def test_brain_exits_1_when_the_feed_closes_with_an_error(fake_server, tmp_path):
    def handler(peer):
        if peer.kind == "trade":
            peer.send(refusal_message("no trades today") + END_OF_STREAM)
        else:
            peer.send_schema()
            peer.send(batch_message(make_batch("bookTicker", 3)) + closed_message("bookTicker", "bye"))

    server = fake_server(handler)
    summary_path = tmp_path / "summary.json"
    result = run_brain("--url", server.url, "--seconds", "20", "--json-summary", str(summary_path))
    assert result.returncode == 1, result.stderr
    summary = json.loads(summary_path.read_text())
    assert summary["ended_by"] == "feed closed" and summary["exit_code"] == 1
    assert sorted((c["kind"], c["reason"], c["orderly"]) for c in summary["closed"]) == [
        ("bookTicker", "bye", True), ("trade", "no trades today", False)]
    assert "no trades today" in result.stdout


def test_brain_exits_0_when_the_server_closes_in_order(fake_server):
    def handler(peer):
        peer.send_schema()
        peer.send(batch_message(make_batch(peer.kind, 3)) + closed_message(peer.kind, "session over"))

    server = fake_server(handler)
    result = run_brain("--url", server.url, "--policy", "lossy")
    assert result.returncode == 0, result.stderr
    assert all(request.endswith(b" policy=lossy\n") for request in server.requests)


def test_brain_exits_2_on_bad_arguments(tmp_path):
    url = f"unix:{tmp_path}/feed.sock"
    for arguments in (["--url", "http://example.com"], ["--url", url, "--seconds", "-1"],
                      ["--url", url, "--policy", "fast"], ["--url", url, "--symbols", "btc"], []):
        result = run_brain(*arguments)
        assert result.returncode == 2, (arguments, result.stdout, result.stderr)
