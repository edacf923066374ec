//! The REST endpoints: `GET /queue/status`, `POST /queue/<action>`, `POST /originate/<src>/<dest>`,
//! `POST /ticket`, `POST /stop`, `GET /health`, `GET /ready`. Each checks the API key first,
//! then validates every parameter, and only then talks to the model: nothing reaches Asterisk
//! unless it is valid and allowed.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::auth::{Principal, Scope};
use super::error::ApiError;
use super::params::Params;
use super::state::AppState;
use super::streams::ClientAddr;
use crate::pbx::names::Location;
use crate::pbx::service::{QueueAction, QueueStatusReport};
use crate::pbx::status_report::StatusValue;
use crate::pbx::{AgentId, CallerId, Destination, Filter, MemberName, PauseReason, QueueName};

fn authorize(state: &AppState, headers: &HeaderMap, scope: Scope) -> Result<Principal, ApiError> {
    Ok(state.auth().authorize(headers, scope)?)
}

/// Checks the key, and only then reads the body and the parameters: a request without a valid
/// key gets its 401/403 whatever else it holds, and costs no parsing.
async fn authorize_then_params(
    state: &AppState,
    request: Request,
    scope: Scope,
) -> Result<(Principal, Params), ApiError> {
    let principal = authorize(state, request.headers(), scope)?;
    let params = Params::from_request(request, state).await?;
    Ok((principal, params))
}

