//! Answered queue calls whose member leg goes away while the caller lives on, as the recordings
//! show them (09, 10): a `Redirect` of the caller (alone, or with the member's leg: a dual
//! redirect), a `BlindTransfer` of the member's leg, a `Park`. The caller then runs another
//! agent's phone (the simulated dialplan of that extension), or waits in a parking space, until
//! it or that phone hangs up; app_queue sends the `AgentComplete` it still owes only then.

use super::inbound::{hang_up_caller, record_completion};
use super::secs;
use crate::sim::devices::set_device;
use crate::sim::engine::{Engine, Job};
use crate::sim::events::{
    self, agent_event, channel_event, hangup, hangup_request, parking_bridge,
};
use crate::sim::state::{
    Call, Channel, Completion, Moved, Phase, Phone, INUSE, NOT_INUSE, RINGING,
};

/// How the member's leg leaves the call.
pub(crate) enum Leave {
    /// `Redirect` of the caller: the member's leg hangs up, `AgentComplete` waits.
    Redirect,
    /// `Redirect` with `ExtraChannel` = the member's leg: `AgentComplete` (`agent`) at once.
    DualRedirect,
    /// `BlindTransfer` of the member's leg: `AgentComplete` (`transfer`) at once.
    Transfer,
}

/// The talking part of a call, taken apart.
pub(super) struct Talk {
    pub call: Call,
    pub completion: Completion,
    pub device: String,
}

/// The call `id` when it is talking to a member.
pub(super) fn talking(e: &Engine, id: u64) -> Option<Talk> {
    let call = e.state.calls.get(&id)?.clone();
    let Phase::Talking {
        interface,
        member_name,
        device,
        agent,
        connected,
    } = &call.phase
    else {
        return None;
    };
    let completion = Completion {
        interface: interface.clone(),
        member_name: member_name.clone(),
        dest: (**agent).clone(),
        connected: *connected,
    };
    let device = device.clone();
    Some(Talk {
        call,
        completion,
        device,
    })
}

/// `AgentComplete` for a call whose talk ends now (without the member's `Dest*` fields when
/// its leg is long gone, as recorded); counts it in the queue.
pub(super) fn complete(e: &mut Engine, call: &Call, c: &Completion, reason: &str) {
    let talk = (e.now() - c.connected).max(0.0);
    let hold = (c.connected - call.joined).max(0.0);
    let extra = [
        ("HoldTime", secs(hold)),
        ("TalkTime", secs(talk)),
        ("Reason", reason.to_owned()),
    ];
    let gone = !matches!(call.phase, Phase::Talking { .. });
    let msg = if gone {
        let mut m = events::event("AgentComplete", events::AGENT);
        events::push_channel(&mut m, "", &call.caller);
        m.push("Queue", &call.queue);
        m.push("Interface", &c.interface);
        m.push("MemberName", &c.member_name);
        for (k, v) in &extra {
            m.push(k, v);
        }
        m
    } else {
        agent_event(
            "AgentComplete",
            &call.caller,
            &c.dest,
            &call.queue,
            &c.interface,
            &c.member_name,
            &extra,
        )
    };
    e.emit(msg);
    record_completion(e, &call.queue, &c.interface, talk);
    tracing::info!(queue = %call.queue, caller = %call.caller.cid_num, reason, "call completed");
}

/// The member is no longer in a call of this queue (its leg is gone).
pub(super) fn member_leaves(e: &mut Engine, t: &Talk) {
    if let Some(m) = e
        .state
        .queue_mut(&t.call.queue)
        .and_then(|q| q.member_mut(&t.completion.interface))
    {
        m.in_call = false;
    }
    set_device(e, &t.device, NOT_INUSE);
}

/// The caller of talking call `id` leaves its member for `context`/`exten` (an agent's
/// extension when `target` names the agent).
pub(crate) fn redirect(
    e: &mut Engine,
    id: u64,
    how: Leave,
    to: (&str, &str),
    target: Option<&str>,
) {
    let Some(t) = talking(e, id) else {
        return;
    };
    let (agent, caller, bridge) = (
        &t.completion.dest,
        &t.call.caller,
        &t.completion.dest.bridge,
    );
    let pending = match how {
        Leave::Redirect => {
            e.emit(events::bridge("BridgeLeave", bridge, 1, Some(caller)));
            e.emit(events::bridge("BridgeLeave", bridge, 0, Some(agent)));
            e.emit(hangup(agent, 16));
            e.emit(events::bridge("BridgeDestroy", bridge, 0, None));
            Some(t.completion.clone())
        }
        Leave::DualRedirect => {
            e.emit(events::bridge("BridgeLeave", bridge, 1, Some(caller)));
            e.emit(events::bridge("BridgeLeave", bridge, 0, Some(agent)));
            e.emit(events::bridge("BridgeDestroy", bridge, 0, None));
            complete(e, &t.call, &t.completion, "agent");
            e.emit(hangup(agent, 16));
            None
        }
        Leave::Transfer => {
            e.emit(channel_event("Unhold", agent));
            e.emit(events::blind_transfer(agent, caller, bridge, to));
            complete(e, &t.call, &t.completion, "transfer");
            e.emit(events::bridge("BridgeLeave", bridge, 1, Some(agent)));
            e.emit(hangup(agent, 16));
            e.emit(events::bridge("BridgeLeave", bridge, 0, Some(caller)));
            e.emit(events::bridge("BridgeDestroy", bridge, 0, None));
            None
        }
    };
    member_leaves(e, &t);
    let phone = target.map(|a| ring_phone(e, id, a));
    if let Some(c) = e.state.calls.get_mut(&id) {
        c.caller.bridge.clear();
        c.caller.context = to.0.to_owned();
        c.caller.exten = to.1.to_owned();
        c.caller.priority = 1;
        c.phase = Phase::Moved(Box::new(Moved {
            complete: pending,
            phone,
            parked: None,
        }));
    }
    tracing::info!(caller = %t.call.caller.cid_num, context = to.0, exten = to.1, "caller moved");
}

