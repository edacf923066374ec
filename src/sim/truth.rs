//! The simulator's own view of its state, for tests to compare with what a client believes.

use super::state::{member_status, Member, Phase, Queue, State};

/// Everything the simulator knows, at one instant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SimSnapshot {
    /// Queues in name order.
    pub queues: Vec<QueueTruth>,
    /// Device states by device name (`PJSIP/147` → `NOT_INUSE`).
    pub devices: Vec<(String, String)>,
    /// Calls in progress.
    pub calls: Vec<CallTruth>,
}

/// One queue.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueTruth {
    /// Queue name.
    pub name: String,
    /// Strategy (`ringall`, `rrmemory`, ...).
    pub strategy: String,
    /// Uniqueids of the waiting callers, first in line first.
    pub waiting: Vec<String>,
    /// Calls answered (since the last reset).
    pub completed: u64,
    /// Callers who gave up (since the last reset).
    pub abandoned: u64,
    /// Members.
    pub members: Vec<MemberTruth>,
}

/// One member of one queue.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemberTruth {
    /// Interface (`PJSIP/147`).
    pub interface: String,
    /// Member name.
    pub name: String,
    /// State interface.
    pub state_interface: String,
    /// Dynamic (added by `QueueAdd`) or static.
    pub dynamic: bool,
    /// Paused.
    pub paused: bool,
    /// Pause reason (empty when none).
    pub reason: String,
    /// Penalty.
    pub penalty: u32,
    /// Calls taken.
    pub calls_taken: u64,
    /// Device state code as in `QueueMemberStatus` (1 = not in use, 2 = in use, 6 = ringing...).
    pub status: u8,
    /// Talking on a call of this queue.
    pub in_call: bool,
}

/// One call in progress.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallTruth {
    /// Uniqueid of the caller's channel (inbound) or of the agent's channel (originated).
    pub uniqueid: String,
    /// Caller channel name.
    pub channel: String,
    /// Caller number.
    pub caller_number: String,
    /// Queue, for inbound calls.
    pub queue: Option<String>,
    /// Agent talking, or being rung, if any.
    pub agent: Option<String>,
    /// `waiting`, `ringing`, `talking`, `originating`.
    pub state: String,
}

/// The snapshot of a running engine.
pub(crate) fn snapshot(e: &super::engine::Engine) -> SimSnapshot {
    let s = &e.state;
    let devices = s
        .devices
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    SimSnapshot {
        queues: s.queues.iter().map(|q| queue_truth(s, q)).collect(),
        devices,
        calls: call_truths(s),
    }
}

/// One queue: its waiting callers (in line order) and its members.
fn queue_truth(s: &State, q: &Queue) -> QueueTruth {
    QueueTruth {
        name: q.name.clone(),
        strategy: q.strategy.clone(),
        waiting: q
            .waiting
            .iter()
            .filter_map(|c| s.calls.get(c))
            .map(|c| c.caller.uniqueid.clone())
            .collect(),
        completed: q.completed,
        abandoned: q.abandoned,
        members: q.members.iter().map(|m| member_truth(s, m)).collect(),
    }
}

/// One member, its status from its device's state.
fn member_truth(s: &State, m: &Member) -> MemberTruth {
    MemberTruth {
        interface: m.interface.clone(),
        name: m.name.clone(),
        state_interface: m.state_interface.clone(),
        dynamic: m.dynamic,
        paused: m.paused,
        reason: m.reason.clone(),
        penalty: m.penalty,
        calls_taken: m.calls_taken,
        status: member_status(s.device(&m.state_interface)),
        in_call: m.in_call,
    }
}

/// Every call: inbound callers (waiting, ringing, talking), then originated calls.
fn call_truths(s: &State) -> Vec<CallTruth> {
    let mut calls: Vec<CallTruth> = s
        .calls
        .values()
        .map(|c| {
            let (agent, state) = match &c.phase {
                Phase::Waiting if c.ringing.is_empty() => (None, "waiting"),
                Phase::Waiting => (c.ringing.first().map(|r| r.member_name.clone()), "ringing"),
                Phase::Talking { member_name, .. } => (Some(member_name.clone()), "talking"),
                Phase::Moved(m) if m.parked.is_some() => (None, "parked"),
                Phase::Moved(_) => (None, "transferred"),
            };
            CallTruth {
                uniqueid: c.caller.uniqueid.clone(),
                channel: c.caller.name.clone(),
                caller_number: c.caller.cid_num.clone(),
                queue: Some(c.queue.clone()),
                agent,
                state: state.to_owned(),
            }
        })
        .collect();
    calls.extend(s.origs.values().map(|o| CallTruth {
        uniqueid: o.agent.uniqueid.clone(),
        channel: o.agent.name.clone(),
        caller_number: o.agent.cid_num.clone(),
        queue: None,
        agent: Some(o.device.clone()),
        state: if o.answered { "talking" } else { "originating" }.to_owned(),
    }));
    calls
}
