//! `GET /metrics`: the instance's metrics in the Prometheus text format (scope `admin`). The
//! gauges that are states rather than counts (AMI link up, model ready, tickets open) are read
//! from their owners at each scrape, so they are exact whenever they are read.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

use super::auth::Scope;
use super::error::ApiError;
use super::openapi::schemas::ErrorBody;
use super::state::AppState;

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    summary = "The instance's metrics, Prometheus text format",
    security(("key" = ["admin"])),
    responses(
        (status = 200, description = "Prometheus text format (0.0.4)", content_type = "text/plain", body = String),
        (status = 401, description = "No API key, or a wrong one", body = ErrorBody),
        (status = 403, description = "The key lacks scope `admin`", body = ErrorBody),
    )
)]
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.auth().authorize(&headers, Scope::Admin)?;
    let m = state.metrics();
    let link = state.pbx().link();
    let flag = |on: bool| if on { 1.0 } else { 0.0 };
    m.gauge("pbxis_ami_connected", &[])
        .set(flag(link.connected));
    m.gauge("pbxis_model_ready", &[]).set(flag(link.ready));
    m.gauge("pbxis_tickets_open", &[])
        .set(state.hub().ticket_count() as f64);
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], m.render()).into_response())
}
