//! The model's state (agents, their queue memberships and devices, queues, calls) and the pure,
//! synchronous [`State::apply`] that digests one AMI event into the events subscribers receive.
//! Only real changes are published: every handler compares what subscribers were told before
//! with what they must be told after.
//!
//! Call tracking (who is patched to whom) lives in `calls.rs`; the subscriber view, snapshots and
//! the difference between two states in `snapshot.rs`.
//!
//! Bounds: at most [`MAX_AGENTS`] agents, [`MAX_QUEUES`] queues, [`MAX_TRACKED`] tracked
//! channels (bridge legs, queue callers) and [`MAX_CALLS_PER_AGENT`] parallel calls per agent;
//! beyond that, new entries are ignored (agents, queues) or the oldest dropped (calls, channels).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::calls::{Bridges, Call};
use super::codes;
use super::event::{DeviceStatus, Event, MemberStatus};
use super::ids::{AgentId, QueueName};
use super::names::Location;
use crate::ami::AmiMessage;

/// Most agents the model tracks.
pub const MAX_AGENTS: usize = 100_000;
/// Most queues the model tracks.
pub const MAX_QUEUES: usize = 10_000;
/// Most tracked channels (bridge legs, waiting callers).
pub const MAX_TRACKED: usize = 200_000;
/// Most calls in progress per agent (the oldest is forgotten).
pub const MAX_CALLS_PER_AGENT: usize = 8;

/// One agent's membership of one queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// MemberName.
    pub name: String,
    /// The queue interface (`Location`).
    pub interface: String,
    /// Added dynamically (QueueAdd) rather than configured.
    pub dynamic: bool,
    /// Paused.
    pub paused: bool,
    /// The pause reason (empty: none).
    pub reason: String,
    /// The device state app_queue reports for the member.
    pub status: DeviceStatus,
    /// Calls taken.
    pub calls_taken: u64,
    /// Epoch seconds of the last call.
    pub last_call: u64,
    /// In a call from this queue.
    pub incall: bool,
}

impl Member {
    /// The member status subscribers see, and the pause reason that goes with it.
    pub fn shown(&self) -> (MemberStatus, Option<String>) {
        if self.paused {
            let reason = (!self.reason.is_empty()).then(|| self.reason.clone());
            (MemberStatus::Paused, reason)
        } else {
            (MemberStatus::Device(self.status), None)
        }
    }
}

/// One agent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Agent {
    /// The name last derived from the memberships.
    pub name: Option<String>,
    /// The device (extension) status, when known.
    pub device: Option<DeviceStatus>,
    /// A hint of the agent was seen: extension status comes from hints only.
    pub hint: bool,
    /// Memberships by queue.
    pub members: BTreeMap<QueueName, Member>,
    /// Calls in progress, oldest first; the newest is shown.
    pub calls: Vec<Call>,
}

impl Agent {
    /// The name derived from the memberships: a name that is not just the interface wins,
    /// then a dynamic membership's, then the first queue's.
    fn derived_name(&self) -> Option<&str> {
        self.members
            .values()
            .max_by_key(|m| (m.name != m.interface, m.dynamic, std::cmp::Reverse(&m.name)))
            .map(|m| m.name.as_str())
    }
}

/// Queue figures from `QueueParams` (for the wallboard).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueStats {
    /// Calls answered.
    pub completed: u64,
    /// Calls abandoned.
    pub abandoned: u64,
    /// Average hold time, s.
    pub hold_time: u64,
    /// Average talk time, s.
    pub talk_time: u64,
    /// Service level threshold, s.
    pub service_level: u64,
    /// % answered within the service level.
    pub service_level_perf: f64,
}

/// One queue.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Queue {
    /// Callers waiting.
    pub count: u32,
    /// Figures from the last `QueueStatus`.
    pub stats: QueueStats,
}

