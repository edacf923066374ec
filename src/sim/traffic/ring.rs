//! Ringing members for a waiting caller, per the queue's strategy (`ringall` rings every
//! available member, `rrmemory` one at a time in turn), then answer, no answer, or cancel.

use super::{bridge_id, random_between};
use crate::sim::devices::set_device;
use crate::sim::engine::{Engine, Job};
use crate::sim::events::{self, agent_event, channel_event, dial, hangup};
use crate::sim::state::{Channel, Member, Phase, Ring, INUSE, NOT_INUSE, RINGING};

/// Offers every waiting caller of every queue to the members now available, in line order.
pub(crate) fn offer_all(e: &mut Engine) {
    let waiting: Vec<u64> = e
        .state
        .queues
        .iter()
        .flat_map(|q| q.waiting.iter().copied())
        .collect();
    for id in waiting {
        offer(e, id);
    }
}

/// Rings the members available for this caller, unless some are ringing already.
pub(crate) fn offer(e: &mut Engine, id: u64) {
    let Some(call) = e.state.calls.get(&id) else {
        return;
    };
    if !call.ringing.is_empty() || !matches!(call.phase, Phase::Waiting) {
        return;
    }
    let Some(q) = e.state.queue(&call.queue) else {
        return;
    };
    let available: Vec<(usize, Member)> = q
        .members
        .iter()
        .enumerate()
        .filter(|(_, m)| e.state.is_available(m))
        .map(|(i, m)| (i, m.clone()))
        .collect();
    let Some(min_penalty) = available.iter().map(|(_, m)| m.penalty).min() else {
        return;
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
                if let Some(q) = e.state.queue_mut(&e.state.calls[&id].queue.clone()) {
                    q.rr_next = i + 1;
                }
                m
            })
            .collect()
    };
    for m in chosen {
        ring_member(e, id, &m);
    }
    if let Some(call) = e.state.calls.get(&id) {
        let gen = call.gen;
        if !call.ringing.is_empty() {
            e.after(e.config.ring_timeout, Job::RingTimeout { call: id, gen });
        }
    }
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

