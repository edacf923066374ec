//! The model's state (agents, their queue memberships and devices, queues, calls) and the pure,
//! synchronous [`State::apply`] that digests one AMI event into the events subscribers receive.
//! Only real changes are published: every handler compares what subscribers were told before
//! with what they must be told after.
//!
//! The handler of an event is looked up from its name in `dispatch.rs`; the handlers live next
//! door: queue members and devices in `members.rs`, calls (who is patched to whom) in
//! `calls.rs` and `bridges.rs`; the subscriber view, snapshots and the difference between two
//! states in `snapshot.rs`.
//!
//! Bounds: at most [`MAX_AGENTS`] agents and [`MAX_QUEUES`] queues: beyond that, new agents and
//! queues are ignored (configuration, not traffic: a model that big is misconfigured). At most
//! [`MAX_TRACKED`] entries in each table of channels (queue callers, answered queue calls, state
//! interfaces, bridge legs) and [`MAX_CALLS_PER_AGENT`] calls per agent: beyond that the oldest
//! entry is forgotten to make room ([`Recent`]), so the model stays right about the newest
//! activity; what goes is most likely a channel whose end was missed.
//!
//! Per queue, the wallboard figures ([`QueueStats`]) are taken from `QueueParams` at a rebuild
//! and kept current from the events, as app_queue itself computes them: `QueueCallerAbandon`
//! counts an abandoned call, `AgentConnect` folds the caller's wait into the hold time,
//! `AgentComplete` counts a completed call (within the service level or not) and folds its talk
//! time in. Waiting callers carry the time they joined (longest wait); logged-in and available
//! members come from the memberships ([`State::member_counts`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tokio::time::Instant;

use super::bounded::Recent;
use super::bridges::Bridges;
use super::calls::Call;
use super::dispatch::{handler, Handler};
use super::event::{DeviceStatus, Event, MemberStatus};
use super::ids::{AgentId, QueueName};
use super::names::Location;
use super::originates::Originate;
use super::parking::Parking;
use super::spies::Spy;
use super::waiting::{Waiting, WallClock};
use crate::ami::AmiMessage;
use crate::clip::clip;

/// Longest text the model keeps from AMI, in bytes: names, numbers, channel and interface
/// names, unique ids, pause reasons. Longer values are clipped on a character boundary (see
/// `crate::clip`). Asterisk's own buffers for these hold at most 80 characters, so only junk
/// is ever clipped, and a clipped key is clipped the same way wherever it is looked up.
pub const MAX_TEXT_BYTES: usize = 256;
/// Most agents the model tracks.
pub const MAX_AGENTS: usize = 100_000;
/// Most queues the model tracks.
pub const MAX_QUEUES: usize = 10_000;
/// Most tracked channels (bridge legs, waiting callers).
pub const MAX_TRACKED: usize = 200_000;
/// Most pending spies of ours (the oldest is forgotten).
pub const MAX_SPIES: usize = 1_000;
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
    /// Calls in progress (the one on the newest channel is shown).
    pub calls: Vec<Call>,
}

impl Agent {
    /// The name derived from the memberships: a name that is not just the interface wins,
    /// then a dynamic membership's, then the first queue's.
    pub(super) fn derived_name(&self) -> Option<&str> {
        self.members
            .values()
            .max_by_key(|m| (m.name != m.interface, m.dynamic, std::cmp::Reverse(&m.name)))
            .map(|m| m.name.as_str())
    }
}

/// Queue figures for the wallboard, as app_queue keeps them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueStats {
    /// Calls answered and ended.
    pub completed: u64,
    /// Of those, answered within the service level.
    pub completed_in_sl: u64,
    /// Calls abandoned.
    pub abandoned: u64,
    /// Hold time, s: app_queue's running average (each new wait weighs a quarter).
    pub hold_time: u64,
    /// Talk time, s: app_queue's running average (each new call weighs a quarter).
    pub talk_time: u64,
    /// Service level threshold, s.
    pub service_level: u64,
}