/// The caller runs agent `agent`'s phone: it rings, and answers after the agent's delay.
pub(super) fn ring_phone(e: &mut Engine, id: u64, agent: &str) -> Phone {
    let device = e.config.device_of(agent);
    if e.state.device(&device) == NOT_INUSE {
        set_device(e, &device, RINGING);
        if let Some(d) = e.shared.answer_delay(agent) {
            e.after(d, Job::PhoneAnswer { call: id });
        }
    }
    Phone { device, leg: None }
}

/// The phone a moved caller runs answers.
pub(crate) fn phone_answered(e: &mut Engine, id: u64) {
    let device = match e.state.calls.get(&id).map(|c| &c.phase) {
        Some(Phase::Moved(m)) => m.phone.as_ref().map(|p| p.device.clone()),
        _ => None,
    };
    if let Some(device) = device.filter(|d| e.state.device(d) == RINGING) {
        set_device(e, &device, INUSE);
        // The phone talks as long as the caller's talk time says (the rig's inherited
        // `TALKTIME`), then hangs up.
        let talk = e.state.calls.get(&id).and_then(|c| c.talk_time);
        let talk = match talk {
            Some(t) => t,
            None => super::random_between(e, e.config.talk_time),
        };
        e.after(
            talk,
            Job::TalkEnd {
                call: id,
                by_agent: true,
            },
        );
    }
}

/// A moved call ends (its caller or the phone it talks to hangs up): a parked caller gives
/// up, a bridged phone's leg leaves, and the `AgentComplete` still owed is sent.
pub(crate) fn end(e: &mut Engine, id: u64) {
    let Some(call) = e.state.calls.remove(&id) else {
        return;
    };
    let Phase::Moved(m) = &call.phase else {
        e.state.calls.insert(id, call);
        return;
    };
    if call.partner.is_some() {
        // A rig-style caller: its other half hung up first.
        e.emit(hangup_request("HangupRequest", &call.caller, 16));
    }
    if let Some(p) = &m.parked {
        let (left, parked_for) = super::park::times(e, p);
        e.emit(parking_bridge(
            "BridgeLeave",
            &p.bridge,
            0,
            Some(&call.caller),
        ));
        hang_up_caller(e, &call);
        let msg = events::parked_call(
            "ParkedCallGiveUp",
            Some(events::CALL),
            &call.caller,
            None,
            p,
            (left, parked_for),
        );
        e.emit(msg);
    } else if let Some(leg) = m.phone.as_ref().and_then(|p| p.leg.as_ref()) {
        e.emit(events::bridge("BridgeLeave", &leg.bridge, 1, Some(leg)));
        e.emit(hangup(leg, 16));
        e.emit(events::bridge(
            "BridgeLeave",
            &leg.bridge,
            0,
            Some(&call.caller),
        ));
        e.emit(events::bridge("BridgeDestroy", &leg.bridge, 0, None));
    }
    if let Some(c) = &m.complete {
        complete(e, &call, c, "caller");
    }
    if m.parked.is_none() {
        hang_up_caller(e, &call);
    }
    if let Some(p) = &m.phone {
        set_device(e, &p.device, NOT_INUSE);
    }
}

/// Whether channel `uid` belongs to a moved call (its caller or the leg bridged to it).
pub(crate) fn find(e: &Engine, uid: &str) -> Option<u64> {
    e.state.calls.values().find_map(|c| match &c.phase {
        Phase::Moved(m)
            if c.caller.uniqueid == uid
                || m.phone
                    .as_ref()
                    .and_then(|p| p.leg.as_ref())
                    .is_some_and(|l: &Channel| l.uniqueid == uid) =>
        {
            Some(c.id)
        }
        _ => None,
    })
}