/// `GET /queue/status[?queue=q]`: one object per queue, `{"queue": "q1", "members": [..],
/// <the queue's properties>}`, each member an object with `location` and its other properties
/// (`status`, `paused`, `callsTaken`, ...), named and typed as asterisk-java's beans (numbers,
/// `paused` a boolean; see `pbx::status_report`); an object for one queue, an array for all;
/// 404 for an unknown queue. Concurrent requests share one `QueueStatus` action, and an answer
/// is reused for `queue_status_cache_ms`. Scope `events`; a key
/// restricted to some queues sees only those, and one restricted to some agents sees only
/// their members.
pub async fn queue_status(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let (principal, mut params) = authorize_then_params(&state, request, Scope::Events).await?;
    let queue = params.optional("queue", QueueName::parse)?;
    params.finish()?;
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
pub async fn queue_action(
    State(state): State<AppState>,
    action: Result<Path<String>, PathRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    let principal = authorize(&state, request.headers(), Scope::Control)?;
    let Path(action) = action?;
    let params = Params::from_request(request, &state).await?;
    let action = parse_queue_action(&action, params)?;
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

/// Validates the parameters of a queue action; unknown actions are 404.
pub fn parse_queue_action(action: &str, mut p: Params) -> Result<QueueAction, ApiError> {
    let parsed = match action {
        "add" => QueueAction::Add {
            queue: p.required("queue", QueueName::parse)?,
            agent: p.required("agent", AgentId::parse)?,
            member_name: p.optional("memberName", MemberName::parse)?,
            paused: p.optional_bool("paused")?,
        },
        "remove" => QueueAction::Remove {
            queue: p.required("queue", QueueName::parse)?,
            agent: p.required("agent", AgentId::parse)?,
        },
        "pause" => QueueAction::Pause {
            queue: p.required("queue", QueueName::parse)?,
            agent: p.required("agent", AgentId::parse)?,
            paused: p.required_bool("paused")?,
            reason: p.optional("reason", PauseReason::parse)?,
        },
        "reset" => QueueAction::Reset {
            queue: p.optional("queue", QueueName::parse)?,
        },
        _ => {
            return Err(ApiError::NotFound(
                "unknown queue action; one of add, remove, pause, reset".into(),
            ))
        }
    };
    p.finish()?;
    Ok(parsed)
}

/// `POST /originate/<src>/<dest>[?callerId=..]`: the action id as a JSON string. Scope
/// `control`; the key must allow the agent `src`.
pub async fn originate(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    request: Request,
) -> Result<Response, ApiError> {
    let principal = authorize(&state, request.headers(), Scope::Control)?;
    let Path((src, dest)) = path?;
    let mut params = Params::from_request(request, &state).await?;
    let src = AgentId::parse(&src).map_err(|e| ApiError::param("src", e))?;
    let dest = Destination::parse(&dest).map_err(|e| ApiError::param("dest", e))?;
    let caller_id = params.optional("callerId", CallerId::parse)?;
    params.finish()?;
    principal.check_agents([&src])?;
    let action_id = state.pbx().originate(src, dest, caller_id).await?;
    Ok(Json(action_id).into_response())
}

/// `POST /ticket` with `agents`, `queues` (and optional `summaryEvents`): the ticket as a JSON
/// string. Scope `events`; the key must allow every agent and queue asked for; the ticket is
/// owned by the key's name (for the per-key ticket limit).
pub async fn ticket(
    State(state): State<AppState>,
    addr: ClientAddr,
    request: Request,
) -> Result<Response, ApiError> {
    let (principal, mut params) = authorize_then_params(&state, request, Scope::Events).await?;
    let limits = state.limits();
    let agents = params.list("agents", limits.max_agents_per_ticket, AgentId::parse)?;
    let queues = params.list("queues", limits.max_queues_per_ticket, QueueName::parse)?;
    let summary = params.optional_bool("summaryEvents")?.unwrap_or(false);
    params.finish()?;
    check_pairs(agents.len(), queues.len(), limits.max_pairs_per_ticket)?;
    principal.check_agents(&agents)?;
    principal.check_queues(&queues)?;
    let mut filter = Filter::new(agents, queues);
    filter.summary = summary;
    let hub = state.hub().clone();
    let owner = ticket_owner(&principal, addr);
    // Registered inside the model task (in step with its events), serialized here.
    let registered = state
        .pbx()
        .subscribe(filter.clone(), move |snapshot| {
            hub.register(filter, snapshot, owner.as_deref())
        })
        .await??;
    let ticket = state.hub().complete(registered)?;
    Ok(Json(ticket.as_str()).into_response())
}

/// Whose a ticket is, for `max_tickets_per_owner`: the key's name, or for an open service (no
/// keys) the client's address, so that one client cannot take every ticket.
fn ticket_owner(principal: &Principal, addr: ClientAddr) -> Option<String> {
    match (principal.name(), addr.0) {
        (Some(name), _) => Some(format!("key {name}")),
        (None, Some(ip)) => Some(format!("address {ip}")),
        (None, None) => None,
    }
}

/// Refuses a ticket whose snapshot would hold more than `max` entries (one per agent × queue
/// pair; an agent-only or queue-only ticket counts its agents or queues), before the model
/// computes anything.
fn check_pairs(agents: usize, queues: usize, max: usize) -> Result<(), ApiError> {
    let pairs = agents.max(1).saturating_mul(queues.max(1));
    if pairs > max {
        return Err(ApiError::BadRequest(format!(
            "too many agent × queue pairs: {agents} agents × {queues} queues exceeds \
             limits.max_pairs_per_ticket ({max}); ask for fewer agents or queues"
        )));
    }
    Ok(())
}

/// `POST /stop`: stops the service gracefully (every stream gets its closing event, AMI logs
/// off). Scope `admin`. Answers 202; 404 when disabled in the configuration.
pub async fn stop(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if !state.allow_stop() {
        return Err(ApiError::NotFound("no such endpoint".into()));
    }
    authorize(&state, &headers, Scope::Admin)?;
    tracing::info!("stop requested over HTTP");
    state.stop_token().cancel();
    Ok((StatusCode::ACCEPTED, Json(json!({ "status": "stopping" }))).into_response())
}

/// `GET /health`: liveness, `{"status":"ok"}`. Scope `health` (or `admin`).
pub async fn health(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Scope::Health)?;
    Ok(Json(json!({ "status": "ok" })).into_response())
}

/// `GET /ready`: 200 when connected to Asterisk and the model is built and the service is not
/// stopping, else 503; the body says `{"ready":..,"connected":..,"draining":..,"tickets":..,
/// "streams":..}` (live tickets, open streams).
/// Scope `health` (or `admin`).
pub async fn ready(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, Scope::Health)?;
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
    Ok((status, Json(body)).into_response())
}
