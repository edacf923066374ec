//! `GET /<ticket>/long-poll`: answers at once with everything pending, else at the first event
//! plus a short gathering delay (a burst comes in one answer), else `[]` after the poll timeout.
//! The body is a JSON array of the hub's already-serialized events. An unknown ticket is 404.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::state::AppState;
use super::streams::{attach, ClientAddr};
use crate::hub::{Delivery, HubError};

/// The long-poll handler.
pub async fn long_poll(
    State(state): State<AppState>,
    ticket: Result<Path<String>, PathRejection>,
    addr: ClientAddr,
) -> Result<Response, ApiError> {
    // A ticket that does not even decode is just another unknown ticket.
    let Ok(Path(ticket)) = ticket else {
        return Err(HubError::UnknownTicket.into());
    };
    let mut attached = attach(&state, &ticket, addr)?;
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

/// `[e1,e2,...]` from serialized events, without serializing them again.
pub fn json_array(deliveries: &[Delivery]) -> String {
    let len = deliveries.iter().map(|d| d.json().len() + 1).sum::<usize>() + 2;
    let mut out = String::with_capacity(len);
    out.push('[');
    for (i, delivery) in deliveries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(delivery.json());
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests;