fn ring_member(e: &mut Engine, id: u64, m: &Member) {
    let Some(caller) = e.state.calls.get(&id).map(|c| c.caller.clone()) else {
        return;
    };
    let queue = e.state.calls[&id].queue.clone();
    let now = e.unix_secs();
    let uid = e.state.uniqueid(now);
    let suffix = e.state.channel_suffix();
    let agent = agent_of(e, m);
    let base = m.interface.strip_suffix("/n").unwrap_or(&m.interface);
    let mut chan = Channel {
        name: format!("{base}-{suffix}"),
        uniqueid: uid,
        linkedid: caller.linkedid.clone(),
        state: 0,
        cid_num: caller.cid_num.clone(),
        cid_name: caller.cid_name.clone(),
        conn_num: caller.cid_num.clone(),
        conn_name: caller.cid_name.clone(),
        context: e.config.hint_context.clone(),
        exten: agent.clone().unwrap_or_else(|| "s".to_owned()),
        priority: 1,
        app: "AppQueue".to_owned(),
        app_data: "(Outgoing Line)".to_owned(),
        created: e.now(),
        bridge: String::new(),
        vars: Vec::new(),
    };
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
    let delay = agent.and_then(|a| e.shared.answer_delay(&a));
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

/// Ends every ring of the call with `status` (`CANCEL`, `NOANSWER`), hanging up the member
/// channels; bumps the call's generation so their pending steps are void.
pub(crate) fn cancel_rings(e: &mut Engine, id: u64, status: &str) {
    let Some(call) = e.state.calls.get_mut(&id) else {
        return;
    };
    call.gen += 1;
    let rings = std::mem::take(&mut call.ringing);
    let caller = call.caller.clone();
    let queue = call.queue.clone();
    let now = e.now();
    for r in rings {
        if status == "NOANSWER" {
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
        e.emit(dial(
            "DialEnd",
            Some(&caller),
            &r.chan,
            ("DialStatus", status),
        ));
        let cause = if status == "CANCEL" { 26 } else { 19 };
        e.emit(events::hangup_request("HangupRequest", &r.chan, cause));
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
    cancel_rings(e, id, "NOANSWER");
    let gen = e.state.calls.get(&id).map_or(0, |c| c.gen);
    e.after(e.config.retry, Job::Ring { call: id, gen });
    offer_others(e, id);
}

/// Members freed by this call may take other waiting callers.
fn offer_others(e: &mut Engine, id: u64) {
    let others: Vec<u64> = e
        .state
        .queues
        .iter()
        .flat_map(|q| q.waiting.iter().copied())
        .filter(|c| *c != id)
        .collect();
    for c in others {
        offer(e, c);
    }
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

/// A ringing member answers: the others are cancelled, the caller leaves the queue and is
/// bridged with the member.
pub(crate) fn answer(e: &mut Engine, id: u64, gen: u64, interface: &str) {
    let Some(call) = e.state.calls.get_mut(&id) else {
        return;
    };
    if call.gen != gen {
        return;
    }
    let Some(pos) = call.ringing.iter().position(|r| r.interface == interface) else {
        return;
    };
    let mut won = call.ringing.remove(pos);
    let caller = call.caller.clone();
    won.chan.state = 6;
    e.emit(channel_event("Newstate", &won.chan));
    e.emit(dial(
        "DialEnd",
        Some(&caller),
        &won.chan,
        ("DialStatus", "ANSWER"),
    ));
    cancel_rings(e, id, "CANCEL");
    e.emit(channel_event("MusicOnHoldStop", &caller));
    let Some(call) = e.state.calls.get(&id).cloned() else {
        return;
    };
    super::inbound::leave_queue(e, &call);
    let now = e.now();
    let hold = (now - call.joined).max(0.0);
    let ring = (now - won.started).max(0.0);
    let extra = [
        ("HoldTime", (hold as u64).to_string()),
        ("RingTime", (ring as u64).to_string()),
    ];
    e.emit(agent_event(
        "AgentConnect",
        &caller,
        &won.chan,
        &call.queue,
        &won.interface,
        &won.member_name,
        &extra,
    ));
    let bridge = bridge_id(e);
    let mut caller_b = caller.clone();
    won.chan.bridge.clone_from(&bridge);
    caller_b.bridge.clone_from(&bridge);
    caller_b.conn_num.clone_from(&won.chan.exten);
    caller_b.conn_name.clone_from(&won.member_name);
    e.emit(events::bridge("BridgeCreate", &bridge, 0, None));
    e.emit(events::bridge("BridgeEnter", &bridge, 1, Some(&won.chan)));
    e.emit(events::bridge("BridgeEnter", &bridge, 2, Some(&caller_b)));
    if let Some(q) = e.state.queue_mut(&call.queue) {
        q.hold_total += hold;
        if hold <= 30.0 {
            q.within_sl += 1;
        }
        if let Some(m) = q.member_mut(interface) {
            m.in_call = true;
        }
    }
    if let Some(c) = e.state.calls.get_mut(&id) {
        c.caller = caller_b;
        c.phase = Phase::Talking {
            interface: won.interface.clone(),
            member_name: won.member_name.clone(),
            device: won.device.clone(),
            agent: Box::new(won.chan.clone()),
            connected: now,
        };
    }
    set_device(e, &won.device, INUSE);
    let fixed = e.state.calls.get(&id).and_then(|c| c.talk_time);
    let talk = match fixed {
        Some(t) => t,
        None => random_between(e, e.config.talk_time),
    };
    let by_agent = rand::Rng::gen_bool(&mut e.rng, e.config.agent_hangup_share.clamp(0.0, 1.0));
    e.after(talk, Job::TalkEnd { call: id, by_agent });
    offer_others(e, id);
}
