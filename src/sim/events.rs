//! Builders of the events Asterisk 22 emits, with the recorded field names and order. Pure:
//! each returns an [`AmiMessage`]; the engine decides who receives it (by `Privilege` class).

use super::state::{extension_status, member_status, state_desc, Channel, Member, Parked};
use crate::ami::message::AmiMessage;

/// Privilege of call events.
pub(crate) const CALL: &str = "call,all";
/// Privilege of queue and agent events.
pub(crate) const AGENT: &str = "agent,all";

/// `Event: <name>` with its `Privilege`.
pub(crate) fn event(name: &str, privilege: &str) -> AmiMessage {
    AmiMessage::event(name).with("Privilege", privilege)
}

/// Appends a channel snapshot, keys prefixed with `prefix` (`""` or `"Dest"`).
pub(crate) fn push_channel(m: &mut AmiMessage, prefix: &str, c: &Channel) {
    let k = |key: &str| format!("{prefix}{key}");
    m.push(&k("Channel"), &c.name);
    m.push(&k("ChannelState"), &c.state.to_string());
    m.push(&k("ChannelStateDesc"), state_desc(c.state));
    m.push(&k("CallerIDNum"), &c.cid_num);
    m.push(&k("CallerIDName"), &c.cid_name);
    m.push(&k("ConnectedLineNum"), &c.conn_num);
    m.push(&k("ConnectedLineName"), &c.conn_name);
    m.push(&k("Language"), "en");
    m.push(&k("AccountCode"), "");
    m.push(&k("Context"), &c.context);
    m.push(&k("Exten"), &c.exten);
    m.push(&k("Priority"), &c.priority.to_string());
    m.push(&k("Uniqueid"), &c.uniqueid);
    m.push(&k("Linkedid"), &c.linkedid);
}

/// A call event about one channel (`Newchannel`, `Newstate`, `MusicOnHoldStop`, ...).
pub(crate) fn channel_event(name: &str, c: &Channel) -> AmiMessage {
    let mut m = event(name, CALL);
    push_channel(&mut m, "", c);
    m
}

/// `Hangup` with its cause.
pub(crate) fn hangup(c: &Channel, cause: u32) -> AmiMessage {
    let text = match cause {
        16 => "Normal Clearing",
        17 => "User busy",
        19 => "User alerting, no answer",
        26 => "Answered elsewhere",
        _ => "Unknown",
    };
    channel_event("Hangup", c)
        .with("Cause", cause.to_string())
        .with("Cause-txt", text)
}

/// `HangupRequest` / `SoftHangupRequest`.
pub(crate) fn hangup_request(name: &str, c: &Channel, cause: u32) -> AmiMessage {
    channel_event(name, c).with("Cause", cause.to_string())
}

/// `DialBegin`/`DialState`/`DialEnd`: the calling channel (absent for an Originate), the
/// called one, then `extra` (`DialString` or `DialStatus`).
pub(crate) fn dial(
    name: &str,
    caller: Option<&Channel>,
    dest: &Channel,
    extra: (&str, &str),
) -> AmiMessage {
    let mut m = event(name, CALL);
    if let Some(c) = caller {
        push_channel(&mut m, "", c);
    }
    push_channel(&mut m, "Dest", dest);
    m.push(extra.0, extra.1);
    m
}

/// `QueueCallerJoin` / `QueueCallerLeave`.
pub(crate) fn caller_join_leave(
    name: &str,
    c: &Channel,
    queue: &str,
    pos: usize,
    count: usize,
) -> AmiMessage {
    let mut m = event(name, AGENT);
    push_channel(&mut m, "", c);
    m.with("Queue", queue)
        .with("Position", pos.to_string())
        .with("Count", count.to_string())
}

