//! Tokio implementation of polarway's side-by-side benchmark workloads
//! (definitions: /work/shared/WORKLOADS.md; protocol: bench/compare/README.md).
//!
//! Invocation: `tokio_compare <workload> <workers> [--scale small|full]`
//! workers 1 = `current_thread` runtime, N >= 2 = `multi_thread` runtime with N workers.
//! Every workload runs inside a task spawned on the runtime (`tokio::spawn`), never directly in
//! `block_on`, so that "from inside a running task" holds for both flavours.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{broadcast, mpsc, watch, Notify, Semaphore};

struct Figure {
    workload: String,
    value: f64,
    unit: &'static str,
    ok: bool,
    detail: String,
}

fn fig(workload: &str, value: f64, unit: &'static str, ok: bool, detail: String) -> Figure {
    Figure { workload: workload.to_string(), value, unit, ok, detail }
}

/// Workload sizes, full and `--scale small`; keep in sync with README.md.
#[derive(Clone, Copy)]
struct Sizes {
    small: bool,
}

impl Sizes {
    fn pick(&self, full: u64, small: u64) -> u64 {
        if self.small { small } else { full }
    }
    fn spawn_many(&self) -> u64 { self.pick(100_000, 10_000) }
    fn yield_per_task(&self) -> u64 { self.pick(1_000, 100) }
    fn ping_pong(&self) -> u64 { self.pick(100_000, 10_000) }
    fn chain_reps(&self) -> u64 { self.pick(100, 10) }
    fn mpsc4_per_producer(&self) -> u64 { self.pick(250_000, 25_000) }
    fn mpsc4x10m_per_producer(&self) -> u64 { self.pick(2_500_000, 250_000) }
    fn mpsc1_total(&self) -> u64 { self.pick(1_000_000, 100_000) }
    fn sem_iters(&self) -> u64 { self.pick(100, 10) }
    fn timers_5k(&self) -> u64 { self.pick(5_000, 500) }
    fn timers_100k(&self) -> u64 { self.pick(100_000, 5_000) }
    fn tcp_msgs(&self) -> u64 { self.pick(2_000, 100) }
    fn skynet_1m(&self) -> u64 { self.pick(1_000_000, 10_000) }
    fn skynet_100m(&self) -> u64 { self.pick(100_000_000, 100_000) }
    fn fib_n(&self) -> u64 { self.pick(30, 20) }
    fn call_soon(&self) -> u64 { self.pick(50_000, 5_000) }
    fn loop_overhead(&self) -> u64 { self.pick(10_000, 1_000) }
    fn udp_round_trips(&self) -> u64 { self.pick(100_000, 10_000) }
    fn udp_flood(&self) -> u64 { self.pick(1_000_000, 100_000) }
    fn broadcast_values(&self) -> u64 { self.pick(100_000, 10_000) }
    fn watch_sends(&self) -> u64 { self.pick(100_000, 10_000) }
    fn races(&self) -> u64 { self.pick(100_000, 10_000) }
}

const YIELD_TASKS: u64 = 200;
const CHAIN_DEPTH: u64 = 1_000;
const MPSC_CAP: usize = 1_024;
const SEM_TASKS: u64 = 1_000;
const SEM_PERMITS: usize = 10;
const TCP_CONNS: u64 = 50;
const TCP_BYTES: usize = 64;
const UDP_BYTES: usize = 64;
const UDP_WINDOW: u64 = 100;
const BROADCAST_RECEIVERS: u64 = 8;
const BROADCAST_CAP: usize = 1_024;
const WATCH_RECEIVERS: u64 = 4;

const WORKLOADS: &[&str] = &[
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
];

fn secs(t0: Instant) -> f64 {
    t0.elapsed().as_secs_f64()
}

