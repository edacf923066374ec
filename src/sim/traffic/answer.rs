//! A ringing member answers: the other rings are cancelled, the caller leaves the queue and
//! is bridged with the member, and the end of the talk is scheduled.

use super::ring::{cancel_rings, RingEnd};
use super::{bridge_id, random_between, secs};
use crate::sim::devices::set_device;
use crate::sim::engine::{Engine, Job};
use crate::sim::events::{self, agent_event, channel_event, dial};
use crate::sim::state::{Call, Channel, Phase, Ring, INUSE};

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
    cancel_rings(e, id, RingEnd::AnsweredElsewhere);
    e.emit(channel_event("MusicOnHoldStop", &caller));
    let Some(call) = e.state.calls.get(&id).cloned() else {
        return;
    };
    super::inbound::leave_queue(e, &call);
    let now = e.now();
    let hold = (now - call.joined).max(0.0);
    let ring = (now - won.started).max(0.0);
    let extra = [("HoldTime", secs(hold)), ("RingTime", secs(ring))];
    e.emit(agent_event(
        "AgentConnect",
        &caller,
        &won.chan,
        &call.queue,
        &won.interface,
        &won.member_name,
        &extra,
    ));
    bridge(e, &call, won, hold);
    schedule_talk_end(e, id);
}

/// Bridges the caller with the member that answered; the call is now talking.
fn bridge(e: &mut Engine, call: &Call, mut won: Ring, hold: f64) {
    let bridge = bridge_id(e);
    let mut caller: Channel = call.caller.clone();
    won.chan.bridge.clone_from(&bridge);
    caller.bridge.clone_from(&bridge);
    caller.conn_num.clone_from(&won.chan.exten);
    caller.conn_name.clone_from(&won.member_name);
    e.emit(events::bridge("BridgeCreate", &bridge, 0, None));
    e.emit(events::bridge("BridgeEnter", &bridge, 1, Some(&won.chan)));
    e.emit(events::bridge("BridgeEnter", &bridge, 2, Some(&caller)));
    if let Some(q) = e.state.queue_mut(&call.queue) {
        q.hold_total += hold;
        if hold <= 30.0 {
            q.within_sl += 1;
        }
        if let Some(m) = q.member_mut(&won.interface) {
            m.in_call = true;
        }
    }
    let connected = e.now();
    let device = won.device.clone();
    if let Some(c) = e.state.calls.get_mut(&call.id) {
        c.caller = caller;
        c.phase = Phase::Talking {
            interface: won.interface,
            member_name: won.member_name,
            device: won.device,
            agent: Box::new(won.chan),
            connected,
        };
    }
    set_device(e, &device, INUSE);
}

/// A caller that fixed the talk time (the rig's TALKTIME) is hung up by the agent's phone
/// then; otherwise the talk time is random and so is who hangs up.
fn schedule_talk_end(e: &mut Engine, id: u64) {
    let fixed = e.state.calls.get(&id).and_then(|c| c.talk_time);
    let (talk, by_agent) = match fixed {
        Some(t) => (t, true),
        None => {
            let share = e.config.agent_hangup_share.clamp(0.0, 1.0);
            let talk = random_between(e, e.config.talk_time);
            (talk, rand::Rng::gen_bool(&mut e.rng, share))
        }
    };
    e.after(talk, Job::TalkEnd { call: id, by_agent });
}
