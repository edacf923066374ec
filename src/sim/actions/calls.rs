//! Call actions: `Originate` (async and sync; callers into a queue through
//! `Local/<queue>@callers`, or an agent's phone dialling out, running an application such as
//! `ChanSpy`, or picking up a parked call), `CoreShowChannels`, `Status`.

use std::time::Duration;

use super::queue::is_true;
use super::values::{channel_var, parse_caller_id, seconds, variable, variables, RIG_SETTLE};
use super::{error, list_complete, list_start, success, with_action_id};
use crate::ami::message::AmiMessage;
use crate::sim::engine::Engine;
use crate::sim::events::{channel_event, dial, push_channel};
use crate::sim::state::{Channel, NOT_INUSE};
use crate::sim::traffic::{self, OriginateRequest};

/// Runs the action when it is a call action; false otherwise.
pub(super) fn handle(e: &mut Engine, id: u64, name: &str, msg: &AmiMessage) -> bool {
    match name {
        "originate" => originate(e, id, msg),
        "coreshowchannels" => core_show_channels(e, id, msg),
        "status" => status(e, id, msg),
        _ => return false,
    }
    true
}

/// Whether `Exten` exists in the simulated dialplan: the agents' extensions, the queues,
/// feature codes (`*97`), and outside numbers (at least five digits, `+` allowed first).
fn exten_exists(e: &Engine, s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or(s);
    let feature = s
        .strip_prefix('*')
        .is_some_and(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit() || c == '#'));
    feature
        || (digits.len() >= 5 && digits.chars().all(|c| c.is_ascii_digit()))
        || e.config.agents.iter().any(|a| a == s)
        || e.state.queue(s).is_some()
        || s.parse::<u32>()
            .is_ok_and(|space| e.state.parked_at(space).is_some())
}

/// The agent a channel string dials: `PJSIP/<agent>`, the agent's interface, or
/// `Local/<agent>@...`.
fn agent_for_channel(e: &Engine, channel: &str) -> Option<String> {
    e.config
        .agents
        .iter()
        .find(|a| {
            channel == format!("PJSIP/{a}")
                || channel == e.config.interface_of(a)
                || channel == e.config.interface_of(a).trim_end_matches("/n")
                || channel
                    .strip_prefix("Local/")
                    .and_then(|r| r.split('@').next())
                    == Some(a.as_str())
                    && channel.split('@').nth(1).is_some_and(|c| {
                        c.trim_end_matches("/n") == "agents"
                            || c.trim_end_matches("/n") == e.config.hint_context
                    })
        })
        .cloned()
}

/// An Originate that reaches no free agent: refused at once when synchronous; else queued,
/// then an `OriginateResponse` failure, Reason 5 when the agent is busy, 0 otherwise.
fn originate_unreachable(e: &mut Engine, id: u64, msg: &AmiMessage, busy: bool, sync: bool) {
    if sync {
        e.reply(id, error(msg, "Originate failed"));
        return;
    }
    e.reply(id, success(msg, "Originate successfully queued"));
    let channel = msg.get("Channel").map(str::trim).unwrap_or("");
    let target = match msg
        .get("Application")
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        Some(app) => [
            ("Application", app),
            ("Data", msg.get("Data").unwrap_or("")),
        ],
        None => [
            ("Context", msg.get("Context").unwrap_or("")),
            ("Exten", msg.get("Exten").map(str::trim).unwrap_or("")),
        ],
    };
    let (num, name) = msg.get("CallerID").map_or((None, None), parse_caller_id);
    let num = num.as_deref().unwrap_or("<unknown>");
    let name = name.as_deref().unwrap_or("<unknown>");
    let reason = if busy { 5 } else { 0 };
    let cid = (num, name);
    traffic::originate_fail(
        e,
        msg.action_id(),
        channel,
        target,
        reason,
        cid,
        "<unknown>",
    );
}

/// `Local/<queue>@callers[/n]`: the queue a rig-style caller enters.
fn queue_for_channel(e: &Engine, channel: &str) -> Option<String> {
    let rest = channel.strip_prefix("Local/")?;
    let (q, ctx) = rest.split_once('@')?;
    (ctx.trim_end_matches("/n") == "callers" && e.state.queue(q).is_some()).then(|| q.to_owned())
}

