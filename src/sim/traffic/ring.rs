//! Ringing members for a waiting caller, per the queue's strategy (`ringall` rings every
//! available member, `rrmemory` one at a time in turn), then no answer or cancel (the
//! answer is in `answer`).

use std::time::Duration;

use crate::sim::devices::set_device;
use crate::sim::engine::{Engine, Job};
use crate::sim::events::{agent_event, channel_event, dial, hangup};
use crate::sim::state::{Channel, Member, Phase, Ring, NOT_INUSE, RINGING};

/// Rings the members available for this caller when it is its turn, as app_queue's loop
/// does; when nobody could be rung, tries again after the queue's `retry`.
pub(crate) fn offer(e: &mut Engine, id: u64) {
    let Some(call) = e.state.calls.get(&id) else {
        return;
    };
    if !call.ringing.is_empty() || !matches!(call.phase, Phase::Waiting) {
        return;
    }
    let gen = call.gen;
    if !ring_some(e, id) {
        e.after(e.config.retry, Job::Ring { call: id, gen });
    }
}

/// Callers ahead of `id` in its queue that are not ringing anybody (autofill: a caller may
/// ring while fewer of those than available members are ahead of it).
fn idle_callers_ahead(e: &Engine, queue: &str, id: u64) -> usize {
    let Some(q) = e.state.queue(queue) else {
        return 0;
    };
    q.waiting
        .iter()
        .take_while(|c| **c != id)
        .filter(|c| e.state.calls.get(c).is_some_and(|c| c.ringing.is_empty()))
        .count()
}

/// Rings per the strategy; false when nobody was rung.
fn ring_some(e: &mut Engine, id: u64) -> bool {
    let Some(queue) = e.state.calls.get(&id).map(|c| c.queue.clone()) else {
        return false;
    };
    let ahead = idle_callers_ahead(e, &queue, id);
    let Some(q) = e.state.queue(&queue) else {
        return false;
    };
    let available: Vec<(usize, Member)> = q
        .members
        .iter()
        .enumerate()
        .filter(|(_, m)| e.state.is_available(m))
        .map(|(i, m)| (i, m.clone()))
        .collect();
    if ahead >= available.len() {
        return false;
    }
    let Some(min_penalty) = available.iter().map(|(_, m)| m.penalty).min() else {
        return false;
    };
    let tier: Vec<(usize, Member)> = available
        .into_iter()
        .filter(|(_, m)| m.penalty == min_penalty)
        .collect();
    let chosen: Vec<Member> = if q.strategy == "ringall" {
        tier.into_iter().map(|(_, m)| m).collect()
    } else {
        let start = q.rr_next;
        let pick = tier
            .iter()
            .find(|(i, _)| *i >= start)
            .or_else(|| tier.first())
            .cloned();
        pick.into_iter()
            .map(|(i, m)| {
                if let Some(q) = e.state.queue_mut(&queue) {
                    q.rr_next = i + 1;
                }
                m
            })
            .collect()
    };
    for m in chosen {
        ring_member(e, id, &m);
    }
    let Some(call) = e.state.calls.get(&id) else {
        return true;
    };
    let gen = call.gen;
    if call.ringing.is_empty() {
        return false;
    }
    e.after(e.config.ring_timeout, Job::RingTimeout { call: id, gen });
    true
}

/// The agent number behind a member, when it is one of the configured agents.
fn agent_of(e: &Engine, m: &Member) -> Option<String> {
    e.config
        .agents
        .iter()
        .find(|a| {
            e.config.interface_of(a) == m.interface || e.config.device_of(a) == m.state_interface
        })
        .cloned()
}

/// Rings one member for the caller: its channel appears, is called and rings; its answer
/// is scheduled when its agent answers at all.
fn ring_member(e: &mut Engine, id: u64, m: &Member) {
    let Some((caller, queue)) = e
        .state
        .calls
        .get(&id)
        .map(|c| (c.caller.clone(), c.queue.clone()))
    else {
        return;
    };
    let agent = agent_of(e, m);
    let mut chan = member_channel(e, &caller, m, agent.as_deref());
    e.emit(channel_event("Newchannel", &chan));
    e.emit(agent_event(
        "AgentCalled",
        &caller,
        &chan,
        &queue,
        &m.interface,
        &m.name,
        &[],
    ));
    let dial_string = m
        .interface
        .split_once('/')
        .map_or(m.interface.as_str(), |(_, r)| r);
    e.emit(dial(
        "DialBegin",
        Some(&caller),
        &chan,
        ("DialString", dial_string),
    ));
    set_device(e, &m.state_interface, RINGING);
    chan.state = 5;
    e.emit(channel_event("Newstate", &chan));
    e.emit(dial(
        "DialState",
        Some(&caller),
        &chan,
        ("DialStatus", "RINGING"),
    ));
    let delay = agent.and_then(|a| e.shared.answer_delay(&a));
    track_ring(e, id, m, chan, delay);
}

