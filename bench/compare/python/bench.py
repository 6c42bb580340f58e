#!/usr/bin/python3
"""asyncio / uvloop implementation of polarway's side-by-side benchmark workloads.

Definitions: /work/shared/WORKLOADS.md; protocol: bench/compare/README.md.

    /usr/bin/python3 bench.py --loop asyncio|uvloop <workload> <workers> [--scale small|full]

asyncio is single-threaded: workers must be 1 (anything else prints ok=false, exit 2).
Every workload runs inside the task created by asyncio.run().
"""

import argparse
import asyncio
import json
import socket
import sys
import time

WORKLOADS = [
    "spawn_many_100k",
    "yield_many_200x1000",
    "ping_pong_100k",
    "chained_spawn_1000x100",
    "mpsc_4x250k_cap1024",
    "mpsc_4x2500k_cap1024",
    "mpsc_1x1M_cap1024",
    "semaphore_1000t_10p_x100",
    "timers_5k",
    "timers_100k",
    "tcp_echo_50c_x2000_64B",
    "skynet_1M",
    "skynet_100M",
    "fib_30",
    "call_soon_50k",
    "loop_overhead_10k",
    "udp_pingpong_64B",
    "udp_flood_64B",
    "broadcast_1to8_100k",
    "watch_100k",
    "race_100k",
]

# Not run on Python: would take many minutes per run (about 110 M tasks).
UNSUPPORTED = {
    "skynet_100M": "111 M asyncio tasks: about 15 min per run, and the FIFO ready queue "
                   "expands the tree breadth-first (skynet_1M peaks at 1.1 GB, so ~100 GB)",
}

# Primitives asyncio does not have: these rows are n/a on Python, not emulated.
NOT_IN_ASYNCIO = {
    "broadcast_1to8_100k": "asyncio has no broadcast channel (a value delivered to every "
                           "subscriber, with a bounded buffer and lag reporting)",
    "watch_100k": "asyncio has no watch channel (a latest-value cell whose receivers await "
                  "changed())",
}


class Sizes:
    """Workload sizes, full and --scale small; keep in sync with README.md."""

    def __init__(self, small):
        p = (lambda full, sm: sm) if small else (lambda full, sm: full)
        self.spawn_many = p(100_000, 10_000)
        self.yield_tasks = 200
        self.yield_per_task = p(1_000, 100)
        self.ping_pong = p(100_000, 10_000)
        self.chain_depth = 1_000
        self.chain_reps = p(100, 10)
        self.mpsc4_per_producer = p(250_000, 25_000)
        self.mpsc4x10m_per_producer = p(2_500_000, 250_000)
        self.mpsc1_total = p(1_000_000, 100_000)
        self.mpsc_cap = 1_024
        self.sem_tasks = 1_000
        self.sem_permits = 10
        self.sem_iters = p(100, 10)
        self.timers_5k = p(5_000, 500)
        self.timers_100k = p(100_000, 5_000)
        self.tcp_conns = 50
        self.tcp_msgs = p(2_000, 100)
        self.tcp_bytes = 64
        self.skynet_1m = p(1_000_000, 10_000)
        self.skynet_100m = p(100_000_000, 100_000)
        self.fib_n = p(30, 20)
        self.call_soon = p(50_000, 5_000)
        self.loop_overhead = p(10_000, 1_000)
        self.udp_round_trips = p(100_000, 10_000)
        self.udp_flood = p(1_000_000, 100_000)
        self.udp_bytes = 64
        self.udp_window = 100
        self.races = p(100_000, 10_000)


def fig(workload, value, unit, ok, detail):
    return {"workload": workload, "value": value, "unit": unit, "ok": bool(ok), "detail": detail}


now = time.perf_counter


# ------------------------------------------------------------------------------------------
async def spawn_many(sz):
    n = sz.spawn_many
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    state = [0]

    async def child():
        state[0] += 1
        if state[0] == n:
            done.set_result(None)

    tasks = set()  # keep strong references: the loop only holds weak ones
    t0 = now()
    for _ in range(n):
        tasks.add(asyncio.create_task(child()))
    await done
    s = now() - t0
    return [fig("spawn_many_100k", s * 1e9 / n, "ns/task", state[0] == n,
                f"{n} tasks, counter={state[0]}")]


