//! `GET /<ticket>/sse`: Server-Sent Events. Each event is `id: <its id>`, `event: <type>` and
//! `data: <the object without type>`; a reconnect with `Last-Event-ID` (an `EventSource` sends it
//! by itself) or `?lastEventId=` resumes after that id; with `?heartbeat=1` the keep-alive is an
//! `event: heartbeat` a script sees (`{"intervalMs":..}`, the first one at once) instead of a
//! comment; a comment keeps the connection alive (every ~15 s); the stream ends with
//! `event: closed` (what the original server sent) immediately followed by `event: close` (what
//! its README documents), both carrying the reason. An unknown or expired ticket gets those two
//! events at once (`{"reason":"unknownTicket"}`), so an `EventSource` stops reconnecting.

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, Stream};
use std::convert::Infallible;
use std::pin::Pin;
use std::time::Duration;
use tokio::time::{Instant, Sleep};

use super::error::ApiError;
use super::openapi::schemas::{ErrorBody, Event};
use super::state::AppState;
use super::streams::{attach, Attached, ClientAddr, StreamQuery};
use crate::hub::Sent;
use crate::telemetry::Transport;

/// The reason sent when the ticket does not exist.
pub const UNKNOWN_TICKET: &str = r#"{"reason":"unknownTicket"}"#;
/// The event a stream opened with `?heartbeat=1` gets at every keep-alive.
pub const HEARTBEAT: &str = "heartbeat";
/// Events taken from the ticket and written as one piece, when several are ready at once.
const MAX_BATCH: usize = 64;
/// Room for events kept between writes; a larger batch (a snapshot's) is freed once written.
const KEPT_BATCH: usize = 4;

/// `{"intervalMs":15000}`: how often heartbeats come, so that a client knows when to give up.
pub fn heartbeat_data(interval: std::time::Duration) -> String {
    format!(r#"{{"intervalMs":{}}}"#, interval.as_millis())
}

/// The reason sent when the hub ended the stream without a closing event.
pub const ENDED: &str = r#"{"reason":"ended"}"#;

/// The SSE handler.
#[utoipa::path(
    get,
    path = "/{ticket}/sse",
    tag = "streams",
    summary = "Server-Sent Events of a ticket",
    params(
        ("ticket" = String, Path, description = "The ticket `POST /ticket` answered"),
        ("lastEventId" = Option<String>, Query, description = "Resume right after this event id (`0`: before the first event); wins over the `Last-Event-ID` header"),
        ("heartbeat" = Option<String>, Query, description = "`1`: a heartbeat event at every keep-alive, the first at once"),
        ("Last-Event-ID" = Option<String>, Header, description = "The same as `lastEventId`, as an `EventSource` sends it when it reconnects"),
    ),
    responses(
        (status = 200, description = "Server-Sent Events: `id: <its id>`, `event: <type>`, `data: <the event without type>` (schema: the data of one event); a comment every `keep_alive_seconds`, or with `?heartbeat=1` an `event: heartbeat`. Ends with `event: closed` then `event: close`; an unknown ticket gets both at once with `{\"reason\":\"unknownTicket\"}`", content_type = "text/event-stream", body = Event),
        (status = 400, description = "A malformed or repeated `lastEventId`", body = ErrorBody),
        (status = 429, description = "Too many open streams from this address", body = ErrorBody),
    )
)]
pub async fn sse(
    State(state): State<AppState>,
    ticket: Result<Path<String>, PathRejection>,
    addr: ClientAddr,
    from: StreamQuery,
) -> Result<Response, ApiError> {
    // A ticket that does not even decode is just another unknown ticket.
    let attached = match ticket {
        Ok(Path(ticket)) => attach(&state, &ticket, addr, &from, Transport::Sse),
        Err(_) => Err(ApiError::NotFound(String::new())),
    };
    let step = match attached {
        Ok(attached) => Step::Live(Box::new(attached)),
        Err(ApiError::NotFound(_)) => Step::Closed(UNKNOWN_TICKET.into()),
        Err(e) => return Err(e),
    };
    let interval = state.timing().keep_alive;
    let heartbeat = Bytes::from(frame(HEARTBEAT, &heartbeat_data(interval)));
    // The first heartbeat at once: the client learns the interval before it needs it.
    let (beat, first) = if from.heartbeat {
        (heartbeat.clone(), Some(heartbeat))
    } else {
        (Bytes::from_static(b": keep-alive\n\n"), None)
    };
    let writer = Writer {
        step,
        first,
        beat,
        interval,
        timer: Box::pin(tokio::time::sleep(interval)),
        last_write: Instant::now(),
        batch: Vec::new(),
    };
    Ok((
        [
            (header::CONTENT_TYPE.as_str(), "text/event-stream"),
            ("x-accel-buffering", "no"),
            (header::CACHE_CONTROL.as_str(), "no-store"),
        ],
        Body::from_stream(frames(writer)),
    )
        .into_response())
}

