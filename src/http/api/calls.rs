//! Call control: `GET /calls` (an agent's calls as channels), `POST /hangup`,
//! `POST /redirect-to/{dest}`, `POST /park-and-announce`. Each acts on `agent-or-channel`: an
//! agent's one call (several: 409 with the candidates; none: 404), or a channel the model knows
//! (404 otherwise), which only a key restricted neither to agents nor to queues may name.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::key::{scope, Key};
use super::requests::{CallRequest, CallsRequest, RedirectPath};
use crate::http::auth::Principal;
use crate::http::error::ApiError;
use crate::http::openapi::schemas::{ActionMessage, CallChannels, ErrorBody, Parked, SeveralCalls};
use crate::http::params::{Params, PathParams};
use crate::http::state::AppState;
use crate::pbx::AgentOrChannel;

/// The key may act on this agent's call, or on a raw channel.
fn check(principal: &Principal, who: &AgentOrChannel) -> Result<(), ApiError> {
    match who {
        AgentOrChannel::Agent(agent) => principal.check_agents([agent])?,
        AgentOrChannel::Channel(_) => principal.check_channel()?,
    }
    Ok(())
}

fn message(text: String) -> Response {
    Json(json!({ "message": text })).into_response()
}

/// `GET /calls?agent=..`: the agent's calls in progress. Scope `events`.
#[utoipa::path(
    get,
    path = "/calls",
    summary = "An agent's calls in progress, as channels",
    tag = "calls",
    params(CallsRequest),
    security(("key" = ["events"])),
    responses(
        (status = 200, description = "The agent's calls, the one its `phoneNumber` shows first; empty when none", body = Vec<CallChannels>),
        (status = 400, description = "`agent` missing or malformed, or an unknown parameter", body = ErrorBody),
        (status = 401, description = "No API key, or a wrong one", body = ErrorBody),
        (status = 403, description = "The key lacks scope `events`, or the agent is outside the key's", body = ErrorBody),
        (status = 503, description = "Shutting down", body = ErrorBody),
    )
)]
pub async fn calls(
    State(state): State<AppState>,
    Key { principal, .. }: Key<scope::Events>,
    Params(request): Params<CallsRequest>,
) -> Result<Response, ApiError> {
    principal.check_agents([&request.agent])?;
    let calls = state.pbx().calls(request.agent).await?;
    Ok(Json(calls).into_response())
}

/// `POST /hangup`: hangs up the agent's own channel, or the named channel. Scope `control`.
#[utoipa::path(
    post,
    path = "/hangup",
    summary = "Hang up an agent's call or a channel",
    tag = "calls",
    params(CallRequest),
    request_body(content(
        (CallRequest = "application/json"),
        (CallRequest = "application/x-www-form-urlencoded"),
    ), description = "`agent-or-channel` (or in the query)"),
    security(("key" = ["control"])),
    responses(
        (status = 200, description = "Asterisk's message", body = ActionMessage),
        (status = 400, description = "`agent-or-channel` missing or malformed, or an unknown parameter", body = ErrorBody),
        (status = 401, description = "No API key, or a wrong one", body = ErrorBody),
        (status = 403, description = "The key lacks scope `control`, the agent is outside the key's, or a restricted key names a channel", body = ErrorBody),
        (status = 404, description = "The agent has no call, or no such channel", body = ErrorBody),
        (status = 409, description = "Asterisk refused (its message is passed on), or the agent has several calls (`candidates`)", body = SeveralCalls),
        (status = 503, description = "Not connected to Asterisk, or shutting down", body = ErrorBody),
        (status = 504, description = "Asterisk did not answer in time", body = ErrorBody),
    )
)]
pub async fn hangup(
    State(state): State<AppState>,
    Key { principal, .. }: Key<scope::Control>,
    Params(request): Params<CallRequest>,
) -> Result<Response, ApiError> {
    check(&principal, &request.agent_or_channel)?;
    let text = state.pbx().hangup(request.agent_or_channel).await?;
    Ok(message(text))
}