async def yield_many(sz):
    per = sz.yield_per_task

    async def child():
        for _ in range(per):
            await asyncio.sleep(0)  # asyncio's yield to the loop
        return per

    t0 = now()
    tasks = [asyncio.create_task(child()) for _ in range(sz.yield_tasks)]
    total = sum(await asyncio.gather(*tasks))
    s = now() - t0
    expect = sz.yield_tasks * per
    return [fig("yield_many_200x1000", s * 1e9 / expect, "ns/yield", total == expect,
                f"{total} yields (asyncio.sleep(0))")]


async def ping_pong(sz):
    n = sz.ping_pong
    a2b = asyncio.Queue(maxsize=1)
    b2a = asyncio.Queue(maxsize=1)

    async def pong():
        for _ in range(n):
            v = await a2b.get()
            await b2a.put(v + 1)

    t0 = now()
    pt = asyncio.create_task(pong())
    v = 0
    ok = True
    for _ in range(n):
        await a2b.put(v)
        r = await b2a.get()
        ok = ok and r == v + 1
        v = r
    s = now() - t0
    await pt
    return [fig("ping_pong_100k", s * 1e9 / n, "ns/round_trip", ok and v == n,
                f"final value {v} (asyncio.Queue(maxsize=1))")]


async def chained_spawn(sz):
    depth, reps = sz.chain_depth, sz.chain_reps
    loop = asyncio.get_running_loop()
    spawned = [0]
    live = set()

    def spawn_next(d, done):
        spawned[0] += 1
        t = asyncio.create_task(chain(d, done))
        live.add(t)
        t.add_done_callback(live.discard)

    async def chain(d, done):
        if d == 0:
            done.set_result(None)
        else:
            spawn_next(d - 1, done)

    t0 = now()
    for _ in range(reps):
        done = loop.create_future()
        spawn_next(depth - 1, done)
        await done
    s = now() - t0
    return [fig("chained_spawn_1000x100", s * 1e9 / (depth * reps), "ns/spawn",
                spawned[0] == depth * reps, f"{spawned[0]} spawns")]


async def mpsc(name, sz, producers, per):
    q = asyncio.Queue(maxsize=sz.mpsc_cap)
    total = producers * per

    async def producer(p):
        base = p * per
        for i in range(per):
            await q.put(base + i)

    t0 = now()
    ps = [asyncio.create_task(producer(p)) for p in range(producers)]
    acc = 0
    for _ in range(total):
        acc += await q.get()
    s = now() - t0
    await asyncio.gather(*ps)
    expect = total * (total - 1) // 2
    return [fig(name, total / s, "msg/s", acc == expect,
                f"{total} msgs, sum {acc} (expected {expect}) (asyncio.Queue(maxsize=1024))")]


async def semaphore(sz):
    sem = asyncio.Semaphore(sz.sem_permits)
    iters = sz.sem_iters
    st = {"held": 0, "max": 0, "acq": 0}

    async def task():
        for _ in range(iters):
            async with sem:
                st["held"] += 1
                st["max"] = max(st["max"], st["held"])
                st["acq"] += 1
                await asyncio.sleep(0)
                st["held"] -= 1

    t0 = now()
    await asyncio.gather(*[asyncio.create_task(task()) for _ in range(sz.sem_tasks)])
    s = now() - t0
    n = sz.sem_tasks * iters
    return [fig("semaphore_1000t_10p_x100", s * 1e9 / n, "ns/acquire",
                st["acq"] == n and st["max"] <= sz.sem_permits,
                f"{st['acq']} acquires, max held {st['max']}")]


async def timers(name, n):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    st = {"left": n, "early": 0, "worst": 0.0}

    async def task(ms):
        d = ms / 1000.0
        start = time.monotonic()
        await asyncio.sleep(d)
        slept = time.monotonic() - start
        if slept < d:
            st["early"] += 1
            st["worst"] = max(st["worst"], d - slept)
        st["left"] -= 1
        if st["left"] == 0:
            done.set_result(None)

    tasks = set()
    t0 = now()
    for i in range(n):
        tasks.add(asyncio.create_task(task(i % 10)))
    sched = now() - t0
    await done
    total = now() - t0
    detail = f"{n} timers, {st['early']} woke early"
    if st["early"]:
        detail += f" (by up to {st['worst'] * 1e6:.0f} us)"
    ok = st["early"] == 0
    return [fig(name + "_sched", n / sched, "timers/s", ok, detail),
            fig(name + "_total", total * 1e3, "ms", ok, detail)]


