//! Inbound calls: a caller channel appears, joins a queue, waits (ringing is in `ring`), is
//! answered and talks, or gives up; then everything hangs up, each step with the events
//! Asterisk emits in that order.

use std::time::Duration;

use super::{call_count, random_between, secs};
use crate::sim::devices::{refresh_queue, set_device};
use crate::sim::engine::{Engine, Job};
use crate::sim::events::{
    self, caller_abandon, caller_join_leave, channel_event, hangup, hangup_request,
};
use crate::sim::state::{Call, Channel, Phase, INUSE, NOT_INUSE};

/// Trunk device of inbound callers.
const TRUNK: &str = "PJSIP/trunk";

/// A caller from the trunk enters `queue`. Returns the caller channel's Uniqueid, or `None`
/// when the queue is unknown or the call limit is reached.
pub(crate) fn inbound_call(
    e: &mut Engine,
    queue: &str,
    number: &str,
    name: Option<&str>,
) -> Option<String> {
    e.state.queue(queue)?;
    if call_count(e) >= e.config.max_calls {
        tracing::warn!(%queue, caller = number, "call limit reached: caller refused");
        return None;
    }
    let now = e.unix_secs();
    let uid = e.state.uniqueid(now);
    let suffix = e.state.channel_suffix();
    let caller = Channel {
        name: format!("{TRUNK}-{suffix}"),
        uniqueid: uid.clone(),
        linkedid: uid.clone(),
        state: 4,
        cid_num: number.to_owned(),
        cid_name: name.unwrap_or("<unknown>").to_owned(),
        conn_num: "<unknown>".to_owned(),
        conn_name: "<unknown>".to_owned(),
        context: "from-trunk".to_owned(),
        exten: queue.to_owned(),
        priority: 1,
        app: "Queue".to_owned(),
        app_data: queue.to_owned(),
        created: e.now(),
        bridge: String::new(),
        vars: Vec::new(),
    };
    e.emit(channel_event("Newchannel", &caller));
    let patience = random_between(e, e.config.patience);
    join(e, caller, None, queue, patience);
    Some(uid)
}

/// A `Local/<queue>@callers` caller (the recorded rig's way): `partner` is the `;1` half,
/// `caller` the `;2` half that waits in the queue for at most `patience`.
pub(crate) fn join_local_caller(
    e: &mut Engine,
    partner: Channel,
    caller: Channel,
    queue: &str,
    timing: CallerTiming,
) {
    // The recorded rig's dialplan answers, waits half a second, then runs Queue().
    let pending = PendingJoin {
        partner,
        caller,
        queue: queue.to_owned(),
        timing: CallerTiming {
            patience: timing.patience.saturating_sub(LOCAL_JOIN_DELAY),
            ..timing
        },
    };
    e.after(LOCAL_JOIN_DELAY, Job::LocalJoin(Box::new(pending)));
}

/// How long a rig-style caller's dialplan takes before `Queue()`.
const LOCAL_JOIN_DELAY: Duration = Duration::from_millis(500);

/// A rig-style caller on its way into the queue.
#[derive(Clone, Debug)]
pub(crate) struct PendingJoin {
    partner: Channel,
    caller: Channel,
    queue: String,
    timing: CallerTiming,
}

/// The rig-style caller enters its queue.
pub(crate) fn local_join(e: &mut Engine, p: PendingJoin) {
    let PendingJoin {
        partner,
        caller,
        queue,
        timing,
    } = p;
    if let Some(id) = join(e, caller, Some(partner), &queue, timing.patience) {
        if let Some(c) = e.state.calls.get_mut(&id) {
            c.talk_time = timing.talk;
            c.lifetime = true;
        }
        if let Some(wait) = timing.max_wait {
            e.after(wait, Job::QueueTimeout { call: id });
        }
    }
}

