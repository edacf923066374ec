//! The subscribers of a comparison: the same client code on both sides, one small task per SSE
//! stream or WebSocket (a raw TCP connection, a 2 KiB read buffer, no allocation per event; the
//! WebSocket one answers pings, see `wsframe`), spread over several loopback source addresses so
//! that thousands of connections never run out of ports.
//!
//! Events carry a stamp (see `crate::stamp`) in their `reason`. A *phase* is the events sent
//! from one moment on: each subscriber counts the phase's events it reads, records their
//! latency (send to read) in a shared histogram, and says when it read its first one, so the
//! tool knows when every subscriber is reached and when the last one read an event.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::args::Transport;
use super::wire::{parse_head, reason, DataLines, Dechunk, MAX_LINE};
use super::wsframe::{self, Frame, Frames};
use crate::stamp::Clock;
use crate::tally::{histogram, MAX_LATENCY_US};

/// Loopback source addresses the connections are spread over (127.0.0.1 to 127.0.0.N).
const SOURCES: u8 = 8;
/// Connections being opened at once.
const OPENING: usize = 32;
/// Histogram shards (subscribers record into `index % SHARDS`).
const SHARDS: usize = 16;
/// Read buffer of each subscriber.
const READ_BUF: usize = 2048;

/// What the subscribers share.
pub struct Shared {
    clock: Clock,
    /// Streams whose response head said 200.
    pub opened: AtomicUsize,
    /// Streams that failed (connect, status, malformed, ended).
    pub failed: AtomicUsize,
    first_error: Mutex<Option<String>>,
    /// The current phase: events sent from this clock reading on (microseconds) count.
    phase_start: AtomicU64,
    /// Subscribers that read at least one event of the phase.
    pub reached: AtomicUsize,
    /// Events of the phase read, all subscribers together.
    pub received: AtomicU64,
    /// When the latest of them was read (clock microseconds).
    pub last_read_us: AtomicU64,
    latency: Vec<Mutex<Histogram<u64>>>,
}

impl Shared {
    /// Starts a phase now: counters and latencies reset.
    pub fn begin_phase(&self) -> u64 {
        for shard in &self.latency {
            if let Ok(mut h) = shard.lock() {
                h.reset();
            }
        }
        self.reached.store(0, Ordering::SeqCst);
        self.received.store(0, Ordering::SeqCst);
        self.last_read_us.store(0, Ordering::SeqCst);
        let start = self.clock.now_us().max(1);
        self.phase_start.store(start, Ordering::SeqCst);
        start
    }

    /// The phase's latencies, all shards merged.
    pub fn latency(&self) -> Histogram<u64> {
        let mut all = histogram();
        for shard in &self.latency {
            if let Ok(h) = shard.lock() {
                let _ = all.add(&*h);
            }
        }
        all
    }

    /// The first error any subscriber met.
    pub fn first_error(&self) -> Option<String> {
        self.first_error.lock().ok().and_then(|e| e.clone())
    }

    fn fail(&self, error: String) {
        self.failed.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert(error);
        }
    }

    /// One event read by a subscriber whose last phase seen is `seen`.
    fn observe(&self, data: &[u8], shard: usize, seen: &mut u64) {
        let Some(stamp) = reason(data).and_then(|r| self.clock.decode(r)) else {
            return;
        };
        let start = self.phase_start.load(Ordering::SeqCst);
        if stamp.sent_us < start {
            return;
        }
        let now = self.clock.now_us();
        if *seen != start {
            *seen = start;
            self.reached.fetch_add(1, Ordering::SeqCst);
        }
        self.received.fetch_add(1, Ordering::Relaxed);
        self.last_read_us.fetch_max(now, Ordering::Relaxed);
        let latency = now.saturating_sub(stamp.sent_us).clamp(1, MAX_LATENCY_US);
        if let Ok(mut h) = self.latency[shard].lock() {
            let _ = h.record(latency);
        }
    }
}

/// A set of open streams (SSE or WebSocket).
pub struct Fleet {
    /// What they share.
    pub shared: Arc<Shared>,
    /// How many were asked for.
    pub size: usize,
    stop: CancellationToken,
    tasks: JoinSet<()>,
}

impl Fleet {
    /// Opens one stream per path on `server` (at most [`OPENING`] connecting at once); returns
    /// at once, the streams open in the background (watch `shared.opened` and `shared.failed`).
    pub fn open(
        server: SocketAddr,
        paths: Vec<String>,
        transport: Transport,
        clock: Clock,
    ) -> Fleet {
        let shared = Arc::new(Shared {
            clock,
            opened: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            first_error: Mutex::new(None),
            phase_start: AtomicU64::new(u64::MAX),
            reached: AtomicUsize::new(0),
            received: AtomicU64::new(0),
            last_read_us: AtomicU64::new(0),
            latency: (0..SHARDS).map(|_| Mutex::new(histogram())).collect(),
        });
        let stop = CancellationToken::new();
        let opening = Arc::new(Semaphore::new(OPENING));
        let size = paths.len();
        let mut tasks = JoinSet::new();
        for (index, path) in paths.into_iter().enumerate() {
            let (shared, stop, opening) = (shared.clone(), stop.clone(), opening.clone());
            tasks.spawn(async move {
                let result = tokio::select! {
                    () = stop.cancelled() => Ok(()),
                    r = subscribe(server, index, &path, transport, &shared, opening) => r,
                };
                if let Err(e) = result {
                    shared.fail(e);
                }
            });
        }
        Fleet {
            shared,
            size,
            stop,
            tasks,
        }
    }