/// `POST /redirect-to/{dest}`: the party bridged to the agent (or the named channel) goes to
/// `dest`. Scope `control`.
#[utoipa::path(
    post,
    path = "/redirect-to/{dest}",
    summary = "Transfer the agent's caller (or a channel) to `dest`",
    tag = "calls",
    params(RedirectPath, CallRequest),
    request_body(content(
        (CallRequest = "application/json"),
        (CallRequest = "application/x-www-form-urlencoded"),
    ), description = "`agent-or-channel` (or in the query)"),
    security(("key" = ["control"])),
    responses(
        (status = 200, description = "Asterisk's message", body = ActionMessage),
        (status = 400, description = "`dest` or `agent-or-channel` malformed or missing, or an unknown parameter", body = ErrorBody),
        (status = 401, description = "No API key, or a wrong one", body = ErrorBody),
        (status = 403, description = "The key lacks scope `control`, the agent is outside the key's, or a restricted key names a channel", body = ErrorBody),
        (status = 404, description = "The agent has no call, or no such channel", body = ErrorBody),
        (status = 409, description = "Asterisk refused (its message is passed on), or the agent has several calls (`candidates`)", body = SeveralCalls),
        (status = 503, description = "Not connected to Asterisk, or shutting down", body = ErrorBody),
        (status = 504, description = "Asterisk did not answer in time", body = ErrorBody),
    )
)]
pub async fn redirect_to(
    State(state): State<AppState>,
    Key { principal, .. }: Key<scope::Control>,
    PathParams(path): PathParams<RedirectPath>,
    Params(request): Params<CallRequest>,
) -> Result<Response, ApiError> {
    check(&principal, &request.agent_or_channel)?;
    let text = state
        .pbx()
        .redirect(request.agent_or_channel, path.dest)
        .await?;
    Ok(message(text))
}

/// `POST /park-and-announce`: parks the party bridged to the agent (or the named channel).
/// Scope `control`.
#[utoipa::path(
    post,
    path = "/park-and-announce",
    summary = "Park the agent's caller (or a channel)",
    tag = "calls",
    params(CallRequest),
    request_body(content(
        (CallRequest = "application/json"),
        (CallRequest = "application/x-www-form-urlencoded"),
    ), description = "`agent-or-channel` (or in the query)"),
    security(("key" = ["control"])),
    responses(
        (status = 200, description = "Asterisk's message and where the call waits: `lot`, `space` (the extension that picks it up) and `timeout` (seconds before it rings back); without them if Asterisk did not tell within 5 s. The `parked` event follows the call", body = Parked),
        (status = 400, description = "`agent-or-channel` missing or malformed, or an unknown parameter", body = ErrorBody),
        (status = 401, description = "No API key, or a wrong one", body = ErrorBody),
        (status = 403, description = "The key lacks scope `control`, the agent is outside the key's, or a restricted key names a channel", body = ErrorBody),
        (status = 404, description = "The agent has no call, or no such channel", body = ErrorBody),
        (status = 409, description = "Asterisk refused (its message is passed on), or the agent has several calls (`candidates`)", body = SeveralCalls),
        (status = 503, description = "Not connected to Asterisk, or shutting down", body = ErrorBody),
        (status = 504, description = "Asterisk did not answer in time", body = ErrorBody),
    )
)]
pub async fn park_and_announce(
    State(state): State<AppState>,
    Key { principal, .. }: Key<scope::Control>,
    Params(request): Params<CallRequest>,
) -> Result<Response, ApiError> {
    check(&principal, &request.agent_or_channel)?;
    let (text, at) = state.pbx().park(request.agent_or_channel).await?;
    let body = match at {
        Some(at) => {
            json!({"message": text, "lot": at.lot, "space": at.space, "timeout": at.timeout})
        }
        None => json!({ "message": text }),
    };
    Ok(Json(body).into_response())
}