impl QueueStats {
    /// % of completed calls answered within the service level.
    pub fn service_level_perf(&self) -> f64 {
        if self.completed == 0 {
            0.0
        } else {
            100.0 * self.completed_in_sl as f64 / self.completed as f64
        }
    }
}

/// app_queue's running average: `(3 * old + new) / 4`, in whole seconds.
pub(super) fn running_average(old: u64, new: u64) -> u64 {
    old.saturating_mul(3).saturating_add(new) / 4
}

/// One queue.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Queue {
    /// Callers waiting.
    pub count: u32,
    /// The callers waiting, in line order (`waiting.rs`).
    pub waiting: Vec<Waiting>,
    /// Wallboard figures.
    pub stats: QueueStats,
}

/// A channel in a queue: waiting, or answered (its queue names the agent's call).
#[derive(Clone, Debug, PartialEq)]
pub struct Caller {
    /// The queue.
    pub queue: QueueName,
    /// When it started waiting; `None` once it left the queue (answered).
    pub waiting_since: Option<Instant>,
}

/// The model.
#[derive(Clone, Debug)]
pub struct State {
    pub(super) location: Location,
    pub(super) hint_context: String,
    pub(super) agents: HashMap<AgentId, Agent>,
    pub(super) queues: BTreeMap<QueueName, Queue>,
    /// State interface (device) → agent, learned from member events.
    pub(super) state_interfaces: Recent<String, AgentId>,
    /// Queue callers by uniqueid.
    pub(super) callers: Recent<String, Caller>,
    pub(super) bridges: Bridges,
    /// Agents with calls in progress.
    pub(super) busy: BTreeSet<AgentId>,
    /// Answered queue calls: the agent leg's uniqueid → the caller's (for `AgentComplete`,
    /// which may come after the caller channel is gone and then lacks its fields).
    pub(super) answered: Recent<String, String>,
    /// Pending originates of ours, by action id.
    pub(super) originates: HashMap<String, Originate>,
    /// Channel names by uniqueid (`channels.rs`).
    pub(super) channels: Recent<String, String>,
    /// Parked calls of agents, by the parked channel's uniqueid (`parking.rs`).
    pub(super) parked: Recent<String, Parking>,
    /// Spies of ours, by the spying channel's uniqueid (`spies.rs`).
    pub(super) spies: Recent<String, Spy>,
    /// The wall clock of `joined` times (`waiting.rs`).
    pub(super) clock: WallClock,
}

/// A non-empty field, clipped to [`MAX_TEXT_BYTES`].
pub(super) fn field<'a>(m: &'a AmiMessage, key: &str) -> Option<&'a str> {
    text(m, key).filter(|v| !v.is_empty())
}

/// A field, clipped to [`MAX_TEXT_BYTES`]: every string the model keeps from AMI comes through
/// here or [`field`].
pub(super) fn text<'a>(m: &'a AmiMessage, key: &str) -> Option<&'a str> {
    m.get(key).map(|v| clip(v, MAX_TEXT_BYTES))
}

/// [`field`] for a value already looked up (several at once: `AmiMessage::get_each`).
pub(super) fn nonempty(value: Option<&str>) -> Option<&str> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| clip(v, MAX_TEXT_BYTES))
}

impl State {
    /// An empty model for this location template and hint context.
    pub fn new(location: Location, hint_context: &str) -> Self {
        Self {
            location,
            hint_context: hint_context.to_owned(),
            agents: HashMap::new(),
            queues: BTreeMap::new(),
            state_interfaces: Recent::new(MAX_TRACKED),
            callers: Recent::new(MAX_TRACKED),
            bridges: Bridges::default(),
            busy: BTreeSet::new(),
            answered: Recent::new(MAX_TRACKED),
            originates: HashMap::new(),
            channels: Recent::new(MAX_TRACKED),
            parked: Recent::new(MAX_TRACKED),
            spies: Recent::new(MAX_SPIES),
            clock: WallClock::new(),
        }
    }