    /// Closes every stream and waits for their tasks.
    pub async fn close(mut self) {
        self.stop.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// One subscriber: connect, open the stream, then read events until it ends.
async fn subscribe(
    server: SocketAddr,
    index: usize,
    path: &str,
    transport: Transport,
    shared: &Shared,
    opening: Arc<Semaphore>,
) -> Result<(), String> {
    let permit = opening.acquire_owned().await.map_err(|e| e.to_string())?;
    let source = Ipv4Addr::new(127, 0, 0, 1 + (index % usize::from(SOURCES)) as u8);
    let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    socket
        .bind(SocketAddr::new(IpAddr::V4(source), 0))
        .map_err(|e| format!("bind {source}: {e}"))?;
    let mut stream = socket
        .connect(server)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let key = wsframe::key(index);
    let request = match transport {
        Transport::Sse => {
            format!("GET {path} HTTP/1.1\r\nHost: {server}\r\nAccept: text/event-stream\r\n\r\n")
        }
        Transport::Websocket => wsframe::handshake(&server.to_string(), path, &key),
    };
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut buf = [0u8; READ_BUF];
    let mut head = Vec::new();
    let (chunked, rest) = loop {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("closed before the response head".into());
        }
        head.extend_from_slice(&buf[..n]);
        let expected = match transport {
            Transport::Sse => 200,
            Transport::Websocket => 101,
        };
        match parse_head(&head) {
            None if head.len() > MAX_LINE => return Err("response head too long".into()),
            None => continue,
            Some(Err(e)) => return Err(e),
            Some(Ok((status, chunked, end))) if status == expected => {
                if transport == Transport::Websocket {
                    wsframe::check_accept(&head[..end], &key)?;
                }
                break (chunked, head.split_off(end));
            }
            Some(Ok((status, _, _))) => return Err(format!("HTTP {status}")),
        }
    };
    drop(head);
    shared.opened.fetch_add(1, Ordering::SeqCst);
    drop(permit);
    let shard = index % SHARDS;
    match transport {
        Transport::Sse => sse(stream, chunked, &rest, shared, shard).await,
        Transport::Websocket => websocket(stream, &rest, index, shared, shard).await,
    }
}

/// Reads an SSE body (chunked or not) and observes each `data:` line.
async fn sse(
    mut stream: TcpStream,
    chunked: bool,
    rest: &[u8],
    shared: &Shared,
    shard: usize,
) -> Result<(), String> {
    let mut buf = [0u8; READ_BUF];
    let mut seen = 0u64;
    let mut lines = DataLines::default();
    let mut dechunk = chunked.then(Dechunk::default);
    let mut body = |bytes: &[u8]| -> Result<bool, String> {
        let mut feed = |b: &[u8]| lines.feed(b, |d| shared.observe(d, shard, &mut seen));
        match &mut dechunk {
            Some(d) => {
                let mut result = Ok(());
                let open = d.feed(bytes, |b| {
                    if result.is_ok() {
                        result = feed(b);
                    }
                })?;
                result.map(|()| open)
            }
            None => feed(bytes).map(|()| true),
        }
    };
    if !body(rest)? {
        return Err("the stream ended".into());
    }
    loop {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 || !body(&buf[..n])? {
            return Err("the stream ended".into());
        }
    }
}

/// Reads WebSocket frames, observes each text message and answers each ping with a pong (the
/// service drops a client that answers none).
async fn websocket(
    mut stream: TcpStream,
    rest: &[u8],
    index: usize,
    shared: &Shared,
    shard: usize,
) -> Result<(), String> {
    let mut buf = [0u8; READ_BUF];
    let mut seen = 0u64;
    let mut frames = Frames::default();
    let mask = (index as u32).to_be_bytes();
    let mut replies = Vec::new();
    let mut input = rest;
    loop {
        let mut closed = false;
        frames.feed(input, |frame| match frame {
            Frame::Text(data) => shared.observe(data, shard, &mut seen),
            Frame::Ping(payload) => wsframe::pong(payload, mask, &mut replies),
            Frame::Close => closed = true,
        })?;
        if closed {
            return Err("the stream ended (close frame)".into());
        }
        if !replies.is_empty() {
            stream
                .write_all(&replies)
                .await
                .map_err(|e| format!("write: {e}"))?;
            replies.clear();
        }
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("the stream ended".into());
        }
        input = &buf[..n];
    }
}
