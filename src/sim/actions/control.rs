//! Call control actions, answered as Asterisk 22 answers them (recordings 09, 10, 12):
//! `Hangup`, `Redirect` (with `ExtraChannel`: a dual redirect), `BlindTransfer`, `Park`,
//! `ParkedCalls`, `Parkinglots`. Error messages are Asterisk's own (`main/manager.c`,
//! `res/parking/parking_manager.c`); `Park`'s answers end in a line feed inside the message, as
//! Asterisk writes them, so they go out as raw bytes.

use super::{error, list_complete, list_start, success, with_action_id};
use crate::ami::message::AmiMessage;
use crate::sim::engine::Engine;
use crate::sim::events::parked_call;
use crate::sim::session::Out;
use crate::sim::state::{Channel, Phase, PARKING_TIME, PARK_FIRST, PARK_LAST};
use crate::sim::traffic::{self, Leave, ParkRequest};

/// Runs the action when it is a call control action; false otherwise.
pub(super) fn handle(e: &mut Engine, id: u64, name: &str, msg: &AmiMessage) -> bool {
    match name {
        "hangup" => hangup(e, id, msg),
        "redirect" => redirect(e, id, msg),
        "blindtransfer" => blind_transfer(e, id, msg),
        "park" => park(e, id, msg),
        "parkedcalls" => parked_calls(e, id, msg),
        "parkinglots" => parking_lots(e, id, msg),
        _ => return false,
    }
    true
}

fn find_channel(e: &Engine, name: &str) -> Option<Channel> {
    e.state
        .channels()
        .into_iter()
        .find(|c| c.name == name)
        .cloned()
}

/// The talking call whose member leg is `uid`.
fn member_leg_call(e: &Engine, uid: &str) -> Option<u64> {
    e.state.calls.values().find_map(|c| match &c.phase {
        Phase::Talking { agent, .. } if agent.uniqueid == uid => Some(c.id),
        _ => None,
    })
}

/// The talking call whose caller is `uid`.
fn talking_caller_call(e: &Engine, uid: &str) -> Option<u64> {
    e.state.calls.values().find_map(|c| match &c.phase {
        Phase::Talking { .. } if c.caller.uniqueid == uid => Some(c.id),
        _ => None,
    })
}

/// The agent whose extension `exten` is (the simulated dialplan runs that agent's phone).
fn agent_extension(e: &Engine, context: &str, exten: &str) -> Option<String> {
    let special = ["parkedcalls", "release"].contains(&context);
    (!special && e.config.agents.iter().any(|a| a == exten)).then(|| exten.to_owned())
}

/// The agent a channel belongs to, from its name (`PJSIP/147-0000000a`,
/// `Local/147@agents-0000000a`).
fn agent_of_channel(e: &Engine, c: &Channel) -> Option<String> {
    let base = dial_string(c);
    e.config
        .agents
        .iter()
        .find(|a| {
            base == e.config.device_of(a)
                || base == format!("PJSIP/{a}")
                || base == e.config.interface_of(a).trim_end_matches("/n")
        })
        .cloned()
}

/// A channel's dial string: its name without the `-<sequence>` suffix.
fn dial_string(c: &Channel) -> &str {
    c.name.rsplit_once('-').map_or(c.name.as_str(), |(b, _)| b)
}

fn hangup(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let name = msg.get("Channel").map(str::trim).unwrap_or("");
    if name.is_empty() {
        e.reply(id, error(msg, "No channel specified"));
        return;
    }
    let Some(chan) = find_channel(e, name) else {
        e.reply(id, error(msg, "No such channel"));
        return;
    };
    e.reply(id, success(msg, "Channel Hungup"));
    let cause = msg
        .get("Cause")
        .and_then(|c| c.trim().parse::<u32>().ok())
        .unwrap_or(16);
    match member_leg_call(e, &chan.uniqueid) {
        Some(call) => traffic::hangup_member_leg(e, call, cause),
        None => {
            traffic::hangup_uniqueid(e, &chan.uniqueid);
        }
    }
}

fn redirect(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let field = |k: &str| msg.get(k).map(str::trim).unwrap_or("").to_owned();
    let (name, context, exten) = (field("Channel"), field("Context"), field("Exten"));
    if name.is_empty() {
        e.reply(id, error(msg, "Channel not specified"));
        return;
    }
    if exten.is_empty() {
        e.reply(id, error(msg, "Exten not specified"));
        return;
    }
    let Some(chan) = find_channel(e, &name) else {
        e.reply(id, error(msg, &format!("Channel does not exist: {name}")));
        return;
    };
    let extra_name = field("ExtraChannel");
    let extra = if extra_name.is_empty() {
        None
    } else {
        let Some(extra) = find_channel(e, &extra_name) else {
            let text = format!("ExtraChannel does not exist: {extra_name}");
            e.reply(id, error(msg, &text));
            return;
        };
        Some(extra)
    };
    let text = if extra.is_some() {
        "Dual Redirect successful"
    } else {
        "Redirect successful"
    };
    e.reply(id, success(msg, text));
    let target = agent_extension(e, &context, &exten);
    if let (Some(call), Some(agent)) = (talking_caller_call(e, &chan.uniqueid), &target) {
        let dual = extra
            .as_ref()
            .is_some_and(|x| member_leg_call(e, &x.uniqueid) == Some(call));
        let how = if dual {
            Leave::DualRedirect
        } else {
            Leave::Redirect
        };
        traffic::redirect_talking(e, call, how, (&context, &exten), Some(agent));
        return;
    }
    // A waiting caller sent to a queue's extension moves to that queue; anything else leaves
    // for another part of the dialplan and, for the call center, is gone.
    if !traffic::move_to_queue(e, &chan.uniqueid, &exten) {
        traffic::hangup_uniqueid(e, &chan.uniqueid);
    }
    if let Some(x) = extra {
        traffic::hangup_uniqueid(e, &x.uniqueid);
    }
}