// ------------------------------------------------------------------------------------------
async fn spawn_many(sz: Sizes) -> Vec<Figure> {
    let n = sz.spawn_many();
    let counter = Arc::new(AtomicU64::new(0));
    let done = Arc::new(Notify::new());
    let t0 = Instant::now();
    for _ in 0..n {
        let counter = counter.clone();
        let done = done.clone();
        tokio::spawn(async move {
            if counter.fetch_add(1, Ordering::AcqRel) + 1 == n {
                done.notify_one(); // stores a permit if the spawner is not waiting yet
            }
        });
    }
    done.notified().await;
    let s = secs(t0);
    let c = counter.load(Ordering::Acquire);
    vec![fig("spawn_many_100k", s * 1e9 / n as f64, "ns/task", c == n,
             format!("{n} tasks, counter={c}"))]
}

async fn yield_many(sz: Sizes) -> Vec<Figure> {
    let per = sz.yield_per_task();
    let t0 = Instant::now();
    let handles: Vec<_> = (0..YIELD_TASKS)
        .map(|_| {
            tokio::spawn(async move {
                for _ in 0..per {
                    tokio::task::yield_now().await;
                }
                per
            })
        })
        .collect();
    let mut total = 0;
    for h in handles {
        total += h.await.unwrap();
    }
    let s = secs(t0);
    let expect = YIELD_TASKS * per;
    vec![fig("yield_many_200x1000", s * 1e9 / expect as f64, "ns/yield", total == expect,
             format!("{total} yields"))]
}

async fn ping_pong(sz: Sizes) -> Vec<Figure> {
    let n = sz.ping_pong();
    let (a_tx, mut b_rx) = mpsc::channel::<u64>(1);
    let (b_tx, mut a_rx) = mpsc::channel::<u64>(1);
    let t0 = Instant::now();
    let pong = tokio::spawn(async move {
        for _ in 0..n {
            let v = b_rx.recv().await.unwrap();
            b_tx.send(v + 1).await.unwrap();
        }
    });
    let mut v = 0u64;
    let mut ok = true;
    for _ in 0..n {
        a_tx.send(v).await.unwrap();
        let r = a_rx.recv().await.unwrap();
        ok &= r == v + 1;
        v = r;
    }
    let s = secs(t0);
    pong.await.unwrap();
    vec![fig("ping_pong_100k", s * 1e9 / n as f64, "ns/round_trip", ok && v == n,
             format!("final value {v}"))]
}

fn chain(depth: u64, done: Arc<Notify>, spawned: Arc<AtomicU64>) {
    if depth == 0 {
        done.notify_one();
        return;
    }
    spawned.fetch_add(1, Ordering::Relaxed);
    tokio::spawn(async move { chain(depth - 1, done, spawned) });
}

async fn chained_spawn(sz: Sizes) -> Vec<Figure> {
    let reps = sz.chain_reps();
    let spawned = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    for _ in 0..reps {
        let done = Arc::new(Notify::new());
        // CHAIN_DEPTH spawns per repetition: the first here, CHAIN_DEPTH-1 inside the chain.
        chain(CHAIN_DEPTH, done.clone(), spawned.clone());
        done.notified().await;
    }
    let s = secs(t0);
    let c = spawned.load(Ordering::Relaxed);
    vec![fig("chained_spawn_1000x100", s * 1e9 / (CHAIN_DEPTH * reps) as f64, "ns/spawn",
             c == CHAIN_DEPTH * reps, format!("{c} spawns"))]
}

async fn mpsc_run(name: &str, producers: u64, per: u64) -> Vec<Figure> {
    let (tx, mut rx) = mpsc::channel::<u64>(MPSC_CAP);
    let total = producers * per;
    let t0 = Instant::now();
    for p in 0..producers {
        let tx = tx.clone();
        tokio::spawn(async move {
            for i in 0..per {
                tx.send(p * per + i).await.unwrap();
            }
        });
    }
    drop(tx);
    let mut sum = 0u64;
    let mut got = 0u64;
    for _ in 0..total {
        sum += rx.recv().await.unwrap();
        got += 1;
    }
    let s = secs(t0);
    let expect = total * (total - 1) / 2;
    vec![fig(name, total as f64 / s, "msg/s", sum == expect && got == total,
             format!("{got} msgs, sum {sum} (expected {expect})"))]
}

