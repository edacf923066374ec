//! `POST /spy/{supervisor}/{agent}`: the supervisor's phone rings and, once answered, listens
//! to, whispers to or barges into the agent's call (Asterisk's `ChanSpy`). Scope `supervise`;
//! both agents must be allowed, and a key restricted to some queues may only spy on a member of
//! one of them.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::key::{scope, Key};
use super::requests::{SpyPath, SpyRequest};
use crate::http::auth::AuthError;
use crate::http::error::ApiError;
use crate::http::openapi::schemas::ErrorBody;
use crate::http::params::{Params, PathParams};
use crate::http::state::AppState;

/// `POST /spy/<supervisor>/<agent>?mode=listen|whisper|barge`: the action id as a JSON string.
#[utoipa::path(
    post,
    path = "/spy/{supervisor}/{agent}",
    summary = "Listen to, whisper to or barge into an agent's call",
    tag = "calls",
    params(SpyPath, SpyRequest),
    request_body(content(
        (SpyRequest = "application/json"),
        (SpyRequest = "application/x-www-form-urlencoded"),
    ), description = "`mode` (or in the query)"),
    security(("key" = ["supervise"])),
    responses(
        (status = 200, description = "The action id; `spyStarted`/`spyStopped` with the mode follow, `originateFailed` if the supervisor's phone does not answer", body = String, example = json!("pbxis-cecb7ba884f6235f")),
        (status = 400, description = "`supervisor`, `agent` or `mode` malformed or missing, or an unknown parameter", body = ErrorBody),
        (status = 401, description = "No API key, or a wrong one", body = ErrorBody),
        (status = 403, description = "The key lacks scope `supervise`, an agent is outside the key's, or the agent is a member of none of the key's queues", body = ErrorBody),
        (status = 409, description = "Asterisk refused the call; its message is passed on", body = ErrorBody),
        (status = 503, description = "Not connected to Asterisk, or shutting down", body = ErrorBody),
        (status = 504, description = "Asterisk did not answer in time", body = ErrorBody),
    )
)]
pub async fn spy(
    State(state): State<AppState>,
    Key { principal, .. }: Key<scope::Supervise>,
    PathParams(path): PathParams<SpyPath>,
    Params(request): Params<SpyRequest>,
) -> Result<Response, ApiError> {
    principal.check_agents([&path.supervisor, &path.agent])?;
    if !principal.allows_all_queues() {
        let queues = state.pbx().member_queues(path.agent.clone()).await?;
        if !queues.iter().any(|q| principal.allows_queue(q)) {
            return Err(AuthError::Agent(path.agent).into());
        }
    }
    let action_id = state
        .pbx()
        .spy(path.supervisor, path.agent, request.mode)
        .await?;
    Ok(Json(action_id).into_response())
}
