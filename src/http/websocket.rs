//! `GET /<ticket>/websocket`: one JSON event per text message, `id` beside `type` (`?lastEventId=`
//! resumes after that id; `?heartbeat=1` adds `{"type":"heartbeat","intervalMs":..}` to every
//! ping, for scripts, which cannot see pings); pings answered with pongs and
//! sent every ~15 s to notice dead peers (a client that answers none within two keep-alives is
//! dropped); the stream ends with `{"type":"closed",...}` then a
//! close frame. An upgrade from an Origin not on the allow-list is refused (403) before it
//! happens; an unknown ticket gets `{"type":"closed","reason":"unknownTicket"}` and close code
//! 4404. The socket loop ([`pump`]) is generic over `Sink`/`Stream`, so it is tested without a
//! socket.

use axum::extract::rejection::PathRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::{stream, FutureExt, Sink, SinkExt, Stream, StreamExt};
use std::time::Duration;

use super::error::ApiError;
use super::openapi::schemas::{ErrorBody, Event};
use super::state::AppState;
use super::streams::{attach, Attached, ClientAddr, StreamQuery};
use crate::telemetry::Transport;

/// Close code for an unknown or expired ticket (application range).
pub const CLOSE_UNKNOWN_TICKET: u16 = 4404;
/// Close code at the normal end of a stream.
pub const CLOSE_NORMAL: u16 = 1000;
/// Largest message accepted from a client (clients have nothing to say but pings).
const MAX_CLIENT_MESSAGE: usize = 4096;
/// Read buffer of a socket: room for a client's ping (at most 131 bytes on the wire); a larger
/// message (up to [`MAX_CLIENT_MESSAGE`]) grows it as it arrives. The whole buffer is touched at
/// every read, so it is resident for as long as the socket lasts.
const READ_BUFFER: usize = 256;
/// Events written to the socket before one flush, when several are ready at once.
const MAX_BATCH: usize = 64;

/// One event to send: the full JSON object, and whether it is the closing one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// `{"type":..,...}`.
    pub json: String,
    /// True for `{"type":"closed",...}`: the last message.
    pub closed: bool,
}

/// How a socket ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PumpEnd {
    /// The server ended it (closing event and close frame sent).
    Closed,
    /// The client left or the connection failed.
    ClientGone,
}

/// The WebSocket handler.
#[utoipa::path(
    get,
    path = "/{ticket}/websocket",
    tag = "streams",
    summary = "WebSocket of a ticket: one JSON event per message",
    params(
        ("ticket" = String, Path, description = "The ticket `POST /ticket` answered"),
        ("lastEventId" = Option<String>, Query, description = "Resume right after this event id (`0`: before the first event); wins over the `Last-Event-ID` header"),
        ("heartbeat" = Option<String>, Query, description = "`1`: a heartbeat event at every keep-alive, the first at once"),
        ("Last-Event-ID" = Option<String>, Header, description = "The same as `lastEventId`, as an `EventSource` sends it when it reconnects"),
    ),
    responses(
        (status = 101, description = "Switching to WebSocket: one JSON event per text message (schema: one message), `closed` last, then a close frame (1000; 4404 for an unknown ticket); with `?heartbeat=1` a `heartbeat` message with every ping", body = Event),
        (status = 400, description = "Not a WebSocket upgrade, or a malformed `lastEventId`", body = ErrorBody),
        (status = 403, description = "An `Origin` other than the service's own and those in `cors_origins`", body = ErrorBody),
        (status = 429, description = "Too many open streams from this address", body = ErrorBody),
    )
)]
pub async fn websocket(
    State(state): State<AppState>,
    ticket: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    addr: ClientAddr,
    from: StreamQuery,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    if !state.origins().websocket_allowed(&headers) {
        return Err(ApiError::Forbidden("origin not allowed".into()));
    }
    let upgrade = upgrade?;
    // A ticket that does not even decode is just another unknown ticket.
    let attached = match ticket {
        Ok(Path(ticket)) => attach(&state, &ticket, addr, &from, Transport::WebSocket),
        Err(_) => Err(ApiError::NotFound(String::new())),
    };
    let attached = match attached {
        Ok(attached) => Some(attached),
        Err(ApiError::NotFound(_)) => None,
        Err(e) => return Err(e),
    };
    let keep_alive = state.timing().keep_alive;
    let heartbeat = from.heartbeat;
    // Clients only send pings: a small read buffer (tungstenite's default is 128 KiB, cleared on
    // every read) keeps a subscriber's memory and the per-read cost low.
    let upgrade = upgrade
        .read_buffer_size(READ_BUFFER)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE);
    let sockets = state.sockets().clone();
    let timing = Beat {
        keep_alive,
        heartbeat,
    };
    Ok(upgrade.on_upgrade(move |socket| sockets.track_future(serve(socket, attached, timing))))
}

/// How often a socket is pinged, and whether it also gets a heartbeat message then.
#[derive(Clone, Copy, Debug)]
pub struct Beat {
    /// Ping interval.
    pub keep_alive: Duration,
    /// Send `{"type":"heartbeat","intervalMs":..}` with every ping (`?heartbeat=1`).
    pub heartbeat: bool,
}

