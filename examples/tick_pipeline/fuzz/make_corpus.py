#!/usr/bin/env python3
"""Writes the libFuzzer seed corpus for tick_fuzz_ws_decode: one file per seed, each a mode byte
(see fuzz_ws_decode.cpp) followed by client-to-server bytes. Re-run it only to change the seeds;
the files it writes are committed. Standard library only."""
import os
import struct
import sys

KEY = b"\x37\xfa\x21\x3d"


def frame(payload: bytes, opcode=1, fin=True, rsv=0, mask=True) -> bytes:
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n <= 0xFFFF:
        head += bytes([mbit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack(">Q", n)
    if not mask:
        return head + payload
    return head + KEY + bytes(b ^ KEY[i % 4] for i, b in enumerate(payload))


def mode(handshake=False, combined=False, kind=0, split=0) -> bytes:
    return bytes([(1 if handshake else 0) | (2 if combined else 0) | (kind << 2) | (split << 4)])


TRADE = b'{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,"M":true}'
AGG = b'{"e":"aggTrade","E":123456789,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":123456785,"m":true,"M":true}'
BOOK = b'{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}'
TRADE_TS = TRADE[:-1] + b',"pw_ts":1700000000123456789}'


def wrap(stream: bytes, data: bytes) -> bytes:
    return b'{"stream":"' + stream + b'","data":' + data + b"}"


REQUEST = (b"GET /stream?streams=bnbbtc@trade HTTP/1.1\r\nHost: localhost:9000\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")

SEEDS = {
    "trade": mode(kind=1) + frame(TRADE),
    "trade_inferred_split": mode(split=3) + frame(TRADE) + frame(TRADE_TS),
    "agg_trade": mode(kind=2) + frame(AGG),
    "book_ticker": mode(kind=3) + frame(BOOK),
    "combined": mode(combined=True) + frame(wrap(b"bnbbtc@trade", TRADE)) + frame(wrap(b"bnbusdt@bookTicker", BOOK)),
    "combined_data_first": mode(combined=True) + frame(b'{"data":' + AGG + b',"stream":"bnbbtc@aggTrade"}'),
    "handshake_then_frames": mode(handshake=True, combined=True, split=1) + REQUEST + frame(wrap(b"bnbbtc@trade", TRADE)),
    "fragmented_with_ping": mode(kind=1) + frame(TRADE[:20], fin=False) + frame(b"ping", opcode=9)
                            + frame(TRADE[20:60], opcode=0, fin=False) + frame(TRADE[60:], opcode=0),
    "close": mode() + frame(struct.pack(">H", 1000) + b"bye", opcode=8),
    "schema_errors": mode(kind=1) + frame(TRADE.replace(b'"p"', b'"price"')) + frame(TRADE.replace(b'"0.001"', b"0.001"))
                     + frame(TRADE.replace(b'"0.001"', b'"0.0000000001"')),
    "medium_length": mode(kind=3) + frame(BOOK[:-1] + b',"x":"' + b"a" * 300 + b'"}'),
    "bad_utf8": mode() + frame(b'{"e":"\xc0\x80"}'),
    "unmasked": mode() + frame(TRADE, mask=False),
    "reserved_bits": mode() + frame(TRADE, rsv=4),
    "binary": mode(kind=1) + frame(TRADE, opcode=2),
}


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {out}")


if __name__ == "__main__":
    main()
