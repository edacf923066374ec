//! The schemas of the call-control event types (README "Events"): callers waiting, parked
//! calls, spies. Descriptions only, like the rest of `events`.

use utoipa::ToSchema;

use crate::pbx::{AgentId, QueueName};

/// One caller waiting in a queue.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(super) struct WaitingCaller {
    /// The caller's channel uniqueid.
    unique_id: String,
    /// The caller's number (empty when unknown).
    caller_id: String,
    /// The caller's name, if known.
    name: Option<String>,
    /// Position in the queue, from 1.
    position: u32,
    /// When the caller joined the queue, epoch seconds.
    joined: u64,
}

/// `queueCallers`: the callers waiting in a queue changed (also in every snapshot).
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct QueueCallers {
    queue: QueueName,
    /// The callers waiting, first in line first.
    callers: Vec<WaitingCaller>,
}

/// Where a parked call stands.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(super) enum ParkState {
    /// Waiting in a parking space.
    Parked,
    /// Picked up.
    Retrieved,
    /// Not picked up in time: it returns to whoever parked it.
    Timeout,
    /// The caller hung up while parked.
    Giveup,
}

/// `parked`: a call of the agent was parked, or its parking ended. `queue` (the queue the call
/// came through) is a scope key when present.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(super) struct Parked {
    agent: AgentId,
    queue: Option<QueueName>,
    state: ParkState,
    /// The parked channel.
    channel: String,
    /// The parked caller's number.
    caller_id: String,
    /// The parked caller's name.
    name: Option<String>,
    /// The parking lot.
    lot: String,
    /// The parking space (the extension that picks the call up).
    space: String,
    /// Seconds left before the call returns, as Asterisk reported it.
    timeout: u64,
}

/// How a supervisor joins an agent's call.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub(super) enum SpyMode {
    /// Hears both sides; nobody hears the supervisor.
    Listen,
    /// Only the agent hears the supervisor.
    Whisper,
    /// Both sides hear the supervisor.
    Barge,
}

/// `spyStarted` / `spyStopped`: a supervisor started or stopped spying on the agent's call.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct Spy {
    /// The agent spied on.
    agent: AgentId,
    /// The supervisor, when the spying channel is an agent's.
    supervisor: Option<AgentId>,
    /// The mode, for a spy started through `POST /spy` (Asterisk does not tell it).
    mode: Option<SpyMode>,
}
