//! The parameters of every REST endpoint, one struct each: what an endpoint accepts is read
//! here, and nothing else passes (`deny_unknown_fields`; every field a validated type). They
//! come through [`Params`](crate::http::params::Params) (query, JSON body or form data) or, for
//! path segments, [`PathParams`](crate::http::params::PathParams). Each is also the
//! endpoint's documentation: its query parameters (`IntoParams`) and its body (`ToSchema`).

use serde::Deserialize;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::{IntoParams, ToSchema};

use crate::pbx::service::QueueAction;
use crate::pbx::{
    AgentId, AgentOrChannel, CallerId, Destination, MemberName, PauseReason, QueueName, SpyMode,
    Variables,
};

/// `GET /queue/status`: one queue, or every queue without it.
#[derive(Clone, Debug, Default, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueStatusRequest {
    /// The queue.
    pub queue: Option<QueueName>,
}

/// `POST /queue/add`: makes the agent a member of the queue.
#[derive(Clone, Debug, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AddRequest {
    /// The queue.
    pub queue: QueueName,
    /// The agent.
    pub agent: AgentId,
    /// The name Asterisk shows for the member (and the agent's name).
    pub member_name: Option<MemberName>,
    /// Added paused.
    pub paused: Option<bool>,
}

/// `POST /queue/remove`: ends the agent's membership of the queue.
#[derive(Clone, Debug, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RemoveRequest {
    /// The queue.
    pub queue: QueueName,
    /// The agent.
    pub agent: AgentId,
}

/// `POST /queue/pause`: pauses or unpauses the agent in the queue.
#[derive(Clone, Debug, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PauseRequest {
    /// The queue.
    pub queue: QueueName,
    /// The agent.
    pub agent: AgentId,
    /// Pause (`true`) or unpause (`false`).
    pub paused: bool,
    /// Why.
    pub reason: Option<PauseReason>,
}

/// `POST /queue/reset`: resets the statistics of one queue, or of every queue without it.
#[derive(Clone, Debug, Default, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ResetRequest {
    /// The queue.
    pub queue: Option<QueueName>,
}

impl From<AddRequest> for QueueAction {
    fn from(r: AddRequest) -> Self {
        QueueAction::Add {
            queue: r.queue,
            agent: r.agent,
            member_name: r.member_name,
            paused: r.paused,
        }
    }
}

impl From<RemoveRequest> for QueueAction {
    fn from(r: RemoveRequest) -> Self {
        QueueAction::Remove {
            queue: r.queue,
            agent: r.agent,
        }
    }
}

impl From<PauseRequest> for QueueAction {
    fn from(r: PauseRequest) -> Self {
        QueueAction::Pause {
            queue: r.queue,
            agent: r.agent,
            paused: r.paused,
            reason: r.reason,
        }
    }
}

impl From<ResetRequest> for QueueAction {
    fn from(r: ResetRequest) -> Self {
        QueueAction::Reset { queue: r.queue }
    }
}

/// The path of `POST /queue/{action}`.
#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Path)]
pub struct QueueActionPath {
    /// `add`, `remove`, `pause` or `reset` (another is 404, not 400).
    #[param(inline, value_type = QueueActionName)]
    pub action: String,
}

/// The path of `POST /originate/{src}/{dest}`.
#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Path)]
pub struct OriginatePath {
    /// The agent whose extension takes the call.
    pub src: AgentId,
    /// The number called.
    pub dest: Destination,
}

/// `POST /originate/{src}/{dest}`.
#[derive(Clone, Debug, Default, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct OriginateRequest {
    /// The caller id presented to the called party.
    pub caller_id: Option<CallerId>,
    /// Channel variables set on the call (`{"CRM_ID":"42"}`).
    pub variables: Option<Variables>,
}

/// `POST /ticket`. The counts are checked against the limits by the handler (they are
/// configuration, not types).
#[derive(Clone, Debug, Default, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct TicketRequest {
    /// The agents whose events the ticket receives.
    #[serde(default)]
    pub agents: Vec<AgentId>,
    /// The queues whose events the ticket receives.
    #[serde(default)]
    pub queues: Vec<QueueName>,
    /// Also the wallboard's `queueSummary` and `memberSummary` events.
    #[serde(default)]
    pub summary_events: bool,
}

/// The actions of `POST /queue/{action}` (documentation only: the handler matches the path).
#[allow(dead_code)]
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum QueueActionName {
    /// Make the agent a member of the queue.
    Add,
    /// End the agent's membership of the queue.
    Remove,
    /// Pause or unpause the agent in the queue.
    Pause,
    /// Reset the statistics of a queue, or of all.
    Reset,
}

/// The query parameters of `POST /queue/{action}`: those of every action, each once (which
/// ones an action takes, and which it requires, its body schema says).
pub struct QueueActionQuery;

impl IntoParams for QueueActionQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let query = || Some(ParameterIn::Query);
        let mut all: Vec<Parameter> = Vec::new();
        let each = [
            AddRequest::into_params(query),
            RemoveRequest::into_params(query),
            PauseRequest::into_params(query),
            ResetRequest::into_params(query),
        ];
        for mut parameter in each.into_iter().flatten() {
            if !all.iter().any(|p| p.name == parameter.name) {
                parameter.required = utoipa::openapi::Required::False;
                all.push(parameter);
            }
        }
        all
    }
}

/// The body of `POST /queue/{action}`: the parameters of the action in the path.
#[allow(dead_code)]
#[derive(ToSchema)]
#[serde(untagged)]
pub enum QueueActionBody {
    /// `add`.
    Add(AddRequest),
    /// `remove`.
    Remove(RemoveRequest),
    /// `pause`.
    Pause(PauseRequest),
    /// `reset`.
    Reset(ResetRequest),
}

/// `GET /calls`: the agent whose calls are listed.
#[derive(Clone, Debug, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CallsRequest {
    /// The agent.
    pub agent: AgentId,
}

/// `POST /hangup`, `POST /park-and-announce`, `POST /redirect-to/{dest}`: whose call.
#[derive(Clone, Debug, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CallRequest {
    /// An agent id (its one call) or a channel name (`PJSIP/147-0000002a`).
    #[serde(rename = "agent-or-channel")]
    #[param(rename = "agent-or-channel")]
    #[schema(rename = "agent-or-channel")]
    pub agent_or_channel: AgentOrChannel,
}

/// The path of `POST /redirect-to/{dest}`.
#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Path)]
pub struct RedirectPath {
    /// Where the call goes: an extension of the originate context.
    pub dest: Destination,
}

/// The path of `POST /spy/{supervisor}/{agent}`.
#[derive(Clone, Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Path)]
pub struct SpyPath {
    /// The agent whose phone rings and then spies.
    pub supervisor: AgentId,
    /// The agent spied on.
    pub agent: AgentId,
}

/// `POST /spy/{supervisor}/{agent}`.
#[derive(Clone, Debug, Deserialize, ToSchema, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SpyRequest {
    /// `listen` (nobody hears the supervisor), `whisper` (only the agent does) or `barge`
    /// (both sides do).
    pub mode: SpyMode,
}
