//! `GET /queue/status` and `POST /queue/{action}` (`add`, `remove`, `pause`, `reset`).

use axum::response::{IntoResponse, Response};
use axum::{extract::State, Json};
use serde_json::{json, Map, Value};

use super::key::{scope, Key};
use super::requests::{
    AddRequest, PauseRequest, QueueActionBody, QueueActionPath, QueueActionQuery,
    QueueStatusRequest, RemoveRequest, ResetRequest,
};
use crate::http::auth::Principal;
use crate::http::error::ApiError;
use crate::http::openapi::schemas::{ActionMessage, ErrorBody, QueueStatusAnswer};
use crate::http::params::{Params, PathParams, Sources};
use crate::http::state::AppState;
use crate::pbx::names::Location;
use crate::pbx::service::{QueueAction, QueueStatusReport};
use crate::pbx::status_report::StatusValue;
use crate::pbx::QueueName;

/// `GET /queue/status[?queue=q]`: one object per queue, `{"queue": "q1", "members": [..],
/// <the queue's properties>}`, each member an object with `location` and its other properties
/// (`status`, `paused`, `callsTaken`, ...), named and typed as asterisk-java's beans (numbers,
/// `paused` a boolean; see `pbx::status_report`); an object for one queue, an array for all;
/// 404 for an unknown queue. Concurrent requests share one `QueueStatus` action, and an answer
/// is reused for `queue_status_cache_ms`. Scope `events`; a key
/// restricted to some queues sees only those, and one restricted to some agents sees only
/// their members.
#[utoipa::path(
    get,
    path = "/queue/status",
    summary = "The status of one queue or of every queue",
    tag = "queues",
    params(QueueStatusRequest),
    security(("key" = ["events"])),
    responses(
        (status = 200, description = "One queue (an object) with `queue`, or every queue the key may see (an array)", body = QueueStatusAnswer),
        (status = 400, description = "A parameter is malformed or unknown", body = ErrorBody),
        (status = 401, description = "No API key, or a wrong one", body = ErrorBody),
        (status = 403, description = "The key lacks scope `events`, or the queue is outside the key's", body = ErrorBody),
        (status = 404, description = "No such queue", body = ErrorBody),
        (status = 503, description = "Not connected to Asterisk, or shutting down", body = ErrorBody),
        (status = 504, description = "Asterisk did not answer in time", body = ErrorBody),
    )
)]
pub async fn queue_status(
    State(state): State<AppState>,
    Key { principal, .. }: Key<scope::Events>,
    Params(request): Params<QueueStatusRequest>,
) -> Result<Response, ApiError> {
    let queue = request.queue;
    principal.check_queues(&queue)?;
    let reports = state.pbx().queue_status(queue.clone()).await?;
    let visible = reports
        .into_iter()
        .filter(|r| QueueName::parse(&r.queue).is_ok_and(|q| principal.allows_queue(&q)))
        .map(|r| visible_members(r, &principal, state.location()));
    let mut objects: Vec<Value> = visible.map(report_json).collect();
    match queue {
        Some(q) => match objects.pop() {
            Some(object) => Ok(Json(object).into_response()),
            None => Err(ApiError::NotFound(format!("no such queue: {q}"))),
        },
        None => Ok(Json(objects).into_response()),
    }
}

/// The report with only the members a key restricted to some agents may see: those whose
/// `location` is the queue interface of one of its agents.
fn visible_members(
    mut report: QueueStatusReport,
    principal: &Principal,
    location: &Location,
) -> QueueStatusReport {
    if !principal.allows_all_agents() {
        report.members.retain(|member| {
            QueueStatusReport::member_text(member, "location")
                .and_then(|l| location.agent_of_interface(l))
                .is_some_and(|agent| principal.allows_agent(&agent))
        });
    }
    report
}

/// One queue's report as JSON: `{"queue": .., "members": [..], <queue properties>}`.
pub fn report_json(report: QueueStatusReport) -> Value {
    let mut object = Map::new();
    for (key, value) in report.properties {
        object.insert(key, value_json(value));
    }
    object.insert("queue".into(), Value::String(report.queue));
    let members = report
        .members
        .into_iter()
        .map(|m| Value::Object(m.into_iter().map(|(k, v)| (k, value_json(v))).collect()))
        .collect();
    object.insert("members".into(), Value::Array(members));
    Value::Object(object)
}

/// A typed property as JSON: a number, a boolean or a string.
fn value_json(value: StatusValue) -> Value {
    match value {
        StatusValue::Int(n) => Value::from(n),
        StatusValue::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        StatusValue::Bool(b) => Value::Bool(b),
        StatusValue::Text(t) => Value::String(t),
    }
}

/// `POST /queue/<action>`: `add`, `remove`, `pause`, `reset`. Scope `control`. Answers
/// `{"message": "<Asterisk's message>"}`; an Asterisk refusal is 409 with its message.
#[utoipa::path(
    post,
    path = "/queue/{action}",
    summary = "A queue action: add, remove, pause or reset",
    tag = "queues",
    params(QueueActionPath, QueueActionQuery),
    request_body(content(
        (QueueActionBody = "application/json"),
        (QueueActionBody = "application/x-www-form-urlencoded"),
    ), description = "The action's parameters (or in the query): `add` takes `queue`, `agent` (required), `memberName`, `paused`; `remove` `queue`, `agent`; `pause` `queue`, `agent`, `paused` (required), `reason`; `reset` `queue` (optional: all queues without it)"),
    security(("key" = ["control"])),
    responses(
        (status = 200, description = "Asterisk's message", body = ActionMessage),
        (status = 400, description = "A parameter is missing, malformed or unknown (the message names it)", body = ErrorBody),
        (status = 401, description = "No API key, or a wrong one", body = ErrorBody),
        (status = 403, description = "The key lacks scope `control`, or the agent or queue is outside the key's; `reset` of all queues by a restricted key", body = ErrorBody),
        (status = 404, description = "Unknown queue action", body = ErrorBody),
        (status = 409, description = "Asterisk refused the action; its message is passed on", body = ErrorBody),
        (status = 503, description = "Not connected to Asterisk, or shutting down", body = ErrorBody),
        (status = 504, description = "Asterisk did not answer in time", body = ErrorBody),
    )
)]
pub async fn queue_action(
    State(state): State<AppState>,
    Key { principal, .. }: Key<scope::Control>,
    PathParams(path): PathParams<QueueActionPath>,
    sources: Sources,
) -> Result<Response, ApiError> {
    let action = parse_queue_action(&path.action, sources)?;
    match &action {
        QueueAction::Add { queue, agent, .. }
        | QueueAction::Remove { queue, agent }
        | QueueAction::Pause { queue, agent, .. } => {
            principal.check_queues([queue])?;
            principal.check_agents([agent])?;
        }
        QueueAction::Reset { queue } => principal.check_queue(queue.as_ref())?,
    }
    let message = state.pbx().queue_action(action).await?;
    Ok(Json(json!({ "message": message })).into_response())
}

/// The parameters of a queue action, by the action's own struct; unknown actions are 404.
pub fn parse_queue_action(action: &str, sources: Sources) -> Result<QueueAction, ApiError> {
    Ok(match action {
        "add" => sources.decode::<AddRequest>()?.into(),
        "remove" => sources.decode::<RemoveRequest>()?.into(),
        "pause" => sources.decode::<PauseRequest>()?.into(),
        "reset" => sources.decode::<ResetRequest>()?.into(),
        _ => {
            return Err(ApiError::NotFound(
                "unknown queue action; one of add, remove, pause, reset".into(),
            ))
        }
    })
}
