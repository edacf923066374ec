//! The digested events that subscribers receive (DESIGN.md, "Events"), and the [`Filter`] that
//! decides which ticket gets which event. Serialized as one JSON object with a `type` field first,
//! property names in camelCase: `{"type":"queueCount","queue":"q1","count":1}`.

use super::scope_set::ScopeSet;
use serde::Serialize;

use super::ids::{AgentId, QueueName};

/// A device (extension) status of an agent, from AMI device states and extension states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    /// Idle.
    NotInuse,
    /// In a call.
    Inuse,
    /// Busy.
    Busy,
    /// Unreachable (not registered, or an invalid device).
    Unavailable,
    /// Ringing.
    Ringing,
    /// In a call and ringing for another.
    Ringinuse,
    /// Holding a call.
    Onhold,
    /// Not known.
    Unknown,
}

/// One caller waiting in a queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitingCaller {
    /// The caller's channel uniqueid.
    pub unique_id: String,
    /// The caller's number (empty when unknown).
    pub caller_id: String,
    /// The caller's name, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Position in the queue, from 1.
    pub position: u32,
    /// When the caller joined the queue, epoch seconds.
    pub joined: u64,
}

/// Where a parked call stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ParkState {
    /// Waiting in a parking space.
    Parked,
    /// Picked up from the space.
    Retrieved,
    /// Not picked up in time: it returns to whoever parked it.
    Timeout,
    /// The caller hung up while parked.
    Giveup,
}

/// How a supervisor joins an agent's call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SpyMode {
    /// Hears both sides; nobody hears the supervisor.
    Listen,
    /// Hears both sides; only the agent hears the supervisor.
    Whisper,
    /// Hears both sides and both hear the supervisor.
    Barge,
}

impl<'de> serde::Deserialize<'de> for SpyMode {
    /// From its name (`listen`, `whisper`, `barge`), as a string from any source.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        match s.as_str() {
            "listen" => Ok(SpyMode::Listen),
            "whisper" => Ok(SpyMode::Whisper),
            "barge" => Ok(SpyMode::Barge),
            _ => Err(serde::de::Error::custom(
                "must be one of listen, whisper, barge",
            )),
        }
    }
}

impl SpyMode {
    /// The `ChanSpy` options of the mode (`q`: no announcement beep of the spied channel name).
    pub fn chanspy_options(self) -> &'static str {
        match self {
            SpyMode::Listen => "q",
            SpyMode::Whisper => "qw",
            SpyMode::Barge => "qB",
        }
    }
}

/// The status of an agent as a member of one queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemberStatus {
    /// Not a member of the queue.
    LoggedOff,
    /// A member, paused.
    Paused,
    /// A member, not paused: the member's device status.
    Device(DeviceStatus),
}

impl Serialize for MemberStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            MemberStatus::LoggedOff => s.serialize_str("loggedoff"),
            MemberStatus::Paused => s.serialize_str("paused"),
            MemberStatus::Device(d) => d.serialize(s),
        }
    }
}

