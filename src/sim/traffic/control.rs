//! What happens to a call from outside: a channel hung up by Uniqueid (a party hangs up, or a
//! client's `Hangup`), a waiting caller redirected to another queue.

use super::inbound::{caller_hangs_up, leave_queue, talk_end};
use crate::sim::devices::refresh_queue;
use crate::sim::engine::Engine;
use crate::sim::events::{self, caller_join_leave, hangup};
use crate::sim::state::Phase;

/// A waiting caller is redirected to another queue: it leaves the first and joins the second
/// (ringing members are cancelled). False when the channel is not a waiting caller.
pub(crate) fn move_to_queue(e: &mut Engine, uid: &str, queue: &str) -> bool {
    let found = e
        .state
        .calls
        .values()
        .find(|c| c.caller.uniqueid == uid && matches!(c.phase, Phase::Waiting));
    let Some(id) = found.map(|c| c.id) else {
        return false;
    };
    if e.state.queue(queue).is_none() {
        return false;
    }
    super::ring::cancel_rings(e, id, super::ring::RingEnd::CallerGone);
    let Some(call) = e.state.calls.get(&id).cloned() else {
        return false;
    };
    leave_queue(e, &call);
    let joined = e.now();
    let Some(q) = e.state.queue_mut(queue) else {
        return false;
    };
    q.waiting.push(id);
    let count = q.waiting.len();
    if let Some(c) = e.state.calls.get_mut(&id) {
        c.queue = queue.to_owned();
        c.joined = joined;
        c.original_position = count;
        c.caller.exten = queue.to_owned();
        c.caller.app_data = queue.to_owned();
    }
    let caller = e
        .state
        .calls
        .get(&id)
        .map(|c| c.caller.clone())
        .unwrap_or_default();
    refresh_queue(e, queue);
    e.emit(caller_join_leave(
        "QueueCallerJoin",
        &caller,
        queue,
        count,
        count,
    ));
    tracing::info!(%queue, caller = %caller.cid_num, "caller redirected to another queue");
    super::ring::offer(e, id);
    true
}

/// A client's `Hangup` of a talking member's leg (recording 12): the bridge breaks up, both
/// sides hang up, and app_queue reports `Reason: caller` in an `AgentComplete` without the
/// caller's and the member's channel fields (both channels are gone by then).
pub(crate) fn hangup_member_leg(e: &mut Engine, id: u64, cause: u32) {
    let Some(t) = super::moved::talking(e, id) else {
        return;
    };
    let (agent, caller) = (&t.completion.dest, &t.call.caller);
    let bridge = &agent.bridge;
    e.emit(events::bridge("BridgeLeave", bridge, 1, Some(agent)));
    e.emit(events::bridge("BridgeLeave", bridge, 0, Some(caller)));
    e.emit(hangup(agent, cause));
    e.emit(events::bridge("BridgeDestroy", bridge, 0, None));
    e.emit(hangup(caller, cause));
    let c = &t.completion;
    let talk = (e.now() - c.connected).max(0.0);
    let hold = (c.connected - t.call.joined).max(0.0);
    let done = events::event("AgentComplete", events::AGENT)
        .with("Queue", &t.call.queue)
        .with("Interface", &c.interface)
        .with("MemberName", &c.member_name)
        .with("HoldTime", super::secs(hold))
        .with("TalkTime", super::secs(talk))
        .with("Reason", "caller");
    e.emit(done);
    super::inbound::record_completion(e, &t.call.queue, &c.interface, talk);
    if let Some(p) = &t.call.partner {
        e.emit(hangup(p, cause));
    }
    super::moved::member_leaves(e, &t);
    e.state.calls.remove(&id);
    if t.call.partner.is_none() {
        super::inbound::trunk_released(e);
    }
    tracing::info!(queue = %t.call.queue, caller = %caller.cid_num, "member leg hung up");
}

/// Hangs up the channel with this Uniqueid, as if that party hung up.
pub(crate) fn hangup_uniqueid(e: &mut Engine, uid: &str) -> bool {
    if let Some(id) = super::moved::find(e, uid) {
        super::moved::end(e, id);
        return true;
    }
    let found = e.state.calls.values().find_map(|c| {
        let caller =
            c.caller.uniqueid == uid || c.partner.as_ref().is_some_and(|p| p.uniqueid == uid);
        let agent = matches!(&c.phase, Phase::Talking { agent, .. } if agent.uniqueid == uid);
        let ringing = c
            .ringing
            .iter()
            .find(|r| r.chan.uniqueid == uid)
            .map(|r| r.interface.clone());
        (caller || agent || ringing.is_some()).then_some((
            c.id,
            caller,
            matches!(c.phase, Phase::Waiting),
            ringing,
        ))
    });
    if let Some((id, caller, waiting, ringing)) = found {
        match (caller, waiting, ringing) {
            (true, true, _) => caller_hangs_up(e, id),
            (true, false, _) => talk_end(e, id, false),
            (false, _, Some(iface)) => super::ring::reject(e, id, &iface),
            (false, _, None) => talk_end(e, id, true),
        }
        return true;
    }
    let orig = e
        .state
        .origs
        .values()
        .find(|o| o.agent.uniqueid == uid || o.remote.as_ref().is_some_and(|r| r.uniqueid == uid))
        .map(|o| o.id);
    match orig {
        Some(o) => {
            super::originate::end(e, o);
            true
        }
        None => false,
    }
}