/// The channel app_queue dials for member `m` (named after its interface), in the caller's
/// call.
fn member_channel(e: &mut Engine, caller: &Channel, m: &Member, agent: Option<&str>) -> Channel {
    let now = e.unix_secs();
    let uid = e.state.uniqueid(now);
    let suffix = e.state.channel_suffix();
    let base = m.interface.strip_suffix("/n").unwrap_or(&m.interface);
    Channel {
        name: format!("{base}-{suffix}"),
        uniqueid: uid,
        linkedid: caller.linkedid.clone(),
        state: 0,
        cid_num: caller.cid_num.clone(),
        cid_name: caller.cid_name.clone(),
        conn_num: caller.cid_num.clone(),
        conn_name: caller.cid_name.clone(),
        context: e.config.hint_context.clone(),
        exten: agent.unwrap_or("s").to_owned(),
        priority: 1,
        app: "AppQueue".to_owned(),
        app_data: "(Outgoing Line)".to_owned(),
        created: e.now(),
        bridge: String::new(),
        vars: Vec::new(),
    }
}

/// Keeps the ring on the call and schedules the member's answer after `delay` (never when
/// `None`).
fn track_ring(e: &mut Engine, id: u64, m: &Member, chan: Channel, delay: Option<Duration>) {
    let started = e.now();
    let Some(call) = e.state.calls.get_mut(&id) else {
        return;
    };
    call.ringing.push(Ring {
        interface: m.interface.clone(),
        member_name: m.name.clone(),
        device: m.state_interface.clone(),
        chan,
        started,
    });
    let gen = call.gen;
    if let Some(delay) = delay {
        let interface = m.interface.clone();
        e.after(
            delay,
            Job::Answer {
                call: id,
                gen,
                interface,
            },
        );
    }
}

/// Why the rings of a call end; it decides the events, as app_queue's `rna()`,
/// `publish_dial_end_event()` and `hangupcalls()` send them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RingEnd {
    /// Another member answered: `DialEnd CANCEL` for every ring, then per ring `DialEnd
    /// CANCEL` again and `Hangup` cause 26 (answered elsewhere).
    AnsweredElsewhere,
    /// The caller left (hung up, redirected): the same, with hangup cause 0.
    CallerGone,
    /// The ring timeout or the `Queue()` timeout: `AgentRingNoAnswer` and `DialEnd NOANSWER`
    /// for every ring, then per ring `DialEnd CANCEL` and `Hangup` cause 0.
    NoAnswer,
}

/// Ends every ring of the call, hanging up the member channels; bumps the call's generation
/// so their pending steps are void.
pub(crate) fn cancel_rings(e: &mut Engine, id: u64, end: RingEnd) {
    let Some(call) = e.state.calls.get_mut(&id) else {
        return;
    };
    call.gen += 1;
    let rings = std::mem::take(&mut call.ringing);
    let caller = call.caller.clone();
    let queue = call.queue.clone();
    let now = e.now();
    if end == RingEnd::NoAnswer {
        for r in &rings {
            let ms = ((now - r.started).max(0.0) * 1000.0).round() as u64;
            let extra = [("RingTime", ms.to_string())];
            e.emit(agent_event(
                "AgentRingNoAnswer",
                &caller,
                &r.chan,
                &queue,
                &r.interface,
                &r.member_name,
                &extra,
            ));
        }
    }
    let first = match end {
        RingEnd::NoAnswer => "NOANSWER",
        RingEnd::AnsweredElsewhere | RingEnd::CallerGone => "CANCEL",
    };
    for r in &rings {
        e.emit(dial(
            "DialEnd",
            Some(&caller),
            &r.chan,
            ("DialStatus", first),
        ));
    }
    let cause = if end == RingEnd::AnsweredElsewhere {
        26
    } else {
        0
    };
    for r in rings {
        e.emit(dial(
            "DialEnd",
            Some(&caller),
            &r.chan,
            ("DialStatus", "CANCEL"),
        ));
        e.emit(hangup(&r.chan, cause));
        set_device(e, &r.device, NOT_INUSE);
    }
}

/// Nobody answered within the ring timeout: try again after `retry`.
pub(crate) fn ring_timeout(e: &mut Engine, id: u64, gen: u64) {
    if !e
        .state
        .calls
        .get(&id)
        .is_some_and(|c| c.gen == gen && !c.ringing.is_empty())
    {
        return;
    }
    cancel_rings(e, id, RingEnd::NoAnswer);
    let gen = e.state.calls.get(&id).map_or(0, |c| c.gen);
    e.after(e.config.retry, Job::Ring { call: id, gen });
}

/// The retry pause is over: ring again.
pub(crate) fn retry(e: &mut Engine, id: u64, gen: u64) {
    if e.state.calls.get(&id).is_some_and(|c| c.gen == gen) {
        offer(e, id);
    }
}

/// A ringing member rejects the call (its channel was hung up).
pub(crate) fn reject(e: &mut Engine, id: u64, interface: &str) {
    let Some(call) = e.state.calls.get_mut(&id) else {
        return;
    };
    let Some(pos) = call.ringing.iter().position(|r| r.interface == interface) else {
        return;
    };
    let r = call.ringing.remove(pos);
    let caller = call.caller.clone();
    e.emit(dial(
        "DialEnd",
        Some(&caller),
        &r.chan,
        ("DialStatus", "BUSY"),
    ));
    e.emit(hangup(&r.chan, 17));
    set_device(e, &r.device, NOT_INUSE);
    let empty = e.state.calls.get(&id).is_some_and(|c| c.ringing.is_empty());
    if empty {
        if let Some(c) = e.state.calls.get_mut(&id) {
            c.gen += 1;
            let gen = c.gen;
            e.after(e.config.retry, Job::Ring { call: id, gen });
        }
    }
}
