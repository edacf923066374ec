//! The listener: accepts AMI connections (at most `max_connections` at once; more are closed
//! at once), and for the restart fault stops listening for a while so connections are refused.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::config::SimConfig;
use super::engine::Command;
use super::handle::Shared;
use super::session::{self, SessionLimits};

/// What the engine asks of the listener.
pub(crate) enum ServerCtl {
    /// Close the listening socket for this long (acknowledged once closed), then listen again.
    Pause(Duration, oneshot::Sender<()>),
    /// Close the listening socket for good (acknowledged once closed).
    Stop(oneshot::Sender<()>),
}

/// Spawns the accept loop; returns its control channel.
pub(crate) fn spawn(
    listener: TcpListener,
    engine: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    stall: watch::Receiver<Option<Instant>>,
    config: &SimConfig,
) -> mpsc::Sender<ServerCtl> {
    let (tx, rx) = mpsc::channel(8);
    let limits = SessionLimits {
        max_pending: config.max_pending_messages.max(16),
        write_timeout: config.write_timeout,
    };
    let server = Server {
        engine,
        shared,
        stall,
        limits,
        max_connections: config.max_connections.max(1),
        open: Arc::new(AtomicUsize::new(0)),
        next_id: AtomicU64::new(0),
    };
    tokio::spawn(server.run(listener, rx));
    tx
}

struct Server {
    engine: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    stall: watch::Receiver<Option<Instant>>,
    limits: SessionLimits,
    max_connections: usize,
    open: Arc<AtomicUsize>,
    next_id: AtomicU64,
}

impl Server {
    async fn run(self, listener: TcpListener, mut ctl: mpsc::Receiver<ServerCtl>) {
        let addr = self.shared.addr;
        let mut listener = Some(listener);
        while let Some(l) = listener.as_ref() {
            tokio::select! {
                accepted = l.accept() => match accepted {
                    Ok((stream, peer)) => self.accept(stream, peer),
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                c = ctl.recv() => match c {
                    Some(ServerCtl::Pause(d, ack)) => {
                        drop(listener.take());
                        let _ = ack.send(());
                        tokio::time::sleep(d).await;
                        listener = rebind(addr).await;
                    }
                    Some(ServerCtl::Stop(ack)) => {
                        drop(listener.take());
                        let _ = ack.send(());
                    }
                    None => break,
                },
            }
        }
    }

    fn accept(&self, stream: tokio::net::TcpStream, peer: SocketAddr) {
        if self.open.load(Ordering::Relaxed) >= self.max_connections {
            tracing::warn!(%peer, "too many AMI connections: closed");
            drop(stream);
            return;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let guard = ConnGuard::new(self.open.clone());
        let args = session::SessionArgs {
            id,
            peer,
            engine: self.engine.clone(),
            shared: self.shared.clone(),
            stall: self.stall.clone(),
            limits: self.limits.clone(),
        };
        tokio::spawn(async move {
            session::run(stream, args).await;
            drop(guard);
        });
    }
}

async fn rebind(addr: SocketAddr) -> Option<TcpListener> {
    for _ in 0..50 {
        match TcpListener::bind(addr).await {
            Ok(l) => return Some(l),
            Err(e) => {
                tracing::warn!(error = %e, %addr, "cannot listen again yet");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    None
}

/// Counts open connections; decremented when the session ends.
struct ConnGuard(Arc<AtomicUsize>);

impl ConnGuard {
    fn new(count: Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