/// `QueueCallerAbandon`.
pub(crate) fn caller_abandon(
    c: &Channel,
    queue: &str,
    pos: usize,
    orig: usize,
    hold: u64,
) -> AmiMessage {
    let mut m = event("QueueCallerAbandon", AGENT);
    push_channel(&mut m, "", c);
    m.with("Queue", queue)
        .with("Position", pos.to_string())
        .with("OriginalPosition", orig.to_string())
        .with("HoldTime", hold.to_string())
}

/// `AgentCalled`, `AgentConnect`, `AgentComplete`, `AgentRingNoAnswer`: caller, member
/// channel, queue and member, then `extra` fields.
pub(crate) fn agent_event(
    name: &str,
    caller: &Channel,
    dest: &Channel,
    queue: &str,
    interface: &str,
    member_name: &str,
    extra: &[(&str, String)],
) -> AmiMessage {
    let mut m = event(name, AGENT);
    push_channel(&mut m, "", caller);
    push_channel(&mut m, "Dest", dest);
    m.push("Queue", queue);
    m.push("Interface", interface);
    m.push("MemberName", member_name);
    for (k, v) in extra {
        m.push(k, v);
    }
    m
}

/// A queue member event (`QueueMemberStatus`, `QueueMemberAdded`, `QueueMemberPause`, ...).
pub(crate) fn member_event(name: &str, queue: &str, m: &Member, device_state: &str) -> AmiMessage {
    event(name, AGENT)
        .with("Queue", queue)
        .with("MemberName", &m.name)
        .with("Interface", &m.interface)
        .with("StateInterface", &m.state_interface)
        .with("Membership", if m.dynamic { "dynamic" } else { "static" })
        .with("Penalty", m.penalty.to_string())
        .with("CallsTaken", m.calls_taken.to_string())
        .with("LastCall", m.last_call.to_string())
        .with("LastPause", m.last_pause.to_string())
        .with("LoginTime", m.login_time.to_string())
        .with("InCall", u8::from(m.in_call).to_string())
        .with("Status", member_status(device_state).to_string())
        .with("Paused", u8::from(m.paused).to_string())
        .with("PausedReason", &m.reason)
        .with("Ringinuse", "0")
        .with("Wrapuptime", "0")
}

/// `DeviceStateChange`.
pub(crate) fn device_state_change(device: &str, state: &str) -> AmiMessage {
    event("DeviceStateChange", CALL)
        .with("Device", device)
        .with("State", state)
}

/// `ExtensionStatus` fields after the first (shared by the event, the list item and the
/// `ExtensionState` response).
pub(crate) fn push_extension(
    m: &mut AmiMessage,
    exten: &str,
    context: &str,
    hint: &str,
    state: Option<&str>,
) {
    let (status, text) = state.map_or((-1, "Unknown"), extension_status);
    m.push("Exten", exten);
    m.push("Context", context);
    m.push("Hint", hint);
    m.push("Status", &status.to_string());
    m.push("StatusText", text);
}

/// `ExtensionStatus` event.
pub(crate) fn extension_status_event(
    exten: &str,
    context: &str,
    hint: &str,
    state: &str,
) -> AmiMessage {
    let mut m = event("ExtensionStatus", CALL);
    push_extension(&mut m, exten, context, hint, Some(state));
    m
}

/// Bridge events; `chan` is the channel entering or leaving, if any.
pub(crate) fn bridge(name: &str, id: &str, channels: usize, chan: Option<&Channel>) -> AmiMessage {
    let mut m = event(name, CALL)
        .with("BridgeUniqueid", id)
        .with("BridgeType", "basic")
        .with("BridgeTechnology", "simple_bridge")
        .with("BridgeCreator", "<unknown>")
        .with("BridgeName", "<unknown>")
        .with("BridgeNumChannels", channels.to_string())
        .with("BridgeVideoSourceMode", "none");
    if let Some(c) = chan {
        push_channel(&mut m, "", c);
    }
    m
}