async fn semaphore(sz: Sizes) -> Vec<Figure> {
    let iters = sz.sem_iters();
    let sem = Arc::new(Semaphore::new(SEM_PERMITS));
    let held = Arc::new(AtomicU64::new(0));
    let max_held = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let handles: Vec<_> = (0..SEM_TASKS)
        .map(|_| {
            let (sem, held, max_held) = (sem.clone(), held.clone(), max_held.clone());
            tokio::spawn(async move {
                let mut acquires = 0u64;
                for _ in 0..iters {
                    let permit = sem.acquire().await.unwrap();
                    let h = held.fetch_add(1, Ordering::AcqRel) + 1;
                    max_held.fetch_max(h, Ordering::Relaxed);
                    acquires += 1;
                    tokio::task::yield_now().await;
                    held.fetch_sub(1, Ordering::AcqRel);
                    drop(permit);
                }
                acquires
            })
        })
        .collect();
    let mut acquires = 0;
    for h in handles {
        acquires += h.await.unwrap();
    }
    let s = secs(t0);
    let m = max_held.load(Ordering::Relaxed);
    vec![fig("semaphore_1000t_10p_x100", s * 1e9 / (SEM_TASKS * iters) as f64, "ns/acquire",
             acquires == SEM_TASKS * iters && m <= SEM_PERMITS as u64,
             format!("{acquires} acquires, max held {m}"))]
}

async fn timers(name: &str, n: u64) -> Vec<Figure> {
    let early = Arc::new(AtomicU64::new(0));
    let left = Arc::new(AtomicU64::new(n));
    let done = Arc::new(Notify::new());
    let t0 = Instant::now();
    for i in 0..n {
        let (early, left, done) = (early.clone(), left.clone(), done.clone());
        tokio::spawn(async move {
            let d = Duration::from_millis(i % 10);
            let start = Instant::now();
            tokio::time::sleep(d).await;
            if start.elapsed() < d {
                early.fetch_add(1, Ordering::Relaxed);
            }
            if left.fetch_sub(1, Ordering::AcqRel) == 1 {
                done.notify_one();
            }
        });
    }
    let sched = secs(t0);
    done.notified().await;
    let total = secs(t0);
    let e = early.load(Ordering::Relaxed);
    let detail = format!("{n} timers, {e} woke early");
    vec![
        fig(&format!("{name}_sched"), n as f64 / sched, "timers/s", e == 0, detail.clone()),
        fig(&format!("{name}_total"), total * 1e3, "ms", e == 0, detail),
    ]
}

