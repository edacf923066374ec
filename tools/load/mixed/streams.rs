//! The pages' streams: each page one SSE stream held by a light client (a raw TCP connection, a
//! 2 KiB read buffer, no allocation per event, the comparison's wire parsing), spread over
//! loopback source addresses 127.0.0.1 to 127.0.0.8; what each reads goes to
//! [`Shared::observe`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::pages::{Page, PageRef, PageState, Shared, SHARDS};
use crate::compare::wire::{parse_head, DataLines, Dechunk, MAX_LINE};

/// Loopback source addresses the connections are spread over.
const SOURCES: u8 = 8;
/// Connections being opened at once.
const OPENING: usize = 32;
/// Read buffer of each page.
const READ_BUF: usize = 2048;

/// Every page of the run.
pub struct Pages {
    /// What they share.
    pub shared: Arc<Shared>,
    /// How many were asked for.
    pub size: usize,
    stop: CancellationToken,
    tasks: JoinSet<()>,
}

impl Pages {
    /// Opens every page on `server` (at most [`OPENING`] connecting at once); returns at once,
    /// the streams open in the background (watch `shared.opened` and `shared.failed`), each
    /// counting into `shared`.
    pub fn open(server: SocketAddr, pages: Vec<Page>, shared: Arc<Shared>) -> Pages {
        let stop = CancellationToken::new();
        let opening = Arc::new(Semaphore::new(OPENING));
        let size = pages.len();
        let mut tasks = JoinSet::new();
        for (index, page) in pages.into_iter().enumerate() {
            let (shared, stop, opening) = (shared.clone(), stop.clone(), opening.clone());
            tasks.spawn(async move {
                let me = PageRef {
                    kind: page.kind,
                    agent: page.agent,
                    shard: index % SHARDS,
                };
                let result = tokio::select! {
                    () = stop.cancelled() => Ok(()),
                    r = follow(server, index, &page.path, &me, &shared, opening) => r,
                };
                if let Err(e) = result {
                    shared.fail(format!("{} page {index}: {e}", page.kind.name()));
                }
            });
        }
        Pages {
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

/// Connects from the `index`th source address and sends `GET path`.
async fn connect(server: SocketAddr, index: usize, path: &str) -> Result<TcpStream, String> {
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
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {server}\r\nAccept: text/event-stream\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("write: {e}"))?;
    Ok(stream)
}

/// Reads the response head: whether the body is chunked, and the body bytes read with it.
async fn read_head(stream: &mut TcpStream) -> Result<(bool, Vec<u8>), String> {
    let mut buf = [0u8; READ_BUF];
    let mut head = Vec::new();
    loop {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("closed before the response head".into());
        }
        head.extend_from_slice(&buf[..n]);
        match parse_head(&head) {
            None if head.len() > MAX_LINE => return Err("response head too long".into()),
            None => continue,
            Some(Err(e)) => return Err(e),
            Some(Ok((200, chunked, end))) => return Ok((chunked, head.split_off(end))),
            Some(Ok((status, _, _))) => return Err(format!("HTTP {status}")),
        }
    }
}

/// One page: connect, `GET path`, then read events until the stream ends (an error: the
/// service never ends a stream while the run goes on).
async fn follow(
    server: SocketAddr,
    index: usize,
    path: &str,
    me: &PageRef,
    shared: &Shared,
    opening: Arc<Semaphore>,
) -> Result<(), String> {
    let permit = opening.acquire_owned().await.map_err(|e| e.to_string())?;
    let mut stream = connect(server, index, path).await?;
    let (chunked, rest) = read_head(&mut stream).await?;
    shared.opened.fetch_add(1, Ordering::SeqCst);
    drop(permit);
    let mut state = PageState::default();
    let mut lines = DataLines::default();
    let mut dechunk = chunked.then(Dechunk::default);
    let mut body = |bytes: &[u8]| -> Result<bool, String> {
        let mut feed = |b: &[u8]| lines.feed(b, |d| shared.observe(d, me, &mut state));
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
    if !body(&rest)? {
        return Err("the stream ended".into());
    }
    let mut buf = [0u8; READ_BUF];
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
