//! The front of every connection: it reads the first request's head itself, and serves an SSE
//! stream (`GET /<ticket>/sse`) outside hyper; anything else goes to hyper with the bytes read
//! so far replayed ([`Replay`]).
//!
//! Why: an SSE stream is a connection that lives for hours and is idle almost always, and hyper
//! keeps two buffers of 8 KiB for each connection (it reads into one and writes its heads from
//! the other, and cannot go below 8 KiB) for as long as the response lasts. Served here, an SSE
//! connection holds no buffer while it waits: the request goes through the same router (limits,
//! CORS, logs, metrics and the SSE handler are the same), then the response head is written once,
//! and each frame of the body goes out as one chunk (`Transfer-Encoding: chunked`) straight from
//! the handler's bytes. The connection closes when the stream ends (`Connection: close`); the
//! client's side is read (into a 64-byte buffer, discarded) only to notice that it went away.
//!
//! Bounds: the head is read within `header_read_timeout`, at most [`MAX_HEAD`] bytes; a longer
//! one, a malformed one, a request that is not an SSE stream, or anything after the head goes to
//! hyper, which answers it as it answers any request.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Request, Response};
use axum::Router;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Most bytes of a request head read here; a longer head goes to hyper.
pub const MAX_HEAD: usize = 32 * 1024;
/// Most headers parsed.
const MAX_HEADERS: usize = 64;

/// What the front made of a connection's first bytes.
pub enum Front {
    /// An SSE stream, served (the connection is done).
    Served,
    /// Not for the front: hyper serves the connection, the bytes read first replayed.
    Hyper(Replay),
    /// The client sent nothing in time, or went away.
    Gone,
}

/// Reads the first request head and serves it if it is an SSE stream.
pub async fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    router: &Router,
    header_timeout: Duration,
    draining: &CancellationToken,
) -> Front {
    let mut head = Vec::new();
    let reading = tokio::time::timeout(header_timeout, async {
        // On the heap and freed once the head is read: the connection's task keeps no room for
        // it while the stream lasts.
        let mut chunk = vec![0u8; 1024];
        loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok::<bool, io::Error>(false);
            }
            head.extend_from_slice(&chunk[..n]);
            if !maybe_sse(&head) || memchr::memmem::find(&head, b"\r\n\r\n").is_some() {
                return Ok(true);
            }
            if head.len() > MAX_HEAD {
                return Ok(true);
            }
        }
    });
    // Shutting down: a connection that has not sent its request yet is closed, as hyper does.
    let read = tokio::select! {
        read = reading => read,
        () = draining.cancelled() => return Front::Gone,
    };
    match read {
        Ok(Ok(true)) => {}
        // Nothing (or no whole head) within the time allowed, or the client left: closed.
        _ => return Front::Gone,
    }
    let request = match sse_request(&head, peer) {
        Some(request) => request,
        None => return Front::Hyper(Replay::new(head, stream)),
    };
    drop(head);
    let Ok(response) = router.clone().oneshot(request).await;
    let _ = write_response(&mut stream, response).await;
    Front::Served
}

/// True while the bytes so far may still be the head of `GET /<ticket>/sse`.
fn maybe_sse(head: &[u8]) -> bool {
    let line_end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let line = &head[..line_end];
    if !b"GET /".starts_with(&line[..line.len().min(5)]) {
        return false;
    }
    if line_end == head.len() {
        return true;
    }
    let target = line.split(|&b| b == b' ').nth(1).unwrap_or_default();
    let path = target.split(|&b| b == b'?').next().unwrap_or_default();
    path.ends_with(b"/sse") && path.iter().filter(|&&b| b == b'/').count() == 2
}

/// The request, if the head is a complete, well-formed `GET /<ticket>/sse` over HTTP/1.1 with
/// nothing after it.
fn sse_request(head: &[u8], peer: SocketAddr) -> Option<Request<Body>> {
    if !maybe_sse(head) {
        return None;
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let end = match parsed.parse(head) {
        Ok(httparse::Status::Complete(end)) => end,
        _ => return None,
    };
    if end != head.len() || parsed.method != Some("GET") || parsed.version != Some(1) {
        return None;
    }
    let mut request = Request::get(parsed.path?).body(Body::empty()).ok()?;
    for h in parsed.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes()).ok()?;
        let value = HeaderValue::from_bytes(h.value).ok()?;
        request.headers_mut().append(name, value);
    }
    request.extensions_mut().insert(ConnectInfo(peer));
    Some(request)
}

