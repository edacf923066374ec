//! The HTTP server's own bounds, over real TCP: a connection that sends half a request line is
//! closed after the configured header read timeout (the whole service); the connection cap
//! holds new connections until one closes, and shutdown waits for busy connections (the server
//! loop with a small router of its own).

use crate::support::app as support;

use axum::routing::get;
use axum::Router;
use pbxis_ws::http::server::{serve, ServerConfig};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, Mutex};

const PATIENCE: Duration = Duration::from_secs(20);

/// Reads until the server closes the connection; what it sent.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut got)).await;
    // A reset counts as closed too.
    assert!(read.is_ok(), "the connection was not closed");
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn half_a_request_line_is_closed_after_the_header_read_timeout() {
    let app = support::spawn_app_with(|s| s.limits.header_read_timeout_seconds = 1).await;
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /queue/sta").await.unwrap();
    let answer = read_until_closed(&mut slow).await;
    assert!(!answer.contains("200 OK"), "{answer}");
    // A client that completes its request head in time is served as usual.
    let mut prompt = TcpStream::connect(app.addr).await.unwrap();
    prompt
        .write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut prompt).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    app.stop_and_join().await;
}

/// A server whose `/hold` requests report that they started and wait to be released, with
/// `max_connections` connections.
async fn holding_server(
    max_connections: usize,
) -> (
    std::net::SocketAddr,
    mpsc::Receiver<oneshot::Sender<()>>,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (entered_tx, entered_rx) = mpsc::channel::<oneshot::Sender<()>>(8);
    let entered_tx = std::sync::Arc::new(Mutex::new(entered_tx));
    let router = Router::new()
        .route("/hello", get(|| async { "hello" }))
        .route(
            "/hold",
            get(move || {
                let entered = entered_tx.clone();
                async move {
                    let (release, released) = oneshot::channel();
                    entered.lock().await.send(release).await.unwrap();
                    let _ = released.await;
                    "released"
                }
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let config = ServerConfig {
        header_read_timeout: Duration::from_secs(60),
        max_connections,
    };
    let server = tokio::spawn(serve(listener, router, config, async {
        let _ = stop_rx.await;
    }));
    (addr, entered_rx, stop_tx, server)
}

async fn send(addr: std::net::SocketAddr, path: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

#[tokio::test]
async fn at_the_connection_cap_new_connections_wait_for_a_free_slot() {
    let (addr, mut entered, _stop, _server) = holding_server(2).await;
    let mut first = send(addr, "/hold").await;
    let release_first = entered.recv().await.unwrap();
    let _second = send(addr, "/hold").await;
    let _release_second = entered.recv().await.unwrap();
    // Both slots are taken: the third connection is not served (it waits in the backlog).
    let mut third = send(addr, "/hello").await;
    let mut byte = [0u8; 1];
    let waited = tokio::time::timeout(Duration::from_millis(300), third.read(&mut byte)).await;
    assert!(waited.is_err(), "served beyond the cap");
    // One connection ends: the third is accepted and served.
    release_first.send(()).unwrap();
    assert!(read_until_closed(&mut first).await.ends_with("released"));
    let answer = read_until_closed(&mut third).await;
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with("hello"),
        "{answer}"
    );
}

#[tokio::test]
async fn shutdown_closes_idle_connections_and_waits_for_busy_ones() {
    let (addr, mut entered, stop, server) = holding_server(10).await;
    let mut busy = send(addr, "/hold").await;
    let release = entered.recv().await.unwrap();
    let mut idle = TcpStream::connect(addr).await.unwrap();
    stop.send(()).unwrap();
    // The idle connection is closed; the server still waits for the busy one.
    read_until_closed(&mut idle).await;
    assert!(!server.is_finished());
    release.send(()).unwrap();
    assert!(read_until_closed(&mut busy).await.ends_with("released"));
    tokio::time::timeout(PATIENCE, server)
        .await
        .expect("the server returns once every connection is gone")
        .unwrap();
}
