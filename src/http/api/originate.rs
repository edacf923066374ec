//! `POST /originate/{src}/{dest}`: a call to `dest`, patched through to agent `src`'s extension.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::key::{scope, Key};
use super::requests::{OriginatePath, OriginateRequest};
use crate::http::error::ApiError;
use crate::http::params::{Params, PathParams};
use crate::http::state::AppState;

/// `POST /originate/<src>/<dest>[?callerId=..][&variables=..]`: the action id as a JSON string. Scope
/// `control`; the key must allow the agent `src`.
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
