//! `POST /ticket`: a ticket for some agents and queues, the capability a stream is opened with.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::key::{scope, Key};
use super::requests::TicketRequest;
use crate::http::auth::Principal;
use crate::http::error::ApiError;
use crate::http::openapi::schemas::ErrorBody;
use crate::http::params::Params;
use crate::http::state::AppState;
use crate::http::streams::ClientAddr;
use crate::pbx::Filter;

/// `POST /ticket` with `agents`, `queues` (and optional `summaryEvents`): the ticket as a JSON
/// string. Scope `events`; the key must allow every agent and queue asked for; the ticket is
/// owned by the key's name (for the per-key ticket limit).
#[utoipa::path(
    post,
    path = "/ticket",
    summary = "A ticket for some agents and queues, to open a stream with",
    tag = "streams",
    params(TicketRequest),
    request_body(content(
        (TicketRequest = "application/json"),
        (TicketRequest = "application/x-www-form-urlencoded"),
    ), description = "`agents`, `queues` (a JSON array, a repeated key or a comma-separated string), `summaryEvents` (or in the query)"),
    security(("key" = ["events"])),
    responses(
        (status = 200, description = "The ticket: open a stream with it", body = String, example = json!("281b6f9b24e98be180e269c1fe7c2c05")),
        (status = 400, description = "A parameter is malformed or unknown; too many agents, queues or pairs; a snapshot or a signed ticket too large", body = ErrorBody),
        (status = 401, description = "No API key, or a wrong one", body = ErrorBody),
        (status = 403, description = "The key lacks scope `events`, or an agent or queue is outside the key's", body = ErrorBody),
        (status = 429, description = "Too many tickets, in total or for the key (without keys: for the address)", body = ErrorBody),
        (status = 503, description = "Not connected to Asterisk, or shutting down", body = ErrorBody),
    )
)]
pub async fn ticket(
    State(state): State<AppState>,
    Key { principal, .. }: Key<scope::Events>,
    addr: ClientAddr,
    Params(request): Params<TicketRequest>,
) -> Result<Response, ApiError> {
    let limits = state.limits();
    check_count("agents", request.agents.len(), limits.max_agents_per_ticket)?;
    check_count("queues", request.queues.len(), limits.max_queues_per_ticket)?;
    let TicketRequest {
        agents,
        queues,
        summary_events,
    } = request;
    check_pairs(agents.len(), queues.len(), limits.max_pairs_per_ticket)?;
    principal.check_agents(&agents)?;
    principal.check_queues(&queues)?;
    let mut filter = Filter::new(agents, queues);
    filter.summary = summary_events;
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

/// Refuses a list longer than its limit (400 naming the parameter).
fn check_count(name: &'static str, count: usize, max: usize) -> Result<(), ApiError> {
    if count > max {
        return Err(ApiError::param(name, format!("at most {max} allowed")));
    }
    Ok(())
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
