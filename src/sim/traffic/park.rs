//! The parking lot (`default`, spaces 701-720, as in recording 10): `Park` of a talking
//! caller, the time running out (`ParkedCallTimeOut`, then the parker's phone rings), a phone
//! picking the call up by originating into `parkedcalls,<space>` (`UnParkedCall`).

use std::time::Duration;

use super::moved::{member_leaves, ring_phone, talking};
use super::{bridge_id, random_between};
use crate::sim::devices::set_device;
use crate::sim::engine::{Engine, Job};
use crate::sim::events::{self, hangup, parked_call, parking_bridge, CALL};
use crate::sim::state::{Moved, Parked, Phase, Phone, INUSE, PARKING_TIME};

/// What a `Park` asks for.
pub(crate) struct ParkRequest {
    /// Seconds before the call comes back (the lot's `parkingtime` without one).
    pub timeout: Option<u64>,
    /// The agent whose leg is the `TimeoutChannel`: its phone rings when the time runs out.
    pub callback: Option<String>,
    /// `ParkerDialString`: the `TimeoutChannel`'s dial string.
    pub parker: String,
}

/// Seconds left and seconds parked.
pub(crate) fn times(e: &Engine, p: &Parked) -> (u64, u64) {
    let parked_for = (e.now() - p.since).max(0.0) as u64;
    (p.timeout.saturating_sub(parked_for), parked_for)
}

/// Parks the caller of talking call `id`; the space, or None when the call is not talking or
/// the lot is full.
pub(crate) fn park(e: &mut Engine, id: u64, r: ParkRequest) -> Option<u32> {
    let t = talking(e, id)?;
    let space = e.state.free_parking_space()?;
    let parking = bridge_id(e);
    let p = Parked {
        space,
        parker: r.parker,
        callback: r.callback,
        timeout: r.timeout.unwrap_or(PARKING_TIME),
        since: e.now(),
        bridge: parking.clone(),
    };
    let (agent, caller) = (&t.completion.dest, &t.call.caller);
    let queue_bridge = &agent.bridge;
    e.emit(parking_bridge("BridgeCreate", &parking, 0, None));
    e.emit(parked_call(
        "ParkedCall",
        Some(CALL),
        caller,
        None,
        &p,
        (p.timeout, 0),
    ));
    e.emit(events::bridge("BridgeLeave", queue_bridge, 1, Some(caller)));
    e.emit(parking_bridge("BridgeEnter", &parking, 1, Some(caller)));
    e.emit(events::bridge("BridgeLeave", queue_bridge, 0, Some(agent)));
    e.emit(hangup(agent, 16));
    e.emit(events::bridge("BridgeDestroy", queue_bridge, 0, None));
    member_leaves(e, &t);
    e.after(
        Duration::from_secs(p.timeout),
        Job::ParkTimeout {
            call: id,
            space,
            since: p.since.to_bits(),
        },
    );
    if let Some(c) = e.state.calls.get_mut(&id) {
        c.caller.bridge = parking;
        c.phase = Phase::Moved(Box::new(Moved {
            complete: Some(t.completion.clone()),
            phone: None,
            parked: Some(p),
        }));
    }
    tracing::info!(caller = %t.call.caller.cid_num, space, "call parked");
    Some(space)
}

/// The parked call's time ran out: it leaves the lot and rings its parker's phone (or, with
/// nobody to call back, hangs up).
pub(crate) fn timed_out(e: &mut Engine, id: u64, space: u32, since: u64) {
    let parked = match e.state.calls.get(&id).map(|c| &c.phase) {
        Some(Phase::Moved(m)) => m.parked.clone(),
        _ => None,
    };
    let Some(p) = parked.filter(|p| p.space == space && p.since.to_bits() == since) else {
        return;
    };
    let Some(mut caller) = e.state.calls.get(&id).map(|c| c.caller.clone()) else {
        return;
    };
    caller.context = "park-dial".to_owned();
    caller.exten = p.parker.replace('/', "_");
    caller.priority = 1;
    let (_, parked_for) = times(e, &p);
    e.emit(parked_call(
        "ParkedCallTimeOut",
        Some(CALL),
        &caller,
        None,
        &p,
        (0, parked_for),
    ));
    e.emit(parking_bridge("BridgeLeave", &p.bridge, 0, Some(&caller)));
    caller.bridge.clear();
    let phone = p.callback.as_deref().map(|a| ring_phone(e, id, a));
    let Some(c) = e.state.calls.get_mut(&id) else {
        return;
    };
    c.caller = caller;
    let Phase::Moved(m) = &mut c.phase else {
        return;
    };
    m.parked = None;
    let nobody = phone.is_none();
    m.phone = phone;
    if nobody {
        super::moved::end(e, id);
    }
}

/// The call parked in `space`, when the Originate `orig` dials `parkedcalls,<space>`.
pub(crate) fn parked_for_pickup(e: &Engine, context: &str, exten: &str) -> Option<u64> {
    if context != "parkedcalls" {
        return None;
    }
    exten.parse::<u32>().ok().and_then(|s| e.state.parked_at(s))
}

/// The originated phone `orig` answered and picks up call `id` from its space.
pub(crate) fn pick_up(e: &mut Engine, orig: u64, id: u64) {
    let Some(o) = e.state.origs.remove(&orig) else {
        return;
    };
    e.sync_originates.remove(&orig);
    let parked = match e.state.calls.get(&id).map(|c| &c.phase) {
        Some(Phase::Moved(m)) => m.parked.clone(),
        _ => None,
    };
    let (Some(p), Some(mut caller)) = (parked, e.state.calls.get(&id).map(|c| c.caller.clone()))
    else {
        return;
    };
    let bridge = bridge_id(e);
    let mut leg = o.agent.clone();
    let (left, parked_for) = times(e, &p);
    e.emit(events::bridge("BridgeCreate", &bridge, 0, None));
    e.emit(parked_call(
        "UnParkedCall",
        Some(CALL),
        &caller,
        Some(&leg),
        &p,
        (left, parked_for),
    ));
    e.emit(parking_bridge("BridgeLeave", &p.bridge, 0, Some(&caller)));
    caller.bridge.clone_from(&bridge);
    leg.bridge.clone_from(&bridge);
    e.emit(events::bridge("BridgeEnter", &bridge, 1, Some(&caller)));
    e.emit(events::bridge("BridgeEnter", &bridge, 2, Some(&leg)));
    set_device(e, &o.device, INUSE);
    let talk = match o.talk {
        Some(t) => t,
        None => random_between(e, e.config.talk_time),
    };
    if let Some(c) = e.state.calls.get_mut(&id) {
        c.caller = caller;
        if let Phase::Moved(m) = &mut c.phase {
            m.parked = None;
            m.phone = Some(Phone {
                device: o.device.clone(),
                leg: Some(leg),
            });
        }
    }
    e.after(
        talk,
        Job::TalkEnd {
            call: id,
            by_agent: true,
        },
    );
    tracing::info!(space = p.space, phone = %o.device, "parked call picked up");
}
