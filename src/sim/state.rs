//! The call center's state: queues and members, devices and hints, channels, calls. Plain data
//! plus the rules that derive one value from others (member status from its device, queue
//! pseudo-devices); the engine and the traffic steps change it.

use std::collections::BTreeMap;

use super::config::SimConfig;

mod moved;

pub(crate) use moved::{Completion, Moved, Parked, Phone, PARKING_TIME, PARK_FIRST, PARK_LAST};

/// At most this many members per queue; `QueueAdd` beyond is refused ("Out of memory", as
/// Asterisk answers when it cannot add).
pub(crate) const MAX_MEMBERS: usize = 1000;
/// At most this many devices are tracked; `Setvar DEVICE_STATE(...)` of a new one beyond is
/// refused.
pub(crate) const MAX_DEVICES: usize = 20_000;

/// Device state names as Asterisk spells them.
pub(crate) const NOT_INUSE: &str = "NOT_INUSE";
pub(crate) const INUSE: &str = "INUSE";
pub(crate) const RINGING: &str = "RINGING";

/// One channel (its snapshot fields, as events show them).
#[derive(Clone, Debug, Default)]
pub(crate) struct Channel {
    pub name: String,
    pub uniqueid: String,
    pub linkedid: String,
    pub state: u8,
    pub cid_num: String,
    pub cid_name: String,
    pub conn_num: String,
    pub conn_name: String,
    pub context: String,
    pub exten: String,
    pub priority: u32,
    pub app: String,
    pub app_data: String,
    /// Simulated second it was created.
    pub created: f64,
    pub bridge: String,
    /// Channel variables set by the Originate (bounded).
    pub vars: Vec<(String, String)>,
}

/// Text of a channel state code.
pub(crate) fn state_desc(state: u8) -> &'static str {
    match state {
        0 => "Down",
        4 => "Ring",
        5 => "Ringing",
        6 => "Up",
        7 => "Busy",
        _ => "Unknown",
    }
}

/// One member of one queue.
#[derive(Clone, Debug, Default)]
pub(crate) struct Member {
    pub interface: String,
    pub name: String,
    pub state_interface: String,
    pub dynamic: bool,
    pub paused: bool,
    pub reason: String,
    pub penalty: u32,
    pub calls_taken: u64,
    pub last_call: u64,
    pub last_pause: u64,
    pub login_time: u64,
    pub in_call: bool,
}

/// One queue.
#[derive(Clone, Debug, Default)]
pub(crate) struct Queue {
    pub name: String,
    pub strategy: String,
    pub members: Vec<Member>,
    /// Call ids of waiting callers, first in line first.
    pub waiting: Vec<u64>,
    pub completed: u64,
    pub abandoned: u64,
    pub hold_total: f64,
    pub talk_total: f64,
    pub within_sl: u64,
    /// Round-robin memory: index of the member to try first next time.
    pub rr_next: usize,
}

impl Queue {
    pub fn member(&self, interface: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.interface == interface)
    }

    pub fn member_mut(&mut self, interface: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.interface == interface)
    }

    /// Average hold time in whole seconds.
    pub fn holdtime(&self) -> u64 {
        avg(self.hold_total, self.completed + self.abandoned)
    }

    /// Average talk time in whole seconds.
    pub fn talktime(&self) -> u64 {
        avg(self.talk_total, self.completed)
    }

    /// Share of answered calls within the service level, as Asterisk prints it.
    pub fn sl_perf(&self) -> String {
        if self.completed == 0 {
            return "0.0".to_owned();
        }
        format!(
            "{:.1}",
            100.0 * self.within_sl as f64 / self.completed as f64
        )
    }
}

fn avg(total: f64, n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        (total / n as f64).round() as u64
    }
}

/// An extension hint: `exten@context` shows the state of `device`.
#[derive(Clone, Debug)]
pub(crate) struct Hint {
    pub exten: String,
    pub context: String,
    pub device: String,
}