fn originate(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let Some(channel) = msg.get("Channel").map(str::trim).filter(|c| !c.is_empty()) else {
        e.reply(id, error(msg, "Channel not specified"));
        return;
    };
    let exten = msg.get("Exten").map(str::trim).unwrap_or("");
    let application = msg
        .get("Application")
        .map(str::trim)
        .filter(|a| !a.is_empty());
    if application.is_none() && !exten_exists(e, exten) {
        e.reply(id, error(msg, "Extension does not exist."));
        return;
    }
    if traffic::call_count(e) >= e.config.max_calls {
        e.reply(id, error(msg, "Originate failed"));
        return;
    }
    let channel_id = msg
        .get("ChannelId")
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if let Some(uid) = channel_id.filter(|u| e.state.channels().iter().any(|c| c.uniqueid == *u)) {
        // A Uniqueid already in use: queued, then failed at once (recording 13).
        let uid = uid.to_owned();
        e.reply(id, success(msg, "Originate successfully queued"));
        let target = [
            ("Context", msg.get("Context").unwrap_or("")),
            ("Exten", exten),
        ];
        let cid = ("<unknown>", "<unknown>");
        traffic::originate_fail(e, msg.action_id(), channel, target, 0, cid, &uid);
        return;
    }
    let sync = !msg.get("Async").is_some_and(is_true);
    let (cid_num, cid_name) = msg.get("CallerID").map_or((None, None), parse_caller_id);
    let data = msg.get("Data").unwrap_or("").to_owned();
    let timeout = msg
        .get("Timeout")
        .and_then(|t| t.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(30), Duration::from_millis);
    if let Some(queue) = queue_for_channel(e, channel) {
        e.reply(id, success(msg, "Originate successfully queued"));
        local_caller(e, msg, channel, &queue, (cid_num, cid_name), &data);
        return;
    }
    let agent = agent_for_channel(e, channel);
    // An agent's phone has one line: busy while it rings or talks (Reason 5); a channel that
    // leads nowhere fails at once (Reason 0).
    let busy = agent
        .as_ref()
        .is_some_and(|a| e.state.device(&e.config.device_of(a)) != NOT_INUSE);
    let Some(agent) = agent.filter(|_| !busy) else {
        originate_unreachable(e, id, msg, busy, sync);
        return;
    };
    if !sync {
        e.reply(id, success(msg, "Originate successfully queued"));
    }
    let request = OriginateRequest {
        session: id,
        action: msg.clone(),
        agent,
        requested: channel.to_owned(),
        context: msg.get("Context").unwrap_or("default").to_owned(),
        exten: exten.to_owned(),
        application: application.map(|a| (a.to_owned(), data)),
        cid_num,
        cid_name,
        timeout,
        sync,
        talk: variable(msg, "TALKTIME").and_then(seconds),
        channel_id: channel_id.map(str::to_owned),
    };
    traffic::originate(e, request);
}

fn local_caller(
    e: &mut Engine,
    msg: &AmiMessage,
    channel: &str,
    queue: &str,
    (num, name): (Option<String>, Option<String>),
    data: &str,
) {
    let num = num.unwrap_or_else(|| "<unknown>".to_owned());
    let name = name.unwrap_or_else(|| "<unknown>".to_owned());
    let (one, two) = local_halves(e, msg, channel, queue, (&num, &name), data);
    let outcome = crate::sim::events::OriginateOutcome {
        action_id: msg.action_id(),
        success: true,
        channel: &one.name,
        target: [
            ("Application", msg.get("Application").unwrap_or("Wait")),
            ("Data", data),
        ],
        reason: 4,
        uniqueid: &one.uniqueid,
        cid_num: &num,
        cid_name: &name,
    };
    e.emit(crate::sim::events::originate_response(&outcome));
    let timing = traffic::CallerTiming {
        patience: seconds(data).unwrap_or(e.config.patience.1),
        max_wait: variable(msg, "MAXWAIT").and_then(seconds),
        talk: variable(msg, "TALKTIME")
            .and_then(seconds)
            .map(|t| t + RIG_SETTLE),
    };
    tracing::info!(%queue, caller = %num, "caller originated into queue");
    traffic::join_local_caller(e, one, two, queue, timing);
}