async fn serve(socket: WebSocket, attached: Option<Attached>, beat: Beat) {
    let (tx, rx) = socket.split();
    let keep_alive = beat.keep_alive;
    match attached {
        Some(attached) => {
            pump(tx, rx, deliveries(attached), beat).await;
        }
        None => {
            let (mut tx, limit) = (tx, keep_alive * 2);
            let closed = r#"{"type":"closed","reason":"unknownTicket"}"#;
            if send(&mut tx, Message::Text(closed.into()), limit).await {
                let frame = close_frame(CLOSE_UNKNOWN_TICKET, "unknown ticket");
                send(&mut tx, frame, limit).await;
            }
        }
    }
}

/// The ticket's deliveries as outgoing messages (the subscription lives as long as the stream).
fn deliveries(attached: Attached) -> impl Stream<Item = Outgoing> + Unpin + Send {
    Box::pin(stream::unfold(attached, |mut attached| async move {
        let sent = attached.subscription.recv().await?;
        let out = Outgoing {
            json: match &sent.id {
                Some(id) => sent.delivery.json_with_id(id),
                None => sent.delivery.json(),
            },
            closed: sent.delivery.is_closed(),
        };
        Some((out, attached))
    }))
}

fn close_frame(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Sends one message; a client that does not take it within `limit` counts as gone.
async fn send<Tx: Sink<Message> + Unpin>(tx: &mut Tx, message: Message, limit: Duration) -> bool {
    matches!(
        tokio::time::timeout(limit, tx.send(message)).await,
        Ok(Ok(()))
    )
}

fn ended() -> Outgoing {
    Outgoing {
        json: r#"{"type":"closed","reason":"ended"}"#.into(),
        closed: true,
    }
}

/// Writes `first` and whatever other events are ready right now (up to [`MAX_BATCH`]), then
/// flushes once: one socket write for a burst instead of one per event. Returns how the socket
/// ended, if it did.
async fn send_batch<Tx, Ev>(
    tx: &mut Tx,
    events: &mut Ev,
    first: Outgoing,
    limit: Duration,
) -> Option<PumpEnd>
where
    Tx: Sink<Message> + Unpin,
    Ev: Stream<Item = Outgoing> + Unpin,
{
    let mut event = first;
    let mut fed = 0;
    loop {
        let closed = event.closed;
        if !within(limit, tx.feed(Message::Text(event.json.into()))).await {
            return Some(PumpEnd::ClientGone);
        }
        if closed {
            if !within(limit, tx.flush()).await {
                return Some(PumpEnd::ClientGone);
            }
            send(tx, close_frame(CLOSE_NORMAL, "closed"), limit).await;
            return Some(PumpEnd::Closed);
        }
        fed += 1;
        if fed == MAX_BATCH {
            break;
        }
        // Take the next event only if it is ready now, so that nothing fetched is left behind.
        event = match events.next().now_or_never() {
            Some(Some(next)) => next,
            Some(None) => ended(),
            None => break,
        };
    }
    if !within(limit, tx.flush()).await {
        return Some(PumpEnd::ClientGone);
    }
    None
}

/// True when `fut` completes without error within `limit`.
async fn within<E>(limit: Duration, fut: impl std::future::Future<Output = Result<(), E>>) -> bool {
    matches!(tokio::time::timeout(limit, fut).await, Ok(Ok(())))
}

/// Runs one socket: sends every event as a text message until the closing one (then a close
/// frame), answers pings, sends a ping every `keep_alive`, and stops when the client leaves,
/// does not take a message within two `keep_alive`s, or sends nothing (no pong, no message)
/// for two `keep_alive`s after a ping. If the event stream ends without a
/// closing event, `{"type":"closed","reason":"ended"}` is sent.
pub async fn pump<Tx, Rx, E, Ev>(mut tx: Tx, mut rx: Rx, mut events: Ev, beat: Beat) -> PumpEnd
where
    Tx: Sink<Message> + Unpin,
    Rx: Stream<Item = Result<Message, E>> + Unpin,
    Ev: Stream<Item = Outgoing> + Unpin,
{
    let keep_alive = beat.keep_alive;
    let limit = keep_alive * 2;
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + keep_alive, keep_alive);
    let heartbeat = format!(
        r#"{{"type":"heartbeat","intervalMs":{}}}"#,
        keep_alive.as_millis()
    );
    // The first heartbeat at once: the client learns the interval before it needs it.
    if beat.heartbeat && !send(&mut tx, Message::Text(heartbeat.as_str().into()), limit).await {
        return PumpEnd::ClientGone;
    }
    // When the oldest unanswered ping went out; any message from the client answers it.
    let mut unanswered: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            event = events.next() => {
                match send_batch(&mut tx, &mut events, event.unwrap_or_else(ended), limit).await {
                    Some(end) => return end,
                    None => continue,
                }
            }
            incoming = rx.next() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return PumpEnd::ClientGone,
                Some(Ok(Message::Ping(payload))) => {
                    unanswered = None;
                    if !send(&mut tx, Message::Pong(payload), limit).await {
                        return PumpEnd::ClientGone;
                    }
                }
                Some(Ok(_)) => unanswered = None,
            },
            now = ping.tick() => {
                let since = *unanswered.get_or_insert(now);
                if now.saturating_duration_since(since) >= limit {
                    tracing::debug!("WebSocket client answers no ping: dropped");
                    return PumpEnd::ClientGone;
                }
                if !send(&mut tx, Message::Ping(Default::default()), limit).await {
                    return PumpEnd::ClientGone;
                }
                if beat.heartbeat
                    && !send(&mut tx, Message::Text(heartbeat.as_str().into()), limit).await
                {
                    return PumpEnd::ClientGone;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
