//! A TCP chaos proxy for tests: listens on 127.0.0.1 port 0 and forwards every connection to a
//! target, and can break the network between the two the ways real networks break:
//! - [`ChaosProxy::cut_all`]: every open connection is reset at once (new ones pass);
//! - [`ChaosProxy::cut_after`]: each new connection is cut after a number of bytes from the
//!   server, drawn from a range (mid-event, mid-frame, mid-response);
//! - [`ChaosProxy::stall`]: bytes stop flowing on every connection, without closing anything,
//!   until [`ChaosProxy::resume`];
//! - [`ChaosProxy::slow`]: the server's bytes trickle, a few at a time with a pause between.
//!
//! Every forwarded connection counts in [`ChaosProxy::connections`].

#![allow(dead_code)]

use rand::Rng;
use std::net::SocketAddr;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug, Default)]
struct Mode {
    cut_after: Option<Range<usize>>,
    slow: Option<(usize, Duration)>,
}

struct Inner {
    target: Mutex<SocketAddr>,
    mode: Mutex<Mode>,
    cut: Mutex<CancellationToken>,
    stalled: watch::Sender<bool>,
    connections: AtomicUsize,
}

/// The proxy; dropping it stops accepting (open connections end with their peers).
pub struct ChaosProxy {
    addr: SocketAddr,
    inner: Arc<Inner>,
    accept: tokio::task::JoinHandle<()>,
}

impl ChaosProxy {
    /// A proxy in front of `target`.
    pub async fn start(target: SocketAddr) -> ChaosProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let inner = Arc::new(Inner {
            target: Mutex::new(target),
            mode: Mutex::new(Mode::default()),
            cut: Mutex::new(CancellationToken::new()),
            stalled: watch::channel(false).0,
            connections: AtomicUsize::new(0),
        });
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&inner)));
        ChaosProxy {
            addr,
            inner,
            accept,
        }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Resets every open connection.
    pub fn cut_all(&self) {
        let mut cut = self.inner.cut.lock().unwrap();
        cut.cancel();
        *cut = CancellationToken::new();
    }

    /// Cuts each new connection after a number of the server's bytes drawn from `range`
    /// (`None`: never).
    pub fn cut_after(&self, range: Option<Range<usize>>) {
        self.inner.mode.lock().unwrap().cut_after = range;
    }

    /// The server's bytes go `chunk` at a time, `pause` apart (`None`: at full speed).
    pub fn slow(&self, slow: Option<(usize, Duration)>) {
        self.inner.mode.lock().unwrap().slow = slow;
    }

    /// Holds every byte in both directions until [`ChaosProxy::resume`].
    pub fn stall(&self) {
        self.inner.stalled.send_replace(true);
    }

    /// Lets bytes flow again.
    pub fn resume(&self) {
        self.inner.stalled.send_replace(false);
    }

    /// Sends new connections to `target` from now on.
    pub fn retarget(&self, target: SocketAddr) {
        *self.inner.target.lock().unwrap() = target;
    }

    /// Connections forwarded so far.
    pub fn connections(&self) -> usize {
        self.inner.connections.load(Ordering::Relaxed)
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut_all();
    }
}

async fn accept_loop(listener: TcpListener, inner: Arc<Inner>) {
    while let Ok((client, _)) = listener.accept().await {
        inner.connections.fetch_add(1, Ordering::Relaxed);
        let target = *inner.target.lock().unwrap();
        let mode = inner.mode.lock().unwrap().clone();
        let cut = inner.cut.lock().unwrap().clone();
        let stalled = inner.stalled.subscribe();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(target).await else {
                return;
            };
            let limit = mode
                .cut_after
                .clone()
                .map(|r| rand::thread_rng().gen_range(r));
            tokio::select! {
                () = pipe(client, server, limit, mode.slow, stalled) => {}
                () = cut.cancelled() => {}
            }
            // Both sockets are dropped here: the peers see a reset or an end of stream.
        });
    }
}

/// Forwards both ways until either side ends or `limit` bytes went from server to client.
async fn pipe(
    client: TcpStream,
    server: TcpStream,
    limit: Option<usize>,
    slow: Option<(usize, Duration)>,
    stalled: watch::Receiver<bool>,
) {
    let _ = client.set_nodelay(true);
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut server_rx, mut server_tx) = server.into_split();
    let upstream = {
        let stalled = stalled.clone();
        async move {
            copy(&mut client_rx, &mut server_tx, None, None, stalled).await;
        }
    };
    let downstream = copy(&mut server_rx, &mut client_tx, limit, slow, stalled);
    tokio::select! {
        () = upstream => {}
        () = downstream => {}
    }
}

async fn copy(
    from: &mut (impl AsyncReadExt + Unpin),
    to: &mut (impl AsyncWriteExt + Unpin),
    mut limit: Option<usize>,
    slow: Option<(usize, Duration)>,
    mut stalled: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let want = match (limit, slow) {
            (Some(0), _) => return,
            (Some(l), Some((chunk, _))) => l.min(chunk),
            (Some(l), None) => l.min(buf.len()),
            (None, Some((chunk, _))) => chunk,
            (None, None) => buf.len(),
        }
        .min(buf.len());
        let n = match from.read(&mut buf[..want]).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while *stalled.borrow_and_update() {
            if stalled.changed().await.is_err() {
                return;
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
        if let Some(l) = limit.as_mut() {
            *l -= n;
        }
        if let Some((_, pause)) = slow {
            tokio::time::sleep(pause).await;
        }
    }
}