    /// An empty model with the same configuration, pending originates and agent names (a name,
    /// once known, is kept: an agent logged off everywhere has no name in any list).
    pub fn fresh(&self) -> Self {
        let mut s = Self::new(self.location.clone(), &self.hint_context);
        s.originates = self.originates.clone();
        s.spies = self.spies.clone();
        s.clock = self.clock;
        for (agent, a) in &self.agents {
            if a.name.is_some() {
                let kept = Agent {
                    name: a.name.clone(),
                    ..Agent::default()
                };
                s.agents.insert(agent.clone(), kept);
            }
        }
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
        self.expect_originate_to(action_id, agent, None);
    }

    /// Remembers an originate of ours from `agent` to `dest`: its failure goes to `agent`, and
    /// while it rings the agent's phone, the agent's `phoneNumber` shows `dest`.
    pub fn expect_originate_to(&mut self, action_id: &str, agent: AgentId, dest: Option<&str>) {
        self.expect_originate_on(action_id, agent, dest, None);
    }

    /// As [`State::expect_originate_to`], for an originate whose channel gets the uniqueid
    /// `channel_id` (`ChannelId`): the ringing of the agent's phone is linked to it exactly.
    pub fn expect_originate_on(
        &mut self,
        action_id: &str,
        agent: AgentId,
        dest: Option<&str>,
        channel_id: Option<&str>,
    ) {
        let o = Originate {
            agent,
            dest: dest.map(str::to_owned),
            leg: channel_id.map(str::to_owned),
        };
        self.originates.insert(action_id.to_owned(), o);
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
        self.note_channels(msg);
        let Some(handler) = handler(name) else {
            return out;
        };
        match handler {
            Handler::CallerJoin => self.caller_join(msg, &mut out),
            Handler::CallerLeave => self.caller_leave(msg, &mut out),
            Handler::CallerAbandon => self.caller_abandon(msg, &mut out),
            Handler::MemberUpdate => self.member_update(msg, &mut out),
            Handler::MemberRemoved => self.member_removed(msg, &mut out),
            Handler::QueueParams => self.queue_params(msg, &mut out),
            Handler::QueueEntry => self.queue_entry(msg, &mut out),
            Handler::ExtensionStatus => self.extension_status(msg, &mut out),
            Handler::DeviceState => self.device_state(msg, &mut out),
            Handler::AgentCalled => self.agent_called(msg, &mut out),
            Handler::AgentDropped => self.agent_dropped(msg, &mut out),
            Handler::AgentComplete => self.agent_complete(msg, &mut out),
            Handler::DialBegin => self.dial_begin(msg, &mut out),
            Handler::DialEnd => self.dial_end(msg, &mut out),
            Handler::BridgeEnter => self.bridge_enter(msg, &mut out),
            Handler::BridgeLeave => self.bridge_leave(msg, &mut out),
            Handler::BridgeDestroy => self.bridge_destroy(msg),
            Handler::LegacyBridge => self.legacy_bridge(name, msg, &mut out),
            Handler::Hangup => self.hangup(msg, &mut out),
            Handler::OriginateResponse => self.originate_response(msg, &mut out),
            Handler::Rename => self.rename(msg),
            Handler::ParkedCall => self.parked_call(msg, &mut out),
            Handler::ParkEnded => self.park_ended(name, msg, &mut out),
            Handler::ChanSpy => self.chan_spy(name, msg, &mut out),
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

    /// Makes sure the queue is tracked (false when it is new and the queues are at their
    /// bound): [`State::queue_mut`] for a name already parsed.
    pub(super) fn ensure_queue(&mut self, name: &QueueName) -> bool {
        if self.queues.contains_key(name) {
            return true;
        }
        if self.queues.len() >= MAX_QUEUES {
            return false;
        }
        self.queues.insert(name.clone(), Queue::default());
        true
    }

    pub(super) fn agent_mut(&mut self, agent: &AgentId) -> Option<&mut Agent> {
        if self.agents.contains_key(agent) {
            return self.agents.get_mut(agent);
        }
        if self.agents.len() >= MAX_AGENTS {
            return None;
        }
        Some(self.agents.entry(agent.clone()).or_default())
    }
}
