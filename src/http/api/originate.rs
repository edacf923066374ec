//! `POST /originate/{src}/{dest}`: a call to `dest`, patched through to agent `src`'s extension.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::key::{scope, Key};
use super::requests::{OriginatePath, OriginateRequest};
use crate::http::error::ApiError;
use crate::http::openapi::schemas::ErrorBody;
use crate::http::params::{Params, PathParams};
use crate::http::state::AppState;

/// `POST /originate/<src>/<dest>[?callerId=..][&variables=..]`: the action id as a JSON string. Scope
/// `control`; the key must allow the agent `src`.
#[utoipa::path(
    post,
    path = "/originate/{src}/{dest}",
    summary = "Call `dest` and patch it through to agent `src`",
    tag = "calls",
    params(OriginatePath, OriginateRequest),
    request_body(content(
        (OriginateRequest = "application/json"),
        (OriginateRequest = "application/x-www-form-urlencoded"),
    ), description = "`callerId` (or in the query)"),
    security(("key" = ["control"])),
    responses(
        (status = 200, description = "The action id; it reappears in an `originateFailed` event if the call fails", body = String, example = json!("pbxis-cecb7ba884f6235f")),
        (status = 400, description = "`src`, `dest` or `callerId` malformed, or an unknown parameter", body = ErrorBody),
        (status = 401, description = "No API key, or a wrong one", body = ErrorBody),
        (status = 403, description = "The key lacks scope `control`, or the agent is outside the key's", body = ErrorBody),
        (status = 409, description = "Asterisk refused the call; its message is passed on", body = ErrorBody),
        (status = 503, description = "Not connected to Asterisk, or shutting down", body = ErrorBody),
        (status = 504, description = "Asterisk did not answer in time", body = ErrorBody),
    )
)]
pub async fn originate(
    State(state): State<AppState>,
    Key { principal, .. }: Key<scope::Control>,
    PathParams(path): PathParams<OriginatePath>,
    Params(request): Params<OriginateRequest>,
) -> Result<Response, ApiError> {
    principal.check_agents([&path.src])?;
    let action_id = state
        .pbx()
        .originate(
            path.src,
            path.dest,
            request.caller_id,
            request.variables.unwrap_or_default(),
        )
        .await?;
    Ok(Json(action_id).into_response())
}
