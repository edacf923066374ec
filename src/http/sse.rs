//! `GET /<ticket>/sse`: Server-Sent Events. Each event is `id: <its id>`, `event: <type>` and
//! `data: <the object without type>`; a reconnect with `Last-Event-ID` (an `EventSource` sends it
//! by itself) or `?lastEventId=` resumes after that id; with `?heartbeat=1` the keep-alive is an
//! `event: heartbeat` a script sees (`{"intervalMs":..}`, the first one at once) instead of a
//! comment; a comment keeps the connection alive (every ~15 s); the stream ends with
//! `event: closed` (what the original server sent) immediately followed by `event: close` (what
//! its README documents), both carrying the reason. An unknown or expired ticket gets those two
//! events at once (`{"reason":"unknownTicket"}`), so an `EventSource` stops reconnecting.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use std::convert::Infallible;

use super::error::ApiError;
use super::state::AppState;
use super::streams::{attach, Attached, ClientAddr, StreamQuery};
use crate::telemetry::Transport;

/// The reason sent when the ticket does not exist.
pub const UNKNOWN_TICKET: &str = r#"{"reason":"unknownTicket"}"#;
/// The event a stream opened with `?heartbeat=1` gets at every keep-alive.
pub const HEARTBEAT: &str = "heartbeat";

/// `{"intervalMs":15000}`: how often heartbeats come, so that a client knows when to give up.
pub fn heartbeat_data(interval: std::time::Duration) -> String {
    format!(r#"{{"intervalMs":{}}}"#, interval.as_millis())
}

/// The reason sent when the hub ended the stream without a closing event.
pub const ENDED: &str = r#"{"reason":"ended"}"#;

/// The SSE handler.
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
    let keep_alive = KeepAlive::new().interval(interval);
    let heartbeat = event(HEARTBEAT, &heartbeat_data(interval));
    // The first heartbeat at once: the client learns the interval before it needs it.
    let (keep_alive, first) = if from.heartbeat {
        (keep_alive.event(heartbeat.clone()), Some(Ok(heartbeat)))
    } else {
        (keep_alive.text("keep-alive"), None)
    };
    let sse = Sse::new(stream::iter(first).chain(events(step))).keep_alive(keep_alive);
    Ok((
        [
            ("x-accel-buffering", "no"),
            (header::CACHE_CONTROL.as_str(), "no-store"),
        ],
        sse,
    )
        .into_response())
}

enum Step {
    Live(Box<Attached>),
    Closed(String),
    Closing(String),
    Done,
}

fn event(kind: &str, data: &str) -> SseEvent {
    SseEvent::default().event(kind).data(data)
}

/// The ticket's deliveries as SSE events, ending with `closed` and `close`.
fn events(first: Step) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    stream::unfold(first, |step| async move {
        match step {
            Step::Live(mut attached) => match attached.subscription.recv().await {
                Some(sent) if sent.delivery.is_closed() => {
                    let data = sent.delivery.data_json().to_owned();
                    Some((Ok(event("closed", &data)), Step::Closing(data)))
                }
                Some(sent) => {
                    let d = &sent.delivery;
                    let mut e = event(d.type_name(), d.data_json());
                    if let Some(id) = sent.id {
                        e = e.id(id.to_string());
                    }
                    Some((Ok(e), Step::Live(attached)))
                }
                None => Some((Ok(event("closed", ENDED)), Step::Closing(ENDED.into()))),
            },
            Step::Closed(data) => Some((Ok(event("closed", &data)), Step::Closing(data))),
            Step::Closing(data) => Some((Ok(event("close", &data)), Step::Done)),
            Step::Done => None,
        }
    })
}

#[cfg(test)]
mod tests;