async def tcp_echo(sz):
    conns, msgs, nbytes = sz.tcp_conns, sz.tcp_msgs, sz.tcp_bytes
    sessions = set()

    async def handle(reader, writer):
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sessions.add(asyncio.current_task())
        try:
            while True:
                data = await reader.readexactly(nbytes)
                writer.write(data)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    async def client(cid):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        good = 0
        for m in range(msgs):
            out = bytes(((cid * 131 + m * 7 + b) & 0xFF) for b in range(nbytes))
            writer.write(out)
            await writer.drain()
            back = await reader.readexactly(nbytes)
            good += back == out
        writer.close()
        await writer.wait_closed()
        return good

    t0 = now()
    goods = await asyncio.gather(*[client(c) for c in range(conns)])
    s = now() - t0
    server.close()
    good = sum(goods)
    expect = conns * msgs
    return [fig("tcp_echo_50c_x2000_64B", expect / s, "msg/s", good == expect,
                f"{good} echoes ok of {expect} (asyncio streams)")]


def skynet_tasks(leaves):
    total, level = 0, 1
    while level <= leaves:
        total += level
        level *= 10
    return total


async def skynet(num, size):
    if size == 1:
        return num
    child = size // 10
    tasks = [asyncio.create_task(skynet(num + i * child, child)) for i in range(10)]
    acc = 0
    for t in tasks:
        acc += await t
    return acc


async def skynet_run(name, leaves):
    t0 = now()
    got = await asyncio.create_task(skynet(0, leaves))
    s = now() - t0
    tasks = skynet_tasks(leaves)
    expect = leaves * (leaves - 1) // 2
    return [fig(name, s * 1e9 / tasks, "ns/task", got == expect,
                f"result {got} (expected {expect}), {tasks} tasks, {s:.3f} s")]


async def fib(n):
    if n < 2:
        return n
    a = asyncio.create_task(fib(n - 1))
    b = asyncio.create_task(fib(n - 2))
    return await a + await b


def fib_value(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


async def fib_run(sz):
    n = sz.fib_n
    t0 = now()
    got = await asyncio.create_task(fib(n))
    s = now() - t0
    calls = 2 * fib_value(n + 1) - 1
    expect = fib_value(n)
    return [fig("fib_30", s * 1e9 / calls, "ns/task", got == expect,
                f"fib({n}) = {got} (expected {expect}), {calls} tasks")]


async def call_soon(sz):
    n = sz.call_soon
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    st = [0]

    def cb():
        st[0] += 1
        if st[0] == n:
            done.set_result(None)

    t0 = now()
    for _ in range(n):
        loop.call_soon(cb)
    await done
    s = now() - t0
    return [fig("call_soon_50k", n / s, "ops/s", st[0] == n, f"{st[0]} loop.call_soon callbacks")]


async def loop_overhead(sz):
    n = sz.loop_overhead

    async def noop(i):
        return i

    acc = 0
    t0 = now()
    for i in range(n):
        acc += await asyncio.create_task(noop(i))
    s = now() - t0
    return [fig("loop_overhead_10k", s * 1e9 / n, "ns/iter", acc == n * (n - 1) // 2,
                f"{n} sequential create_task+await")]


# UDP rows. A datagram is udp_bytes long: its sequence number (8 bytes, little-endian), then a
# pattern derived from it (byte i is (seq*7 + i) mod 256), so that the receiver checks every
# byte. The pattern depends on seq*7 mod 256 only: TAILS holds the 256 possible tails.
UDP_BYTES = 64
TAILS = [bytes(((k + i) & 0xFF) for i in range(8, UDP_BYTES)) for k in range(256)]
FLOOD_END = 2**64 - 1  # udp_flood's last datagram: acknowledged, then the receiver stops
ACK_WAIT = 0.2  # seconds the flood's sender waits for an acknowledgement before going on


def datagram(seq):
    return seq.to_bytes(8, "little") + TAILS[(seq * 7) & 0xFF]


def datagram_seq(data):
    """The sequence number of a well-formed datagram, None for any other size or content."""
    if len(data) != UDP_BYTES:
        return None
    seq = int.from_bytes(data[:8], "little")
    return seq if data[8:] == TAILS[(seq * 7) & 0xFF] else None


class _Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)


