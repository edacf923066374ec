//! The parameters of every REST endpoint, one struct each: what an endpoint accepts is read
//! here, and nothing else passes (`deny_unknown_fields`; every field a validated type). They
//! come through [`Params`](crate::http::params::Params) (query, JSON body or form data) or, for
//! path segments, [`ApiPath`](super::ApiPath).

use serde::Deserialize;

use crate::pbx::service::QueueAction;
use crate::pbx::{AgentId, CallerId, Destination, MemberName, PauseReason, QueueName, Variables};

/// `GET /queue/status`: one queue, or every queue without it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueStatusRequest {
    /// The queue.
    pub queue: Option<QueueName>,
}

/// `POST /queue/add`: makes the agent a member of the queue.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
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
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveRequest {
    /// The queue.
    pub queue: QueueName,
    /// The agent.
    pub agent: AgentId,
}

/// `POST /queue/pause`: pauses or unpauses the agent in the queue.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
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
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueActionPath {
    /// `add`, `remove`, `pause` or `reset` (another is 404, not 400).
    pub action: String,
}

/// The path of `POST /originate/{src}/{dest}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OriginatePath {
    /// The agent whose extension takes the call.
    pub src: AgentId,
    /// The number called.
    pub dest: Destination,
}

/// `POST /originate/{src}/{dest}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OriginateRequest {
    /// The caller id presented to the called party.
    pub caller_id: Option<CallerId>,
    /// Channel variables set on the call (`{"CRM_ID":"42"}`).
    pub variables: Option<Variables>,
}

/// `POST /ticket`. The counts are checked against the limits by the handler (they are
/// configuration, not types).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
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