/// The model.
#[derive(Clone, Debug)]
pub struct State {
    pub(super) location: Location,
    pub(super) hint_context: String,
    pub(super) agents: HashMap<AgentId, Agent>,
    pub(super) queues: BTreeMap<QueueName, Queue>,
    /// State interface (device) → agent, learned from member events.
    pub(super) state_interfaces: HashMap<String, AgentId>,
    /// Waiting queue callers: uniqueid → queue.
    pub(super) callers: HashMap<String, QueueName>,
    pub(super) bridges: Bridges,
    /// Agents with calls in progress.
    pub(super) busy: BTreeSet<AgentId>,
    /// Answered queue calls: the agent leg's uniqueid → the caller's (for `AgentComplete`,
    /// which may come after the caller channel is gone and then lacks its fields).
    pub(super) answered: HashMap<String, String>,
    /// Pending originates: action id → src agent.
    pub(super) originates: HashMap<String, AgentId>,
}

/// A non-empty field.
pub(super) fn field<'a>(m: &'a AmiMessage, key: &str) -> Option<&'a str> {
    m.get(key).filter(|v| !v.is_empty())
}

impl State {
    /// An empty model for this location template and hint context.
    pub fn new(location: Location, hint_context: &str) -> Self {
        Self {
            location,
            hint_context: hint_context.to_owned(),
            agents: HashMap::new(),
            queues: BTreeMap::new(),
            state_interfaces: HashMap::new(),
            callers: HashMap::new(),
            bridges: Bridges::default(),
            busy: BTreeSet::new(),
            answered: HashMap::new(),
            originates: HashMap::new(),
        }
    }

    /// An empty model with the same configuration (and pending originates).
    pub fn fresh(&self) -> Self {
        let mut s = Self::new(self.location.clone(), &self.hint_context);
        s.originates = self.originates.clone();
        s
    }

    /// The location template.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The agents.
    pub fn agents(&self) -> &HashMap<AgentId, Agent> {
        &self.agents
    }

    /// The queues.
    pub fn queues(&self) -> &BTreeMap<QueueName, Queue> {
        &self.queues
    }

    /// Remembers an originate of ours, so that its failure goes to `agent`.
    pub fn expect_originate(&mut self, action_id: &str, agent: AgentId) {
        self.originates.insert(action_id.to_owned(), agent);
    }

    /// Forgets an originate (expired, or refused at once).
    pub fn forget_originate(&mut self, action_id: &str) {
        self.originates.remove(action_id);
    }

    /// Digests one AMI event into the events to publish (only real changes).
    pub fn apply(&mut self, msg: &AmiMessage) -> Vec<Event> {
        let mut out = Vec::new();
        let Some(name) = msg.event_name() else {
            return out;
        };
        match name {
            "QueueCallerJoin" | "Join" => self.caller_join(msg, &mut out),
            "QueueCallerLeave" | "Leave" => self.caller_leave(msg, &mut out),
            "QueueCallerAbandon" => self.caller_abandon(msg, &mut out),
            "QueueMemberAdded"
            | "QueueMemberStatus"
            | "QueueMemberPause"
            | "QueueMemberPaused"
            | "QueueMemberPenalty"
            | "QueueMemberRinginuse"
            | "QueueMember" => self.member_update(msg, &mut out),
            "QueueMemberRemoved" => self.member_removed(msg, &mut out),
            "QueueParams" => self.queue_params(msg, &mut out),
            "QueueEntry" => self.queue_entry(msg),
            "ExtensionStatus" => self.extension_status(msg, &mut out),
            "DeviceStateChange" => self.device_state(msg, &mut out),
            "AgentCalled" | "AgentConnect" => self.agent_called(msg, &mut out),
            "AgentRingNoAnswer" | "AgentDump" => self.agent_dropped(msg, &mut out),
            "AgentComplete" => self.agent_complete(msg, &mut out),
            "DialBegin" => self.dial_begin(msg, &mut out),
            "DialEnd" => self.dial_end(msg, &mut out),
            "BridgeEnter" => self.bridge_enter(msg, &mut out),
            "BridgeLeave" => self.bridge_leave(msg, &mut out),
            "BridgeDestroy" => self.bridge_destroy(msg),
            "Bridge" | "Link" | "Unlink" => self.legacy_bridge(name, msg, &mut out),
            "Hangup" => self.hangup(msg, &mut out),
            "OriginateResponse" => self.originate_response(msg, &mut out),
            _ => {}
        }
        out
    }

    pub(super) fn queue_mut(&mut self, queue: &str) -> Option<(QueueName, &mut Queue)> {
        let name = QueueName::parse(queue).ok()?;
        if !self.queues.contains_key(&name) && self.queues.len() >= MAX_QUEUES {
            return None;
        }
        let q = self.queues.entry(name.clone()).or_default();
        Some((name, q))
    }