/// One event of the model, as published to subscribers.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Event {
    /// The member name of an agent became known or changed.
    #[serde(rename_all = "camelCase")]
    AgentName {
        /// The agent.
        agent: AgentId,
        /// The member name Asterisk uses.
        name: String,
    },
    /// The agent's device state changed.
    #[serde(rename_all = "camelCase")]
    ExtensionStatus {
        /// The agent.
        agent: AgentId,
        /// The new status.
        status: DeviceStatus,
    },
    /// Log on/off, pause/unpause, or a member status change in one queue.
    #[serde(rename_all = "camelCase")]
    QueueMemberStatus {
        /// The agent.
        agent: AgentId,
        /// The queue.
        queue: QueueName,
        /// The new status.
        status: MemberStatus,
        /// The pause reason, when paused with one.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The remote party patched to the agent's extension changed (`number: null` when it ends).
    #[serde(rename_all = "camelCase")]
    PhoneNumber {
        /// The agent.
        agent: AgentId,
        /// The remote party's number, `None` when the call ended.
        number: Option<String>,
        /// The remote party's name, if known.
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The queue the call came through (a detail, not a scope key).
        #[serde(skip_serializing_if = "Option::is_none")]
        queue: Option<QueueName>,
    },
    /// A caller joined or left a queue.
    #[serde(rename_all = "camelCase")]
    QueueCount {
        /// The queue.
        queue: QueueName,
        /// Callers waiting now.
        count: u32,
    },
    /// A queue call answered by the agent ended.
    #[serde(rename_all = "camelCase")]
    AgentComplete {
        /// The agent.
        agent: AgentId,
        /// The caller's unique id.
        unique_id: String,
        /// Talk time, seconds.
        talk_time: u64,
        /// Hold (wait) time before the answer, seconds.
        hold_time: u64,
        /// The queue (a detail, not a scope key).
        queue: QueueName,
        /// Who ended it: `caller`, `agent` or `transfer`.
        reason: String,
    },
    /// An originate request from this agent's extension failed.
    #[serde(rename_all = "camelCase")]
    OriginateFailed {
        /// The `src` agent of the originate.
        agent: AgentId,
        /// The action id the originate request returned.
        action_id: String,
        /// Why, in words (`no answer`, `busy`, ...).
        reason: String,
    },
    /// Wallboard figures of a queue (only to tickets that asked for summary events).
    #[serde(rename_all = "camelCase")]
    QueueSummary {
        /// The queue.
        queue: QueueName,
        /// Callers waiting.
        waiting: u32,
        /// Longest current wait, seconds.
        longest_wait: u64,
        /// Members logged in (paused included).
        logged_in: u32,
        /// Members available to take a call.
        available: u32,
        /// Calls answered.
        completed: u64,
        /// Calls abandoned.
        abandoned: u64,
        /// Average hold time, seconds.
        hold_time: u64,
        /// Average talk time, seconds.
        talk_time: u64,
        /// Service level threshold, seconds.
        service_level: u64,
        /// Percentage of answered calls within the service level.
        service_level_perf: f64,
    },
    /// Wallboard figures of one member of a queue (only to summary tickets).
    #[serde(rename_all = "camelCase")]
    MemberSummary {
        /// The agent.
        agent: AgentId,
        /// The queue.
        queue: QueueName,
        /// The member name.
        member_name: String,
        /// The queue interface.
        location: String,
        /// Calls taken.
        calls_taken: u64,
        /// Epoch seconds of the last call (0 = none).
        last_call: u64,
        /// In a call from this queue.
        incall: bool,
        /// Paused.
        paused: bool,
    },
    /// The callers waiting in a queue changed (also in every snapshot, after `queueCount`).
    #[serde(rename_all = "camelCase")]
    QueueCallers {
        /// The queue.
        queue: QueueName,
        /// The callers waiting, first in line first.
        callers: Vec<WaitingCaller>,
    },
    /// A call of the agent was parked, or its parking ended (picked up, timed out, given up).
    #[serde(rename_all = "camelCase")]
    Parked {
        /// The agent whose call was parked.
        agent: AgentId,
        /// The queue the call came through, if any (a scope key when present).
        #[serde(skip_serializing_if = "Option::is_none")]
        queue: Option<QueueName>,
        /// `parked`, `retrieved`, `timeout` (back to the parker) or `giveup` (the caller hung up).
        state: ParkState,
        /// The parked channel.
        channel: String,
        /// The parked caller's number.
        caller_id: String,
        /// The parked caller's name.
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The parking lot.
        lot: String,
        /// The parking space (the extension that picks the call up).
        space: String,
        /// Seconds left before the call returns (as Asterisk reported it).
        timeout: u64,
    },
    /// A supervisor started listening to, whispering to or barging into the agent's call.
    #[serde(rename_all = "camelCase")]
    SpyStarted {
        /// The agent spied on.
        agent: AgentId,
        /// The supervisor, when the spying channel is an agent's.
        #[serde(skip_serializing_if = "Option::is_none")]
        supervisor: Option<AgentId>,
        /// The mode asked for (only known for a spy started through this service).
        #[serde(skip_serializing_if = "Option::is_none")]
        mode: Option<SpyMode>,
    },
    /// The spying on the agent's call ended.
    #[serde(rename_all = "camelCase")]
    SpyStopped {
        /// The agent spied on.
        agent: AgentId,
        /// The supervisor, when the spying channel is an agent's.
        #[serde(skip_serializing_if = "Option::is_none")]
        supervisor: Option<AgentId>,
        /// The mode asked for (only known for a spy started through this service).
        #[serde(skip_serializing_if = "Option::is_none")]
        mode: Option<SpyMode>,
    },
    /// The AMI link went down or came back (also in every snapshot).
    #[serde(rename_all = "camelCase")]
    PbxStatus {
        /// True while the service is connected to Asterisk and its state is current.
        connected: bool,
    },
}

/// The scope of an event: the agent and queue it is about, *for filtering*.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scope<'a> {
    /// The agent scope key, if the type has one.
    pub agent: Option<&'a AgentId>,
    /// The queue scope key, if the type has one.
    pub queue: Option<&'a QueueName>,
}