/// Timings of a rig-style caller, from its Originate (`Data`, `MAXWAIT`, `TALKTIME`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct CallerTiming {
    /// The caller hangs up after this long if still waiting.
    pub patience: Duration,
    /// The `Queue()` timeout.
    pub max_wait: Option<Duration>,
    /// Talk time once answered (else random).
    pub talk: Option<Duration>,
}

fn join(
    e: &mut Engine,
    mut caller: Channel,
    partner: Option<Channel>,
    queue: &str,
    patience: Duration,
) -> Option<u64> {
    if caller.state != 6 {
        caller.state = 6;
        e.emit(channel_event("Newstate", &caller));
    }
    if partner.is_none() {
        set_device(e, TRUNK, INUSE);
    }
    let id = e.state.next_id();
    let joined = e.now();
    let q = e.state.queue_mut(queue)?;
    q.waiting.push(id);
    let (pos, count) = (q.waiting.len(), q.waiting.len());
    e.state.calls.insert(
        id,
        Call {
            id,
            caller: caller.clone(),
            partner,
            queue: queue.to_owned(),
            joined,
            original_position: pos,
            ringing: Vec::new(),
            gen: 0,
            phase: Phase::Waiting,
            talk_time: None,
            lifetime: false,
        },
    );
    refresh_queue(e, queue);
    e.emit(caller_join_leave(
        "QueueCallerJoin",
        &caller,
        queue,
        pos,
        count,
    ));
    e.emit(channel_event("MusicOnHoldStart", &caller).with("Class", "default"));
    e.after(patience, Job::Patience { call: id });
    super::ring::offer(e, id);
    Some(id)
}

/// Removes the caller from its queue's line; emits `QueueCallerLeave` (after `before`, which
/// runs once the caller is out of the line). Returns its position.
pub(super) fn leave_queue(e: &mut Engine, call: &Call) -> usize {
    let Some(q) = e.state.queue_mut(&call.queue) else {
        return 0;
    };
    let pos = q
        .waiting
        .iter()
        .position(|c| *c == call.id)
        .map_or(0, |p| p + 1);
    q.waiting.retain(|c| *c != call.id);
    let count = q.waiting.len();
    refresh_queue(e, &call.queue);
    e.emit(caller_join_leave(
        "QueueCallerLeave",
        &call.caller,
        &call.queue,
        pos,
        count,
    ));
    pos
}

/// The caller's patience is over: it abandons if still waiting, and a rig-style caller hangs
/// up even while talking.
pub(crate) fn patience_over(e: &mut Engine, id: u64) {
    let talking_lifetime = e
        .state
        .calls
        .get(&id)
        .is_some_and(|c| c.lifetime && matches!(c.phase, Phase::Talking { .. }));
    let moved = e
        .state
        .calls
        .get(&id)
        .is_some_and(|c| c.lifetime && matches!(c.phase, Phase::Moved(_)));
    if moved {
        super::moved::end(e, id);
    } else if talking_lifetime {
        talk_end(e, id, false);
    } else {
        caller_hangs_up(e, id);
    }
}

/// A waiting caller hangs up: `HangupRequest` on its channel (cause 0 from a Local caller's
/// other half, as recorded; 16 from the trunk), then it abandons.
pub(crate) fn caller_hangs_up(e: &mut Engine, id: u64) {
    let Some(call) = e.state.calls.get(&id) else {
        return;
    };
    if matches!(call.phase, Phase::Waiting) {
        let cause = if call.partner.is_some() { 0 } else { 16 };
        let msg = hangup_request("HangupRequest", &call.caller, cause);
        e.emit(msg);
    }
    abandon(e, id);
}

