//! The operational endpoints: `GET /health` (liveness), `GET /ready` (readiness), `POST /stop`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::key::{scope, Key};
use crate::http::error::ApiError;
use crate::http::openapi::schemas::{ErrorBody, Health, Readiness, Stopping};
use crate::http::state::AppState;

/// `POST /stop`: stops the service gracefully (every stream gets its closing event, AMI logs
/// off). Scope `admin`. Answers 202; 404 when disabled in the configuration (the router then
/// does not route it at all).
#[utoipa::path(
    post,
    path = "/stop",
    summary = "Stop the service gracefully",
    tag = "operations",
    security(("key" = ["admin"])),
    responses(
        (status = 202, description = "Stopping: every stream gets its closing event, AMI logs off, the process exits 0", body = Stopping),
        (status = 401, description = "No API key, or a wrong one", body = ErrorBody),
        (status = 403, description = "The key lacks scope `admin`", body = ErrorBody),
        (status = 404, description = "Disabled (`allow_stop = false`)", body = ErrorBody),
    )
)]
pub async fn stop(
    State(state): State<AppState>,
    _key: Key<scope::Admin>,
) -> Result<Response, ApiError> {
    if !state.allow_stop() {
        return Err(ApiError::NotFound("no such endpoint".into()));
    }
    tracing::info!("stop requested over HTTP");
    state.stop_token().cancel();
    Ok((StatusCode::ACCEPTED, Json(json!({ "status": "stopping" }))).into_response())
}

/// `GET /health`: liveness, `{"status":"ok"}`. Scope `health` (or `admin`).
#[utoipa::path(
    get,
    path = "/health",
    summary = "Liveness",
    tag = "operations",
    security(("key" = ["health"]), ("key" = ["admin"])),
    responses(
        (status = 200, description = "Alive", body = Health),
        (status = 401, description = "No API key, or a wrong one", body = ErrorBody),
        (status = 403, description = "The key lacks scope `health` or `admin`", body = ErrorBody),
    )
)]
pub async fn health(_key: Key<scope::Health>) -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /ready`: 200 when connected to Asterisk and the model is built and the service is not
/// stopping, else 503; the body says `{"ready":..,"connected":..,"draining":..,"tickets":..,
/// "streams":..}` (live tickets, open streams).
/// Scope `health` (or `admin`).
#[utoipa::path(
    get,
    path = "/ready",
    summary = "Readiness",
    tag = "operations",
    security(("key" = ["health"]), ("key" = ["admin"])),
    responses(
        (status = 200, description = "Ready: connected to Asterisk, the model built, not stopping", body = Readiness),
        (status = 503, description = "Not ready (or draining before a stop)", body = Readiness),
        (status = 401, description = "No API key, or a wrong one", body = ErrorBody),
        (status = 403, description = "The key lacks scope `health` or `admin`", body = ErrorBody),
    )
)]
pub async fn ready(State(state): State<AppState>, _key: Key<scope::Health>) -> Response {
    let link = state.pbx().link();
    let draining = state.is_draining();
    let ready = link.ready && !draining;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "ready": ready,
        "connected": link.connected,
        "draining": draining,
        "tickets": state.hub().ticket_count(),
        "streams": state.streams().total(),
    });
    (status, Json(body)).into_response()
}