async fn tcp_echo(sz: Sizes) -> Vec<Figure> {
    let msgs = sz.tcp_msgs();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let t0 = Instant::now();
    tokio::spawn(async move {
        for _ in 0..TCP_CONNS {
            let (mut sock, _) = listener.accept().await.unwrap();
            sock.set_nodelay(true).unwrap();
            tokio::spawn(async move {
                let mut buf = [0u8; TCP_BYTES];
                while sock.read_exact(&mut buf).await.is_ok() {
                    if sock.write_all(&buf).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    let clients: Vec<_> = (0..TCP_CONNS)
        .map(|id| {
            tokio::spawn(async move {
                let mut sock = TcpStream::connect(addr).await.unwrap();
                sock.set_nodelay(true).unwrap();
                let mut out = [0u8; TCP_BYTES];
                let mut inb = [0u8; TCP_BYTES];
                let mut good = 0u64;
                for m in 0..msgs {
                    for (b, x) in out.iter_mut().enumerate() {
                        *x = ((id * 131 + m * 7 + b as u64) & 0xff) as u8;
                    }
                    sock.write_all(&out).await.unwrap();
                    sock.read_exact(&mut inb).await.unwrap();
                    if out == inb {
                        good += 1;
                    }
                }
                good
            })
        })
        .collect();
    let mut good = 0;
    let mut failed = 0;
    for c in clients {
        match c.await {
            Ok(g) => good += g,
            Err(_) => failed += 1,
        }
    }
    let s = secs(t0);
    let expect = TCP_CONNS * msgs;
    vec![fig("tcp_echo_50c_x2000_64B", expect as f64 / s, "msg/s", good == expect && failed == 0,
             format!("{good} echoes ok of {expect}, {failed} clients failed"))]
}

fn skynet(num: u64, size: u64) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        if size == 1 {
            return num;
        }
        let child = size / 10;
        let handles: [_; 10] =
            std::array::from_fn(|i| tokio::spawn(skynet(num + i as u64 * child, child)));
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    })
}

fn skynet_tasks(leaves: u64) -> u64 {
    let mut total = 0;
    let mut level = 1;
    while level <= leaves {
        total += level;
        level *= 10;
    }
    total
}

async fn skynet_run(name: &str, leaves: u64) -> Vec<Figure> {
    let t0 = Instant::now();
    let got = tokio::spawn(skynet(0, leaves)).await.unwrap();
    let s = secs(t0);
    let tasks = skynet_tasks(leaves);
    let expect = leaves * (leaves - 1) / 2;
    vec![fig(name, s * 1e9 / tasks as f64, "ns/task", got == expect,
             format!("result {got} (expected {expect}), {tasks} tasks, {s:.3} s"))]
}

fn fib(n: u64) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        if n < 2 {
            return n;
        }
        let a = tokio::spawn(fib(n - 1));
        let b = tokio::spawn(fib(n - 2));
        a.await.unwrap() + b.await.unwrap()
    })
}

fn fib_value(n: u64) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        let t = a + b;
        a = b;
        b = t;
    }
    a
}

async fn fib_run(sz: Sizes) -> Vec<Figure> {
    let n = sz.fib_n();
    let t0 = Instant::now();
    let got = tokio::spawn(fib(n)).await.unwrap();
    let s = secs(t0);
    let calls = 2 * fib_value(n + 1) - 1;
    let expect = fib_value(n);
    vec![fig("fib_30", s * 1e9 / calls as f64, "ns/task", got == expect,
             format!("fib({n}) = {got} (expected {expect}), {calls} tasks"))]
}

/// Tokio has no callback queue: the closest is spawning no-op tasks; all are joined.
async fn call_soon(sz: Sizes) -> Vec<Figure> {
    let n = sz.call_soon();
    let t0 = Instant::now();
    let handles: Vec<_> = (0..n).map(|_| tokio::spawn(async {})).collect();
    let mut ran = 0u64;
    for h in handles {
        h.await.unwrap();
        ran += 1;
    }
    let s = secs(t0);
    vec![fig("call_soon_50k", n as f64 / s, "ops/s", ran == n,
             format!("{ran} no-op tasks spawned then joined"))]
}

async fn loop_overhead(sz: Sizes) -> Vec<Figure> {
    let n = sz.loop_overhead();
    let mut sum = 0u64;
    let t0 = Instant::now();
    for i in 0..n {
        sum += tokio::spawn(async move { i }).await.unwrap();
    }
    let s = secs(t0);
    vec![fig("loop_overhead_10k", s * 1e9 / n as f64, "ns/iter", sum == n * (n - 1) / 2,
             format!("{n} sequential spawn+await"))]
}

// ------------------------------------------------------------------------------------------
// UDP rows. A datagram is UDP_BYTES long: its sequence number (u64, little-endian), then a
// pattern derived from it, so that the receiver can check every byte.

