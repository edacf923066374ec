//! One connection of a resuming subscriber on each transport: opened with `lastEventId` (`0`
//! before the first event), read until it breaks or the service closes it, every whole event
//! handed to the [`Position`]. A long-poll connection asks again and again on one kept-alive
//! connection, each time with the last id applied. A connection silent for longer than the
//! service's keep-alives allow counts as broken.

use std::time::Duration;

use futures_util::StreamExt;
use http_body_util::BodyExt;
use hyper::{Method, StatusCode};
use serde_json::{Map, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use super::client::{End, Position, Setup};
use crate::http::{read_body, ClientError, Connection};
use crate::sse::{SseEvent, SseParser};
use crate::subscriber::Transport;

/// Longest silence on a stream: the service sends a keep-alive (SSE comment, WebSocket ping)
/// every ~15 s, and answers a long poll within its 30 s timeout.
const SILENCE: Duration = Duration::from_secs(45);

/// Reads one connection of `setup`'s transport on `ticket`.
pub async fn read(setup: &Setup, ticket: &str, position: &mut Position) -> End {
    let result = match setup.transport {
        Transport::LongPoll => long_poll(setup, ticket, position).await,
        Transport::Sse => sse(setup, ticket, position).await,
        Transport::Websocket => websocket(setup, ticket, position).await,
    };
    result.unwrap_or_else(|e| End::Broken(e.to_string()))
}

fn path(ticket: &str, transport: Transport, position: &Position) -> String {
    let last = position.last_id.as_deref().unwrap_or("0");
    format!("/{ticket}/{}?lastEventId={last}", transport.name())
}

fn silent() -> ClientError {
    ClientError::Body(format!("silent for {SILENCE:?}"))
}

/// Applies `events` in order; the closing event ends the stream.
fn apply_all(events: Vec<Value>, position: &mut Position) -> Option<End> {
    for event in events {
        if matches!(event["type"].as_str(), Some("closed" | "close")) {
            let reason = event["reason"].as_str().unwrap_or("").to_owned();
            return Some(End::Closed(reason));
        }
        position.apply(event);
    }
    None
}

async fn long_poll(
    setup: &Setup,
    ticket: &str,
    position: &mut Position,
) -> Result<End, ClientError> {
    let mut conn = Connection::open(setup.connect, None).await?;
    loop {
        let path = path(ticket, Transport::LongPoll, position);
        let asked = async {
            let response = conn.send(Method::GET, &path, None).await?;
            let status = response.status();
            Ok::<_, ClientError>((status, read_body(response).await?))
        };
        let (status, body) = tokio::time::timeout(SILENCE, asked)
            .await
            .map_err(|_| silent())??;
        if status == StatusCode::NOT_FOUND {
            return Ok(End::Closed("unknownTicket".into()));
        }
        if status != StatusCode::OK {
            let body = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            return Err(ClientError::Status { status, body });
        }
        let events: Vec<Value> =
            serde_json::from_slice(&body).map_err(|e| ClientError::Body(e.to_string()))?;
        if let Some(end) = apply_all(events, position) {
            return Ok(end);
        }
    }
}

/// An SSE event as the other transports carry it: `{"type": name, "id": id, ...data}`.
fn sse_json(e: SseEvent) -> Value {
    let mut object: Map<String, Value> = serde_json::from_str(&e.data).unwrap_or_default();
    object.insert("type".into(), Value::String(e.name));
    if let Some(id) = e.id {
        object.insert("id".into(), Value::String(id));
    }
    Value::Object(object)
}

async fn sse(setup: &Setup, ticket: &str, position: &mut Position) -> Result<End, ClientError> {
    let mut conn = Connection::open(setup.connect, None).await?;
    let path = path(ticket, Transport::Sse, position);
    let response = tokio::time::timeout(SILENCE, conn.send(Method::GET, &path, None))
        .await
        .map_err(|_| silent())??;
    if response.status() != StatusCode::OK {
        let status = response.status();
        return Err(ClientError::Status {
            status,
            body: String::new(),
        });
    }
    let mut body = response.into_body();
    let mut parser = SseParser::default();
    loop {
        let frame = tokio::time::timeout(SILENCE, body.frame())
            .await
            .map_err(|_| silent())?;
        let Some(frame) = frame else {
            return Ok(End::Broken("the SSE stream ended".into()));
        };
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        let mut events = Vec::new();
        parser
            .feed(&data, |e| events.push(sse_json(e)))
            .map_err(ClientError::Body)?;
        if let Some(end) = apply_all(events, position) {
            return Ok(end);
        }
    }
}

async fn websocket(
    setup: &Setup,
    ticket: &str,
    position: &mut Position,
) -> Result<End, ClientError> {
    let url = format!(
        "ws://{}{}",
        setup.connect,
        path(ticket, Transport::Websocket, position)
    );
    let opened = async {
        let stream = TcpStream::connect(setup.connect).await?;
        stream.set_nodelay(true)?;
        Ok::<_, ClientError>(tokio_tungstenite::client_async(url, stream).await?)
    };
    let (mut socket, _) = tokio::time::timeout(SILENCE, opened)
        .await
        .map_err(|_| silent())??;
    loop {
        let message = tokio::time::timeout(SILENCE, socket.next())
            .await
            .map_err(|_| silent())?;
        match message {
            None | Some(Ok(Message::Close(_))) => {
                return Ok(End::Broken("the WebSocket closed".into()))
            }
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(Message::Text(text))) => {
                let event: Value = serde_json::from_str(text.as_str())
                    .map_err(|e| ClientError::Body(e.to_string()))?;
                if let Some(end) = apply_all(vec![event], position) {
                    return Ok(end);
                }
            }
            // Pings are answered by the library on the next read.
            Some(Ok(_)) => {}
        }
    }
}
