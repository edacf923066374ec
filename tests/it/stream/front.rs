//! The front of each connection over real TCP: an SSE stream served outside hyper (a head in
//! pieces, chunked frames, the stream detached when the client leaves, the router's limits
//! applied), and every other request handed to hyper with the bytes already read replayed.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::app::{spawn_app, PATIENCE};

/// Reads until `want` shows up in what was read (or the connection ends); everything read.
async fn read_until(stream: &mut TcpStream, want: &str) -> String {
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    tokio::time::timeout(PATIENCE, async {
        while !String::from_utf8_lossy(&got).contains(want) {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await
    .expect("the answer comes");
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn an_sse_head_in_pieces_is_served_in_chunks_and_detached_when_the_client_leaves() {
    let app = spawn_app().await;
    let ticket = app.ticket(&["147"], &["q1"]).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    for piece in [
        format!("GET /{ticket}/s"),
        "se HTTP/1.1\r\nHost: x\r\n".to_owned(),
        "Last-Event-ID: 0\r\n\r\n".to_owned(),
    ] {
        stream.write_all(piece.as_bytes()).await.unwrap();
        stream.flush().await.unwrap();
        tokio::task::yield_now().await;
    }
    let text = read_until(&mut stream, "event: queueCount").await;
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let head = head.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200 ok\r\n"), "{head}");
    for line in [
        "content-type: text/event-stream",
        "cache-control: no-store",
        "transfer-encoding: chunked",
        "connection: close",
    ] {
        assert!(head.contains(line), "{line} in {head}");
    }
    // The first chunk: its size in hex, then frames with their ids.
    let (size, rest) = body.split_once("\r\n").unwrap();
    assert!(usize::from_str_radix(size, 16).unwrap() > 0);
    assert!(rest.starts_with("event: "), "{rest}");
    assert!(rest.contains("\nid: "), "{rest}");
    app.wait_streams(1).await;
    drop(stream);
    app.wait_streams(0).await;
}

#[tokio::test]
async fn other_requests_go_to_hyper_with_their_first_bytes() {
    let app = spawn_app().await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    // Two requests on one connection, the first one split where the front stops reading.
    stream.write_all(b"GE").await.unwrap();
    stream.flush().await.unwrap();
    tokio::task::yield_now().await;
    stream
        .write_all(b"T /ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    while text.matches("\"tickets\"").count() < 2 {
        let more = read_until(&mut stream, "\"tickets\"").await;
        assert!(!more.is_empty(), "the connection ended: {text}");
        text.push_str(&more);
    }
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2, "{text}");
    // A stream path that is not an SSE stream's goes to hyper as well.
    let (status, _) = app.get("/abc/long-poll").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_sse_head_over_the_limit_gets_431_from_the_router() {
    let app = spawn_app().await;
    let ticket = app.ticket(&["147"], &["q1"]).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let big = "x".repeat(20 * 1024);
    let head = format!("GET /{ticket}/sse HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let text = tokio::time::timeout(Duration::from_secs(10), read_until(&mut stream, "}"))
        .await
        .unwrap();
    assert!(text.starts_with("HTTP/1.1 431 "), "{text}");
    assert!(text.contains("\"error\""), "{text}");
    assert_eq!(app.stream_count().await, 0);
}