/// One member being rung for a call.
#[derive(Clone, Debug)]
pub(crate) struct Ring {
    pub interface: String,
    pub member_name: String,
    pub device: String,
    pub chan: Channel,
    pub started: f64,
}

/// Where an inbound call is.
#[derive(Clone, Debug)]
pub(crate) enum Phase {
    Waiting,
    Talking {
        interface: String,
        member_name: String,
        device: String,
        agent: Box<Channel>,
        connected: f64,
    },
    /// The member's leg is gone (redirected, transferred, parked); the caller lives on.
    Moved(Box<Moved>),
}

/// An inbound call: a caller in a queue, then talking to a member.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub id: u64,
    pub caller: Channel,
    /// The other half of a Local caller (`;1`), hung up with the call.
    pub partner: Option<Channel>,
    pub queue: String,
    pub joined: f64,
    pub original_position: usize,
    pub ringing: Vec<Ring>,
    /// Bumped whenever a ring round ends, so stale timed steps are ignored.
    pub gen: u64,
    pub phase: Phase,
    /// Talk time once answered, when the caller fixed it (else random).
    pub talk_time: Option<std::time::Duration>,
    /// The patience is the caller's whole lifetime (a rig-style `Wait` caller hangs up then,
    /// even while talking); otherwise it only bounds the wait in the queue.
    pub lifetime: bool,
}

/// An originated call: an agent's phone rings, answers, then dials out.
#[derive(Clone, Debug)]
pub(crate) struct Orig {
    pub id: u64,
    pub session: u64,
    pub action_id: Option<String>,
    pub requested: String,
    pub device: String,
    pub agent: Channel,
    pub context: String,
    pub exten: String,
    pub application: Option<(String, String)>,
    pub remote: Option<Channel>,
    pub answered: bool,
    pub talk: Option<std::time::Duration>,
    /// `ChanSpy`: the spied channel once `ChanSpyStart` was sent.
    pub spying: Option<Channel>,
}

/// Everything the simulator knows.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub queues: Vec<Queue>,
    pub devices: BTreeMap<String, String>,
    pub hints: Vec<Hint>,
    pub calls: BTreeMap<u64, Call>,
    pub origs: BTreeMap<u64, Orig>,
    pub next_channel: u32,
    pub next_uid: u64,
    pub next_id: u64,
}

impl State {
    /// The rig of `config` at unix time `now`: every agent in every queue, all idle.
    pub fn new(config: &SimConfig, now: u64) -> Self {
        let mut state = Self::default();
        for (i, q) in config.queues.iter().enumerate() {
            let alternate = if i % 2 == 0 { "ringall" } else { "rrmemory" };
            let strategy = config.strategies.get(q).map_or(alternate, String::as_str);
            let member = |a: &String, dynamic: bool| Member {
                interface: config.interface_of(a),
                name: if dynamic {
                    format!("Agent {a}")
                } else {
                    format!("Agent {a} (static)")
                },
                state_interface: config.device_of(a),
                dynamic,
                login_time: now,
                ..Member::default()
            };
            let mut members: Vec<Member> = config
                .static_members
                .iter()
                .filter(|(sq, _)| sq == q)
                .map(|(_, a)| member(a, false))
                .collect();
            if config.initial_members {
                members.extend(config.agents.iter().map(|a| member(a, true)));
            }
            state.queues.push(Queue {
                name: q.clone(),
                strategy: strategy.to_owned(),
                members,
                ..Queue::default()
            });
        }
        for q in &state.queues {
            state
                .devices
                .insert(format!("Queue:{}", q.name), NOT_INUSE.to_owned());
            state
                .devices
                .insert(format!("Queue:{}_avail", q.name), NOT_INUSE.to_owned());
            for m in &q.members {
                state
                    .devices
                    .insert(pause_device(&q.name, &m.interface), NOT_INUSE.to_owned());
            }
        }
        for a in &config.agents {
            state
                .devices
                .insert(config.device_of(a), NOT_INUSE.to_owned());
            state.hints.push(Hint {
                exten: a.clone(),
                context: config.hint_context.clone(),
                device: config.device_of(a),
            });
        }
        state
    }