/// `BlindTransfer` of a member's leg: the caller it talks to goes to `Context`/`Exten`.
/// Any other channel is not in a two-party bridge the simulator transfers: `Transfer invalid`.
fn blind_transfer(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let field = |k: &str| msg.get(k).map(str::trim).unwrap_or("").to_owned();
    let (name, context, exten) = (field("Channel"), field("Context"), field("Exten"));
    if name.is_empty() {
        e.reply(id, error(msg, "No channel specified"));
        return;
    }
    if exten.is_empty() {
        e.reply(id, error(msg, "No extension specified"));
        return;
    }
    let Some(chan) = find_channel(e, &name) else {
        e.reply(id, error(msg, "Channel specified does not exist"));
        return;
    };
    let Some(call) = member_leg_call(e, &chan.uniqueid) else {
        e.reply(id, error(msg, "Transfer invalid"));
        return;
    };
    e.reply(id, success(msg, "Transfer succeeded"));
    let target = agent_extension(e, &context, &exten);
    traffic::redirect_talking(
        e,
        call,
        Leave::Transfer,
        (&context, &exten),
        target.as_deref(),
    );
}

/// A response whose message ends in a line feed, written as Asterisk writes it.
fn raw_response(e: &mut Engine, id: u64, msg: &AmiMessage, status: &str, message: &str) {
    let mut out = format!("Response: {status}\r\n");
    if let Some(a) = msg.action_id().filter(|a| !a.contains(['\r', '\n', '\0'])) {
        out.push_str(&format!("ActionID: {a}\r\n"));
    }
    out.push_str(&format!("Message: {message}\n\r\n\r\n"));
    e.send(id, Out::Raw(out.into_bytes()));
}

fn park(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let field = |k: &str| msg.get(k).map(str::trim).unwrap_or("").to_owned();
    let name = field("Channel");
    if name.is_empty() {
        e.reply(id, error(msg, "Channel not specified"));
        return;
    }
    let timeout = match field("Timeout") {
        t if t.is_empty() => None,
        t => match t.parse::<i64>() {
            Ok(ms) if ms >= 0 => Some((ms > 0).then(|| (ms / 1000).max(1) as u64)),
            _ => {
                e.reply(id, error(msg, "Invalid Timeout value."));
                return;
            }
        },
    };
    let Some(chan) = find_channel(e, &name) else {
        e.reply(id, error(msg, &format!("Channel does not exist: {name}")));
        return;
    };
    let callback = find_channel(e, &field("TimeoutChannel"));
    let request = ParkRequest {
        timeout: timeout.map(|t| t.unwrap_or(PARKING_TIME)),
        callback: callback.as_ref().and_then(|c| agent_of_channel(e, c)),
        parker: callback
            .as_ref()
            .map_or(name.clone(), |c| dial_string(c).to_owned()),
    };
    let parked = talking_caller_call(e, &chan.uniqueid).and_then(|call| {
        raw_response(e, id, msg, "Success", "Park successful");
        traffic::park(e, call, request)
    });
    if parked.is_none() {
        raw_response(e, id, msg, "Error", "Park action failed");
    }
}

fn parked_calls(e: &mut Engine, id: u64, msg: &AmiMessage) {
    e.reply(id, list_start(msg, "Parked calls will follow"));
    let lot = msg.get("ParkingLot").map(str::trim).unwrap_or("");
    let items: Vec<AmiMessage> = if lot.is_empty() || lot == "default" {
        e.state
            .calls
            .values()
            .filter_map(|c| match &c.phase {
                Phase::Moved(m) => m.parked.as_ref().map(|p| (c, p)),
                _ => None,
            })
            .map(|(c, p)| {
                let times = traffic::parked_times(e, p);
                parked_call("ParkedCall", None, &c.caller, None, p, times)
            })
            .collect()
    } else {
        Vec::new()
    };
    let n = items.len();
    for m in items {
        e.reply(id, with_action_id(m, msg));
    }
    let done = list_complete(msg, "ParkedCallsComplete", n).with("Total", n.to_string());
    e.reply(id, done);
}

fn parking_lots(e: &mut Engine, id: u64, msg: &AmiMessage) {
    e.reply(id, list_start(msg, "Parking lots will follow"));
    let mut lot = AmiMessage::event("Parkinglot");
    if let Some(a) = msg.action_id() {
        lot.push("ActionID", a);
    }
    let lot = lot
        .with("Name", "default")
        .with("StartSpace", PARK_FIRST.to_string())
        .with("StopSpace", PARK_LAST.to_string())
        .with("Timeout", PARKING_TIME.to_string());
    e.reply(id, lot);
    e.reply(id, list_complete(msg, "ParkinglotsComplete", 1));
}