class _Awaiting(asyncio.DatagramProtocol):
    """Hands the next datagram (that `accept` takes) to the future in `waiter`; drops others."""

    def __init__(self, accept=lambda data: True):
        self.waiter = None
        self.accept = accept

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        w = self.waiter
        if w is not None and not w.done() and self.accept(data):
            w.set_result(data)


async def udp_pingpong(sz):
    """The echo side is a datagram protocol answering in its callback (asyncio's UDP API);
    the other side awaits each echo in the workload's task."""
    n = sz.udp_round_trips
    loop = asyncio.get_running_loop()
    echo_t, _ = await loop.create_datagram_endpoint(_Echo, local_addr=("127.0.0.1", 0))
    a_t, a = await loop.create_datagram_endpoint(
        _Awaiting, local_addr=("127.0.0.1", 0), remote_addr=echo_t.get_extra_info("sockname"))
    good = 0
    t0 = now()
    for m in range(n):
        out = datagram(m)
        a.waiter = loop.create_future()
        a_t.sendto(out)
        good += (await a.waiter) == out
    s = now() - t0
    a_t.close()
    echo_t.close()
    return [fig("udp_pingpong_64B", s * 1e9 / n, "ns/round_trip", good == n,
                f"{good} of {n} echoes matched (datagram protocols)")]


class _FloodReceiver(asyncio.DatagramProtocol):
    """Counts the flood, acknowledges the last datagram of every window and the end marker."""

    def __init__(self, n, window):
        self.n, self.window = n, window
        self.seen = bytearray(n)
        self.received = self.duplicates = self.malformed = 0

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        seq = datagram_seq(data)
        if seq == FLOOD_END:
            self.transport.sendto(data[:8], addr)
        elif seq is None or seq >= self.n:
            self.malformed += 1
        else:
            if self.seen[seq]:
                self.duplicates += 1
            else:
                self.seen[seq] = 1
                self.received += 1
            if (seq + 1) % self.window == 0 or seq + 1 == self.n:
                self.transport.sendto(data[:8], addr)


async def udp_flood(sz):
    n, window = sz.udp_flood, sz.udp_window
    loop = asyncio.get_running_loop()
    rx_t, rx = await loop.create_datagram_endpoint(lambda: _FloodReceiver(n, window),
                                                   local_addr=("127.0.0.1", 0))
    want = [0]
    tx_t, tx = await loop.create_datagram_endpoint(
        lambda: _Awaiting(lambda data: data == want[0].to_bytes(8, "little")),
        local_addr=("127.0.0.1", 0), remote_addr=rx_t.get_extra_info("sockname"))

    async def acked(seq):
        want[0] = seq
        tx.waiter = loop.create_future()
        try:
            await asyncio.wait_for(tx.waiter, ACK_WAIT)
            return True
        except asyncio.TimeoutError:
            return False

    stalls = 0
    t0 = now()
    seq = 0
    while seq < n:
        end = min(seq + window, n)
        for s in range(seq, end):
            tx_t.sendto(datagram(s))
        seq = end
        # No acknowledgement can arrive between the sends and acked()'s future: the protocol's
        # callbacks run only while this task is suspended.
        if not await acked(end - 1):
            stalls += 1
    ended = False
    for _ in range(10):
        tx_t.sendto(datagram(FLOOD_END))
        if await acked(FLOOD_END):
            ended = True
            break
    s = now() - t0
    tx_t.close()
    rx_t.close()
    ok = ended and rx.received > 0 and rx.duplicates == 0 and rx.malformed == 0
    return [fig("udp_flood_64B", rx.received / s, "msg/s", ok,
                f"received {rx.received} of {n} (lost {n - rx.received}), {rx.duplicates} "
                f"duplicate, {rx.malformed} malformed, {stalls} ack timeouts, end acknowledged: "
                f"{ended} (datagram protocol callbacks)")]