fn fill_datagram(buf: &mut [u8; UDP_BYTES], seq: u64) {
    buf[..8].copy_from_slice(&seq.to_le_bytes());
    for (i, b) in buf.iter_mut().enumerate().skip(8) {
        *b = (seq.wrapping_mul(7).wrapping_add(i as u64) & 0xff) as u8;
    }
}

/// The sequence number of a well-formed datagram, None for any other size or content.
fn datagram_seq(buf: &[u8]) -> Option<u64> {
    if buf.len() != UDP_BYTES {
        return None;
    }
    let seq = u64::from_le_bytes(buf[..8].try_into().unwrap());
    let mut want = [0u8; UDP_BYTES];
    fill_datagram(&mut want, seq);
    (want[..] == buf[..]).then_some(seq)
}

/// Two UDP sockets on loopback, each connected to the other.
async fn udp_pair() -> std::io::Result<(UdpSocket, UdpSocket)> {
    let a = UdpSocket::bind("127.0.0.1:0").await?;
    let b = UdpSocket::bind("127.0.0.1:0").await?;
    a.connect(b.local_addr()?).await?;
    b.connect(a.local_addr()?).await?;
    Ok((a, b))
}

async fn udp_pingpong(sz: Sizes) -> Vec<Figure> {
    let n = sz.udp_round_trips();
    let (a, b) = udp_pair().await.unwrap();
    let t0 = Instant::now();
    let echo = tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        for _ in 0..n {
            let len = b.recv(&mut buf).await.unwrap();
            b.send(&buf[..len]).await.unwrap();
        }
    });
    let mut out = [0u8; UDP_BYTES];
    let mut back = [0u8; 2048];
    let mut good = 0u64;
    for m in 0..n {
        fill_datagram(&mut out, m);
        a.send(&out).await.unwrap();
        let len = a.recv(&mut back).await.unwrap();
        if back[..len] == out[..] {
            good += 1;
        }
    }
    let s = secs(t0);
    echo.await.unwrap();
    vec![fig("udp_pingpong_64B", s * 1e9 / n as f64, "ns/round_trip", good == n,
             format!("{good} of {n} echoes matched"))]
}

/// The flood's last datagram: the receiver acknowledges it and stops.
const FLOOD_END: u64 = u64::MAX;
/// How long the sender waits for an acknowledgement before it counts a stall and goes on.
const ACK_WAIT: Duration = Duration::from_millis(200);

#[derive(Default)]
struct FloodTally {
    received: u64,
    duplicates: u64,
    malformed: u64,
}

/// Receives the flood in batches (Tokio has no recvmmsg: after each readiness, try_recv until
/// the socket is drained), acknowledges the last datagram of every window and the end marker.
async fn flood_receiver(sock: UdpSocket, n: u64) -> std::io::Result<FloodTally> {
    let mut tally = FloodTally::default();
    let mut seen = vec![false; n as usize];
    let mut buf = [0u8; 2048];
    loop {
        sock.readable().await?;
        loop {
            let len = match sock.try_recv(&mut buf) {
                Ok(len) => len,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            };
            match datagram_seq(&buf[..len]) {
                Some(FLOOD_END) => {
                    sock.send(&FLOOD_END.to_le_bytes()).await?;
                    return Ok(tally);
                }
                Some(seq) if seq < n => {
                    if std::mem::replace(&mut seen[seq as usize], true) {
                        tally.duplicates += 1;
                    } else {
                        tally.received += 1;
                    }
                    if (seq + 1) % UDP_WINDOW == 0 || seq + 1 == n {
                        sock.send(&seq.to_le_bytes()).await?;
                    }
                }
                _ => tally.malformed += 1,
            }
        }
    }
}

