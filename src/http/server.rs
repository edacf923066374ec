//! The HTTP/1 server loop: accepts connections, serves each with hyper (upgrades allowed, for
//! WebSockets), and shuts down gracefully. Two bounds that plain `axum::serve` lacks:
//!
//! - **Header read timeout**: a connection must deliver a complete request head within
//!   `header_read_timeout` of the server starting to wait for one (also between requests on a
//!   kept-alive connection); otherwise it is closed. A client trickling half a request line
//!   cannot hold a connection for ever.
//! - **Connection cap**: at most `max_connections` connections are served at once. At the cap
//!   the server stops accepting until one closes; new clients wait in the kernel's listen
//!   backlog (and may time out there). Nothing already accepted is dropped.
//!
//! Shutdown: when `shutdown` completes, the listener is closed, idle connections are closed,
//! and busy ones finish their current response (a stream ends with its closing event) before
//! closing; [`serve`] returns when every connection is gone.

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::front::{self, Front};

/// The server's bounds.
#[derive(Clone, Copy, Debug)]
pub struct ServerConfig {
    /// Time allowed for a complete request head.
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` completes, then drains (see the module doc).
/// Each request carries the peer's address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send,
) {
    let permits = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let connections = TaskTracker::new();
    let draining = CancellationToken::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (router, draining, config) = (router.clone(), draining.clone(), config);
        connections.spawn(async move {
            serve_connection(stream, peer, router, config, draining).await;
            drop(permit);
        });
    }
    drop(listener);
    draining.cancel();
    connections.close();
    connections.wait().await;
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    config: ServerConfig,
    draining: CancellationToken,
) {
    let _ = stream.set_nodelay(true);
    // An SSE stream is served in front of hyper (see `front`), without its buffers.
    let io = match front::serve(stream, peer, &router, config.header_read_timeout, &draining).await
    {
        Front::Served | Front::Gone => return,
        Front::Hyper(io) => io,
    };
    // Boxed: the task of every connection, SSE streams included, is as large as its largest
    // state, and hyper's connection is far larger than what an SSE stream keeps.
    Box::pin(serve_hyper(io, peer, router, config, draining)).await;
}

/// Serves the connection with hyper (upgrades allowed), the first bytes replayed.
async fn serve_hyper(
    io: front::Replay,
    peer: SocketAddr,
    router: Router,
    config: ServerConfig,
    draining: CancellationToken,
) {
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request)
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = draining.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection closed with an error");
    }
}