    pub fn queue(&self, name: &str) -> Option<&Queue> {
        self.queues.iter().find(|q| q.name == name)
    }

    pub fn queue_mut(&mut self, name: &str) -> Option<&mut Queue> {
        self.queues.iter_mut().find(|q| q.name == name)
    }

    /// The state of a device (`NOT_INUSE` when never seen, as for a fresh custom device).
    pub fn device(&self, device: &str) -> &str {
        self.devices.get(device).map_or(NOT_INUSE, String::as_str)
    }

    /// A new channel name suffix (`-0000002a`).
    pub fn channel_suffix(&mut self) -> String {
        self.next_channel = self.next_channel.wrapping_add(1);
        format!("{:08x}", self.next_channel)
    }

    /// A new Uniqueid at unix time `now`.
    pub fn uniqueid(&mut self, now: u64) -> String {
        self.next_uid += 1;
        format!("{now}.{}", self.next_uid)
    }

    /// A new call or originate id.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// True when the member may be rung now: not paused, device idle, not rung already.
    pub fn is_available(&self, m: &Member) -> bool {
        !m.paused && self.device(&m.state_interface) == NOT_INUSE && !self.is_ringing(&m.interface)
    }

    fn is_ringing(&self, interface: &str) -> bool {
        self.calls
            .values()
            .any(|c| c.ringing.iter().any(|r| r.interface == interface))
    }

    /// `Queue:<q>_avail` state: NOT_INUSE when some member could take a call.
    pub fn avail_state(&self, q: &Queue) -> &'static str {
        let any = q
            .members
            .iter()
            .any(|m| !m.paused && matches!(self.device(&m.state_interface), NOT_INUSE));
        if any {
            NOT_INUSE
        } else {
            INUSE
        }
    }

    /// Every channel that exists, in creation order.
    pub fn channels(&self) -> Vec<&Channel> {
        let mut all: Vec<&Channel> = Vec::new();
        for c in self.calls.values() {
            all.extend(c.partner.iter());
            all.push(&c.caller);
            all.extend(c.ringing.iter().map(|r| &r.chan));
            match &c.phase {
                Phase::Talking { agent, .. } => all.push(agent),
                Phase::Moved(m) => all.extend(m.phone.as_ref().and_then(|p| p.leg.as_ref())),
                Phase::Waiting => {}
            }
        }
        for o in self.origs.values() {
            all.push(&o.agent);
            all.extend(o.remote.iter());
        }
        all.sort_by(|a, b| a.created.total_cmp(&b.created).then(a.name.cmp(&b.name)));
        all
    }
}

/// app_queue's pseudo device telling whether a member is paused in a queue.
pub(crate) fn pause_device(queue: &str, interface: &str) -> String {
    format!("Queue:{queue}_pause_{interface}")
}

/// Queue member status code of a device state.
pub(crate) fn member_status(device_state: &str) -> u8 {
    match device_state {
        "NOT_INUSE" => 1,
        "INUSE" => 2,
        "BUSY" => 3,
        "INVALID" => 4,
        "UNAVAILABLE" => 5,
        "RINGING" => 6,
        "RINGINUSE" => 7,
        "ONHOLD" => 8,
        _ => 0,
    }
}

/// Extension status bitmask and text of a device state.
pub(crate) fn extension_status(device_state: &str) -> (i32, &'static str) {
    match device_state {
        "NOT_INUSE" => (0, "Idle"),
        "INUSE" => (1, "InUse"),
        "BUSY" => (2, "Busy"),
        "UNAVAILABLE" | "INVALID" => (4, "Unavailable"),
        "RINGING" => (8, "Ringing"),
        "RINGINUSE" => (9, "InUse&Ringing"),
        "ONHOLD" => (16, "Hold"),
        _ => (-1, "Unknown"),
    }
}