/// Waits for the acknowledgement of `want` (older ones are skipped); false after ACK_WAIT.
async fn await_ack(sock: &UdpSocket, want: u64) -> bool {
    let mut ack = [0u8; 64];
    loop {
        match tokio::time::timeout(ACK_WAIT, sock.recv(&mut ack)).await {
            Ok(Ok(8)) if u64::from_le_bytes(ack[..8].try_into().unwrap()) == want => return true,
            Ok(Ok(_)) => continue,
            _ => return false,
        }
    }
}

async fn udp_flood(sz: Sizes) -> Vec<Figure> {
    let n = sz.udp_flood();
    let (tx, rx) = udp_pair().await.unwrap();
    let t0 = Instant::now();
    let receiver = tokio::spawn(flood_receiver(rx, n));
    let mut out = [0u8; UDP_BYTES];
    let mut stalls = 0u64;
    let mut seq = 0u64;
    while seq < n {
        let end = (seq + UDP_WINDOW).min(n);
        for s in seq..end {
            fill_datagram(&mut out, s);
            tx.send(&out).await.unwrap();
        }
        seq = end;
        if !await_ack(&tx, end - 1).await {
            stalls += 1;
        }
    }
    fill_datagram(&mut out, FLOOD_END);
    let mut ended = false;
    for _ in 0..10 {
        tx.send(&out).await.unwrap();
        if await_ack(&tx, FLOOD_END).await {
            ended = true;
            break;
        }
    }
    let s = secs(t0);
    let tally = if ended {
        receiver.await.unwrap().unwrap_or_default()
    } else {
        receiver.abort();
        FloodTally::default()
    };
    let lost = n - tally.received;
    vec![fig("udp_flood_64B", tally.received as f64 / s, "msg/s",
             ended && tally.received > 0 && tally.duplicates == 0 && tally.malformed == 0,
             format!("received {} of {n} (lost {lost}), {} duplicate, {} malformed, {stalls} \
                      ack timeouts, end acknowledged: {ended} (readable + try_recv loop)",
                     tally.received, tally.duplicates, tally.malformed))]
}