impl Event {
    /// The event's type name as it appears in JSON (`queueCount`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::AgentName { .. } => "agentName",
            Event::ExtensionStatus { .. } => "extensionStatus",
            Event::QueueMemberStatus { .. } => "queueMemberStatus",
            Event::PhoneNumber { .. } => "phoneNumber",
            Event::QueueCount { .. } => "queueCount",
            Event::AgentComplete { .. } => "agentComplete",
            Event::OriginateFailed { .. } => "originateFailed",
            Event::QueueSummary { .. } => "queueSummary",
            Event::MemberSummary { .. } => "memberSummary",
            Event::QueueCallers { .. } => "queueCallers",
            Event::Parked { .. } => "parked",
            Event::SpyStarted { .. } => "spyStarted",
            Event::SpyStopped { .. } => "spyStopped",
            Event::PbxStatus { .. } => "pbxStatus",
        }
    }

    /// The scope keys of this event type (DESIGN.md: `queue` in `phoneNumber` and
    /// `agentComplete` is a detail, not a scope key).
    pub fn scope(&self) -> Scope<'_> {
        let (agent, queue) = match self {
            Event::AgentName { agent, .. }
            | Event::ExtensionStatus { agent, .. }
            | Event::PhoneNumber { agent, .. }
            | Event::AgentComplete { agent, .. }
            | Event::OriginateFailed { agent, .. }
            | Event::SpyStarted { agent, .. }
            | Event::SpyStopped { agent, .. } => (Some(agent), None),
            Event::Parked { agent, queue, .. } => (Some(agent), queue.as_ref()),
            Event::QueueMemberStatus { agent, queue, .. }
            | Event::MemberSummary { agent, queue, .. } => (Some(agent), Some(queue)),
            Event::QueueCount { queue, .. }
            | Event::QueueCallers { queue, .. }
            | Event::QueueSummary { queue, .. } => (None, Some(queue)),
            Event::PbxStatus { .. } => (None, None),
        };
        Scope { agent, queue }
    }

    /// True for the wallboard events that only tickets with `summaryEvents` receive.
    pub fn is_summary(&self) -> bool {
        matches!(
            self,
            Event::QueueSummary { .. } | Event::MemberSummary { .. }
        )
    }
}

/// What a ticket asked for: agents, queues, and whether it wants summary events.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// The agents.
    pub agents: ScopeSet<AgentId>,
    /// The queues.
    pub queues: ScopeSet<QueueName>,
    /// Whether `queueSummary`/`memberSummary` events are wanted.
    pub summary: bool,
}

impl Filter {
    /// A filter for these agents and queues, without summary events.
    pub fn new(
        agents: impl IntoIterator<Item = AgentId>,
        queues: impl IntoIterator<Item = QueueName>,
    ) -> Self {
        Self {
            agents: agents.into_iter().collect(),
            queues: queues.into_iter().collect(),
            summary: false,
        }
    }

    /// A ticket receives an event iff every scope key of the event's type holds a value in the
    /// ticket's corresponding list; events with no scope key go to every ticket; summary events
    /// only to tickets that asked for them.
    pub fn matches(&self, event: &Event) -> bool {
        if event.is_summary() && !self.summary {
            return false;
        }
        let scope = event.scope();
        scope.agent.is_none_or(|a| self.agents.contains(a))
            && scope.queue.is_none_or(|q| self.queues.contains(q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(s: &str) -> AgentId {
        AgentId::parse(s).unwrap()
    }
    fn queue(s: &str) -> QueueName {
        QueueName::parse(s).unwrap()
    }

    #[test]
    fn json_shape_has_type_first_and_camel_case() {
        let e = Event::QueueCount {
            queue: queue("q1"),
            count: 1,
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"type":"queueCount","queue":"q1","count":1}"#
        );
        let e = Event::QueueMemberStatus {
            agent: agent("147"),
            queue: queue("q1"),
            status: MemberStatus::Device(DeviceStatus::NotInuse),
            reason: None,
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"type":"queueMemberStatus","agent":"147","queue":"q1","status":"not_inuse"}"#
        );
        let e = Event::PhoneNumber {
            agent: agent("147"),
            number: None,
            name: None,
            queue: None,
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"type":"phoneNumber","agent":"147","number":null}"#
        );
    }

    #[test]
    fn filter_uses_scope_keys_of_the_type_only() {
        let f = Filter::new([agent("147")], []);
        let call = Event::PhoneNumber {
            agent: agent("147"),
            number: Some("0911".into()),
            name: None,
            queue: Some(queue("q1")),
        };
        assert!(f.matches(&call), "queue is a detail of phoneNumber");
        let member = Event::QueueMemberStatus {
            agent: agent("147"),
            queue: queue("q1"),
            status: MemberStatus::Paused,
            reason: None,
        };
        assert!(!f.matches(&member));
        assert!(f.matches(&Event::PbxStatus { connected: true }));
        let count = Event::QueueCount {
            queue: queue("q1"),
            count: 0,
        };
        assert!(!f.matches(&count));
    }
}
