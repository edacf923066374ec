//! One subscriber per task, on one of the three transports: it opens its stream, says it is
//! attached, then feeds every event it receives (stamped with the moment it was read) to its
//! [`Tally`] until the run stops it or the stream ends.

use std::net::SocketAddr;
use std::time::Instant;

use futures_util::StreamExt;
use http_body_util::BodyExt;
use hyper::{Method, StatusCode};
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::http::{ClientError, Connection};
use crate::sse::SseParser;
use crate::tally::Tally;

/// A transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// Server-Sent Events.
    Sse,
    /// WebSocket.
    Websocket,
    /// Long-poll.
    LongPoll,
}

impl Transport {
    /// The name in the URL and the report.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Sse => "sse",
            Transport::Websocket => "websocket",
            Transport::LongPoll => "long-poll",
        }
    }
}

/// One subscriber: its transport, its ticket and what it saw.
pub struct Subscriber {
    /// The transport.
    pub transport: Transport,
    /// Its ticket.
    pub ticket: String,
    /// What it received.
    pub tally: Tally,
}

/// Runs `sub` until `stop` (or the end of its stream); `attached` is sent once the stream is
/// open (or has failed to open).
pub async fn run(
    mut sub: Subscriber,
    addr: SocketAddr,
    stop: CancellationToken,
    attached: oneshot::Sender<()>,
) -> Subscriber {
    let result = match sub.transport {
        Transport::Sse => sse(&mut sub, addr, &stop, attached).await,
        Transport::Websocket => websocket(&mut sub, addr, &stop, attached).await,
        Transport::LongPoll => long_poll(&mut sub, addr, &stop, attached).await,
    };
    if let Err(e) = result {
        sub.tally.errors.push(e.to_string());
    }
    sub
}

async fn sse(
    sub: &mut Subscriber,
    addr: SocketAddr,
    stop: &CancellationToken,
    attached: oneshot::Sender<()>,
) -> Result<(), ClientError> {
    let path = format!("/{}/sse", sub.ticket);
    let opened = async {
        let mut conn = Connection::open(addr, None).await?;
        conn.send(Method::GET, &path, None).await
    }
    .await;
    let _ = attached.send(());
    let response = opened?;
    if response.status() != StatusCode::OK {
        let status = response.status();
        let body = crate::http::read_body(response).await.unwrap_or_default();
        let body = String::from_utf8_lossy(&body).into_owned();
        return Err(ClientError::Status { status, body });
    }
    let mut body = response.into_body();
    let mut parser = SseParser::default();
    loop {
        let frame = tokio::select! {
            () = stop.cancelled() => return Ok(()),
            frame = body.frame() => frame,
        };
        let Some(frame) = frame else {
            return Ok(());
        };
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        let at = Instant::now();
        let tally = &mut sub.tally;
        parser
            .feed(&data, |e| tally.observe_typed(&e.name, &e.data, at))
            .map_err(ClientError::Body)?;
        if sub.tally.closed.is_some() {
            return Ok(());
        }
    }
}

async fn websocket(
    sub: &mut Subscriber,
    addr: SocketAddr,
    stop: &CancellationToken,
    attached: oneshot::Sender<()>,
) -> Result<(), ClientError> {
    let url = format!("ws://{addr}/{}/websocket", sub.ticket);
    let opened = async {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok::<_, ClientError>(tokio_tungstenite::client_async(url, stream).await?)
    }
    .await;
    let _ = attached.send(());
    let (mut socket, _) = opened?;
    loop {
        let message = tokio::select! {
            () = stop.cancelled() => {
                let _ = socket.close(None).await;
                return Ok(());
            }
            message = socket.next() => message,
        };
        match message {
            None | Some(Ok(Message::Close(_))) => return Ok(()),
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(Message::Text(text))) => {
                sub.tally.observe_json(text.as_str(), Instant::now());
                if sub.tally.closed.is_some() {
                    return Ok(());
                }
            }
            // Pings are answered by the library on the next read.
            Some(Ok(_)) => {}
        }
    }
}

async fn long_poll(
    sub: &mut Subscriber,
    addr: SocketAddr,
    stop: &CancellationToken,
    attached: oneshot::Sender<()>,
) -> Result<(), ClientError> {
    let path = format!("/{}/long-poll", sub.ticket);
    let opened = Connection::open(addr, None).await;
    // The ticket buffers every event from its creation on: attached already.
    let _ = attached.send(());
    let mut conn = opened?;
    loop {
        let answer = tokio::select! {
            () = stop.cancelled() => return Ok(()),
            answer = conn.call(Method::GET, &path, None, StatusCode::OK) => answer?,
        };
        sub.tally.observe_array(&answer, Instant::now());
        if sub.tally.closed.is_some() {
            return Ok(());
        }
    }
}