// ------------------------------------------------------------------------------------------
/// 1 sender, BROADCAST_RECEIVERS receivers, capacity BROADCAST_CAP. Every receiver must get
/// every value, so the sender may not overwrite one that a receiver has not read: values go in
/// chunks of half the capacity, each receiver counts the chunks it has finished, and before
/// chunk k the sender waits until all have finished chunk k-2.
async fn broadcast_run(sz: Sizes) -> Vec<Figure> {
    let n = sz.broadcast_values();
    let chunk = (BROADCAST_CAP / 2) as u64;
    let (tx, _) = broadcast::channel::<u64>(BROADCAST_CAP);
    let finished: Arc<[AtomicU64; 4]> = Arc::new(Default::default());
    let progress = Arc::new(Notify::new());
    let receivers: Vec<_> = (0..BROADCAST_RECEIVERS)
        .map(|_| {
            let mut rx = tx.subscribe();
            let (finished, progress) = (finished.clone(), progress.clone());
            tokio::spawn(async move {
                let (mut got, mut sum, mut lagged, mut in_order) = (0u64, 0u64, 0u64, true);
                loop {
                    match rx.recv().await {
                        Ok(v) => {
                            in_order &= v == got;
                            got += 1;
                            sum += v;
                            if (v + 1) % chunk == 0
                                && finished[((v / chunk) % 4) as usize].fetch_add(1, Ordering::AcqRel) + 1
                                    == BROADCAST_RECEIVERS
                            {
                                progress.notify_one();
                            }
                        }
                        Err(broadcast::error::RecvError::Lagged(k)) => lagged += k,
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
                (got, sum, lagged, in_order)
            })
        })
        .collect();
    let t0 = Instant::now();
    for i in 0..n {
        if i % chunk == 0 && i >= 2 * chunk {
            let slot = &finished[((i / chunk - 2) % 4) as usize];
            while slot.load(Ordering::Acquire) < BROADCAST_RECEIVERS {
                progress.notified().await;
            }
            slot.store(0, Ordering::Relaxed);
        }
        tx.send(i).unwrap();
    }
    drop(tx);
    let (mut complete, mut lagged_total) = (0u64, 0u64);
    for r in receivers {
        let (got, sum, lagged, in_order) = r.await.unwrap();
        complete += (got == n && sum == n * (n - 1) / 2 && in_order) as u64;
        lagged_total += lagged;
    }
    let s = secs(t0);
    vec![fig("broadcast_1to8_100k", (BROADCAST_RECEIVERS * n) as f64 / s, "msg/s",
             complete == BROADCAST_RECEIVERS && lagged_total == 0,
             format!("{complete} of {BROADCAST_RECEIVERS} receivers got all {n} values in order, \
                      {lagged_total} lagged"))]
}

/// WATCH_RECEIVERS receivers await changed() and borrow the value until they see the last one;
/// what each sees must never decrease. The sends start once every receiver has started waiting.
async fn watch_run(sz: Sizes) -> Vec<Figure> {
    let n = sz.watch_sends();
    let (tx, rx) = watch::channel(0u64);
    let started = Arc::new(AtomicU64::new(0));
    let all_started = Arc::new(Notify::new());
    let receivers: Vec<_> = (0..WATCH_RECEIVERS)
        .map(|_| {
            let mut rx = rx.clone();
            let (started, all_started) = (started.clone(), all_started.clone());
            tokio::spawn(async move {
                if started.fetch_add(1, Ordering::AcqRel) + 1 == WATCH_RECEIVERS {
                    all_started.notify_one();
                }
                let (mut last, mut seen, mut increasing) = (0u64, 0u64, true);
                while last != n {
                    if rx.changed().await.is_err() {
                        break;
                    }
                    let v = *rx.borrow_and_update();
                    increasing &= v >= last;
                    last = v;
                    seen += 1;
                }
                (last, seen, increasing)
            })
        })
        .collect();
    drop(rx);
    while started.load(Ordering::Acquire) < WATCH_RECEIVERS {
        all_started.notified().await;
    }
    let t0 = Instant::now();
    for i in 1..=n {
        tx.send(i).unwrap();
    }
    let (mut complete, mut seen_total) = (0u64, 0u64);
    for r in receivers {
        let (last, seen, increasing) = r.await.unwrap();
        complete += (last == n && increasing) as u64;
        seen_total += seen;
    }
    let s = secs(t0);
    vec![fig("watch_100k", n as f64 / s, "ops/s", complete == WATCH_RECEIVERS,
             format!("{complete} of {WATCH_RECEIVERS} receivers saw non-decreasing values ending at {n}; \
                      {seen_total} values seen in all"))]
}

/// A receive that is ready (its value queued just before) raced against a 1 s sleep with
/// `select!`: the cost of the race and of dropping the losing sleep.
async fn race_ready(sz: Sizes) -> Vec<Figure> {
    let n = sz.races();
    let (tx, mut rx) = mpsc::channel::<u64>(1);
    let (mut won, mut sum) = (0u64, 0u64);
    let t0 = Instant::now();
    for i in 0..n {
        tx.try_send(i).unwrap();
        tokio::select! {
            v = rx.recv() => if let Some(v) = v {
                won += 1;
                sum += v;
            },
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
    let s = secs(t0);
    vec![fig("race_100k", s * 1e9 / n as f64, "ns/iter", won == n && sum == n * (n - 1) / 2,
             format!("receive won {won} races, sum {sum} (select!)"))]
}

async fn run(workload: String, sz: Sizes) -> Vec<Figure> {
    match workload.as_str() {
        "spawn_many_100k" => spawn_many(sz).await,
        "yield_many_200x1000" => yield_many(sz).await,
        "ping_pong_100k" => ping_pong(sz).await,
        "chained_spawn_1000x100" => chained_spawn(sz).await,
        "mpsc_4x250k_cap1024" => mpsc_run("mpsc_4x250k_cap1024", 4, sz.mpsc4_per_producer()).await,
        "mpsc_4x2500k_cap1024" => mpsc_run("mpsc_4x2500k_cap1024", 4, sz.mpsc4x10m_per_producer()).await,
        "mpsc_1x1M_cap1024" => mpsc_run("mpsc_1x1M_cap1024", 1, sz.mpsc1_total()).await,
        "semaphore_1000t_10p_x100" => semaphore(sz).await,
        "timers_5k" => timers("timers_5k", sz.timers_5k()).await,
        "timers_100k" => timers("timers_100k", sz.timers_100k()).await,
        "tcp_echo_50c_x2000_64B" => tcp_echo(sz).await,
        "skynet_1M" => skynet_run("skynet_1M", sz.skynet_1m()).await,
        "skynet_100M" => skynet_run("skynet_100M", sz.skynet_100m()).await,
        "fib_30" => fib_run(sz).await,
        "call_soon_50k" => call_soon(sz).await,
        "loop_overhead_10k" => loop_overhead(sz).await,
        "udp_pingpong_64B" => udp_pingpong(sz).await,
        "udp_flood_64B" => udp_flood(sz).await,
        "broadcast_1to8_100k" => broadcast_run(sz).await,
        "watch_100k" => watch_run(sz).await,
        "race_100k" => race_ready(sz).await,
        _ => Vec::new(),
    }
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn emit(f: &Figure, workers: usize, small: bool) {
    let value = if f.value.is_finite() && f.value >= 0.0 {
        format!("{:.6e}", f.value).parse::<f64>().map(|v| v.to_string()).unwrap()
    } else {
        "null".to_string()
    };
    println!(
        "{{\"workload\": \"{}\", \"workers\": {}, \"value\": {}, \"unit\": \"{}\", \"ok\": {}, \"detail\": \"{}\", \"scale\": \"{}\"}}",
        json_escape(&f.workload),
        workers,
        value,
        f.unit,
        f.ok,
        json_escape(&f.detail),
        if small { "small" } else { "full" }
    );
}

fn usage(why: &str) -> ! {
    eprintln!("tokio_compare: {why}\nusage: tokio_compare <workload> <workers> [--scale small|full]");
    std::process::exit(2);
}

fn main() {
    let mut pos = Vec::new();
    let mut small = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--scale" => match args.next().as_deref() {
                Some("small") => small = true,
                Some("full") => small = false,
                _ => usage("--scale takes small or full"),
            },
            "--scale=small" => small = true,
            "--scale=full" => small = false,
            "--list" => {
                for w in WORKLOADS {
                    println!("{w}");
                }
                return;
            }
            _ => pos.push(a),
        }
    }
    if pos.len() != 2 {
        usage("expected <workload> <workers>");
    }
    let workload = pos[0].clone();
    let workers: usize = match pos[1].parse() {
        Ok(w) if w >= 1 => w,
        _ => usage("workers must be a positive integer"),
    };
    if !WORKLOADS.contains(&workload.as_str()) {
        emit(&fig(&workload, f64::NAN, "", false, "not implemented: unknown workload".into()),
             workers, small);
        std::process::exit(2);
    }
    let rt = if workers == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build()
    }
    .expect("runtime");
    let sz = Sizes { small };
    let w2 = workload.clone();
    let figs = match rt.block_on(async move { tokio::spawn(run(w2, sz)).await }) {
        Ok(f) => f,
        Err(e) => vec![fig(&workload, f64::NAN, "", false, format!("task failed: {e}"))],
    };
    // Do not wait for stray tasks (e.g. echo sessions) at shutdown.
    rt.shutdown_background();
    let mut ok = !figs.is_empty();
    for f in &figs {
        emit(f, workers, small);
        ok &= f.ok;
    }
    std::process::exit(if ok { 0 } else { 1 });
}