enum Step {
    Live(Box<Attached>),
    Closed(String),
    Closing(String),
    Done,
}

/// The stream's writer: where it stands, and its keep-alive.
struct Writer {
    step: Step,
    /// A frame to send before anything else.
    first: Option<Bytes>,
    /// The keep-alive frame: a comment, or the heartbeat event.
    beat: Bytes,
    interval: Duration,
    /// Fires `interval` after the last write; re-armed only when it fires (cheaper than
    /// resetting it at every event).
    timer: Pin<Box<Sleep>>,
    last_write: Instant,
    /// Events taken from the ticket, reused between writes.
    batch: Vec<Sent>,
}

fn frame(kind: &str, data: &str) -> String {
    format!("event: {kind}\ndata: {data}\n\n")
}

/// The ticket's deliveries as SSE frames, ending with `closed` and `close`; the events ready at
/// once go out in one piece, written from the bytes each event was serialized to once.
fn frames(writer: Writer) -> impl Stream<Item = Result<Bytes, Infallible>> {
    stream::unfold(writer, |mut w| async move {
        if let Some(first) = w.first.take() {
            w.last_write = Instant::now();
            return Some((Ok(first), w));
        }
        let out = match std::mem::replace(&mut w.step, Step::Done) {
            Step::Live(attached) => return live(w, attached).await,
            Step::Closed(data) => {
                let out = frame("closed", &data);
                w.step = Step::Closing(data);
                out
            }
            Step::Closing(data) => frame("close", &data),
            Step::Done => return None,
        };
        Some((Ok(Bytes::from(out)), w))
    })
}

/// The next frame of a live stream: the events ready (waiting for them), or a keep-alive.
async fn live(
    mut w: Writer,
    mut attached: Box<Attached>,
) -> Option<(Result<Bytes, Infallible>, Writer)> {
    loop {
        tokio::select! {
            more = attached.subscription.recv_many(MAX_BATCH, &mut w.batch) => {
                w.last_write = Instant::now();
                if !more {
                    w.step = Step::Closing(ENDED.into());
                    return Some((Ok(Bytes::from(frame("closed", ENDED))), w));
                }
                // One allocation: the frames, their ids and blank lines.
                let room = w.batch.iter().map(|s| s.delivery.size() + 40).sum();
                let mut out = BytesMut::with_capacity(room);
                let mut closing = None;
                for sent in w.batch.drain(..) {
                    sent.delivery.write_sse(sent.id.as_ref(), &mut out);
                    if sent.delivery.is_closed() {
                        closing = Some(sent.delivery.data_json().to_owned());
                    }
                }
                // A snapshot's batch leaves room for many events; an idle stream keeps little.
                if w.batch.capacity() > KEPT_BATCH {
                    w.batch = Vec::new();
                }
                w.step = match closing {
                    Some(data) => Step::Closing(data),
                    None => Step::Live(attached),
                };
                return Some((Ok(out.freeze()), w));
            }
            () = w.timer.as_mut() => {
                let due = w.last_write + w.interval;
                if Instant::now() >= due {
                    w.last_write = Instant::now();
                    w.timer.as_mut().reset(w.last_write + w.interval);
                    w.step = Step::Live(attached);
                    return Some((Ok(w.beat.clone()), w));
                }
                w.timer.as_mut().reset(due);
            }
        }
    }
}

#[cfg(test)]
mod tests;