/// The two halves of a rig-style caller's Local channel, created and answered with their
/// events: `;1` runs the Originate's application (`Wait`), `;2` will run `Queue()`.
fn local_halves(
    e: &mut Engine,
    msg: &AmiMessage,
    channel: &str,
    queue: &str,
    (num, name): (&str, &str),
    data: &str,
) -> (Channel, Channel) {
    let now = e.unix_secs();
    let (u1, u2) = (e.state.uniqueid(now), e.state.uniqueid(now));
    let suffix = e.state.channel_suffix();
    let base = channel.trim_end_matches("/n");
    let created = e.now();
    let mk = |half: &str, uid: &str, state: u8| Channel {
        name: format!("{base}-{suffix};{half}"),
        uniqueid: uid.to_owned(),
        linkedid: u1.clone(),
        state,
        cid_num: num.to_owned(),
        cid_name: name.to_owned(),
        conn_num: num.to_owned(),
        conn_name: name.to_owned(),
        context: "callers".to_owned(),
        exten: queue.to_owned(),
        priority: 1,
        app: if half == "1" { "Wait" } else { "Queue" }.to_owned(),
        app_data: if half == "1" { data } else { queue }.to_owned(),
        created,
        bridge: String::new(),
        vars: variables(msg),
    };
    let mut one = mk("1", &u1, 0);
    let mut two = mk("2", &u2, 4);
    e.emit(channel_event("Newchannel", &one));
    e.emit(channel_event("Newchannel", &two));
    let dial_string = base.trim_start_matches("Local/").to_owned();
    e.emit(dial("DialBegin", None, &one, ("DialString", &dial_string)));
    two.state = 6;
    e.emit(channel_event("Newstate", &two));
    one.state = 6;
    e.emit(channel_event("Newstate", &one));
    e.emit(dial("DialEnd", None, &one, ("DialStatus", "ANSWER")));
    (one, two)
}

fn duration(secs: f64) -> String {
    let s = secs.max(0.0) as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

fn core_show_channels(e: &mut Engine, id: u64, msg: &AmiMessage) {
    e.reply(id, list_start(msg, "Channels will follow"));
    let now = e.now();
    let items: Vec<AmiMessage> = e
        .state
        .channels()
        .into_iter()
        .map(|c| {
            let mut m = AmiMessage::event("CoreShowChannel");
            if let Some(a) = msg.action_id() {
                m.push("ActionID", a);
            }
            push_channel(&mut m, "", c);
            m.with("Application", &c.app)
                .with("ApplicationData", &c.app_data)
                .with("Duration", duration(now - c.created))
                .with("BridgeId", &c.bridge)
        })
        .collect();
    let n = items.len();
    for m in items {
        e.reply(id, m);
    }
    e.reply(id, list_complete(msg, "CoreShowChannelsComplete", n));
}

fn status(e: &mut Engine, id: u64, msg: &AmiMessage) {
    let wanted = msg.get("Channel").map(str::trim).filter(|c| !c.is_empty());
    let now = e.now();
    let chans: Vec<Channel> = e
        .state
        .channels()
        .into_iter()
        .filter(|c| wanted.is_none_or(|w| w == c.name))
        .cloned()
        .collect();
    if wanted.is_some() && chans.is_empty() {
        e.reply(id, error(msg, "No such channel"));
        return;
    }
    e.reply(id, list_start(msg, "Channel status will follow"));
    let n = chans.len();
    for c in &chans {
        let mut m = AmiMessage::event("Status").with("Privilege", "Call");
        push_channel(&mut m, "", c);
        let tech = c.name.split('/').next().unwrap_or("");
        let m = m
            .with("Type", tech)
            .with("DNID", "")
            .with("EffectiveConnectedLineNum", &c.conn_num)
            .with("EffectiveConnectedLineName", &c.conn_name)
            .with("TimeToHangup", "0")
            .with("BridgeID", &c.bridge)
            .with("Application", &c.app)
            .with("Data", &c.app_data)
            .with("Nativeformats", "(ulaw)")
            .with("Readformat", "ulaw")
            .with("Readtrans", "")
            .with("Writeformat", "ulaw")
            .with("Writetrans", "")
            .with("Callgroup", "0")
            .with("Pickupgroup", "0")
            .with("Seconds", ((now - c.created).max(0.0) as u64).to_string());
        let mut m = m;
        for name in msg.get("Variables").unwrap_or("").split(',').map(str::trim) {
            if !name.is_empty() {
                m.push("Variable", &format!("{name}={}", channel_var(c, name)));
            }
        }
        e.reply(id, with_action_id(m, msg));
    }
    let done = list_complete(msg, "StatusComplete", n).with("Items", n.to_string());
    e.reply(id, done);
}