    pub(super) fn agent_mut(&mut self, agent: &AgentId) -> Option<&mut Agent> {
        if !self.agents.contains_key(agent) && self.agents.len() >= MAX_AGENTS {
            return None;
        }
        Some(self.agents.entry(agent.clone()).or_default())
    }

    fn set_count(&mut self, queue: &str, count: u32, out: &mut Vec<Event>) {
        if let Some((name, q)) = self.queue_mut(queue) {
            if q.count != count {
                q.count = count;
                out.push(Event::QueueCount { queue: name, count });
            }
        }
    }

    fn caller_join(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some(queue) = field(msg, "Queue") else {
            return;
        };
        let count = codes::uint(msg.get("Count")) as u32;
        if let (Some(uid), Ok(q)) = (field(msg, "Uniqueid"), QueueName::parse(queue)) {
            if self.callers.len() < MAX_TRACKED {
                self.callers.insert(uid.to_owned(), q);
            }
        }
        self.set_count(queue, count, out);
    }

    fn caller_leave(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some(queue) = field(msg, "Queue") else {
            return;
        };
        let count = codes::uint(msg.get("Count")) as u32;
        self.set_count(queue, count, out);
    }

    fn queue_params(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some(queue) = field(msg, "Queue") else {
            return;
        };
        let count = codes::uint(msg.get("Calls")) as u32;
        if let Some((_, q)) = self.queue_mut(queue) {
            q.stats = QueueStats {
                completed: codes::uint(msg.get("Completed")),
                abandoned: codes::uint(msg.get("Abandoned")),
                hold_time: codes::uint(msg.get("Holdtime")),
                talk_time: codes::uint(msg.get("TalkTime")),
                service_level: codes::uint(msg.get("ServiceLevel")),
                service_level_perf: msg
                    .get("ServicelevelPerf")
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0.0),
            };
        }
        self.set_count(queue, count, out);
    }

    fn queue_entry(&mut self, msg: &AmiMessage) {
        let (Some(queue), Some(uid)) = (field(msg, "Queue"), field(msg, "Uniqueid")) else {
            return;
        };
        if let Ok(q) = QueueName::parse(queue) {
            if self.callers.len() < MAX_TRACKED {
                self.callers.insert(uid.to_owned(), q);
            }
        }
    }

    /// The agent of a member event: its interface through the template, else its state
    /// interface.
    fn member_agent(&self, msg: &AmiMessage) -> Option<(AgentId, String)> {
        let iface = field(msg, "Interface").or_else(|| field(msg, "Location"))?;
        let agent = self.location.agent_of_interface(iface).or_else(|| {
            field(msg, "StateInterface").and_then(|s| self.location.agent_of_interface(s))
        })?;
        Some((agent, iface.to_owned()))
    }

    fn member_update(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some((agent, iface)) = self.member_agent(msg) else {
            return;
        };
        let Some(queue) = field(msg, "Queue").and_then(|q| QueueName::parse(q).ok()) else {
            return;
        };
        if self.queue_mut(queue.as_str()).is_none() {
            return;
        }
        if let Some(si) = field(msg, "StateInterface") {
            if self.state_interfaces.len() < MAX_TRACKED {
                self.state_interfaces.insert(si.to_owned(), agent.clone());
            }
        }
        let Some(a) = self.agent_mut(&agent) else {
            return;
        };
        let before = a.members.get(&queue).map(Member::shown);
        let m = a.members.entry(queue.clone()).or_insert_with(|| Member {
            name: iface.clone(),
            interface: iface.clone(),
            dynamic: true,
            paused: false,
            reason: String::new(),
            status: DeviceStatus::Unknown,
            calls_taken: 0,
            last_call: 0,
            incall: false,
        });
        update_member(m, msg);
        let status = m.status;
        let after = Some(m.shown());
        if before != after {
            if let Some((status, reason)) = after {
                out.push(Event::QueueMemberStatus {
                    agent: agent.clone(),
                    queue,
                    status,
                    reason,
                });
            }
        }
        let device_follows = !a.hint && msg.has("Status");
        self.refresh_name(&agent, out);
        if device_follows {
            self.set_device(&agent, status, false, out);
        }
    }

    fn member_removed(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some((agent, _)) = self.member_agent(msg) else {
            return;
        };
        let Some(queue) = field(msg, "Queue").and_then(|q| QueueName::parse(q).ok()) else {
            return;
        };
        let Some(a) = self.agents.get_mut(&agent) else {
            return;
        };
        if a.members.remove(&queue).is_some() {
            out.push(Event::QueueMemberStatus {
                agent: agent.clone(),
                queue,
                status: MemberStatus::LoggedOff,
                reason: None,
            });
        }
    }

    /// Publishes `agentName` when the derived name changed. A name is never withdrawn, and a
    /// log-off does not rename the agent.
    fn refresh_name(&mut self, agent: &AgentId, out: &mut Vec<Event>) {
        let Some(a) = self.agents.get_mut(agent) else {
            return;
        };
        let Some(derived) = a.derived_name() else {
            return;
        };
        if a.name.as_deref() != Some(derived) {
            let name = derived.to_owned();
            a.name = Some(name.clone());
            out.push(Event::AgentName {
                agent: agent.clone(),
                name,
            });
        }
    }

    pub(super) fn set_device(
        &mut self,
        agent: &AgentId,
        status: DeviceStatus,
        from_hint: bool,
        out: &mut Vec<Event>,
    ) {
        let Some(a) = self.agent_mut(agent) else {
            return;
        };
        if from_hint {
            a.hint = true;
        } else if a.hint {
            return;
        }
        if a.device != Some(status) {
            a.device = Some(status);
            out.push(Event::ExtensionStatus {
                agent: agent.clone(),
                status,
            });
        }
    }

    fn extension_status(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let (Some(exten), Some(ctx)) = (field(msg, "Exten"), field(msg, "Context")) else {
            return;
        };
        if !ctx.eq_ignore_ascii_case(&self.hint_context) {
            return;
        }
        let Ok(agent) = AgentId::parse(exten) else {
            return;
        };
        let status = codes::device_from_extension_state(msg.get("Status").unwrap_or(""));
        self.set_device(&agent, status, true, out);
    }

    fn device_state(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some(device) = field(msg, "Device") else {
            return;
        };
        let agent = match self.state_interfaces.get(device) {
            Some(a) => a.clone(),
            None if !self.location.is_local() => match self.location.agent_of_interface(device) {
                Some(a) if self.agents.contains_key(&a) => a,
                _ => return,
            },
            None => return,
        };
        let status = codes::device_from_name(msg.get("State").unwrap_or(""));
        self.set_device(&agent, status, false, out);
    }

    fn originate_response(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some(id) = field(msg, "ActionID") else {
            return;
        };
        let Some(agent) = self.originates.remove(id) else {
            return;
        };
        if !msg
            .get("Response")
            .is_some_and(|r| r.eq_ignore_ascii_case("Success"))
        {
            out.push(Event::OriginateFailed {
                agent,
                action_id: id.to_owned(),
                reason: codes::originate_reason(msg.get("Reason").unwrap_or("")),
            });
        }
    }
}

fn update_member(m: &mut Member, msg: &AmiMessage) {
    if let Some(n) = field(msg, "MemberName").or_else(|| field(msg, "Name")) {
        if m.name != n {
            m.name = n.to_owned();
        }
    }
    if let Some(v) = field(msg, "Membership") {
        m.dynamic = v.eq_ignore_ascii_case("dynamic");
    }
    if let Some(v) = field(msg, "Paused") {
        m.paused = codes::is_true(v);
    }
    let reason = msg.get("PausedReason").or_else(|| msg.get("Reason"));
    match reason {
        Some(r) if m.paused => r.clone_into(&mut m.reason),
        _ if !m.paused => m.reason.clear(),
        _ => {}
    }
    if let Some(v) = field(msg, "Status") {
        m.status = codes::device_from_code(v);
    }
    if let Some(v) = field(msg, "CallsTaken") {
        m.calls_taken = codes::uint(Some(v));
    }
    if let Some(v) = field(msg, "LastCall") {
        m.last_call = codes::uint(Some(v));
    }
    if let Some(v) = field(msg, "InCall") {
        m.incall = codes::is_true(v);
    }
}