async def race_ready(sz):
    """A get() that is ready (its value queued just before) raced against a 1 s sleep:
    asyncio.wait(FIRST_COMPLETED) over two tasks, the loser cancelled."""
    n = sz.races
    q = asyncio.Queue(maxsize=1)
    won = acc = 0
    t0 = now()
    for i in range(n):
        q.put_nowait(i)
        get = asyncio.create_task(q.get())
        nap = asyncio.create_task(asyncio.sleep(1))
        done, pending = await asyncio.wait((get, nap), return_when=asyncio.FIRST_COMPLETED)
        for t in pending:
            t.cancel()
        if get in done:
            won += 1
            acc += get.result()
        else:
            break
    await asyncio.sleep(0)  # the last loser's cancellation runs
    s = now() - t0
    return [fig("race_100k", s * 1e9 / n, "ns/iter", won == n and acc == n * (n - 1) // 2,
                f"receive won {won} races, sum {acc} (asyncio.wait FIRST_COMPLETED)")]


async def run(workload, sz):
    table = {
        "spawn_many_100k": lambda: spawn_many(sz),
        "yield_many_200x1000": lambda: yield_many(sz),
        "ping_pong_100k": lambda: ping_pong(sz),
        "chained_spawn_1000x100": lambda: chained_spawn(sz),
        "mpsc_4x250k_cap1024": lambda: mpsc("mpsc_4x250k_cap1024", sz, 4, sz.mpsc4_per_producer),
        "mpsc_4x2500k_cap1024": lambda: mpsc("mpsc_4x2500k_cap1024", sz, 4, sz.mpsc4x10m_per_producer),
        "mpsc_1x1M_cap1024": lambda: mpsc("mpsc_1x1M_cap1024", sz, 1, sz.mpsc1_total),
        "semaphore_1000t_10p_x100": lambda: semaphore(sz),
        "timers_5k": lambda: timers("timers_5k", sz.timers_5k),
        "timers_100k": lambda: timers("timers_100k", sz.timers_100k),
        "tcp_echo_50c_x2000_64B": lambda: tcp_echo(sz),
        "skynet_1M": lambda: skynet_run("skynet_1M", sz.skynet_1m),
        "skynet_100M": lambda: skynet_run("skynet_100M", sz.skynet_100m),
        "fib_30": lambda: fib_run(sz),
        "call_soon_50k": lambda: call_soon(sz),
        "loop_overhead_10k": lambda: loop_overhead(sz),
        "udp_pingpong_64B": lambda: udp_pingpong(sz),
        "udp_flood_64B": lambda: udp_flood(sz),
        "race_100k": lambda: race_ready(sz),
    }
    return await table[workload]()


def emit(f, workers, small):
    line = {"workload": f["workload"], "workers": workers, "value": f["value"],
            "unit": f["unit"], "ok": f["ok"], "detail": f["detail"],
            "scale": "small" if small else "full"}
    if isinstance(line["value"], float):
        line["value"] = float(f"{line['value']:.6g}")
    print(json.dumps(line), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    ap.add_argument("--scale", choices=["small", "full"], default="full")
    ap.add_argument("--list", action="store_true", help="print the workload names and exit")
    ap.add_argument("workload", nargs="?")
    ap.add_argument("workers", nargs="?", type=int)
    a = ap.parse_args()
    if a.list:
        print("\n".join(WORKLOADS))
        return 0
    if a.workload is None or a.workers is None:
        ap.error("expected <workload> <workers>")
    small = a.scale == "small"
    na = None
    if a.workload not in WORKLOADS:
        na = "unknown workload"
    elif a.workers != 1:
        na = "asyncio runs one event loop on one thread: workers must be 1"
    elif a.workload in UNSUPPORTED and not small:
        na = UNSUPPORTED[a.workload]
    elif a.workload in NOT_IN_ASYNCIO:
        na = NOT_IN_ASYNCIO[a.workload]
    if na:
        emit(fig(a.workload, None, "", False, "not implemented: " + na), a.workers, small)
        return 2

    sz = Sizes(small)
    if a.loop == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        figs = asyncio.run(run(a.workload, sz))
    except Exception as e:  # report, do not hang or print a traceback only
        figs = [fig(a.workload, None, "", False, f"exception: {type(e).__name__}: {e}")]
    ok = bool(figs)
    for f in figs:
        emit(f, a.workers, small)
        ok = ok and f["ok"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