/// A parking bridge (`BridgeType: parking`, created by the lot).
pub(crate) fn parking_bridge(
    name: &str,
    id: &str,
    channels: usize,
    chan: Option<&Channel>,
) -> AmiMessage {
    let mut m = event(name, CALL)
        .with("BridgeUniqueid", id)
        .with("BridgeType", "parking")
        .with("BridgeTechnology", "holding_bridge")
        .with("BridgeCreator", "Parking")
        .with("BridgeName", "default")
        .with("BridgeNumChannels", channels.to_string())
        .with("BridgeVideoSourceMode", "none");
    if let Some(c) = chan {
        push_channel(&mut m, "", c);
    }
    m
}

/// The fields of res_parking's events after the parkee (and retriever): parker, lot, space,
/// seconds left and seconds parked.
fn push_parking(m: &mut AmiMessage, p: &Parked, left: u64, parked_for: u64) {
    m.push("ParkerDialString", &p.parker);
    m.push("Parkinglot", "default");
    m.push("ParkingSpace", &p.space.to_string());
    m.push("ParkingTimeout", &left.to_string());
    m.push("ParkingDuration", &parked_for.to_string());
}

/// `ParkedCall`, `ParkedCallTimeOut`, `ParkedCallGiveUp` (`retriever` None) and
/// `UnParkedCall`; `None` as `privilege` gives the `ParkedCalls` list item shape.
pub(crate) fn parked_call(
    name: &str,
    privilege: Option<&str>,
    parkee: &Channel,
    retriever: Option<&Channel>,
    p: &Parked,
    (left, parked_for): (u64, u64),
) -> AmiMessage {
    let mut m = match privilege {
        Some(privilege) => event(name, privilege),
        None => AmiMessage::event(name),
    };
    push_channel(&mut m, "Parkee", parkee);
    if let Some(r) = retriever {
        push_channel(&mut m, "Retriever", r);
    }
    push_parking(&mut m, p, left, parked_for);
    m
}

/// `ChanSpyStart` / `ChanSpyStop`: spyer, then spyee.
pub(crate) fn chan_spy(name: &str, spyer: &Channel, spyee: &Channel) -> AmiMessage {
    let mut m = event(name, CALL);
    push_channel(&mut m, "Spyer", spyer);
    push_channel(&mut m, "Spyee", spyee);
    m
}

/// `BlindTransfer` of a two-party basic bridge by `transferer` to `context`/`exten`.
pub(crate) fn blind_transfer(
    transferer: &Channel,
    transferee: &Channel,
    bridge_id: &str,
    (context, exten): (&str, &str),
) -> AmiMessage {
    let mut m = event("BlindTransfer", CALL).with("Result", "Success");
    push_channel(&mut m, "Transferer", transferer);
    push_channel(&mut m, "Transferee", transferee);
    let bridge = bridge("", bridge_id, 2, None);
    for (k, v) in bridge.fields().skip(2) {
        m.push(k, v);
    }
    m.with("IsExternal", "Yes")
        .with("Context", context)
        .with("Extension", exten)
}

/// The outcome of an Originate.
pub(crate) struct OriginateOutcome<'a> {
    pub action_id: Option<&'a str>,
    pub success: bool,
    pub channel: &'a str,
    /// `("Context", ..), ("Exten", ..)` or `("Application", ..), ("Data", ..)`.
    pub target: [(&'a str, &'a str); 2],
    pub reason: u8,
    pub uniqueid: &'a str,
    pub cid_num: &'a str,
    pub cid_name: &'a str,
}

/// `OriginateResponse`.
pub(crate) fn originate_response(o: &OriginateOutcome<'_>) -> AmiMessage {
    let mut m = event("OriginateResponse", CALL);
    if let Some(id) = o.action_id {
        m.push("ActionID", id);
    }
    m.push("Response", if o.success { "Success" } else { "Failure" });
    m.push("Channel", o.channel);
    for (k, v) in o.target {
        m.push(k, v);
    }
    m.with("Reason", o.reason.to_string())
        .with("Uniqueid", o.uniqueid)
        .with("CallerIDNum", o.cid_num)
        .with("CallerIDName", o.cid_name)
}
