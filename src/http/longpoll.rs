//! `GET /<ticket>/long-poll`: answers at once with everything pending, else at the first event
//! plus a short gathering delay (a burst comes in one answer), else `[]` after the poll timeout.
//! The body is a JSON array of the hub's already-serialized events, each with its `id`. A request
//! with `?lastEventId=` acknowledges every event up to that id and is answered from just after
//! it: an answer that was lost is served again when asked again. An unknown ticket is 404.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::openapi::schemas::{ErrorBody, Event};
use super::state::AppState;
use super::streams::{attach, ClientAddr, StreamQuery};
use crate::hub::{HubError, Sent};
use crate::telemetry::Transport;

/// The long-poll handler.
#[utoipa::path(
    get,
    path = "/{ticket}/long-poll",
    tag = "streams",
    summary = "Long polling: the events after `lastEventId`",
    params(
        ("ticket" = String, Path, description = "The ticket `POST /ticket` answered"),
        ("lastEventId" = Option<String>, Query, description = "Resume right after this event id (`0`: before the first event); wins over the `Last-Event-ID` header"),
        ("Last-Event-ID" = Option<String>, Header, description = "The same as `lastEventId`, as an `EventSource` sends it when it reconnects"),
    ),
    responses(
        (status = 200, description = "The events after `lastEventId`: at once with everything pending, else at the first event plus ~100 ms, else `[]` after `poll_timeout_seconds`; the last event of a stream is `closed`", body = Vec<Event>),
        (status = 400, description = "A malformed or repeated `lastEventId`", body = ErrorBody),
        (status = 404, description = "Unknown or expired ticket", body = ErrorBody),
        (status = 429, description = "Too many open streams from this address", body = ErrorBody),
    )
)]
pub async fn long_poll(
    State(state): State<AppState>,
    ticket: Result<Path<String>, PathRejection>,
    addr: ClientAddr,
    from: StreamQuery,
) -> Result<Response, ApiError> {
    // A ticket that does not even decode is just another unknown ticket.
    let Ok(Path(ticket)) = ticket else {
        return Err(HubError::UnknownTicket.into());
    };
    let mut attached = attach(&state, &ticket, addr, &from, Transport::LongPoll)?;
    let timing = state.timing();
    let deliveries = attached
        .subscription
        .poll(timing.poll_timeout, timing.gather)
        .await;
    drop(attached);
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        json_array(&deliveries),
    )
        .into_response())
}

/// `[e1,e2,...]` from serialized events with their ids, without serializing them again.
pub fn json_array(sent: &[Sent]) -> String {
    let len = sent.iter().map(|s| s.delivery.size() + 40).sum::<usize>() + 2;
    let mut out = String::with_capacity(len);
    out.push('[');
    for (i, s) in sent.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match &s.id {
            Some(id) => s.delivery.write_json_with_id(id, &mut out),
            None => s.delivery.write_plain_json(&mut out),
        }
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests;