/// The caller gives up (hung up while waiting, or the `Queue()` timeout).
pub(crate) fn abandon(e: &mut Engine, id: u64) {
    let Some(call) = e.state.calls.get(&id).cloned() else {
        return;
    };
    if !matches!(call.phase, Phase::Waiting) {
        return;
    }
    super::ring::cancel_rings(e, id, super::ring::RingEnd::CallerGone);
    let hold = (e.now() - call.joined).max(0.0);
    let pos = e
        .state
        .queue(&call.queue)
        .and_then(|q| q.waiting.iter().position(|c| *c == id))
        .map_or(1, |p| p + 1);
    e.emit(caller_abandon(
        &call.caller,
        &call.queue,
        pos,
        call.original_position,
        hold.round() as u64,
    ));
    e.emit(channel_event("MusicOnHoldStop", &call.caller));
    leave_queue(e, &call);
    if let Some(q) = e.state.queue_mut(&call.queue) {
        q.abandoned += 1;
        q.hold_total += hold;
    }
    e.state.calls.remove(&id);
    hang_up_caller(e, &call);
    tracing::info!(queue = %call.queue, caller = %call.caller.cid_num, hold = hold as u64, "call abandoned");
}

pub(super) fn hang_up_caller(e: &mut Engine, call: &Call) {
    e.emit(hangup(&call.caller, 16));
    if let Some(p) = &call.partner {
        e.emit(hangup(p, 16));
    } else {
        trunk_released(e);
    }
}

/// A trunk call ended: the trunk is idle once no trunk call is left.
pub(super) fn trunk_released(e: &mut Engine) {
    let trunk_busy = e.state.calls.values().any(|c| c.partner.is_none());
    if !trunk_busy {
        set_device(e, TRUNK, NOT_INUSE);
    }
}

/// The talk ends: the agent (`by_agent`) or the caller hangs up.
pub(crate) fn talk_end(e: &mut Engine, id: u64, by_agent: bool) {
    let Some(call) = e.state.calls.remove(&id) else {
        return;
    };
    let Phase::Talking {
        interface,
        member_name,
        device,
        agent,
        connected,
    } = &call.phase
    else {
        // A parked caller has no phone that could hang up on it.
        let moved = matches!(&call.phase, Phase::Moved(m) if m.parked.is_none());
        e.state.calls.insert(id, call);
        if moved {
            super::moved::end(e, id);
        }
        return;
    };
    let agent: &Channel = agent;
    let talk = (e.now() - connected).max(0.0);
    let hold = (connected - call.joined).max(0.0);
    let reason = if by_agent { "agent" } else { "caller" };
    let first = if by_agent { agent } else { &call.caller };
    e.emit(hangup_request("HangupRequest", first, 16));
    let extra = [
        ("HoldTime", secs(hold)),
        ("TalkTime", secs(talk)),
        ("Reason", reason.to_owned()),
    ];
    e.emit(events::agent_event(
        "AgentComplete",
        &call.caller,
        agent,
        &call.queue,
        interface,
        member_name,
        &extra,
    ));
    let (a, b) = if by_agent {
        (agent, &call.caller)
    } else {
        (&call.caller, agent)
    };
    e.emit(events::bridge("BridgeLeave", &agent.bridge, 1, Some(a)));
    e.emit(events::bridge("BridgeLeave", &agent.bridge, 0, Some(b)));
    e.emit(hangup(agent, 16));
    record_completion(e, &call.queue, interface, talk);
    set_device(e, device, NOT_INUSE);
    hang_up_caller(e, &call);
    e.emit(events::bridge("BridgeDestroy", &agent.bridge, 0, None));
    tracing::info!(
        queue = %call.queue, caller = %call.caller.cid_num, agent = %member_name,
        hold = hold as u64, talk = talk as u64, hangup = reason, "call answered"
    );
}

/// Counts a completed call in its queue and for its member.
pub(super) fn record_completion(e: &mut Engine, queue: &str, interface: &str, talk: f64) {
    let now = e.unix_secs();
    if let Some(q) = e.state.queue_mut(queue) {
        q.completed += 1;
        q.talk_total += talk;
        if let Some(m) = q.member_mut(interface) {
            m.in_call = false;
            m.calls_taken += 1;
            m.last_call = now;
        }
    }
}