/// Writes the head, then the body as chunks as it comes, until it ends or the client goes away.
async fn write_response(stream: &mut TcpStream, response: Response<Body>) -> io::Result<()> {
    let (parts, mut body) = response.into_parts();
    let mut head = BytesMut::with_capacity(256);
    let reason = parts.status.canonical_reason().unwrap_or("");
    head.extend_from_slice(format!("HTTP/1.1 {} {reason}\r\n", parts.status.as_u16()).as_bytes());
    for (name, value) in &parts.headers {
        if name == axum::http::header::CONNECTION || name == axum::http::header::CONTENT_LENGTH {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n");
    // The head's headers are not kept while the stream lasts (hours, for most).
    drop(parts);
    stream.write_all(&head).await?;
    drop(head);
    let (mut rd, mut wr) = stream.split();
    let mut scratch = [0u8; 64];
    loop {
        let data = tokio::select! {
            frame = body.frame() => match frame {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => data,
                    Err(_) => continue,
                },
                Some(Err(_)) | None => break,
            },
            read = rd.read(&mut scratch) => match read {
                // The client went away (or sent more than this one request): the stream ends.
                Ok(0) | Err(_) => return Ok(()),
                Ok(_) => continue,
            },
        };
        if data.is_empty() {
            continue;
        }
        write_chunk(&mut wr, &data).await?;
    }
    wr.write_all(b"0\r\n\r\n").await?;
    wr.shutdown().await
}

/// The size line of a chunk (`<hex size>\r\n`), written into `room`.
fn chunk_head(len: usize, room: &mut [u8; 18]) -> &[u8] {
    use std::io::Write as _;
    let mut cursor = io::Cursor::new(&mut room[..]);
    // Infallible: 16 hex digits and CRLF fit in 18 bytes.
    let _ = write!(cursor, "{len:x}\r\n");
    let end = usize::try_from(cursor.position()).unwrap_or(0);
    &room[..end]
}

/// One chunk of a chunked body (size, CRLF, the bytes, CRLF) in one vectored write, with no
/// copy of the bytes; a short write goes on from where it stopped. The slices are made at each
/// poll, so the connection's task keeps only the size line and a count between polls.
async fn write_chunk<W: tokio::io::AsyncWrite + Unpin>(out: &mut W, data: &[u8]) -> io::Result<()> {
    let mut room = [0u8; 18];
    let head_len = chunk_head(data.len(), &mut room).len();
    let total = head_len + data.len() + 2;
    let mut written = 0;
    while written < total {
        let n = std::future::poll_fn(|cx| {
            let parts: [&[u8]; 3] = [&room[..head_len], data, b"\r\n"];
            let mut skip = written;
            let mut slices = [io::IoSlice::new(&[]); 3];
            let mut used = 0;
            for part in parts {
                if skip >= part.len() {
                    skip -= part.len();
                    continue;
                }
                slices[used] = io::IoSlice::new(&part[skip..]);
                skip = 0;
                used += 1;
            }
            Pin::new(&mut *out).poll_write_vectored(cx, &slices[..used])
        })
        .await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        written += n;
    }
    Ok(())
}

/// A connection whose first bytes were already read: they are read again first.
pub struct Replay {
    first: Bytes,
    stream: TcpStream,
}

impl Replay {
    fn new(first: Vec<u8>, stream: TcpStream) -> Replay {
        Replay {
            first: Bytes::from(first),
            stream,
        }
    }
}

impl AsyncRead for Replay {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.first.is_empty() {
            let n = self.first.len().min(buf.remaining());
            let first = self.first.split_to(n);
            buf.put_slice(&first);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for Replay {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sse_heads_stay_in_front() {
        assert!(maybe_sse(b"GE"));
        assert!(maybe_sse(b"GET /abc/s"));
        assert!(maybe_sse(b"GET /abc/sse HTTP/1.1\r\n"));
        assert!(maybe_sse(
            b"GET /abc/sse?lastEventId=x-1 HTTP/1.1\r\nHost: a\r\n"
        ));
        assert!(!maybe_sse(b"POST /ticket HTTP/1.1\r\n"));
        assert!(!maybe_sse(b"GET /abc/websocket HTTP/1.1\r\n"));
        assert!(!maybe_sse(b"GET /a/b/sse HTTP/1.1\r\n"));
        assert!(!maybe_sse(b"GET /sse HTTP/1.1\r\n"));
    }

    #[test]
    fn requests_are_parsed_whole_or_not_at_all() {
        let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let head = b"GET /t/sse?heartbeat=1 HTTP/1.1\r\nHost: x\r\nLast-Event-ID: e-1\r\n\r\n";
        let request = sse_request(head, peer).unwrap();
        assert_eq!(request.uri(), "/t/sse?heartbeat=1");
        assert_eq!(request.headers()["last-event-id"], "e-1");
        assert!(request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_some());
        // Something after the head, HTTP/1.0, another method, a malformed head: hyper's.
        let mut more = head.to_vec();
        more.extend_from_slice(b"GET /t/sse HTTP/1.1\r\n\r\n");
        assert!(sse_request(&more, peer).is_none());
        assert!(sse_request(b"GET /t/sse HTTP/1.0\r\n\r\n", peer).is_none());
        assert!(sse_request(b"GET /t/sse HTTP/1.1\r\nBad Header\r\n\r\n", peer).is_none());
    }

    #[test]
    fn chunks() {
        let mut room = [0u8; 18];
        assert_eq!(chunk_head(5, &mut room), b"5\r\n");
        assert_eq!(chunk_head(300, &mut room), b"12c\r\n");
        assert_eq!(chunk_head(usize::MAX, &mut room), b"ffffffffffffffff\r\n");
    }

    /// A writer that takes at most `step` bytes a call, as a full socket buffer does.
    struct Trickle {
        got: Vec<u8>,
        step: usize,
    }

    impl tokio::io::AsyncWrite for Trickle {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let n = buf.len().min(self.step);
            self.got.extend_from_slice(&buf[..n]);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_chunk_is_whole_however_short_the_writes() {
        for step in [1, 2, 3, 7, 1000] {
            let mut out = Trickle {
                got: Vec::new(),
                step,
            };
            write_chunk(&mut out, b"hello").await.unwrap();
            write_chunk(&mut out, b"").await.unwrap();
            assert_eq!(out.got, b"5\r\nhello\r\n0\r\n\r\n", "step {step}");
        }
    }
}
