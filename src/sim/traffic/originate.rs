//! Originated calls: an agent's phone rings; when the agent answers, `OriginateResponse`
//! (Reason 4) and the outbound leg is dialled, answered after a second, bridged, and hung up
//! after a talk time. No answer within the timeout: `OriginateResponse` Failure, Reason 3.

use std::time::Duration;

use super::{bridge_id, random_between};
use crate::ami::message::AmiMessage;
use crate::sim::actions::{error, success};
use crate::sim::devices::set_device;
use crate::sim::engine::{Engine, Job};
use crate::sim::events::{self, channel_event, dial, hangup, hangup_request, OriginateOutcome};
use crate::sim::state::{Channel, Orig, INUSE, NOT_INUSE, RINGING};

/// A checked Originate towards an agent's phone.
pub(crate) struct OriginateRequest {
    pub session: u64,
    pub action: AmiMessage,
    pub agent: String,
    pub requested: String,
    pub context: String,
    pub exten: String,
    pub application: Option<(String, String)>,
    pub cid_num: Option<String>,
    pub cid_name: Option<String>,
    pub timeout: Duration,
    pub sync: bool,
    /// Talk time once connected (`TALKTIME` variable), else random.
    pub talk: Option<Duration>,
    /// `ChannelId`: the Uniqueid (and Linkedid) of the phone's channel.
    pub channel_id: Option<String>,
}

/// Starts ringing the agent's phone.
pub(crate) fn originate(e: &mut Engine, r: OriginateRequest) {
    let device = e.config.device_of(&r.agent);
    let interface = e.config.interface_of(&r.agent);
    let base = interface
        .strip_suffix("/n")
        .unwrap_or(&interface)
        .to_owned();
    let mut chan = agent_channel(e, &base, &r);
    e.emit(channel_event("Newchannel", &chan));
    if let Some(num) = &r.cid_num {
        chan.cid_num.clone_from(num);
        chan.cid_name = r.cid_name.clone().unwrap_or_else(|| "<unknown>".to_owned());
        e.emit(
            channel_event("NewCallerid", &chan)
                .with("CID-CallingPres", "0 (Presentation Allowed, Not Screened)"),
        );
    }
    e.emit(dial("DialBegin", None, &chan, ("DialString", &r.agent)));
    set_device(e, &device, RINGING);
    chan.state = 5;
    e.emit(channel_event("Newstate", &chan));
    e.emit(dial("DialState", None, &chan, ("DialStatus", "RINGING")));
    let id = e.state.next_id();
    let delay = e.shared.answer_delay(&r.agent);
    tracing::info!(agent = %r.agent, exten = %r.exten, "originate: agent phone rings");
    e.state.origs.insert(
        id,
        Orig {
            id,
            session: r.session,
            action_id: r.action.action_id().map(str::to_owned),
            requested: r.requested,
            device,
            agent: chan,
            context: r.context,
            exten: r.exten,
            application: r.application,
            remote: None,
            answered: false,
            talk: r.talk,
            spying: None,
        },
    );
    if r.sync {
        sync_actions(e).insert(id, r.action);
    }
    if let Some(d) = delay {
        e.after(d, Job::OrigAnswer { orig: id });
    }
    e.after(r.timeout, Job::OrigTimeout { orig: id });
}

/// The agent's channel an Originate creates (named after its interface, as when the queue
/// rings it).
fn agent_channel(e: &mut Engine, base: &str, r: &OriginateRequest) -> Channel {
    let now = e.unix_secs();
    let uid = match &r.channel_id {
        Some(id) => id.clone(),
        None => e.state.uniqueid(now),
    };
    let suffix = e.state.channel_suffix();
    Channel {
        name: format!("{base}-{suffix}"),
        uniqueid: uid.clone(),
        linkedid: uid,
        state: 0,
        cid_num: "<unknown>".to_owned(),
        cid_name: "<unknown>".to_owned(),
        conn_num: "<unknown>".to_owned(),
        conn_name: "<unknown>".to_owned(),
        context: r.context.clone(),
        exten: r.exten.clone(),
        priority: 1,
        app: "AppDial2".to_owned(),
        app_data: "(Outgoing Line)".to_owned(),
        created: e.now(),
        bridge: String::new(),
        vars: crate::sim::actions::variables(&r.action),
    }
}

fn sync_actions(e: &mut Engine) -> &mut std::collections::BTreeMap<u64, AmiMessage> {
    &mut e.sync_originates
}

fn outcome_target(o: &Orig) -> [(&str, &str); 2] {
    match &o.application {
        Some((app, data)) => [("Application", app.as_str()), ("Data", data.as_str())],
        None => [("Context", o.context.as_str()), ("Exten", o.exten.as_str())],
    }
}

/// The agent answered: success, then the outbound leg (or the application) runs.
pub(crate) fn answered(e: &mut Engine, id: u64) {
    let Some(o) = e.state.origs.get_mut(&id) else {
        return;
    };
    if o.answered {
        return;
    }
    o.answered = true;
    o.agent.state = 6;
    let o = o.clone();
    e.emit(channel_event("Newstate", &o.agent));
    e.emit(dial("DialEnd", None, &o.agent, ("DialStatus", "ANSWER")));
    let outcome = OriginateOutcome {
        action_id: o.action_id.as_deref(),
        success: true,
        channel: &o.agent.name,
        target: outcome_target(&o),
        reason: 4,
        uniqueid: &o.agent.uniqueid,
        cid_num: &o.agent.cid_num,
        cid_name: &o.agent.cid_name,
    };
    // A synchronous Originate answers in its response; only an async one gets the event.
    match e.sync_originates.remove(&id) {
        Some(action) => e.reply(o.session, success(&action, "Originate successfully queued")),
        None => e.emit(events::originate_response(&outcome)),
    }
    if o.application.is_some() {
        set_device(e, &o.device, INUSE);
        let talk = talk_time(e, id);
        e.after(talk, Job::OrigEnd { orig: id });
        if super::spy::is_spy(&o) {
            super::spy::schedule(e, id);
        }
        return;
    }
    if let Some(call) = super::park::parked_for_pickup(e, &o.context, &o.exten) {
        super::park::pick_up(e, id, call);
        return;
    }
    if o.context == "parkedcalls" {
        // The space was emptied while the phone rang: its dialplan has nothing to run.
        finish(e, id, false);
        return;
    }
    dial_out(e, id, &o);
}

/// The answered agent's dialplan dials the outside number: it rings (and answers a second
/// later), or is busy.
fn dial_out(e: &mut Engine, id: u64, o: &Orig) {
    let now = e.unix_secs();
    let uid = e.state.uniqueid(now);
    let suffix = e.state.channel_suffix();
    let mut remote = Channel {
        name: format!("PJSIP/trunk-{suffix}"),
        uniqueid: uid,
        linkedid: o.agent.linkedid.clone(),
        state: 0,
        cid_num: o.exten.clone(),
        cid_name: "<unknown>".to_owned(),
        conn_num: o.agent.cid_num.clone(),
        conn_name: o.agent.cid_name.clone(),
        context: "from-trunk".to_owned(),
        exten: o.exten.clone(),
        priority: 1,
        app: "AppDial".to_owned(),
        app_data: "(Outgoing Line)".to_owned(),
        created: e.now(),
        bridge: String::new(),
        vars: Vec::new(),
    };
    e.emit(channel_event("Newchannel", &remote));
    let dial_string = format!("trunk/{}", o.exten);
    e.emit(dial(
        "DialBegin",
        Some(&o.agent),
        &remote,
        ("DialString", &dial_string),
    ));
    if e.config.busy_numbers.contains(&o.exten) {
        e.emit(dial(
            "DialEnd",
            Some(&o.agent),
            &remote,
            ("DialStatus", "BUSY"),
        ));
        e.emit(hangup(&remote, 17));
        // Dial() returns BUSY and the agent's dialplan ends: its channel hangs up, unasked.
        finish(e, id, false);
        return;
    }
    remote.state = 5;
    e.emit(channel_event("Newstate", &remote));
    e.emit(dial(
        "DialState",
        Some(&o.agent),
        &remote,
        ("DialStatus", "RINGING"),
    ));
    // The recorded phone shows itself in use once the outside number rings (and never when
    // that number is busy).
    set_device(e, &o.device, INUSE);
    if let Some(o) = e.state.origs.get_mut(&id) {
        o.remote = Some(remote);
    }
    e.after(Duration::from_secs(1), Job::OrigRemoteAnswer { orig: id });
}

/// The outside party answers: both legs are bridged.
pub(crate) fn remote_answered(e: &mut Engine, id: u64) {
    let bridge = bridge_id(e);
    let Some(o) = e.state.origs.get_mut(&id) else {
        return;
    };
    let Some(remote) = o.remote.as_mut() else {
        return;
    };
    remote.state = 6;
    remote.bridge.clone_from(&bridge);
    o.agent.bridge.clone_from(&bridge);
    let (agent, remote) = (o.agent.clone(), remote.clone());
    e.emit(channel_event("Newstate", &remote));
    e.emit(dial(
        "DialEnd",
        Some(&agent),
        &remote,
        ("DialStatus", "ANSWER"),
    ));
    e.emit(events::bridge("BridgeCreate", &bridge, 0, None));
    e.emit(events::bridge("BridgeEnter", &bridge, 1, Some(&remote)));
    e.emit(events::bridge("BridgeEnter", &bridge, 2, Some(&agent)));
    let talk = talk_time(e, id);
    e.after(talk, Job::OrigEnd { orig: id });
}

fn talk_time(e: &mut Engine, id: u64) -> Duration {
    match e.state.origs.get(&id).and_then(|o| o.talk) {
        Some(t) => t,
        None => random_between(e, e.config.talk_time),
    }
}

/// The agent hangs up: both legs end.
pub(crate) fn end(e: &mut Engine, id: u64) {
    finish(e, id, true);
}

/// Both legs end; `requested` when the agent's phone hung up (a `HangupRequest` first)
/// rather than its dialplan ending.
fn finish(e: &mut Engine, id: u64, requested: bool) {
    let Some(o) = e.state.origs.remove(&id) else {
        return;
    };
    e.sync_originates.remove(&id);
    if requested {
        e.emit(hangup_request("HangupRequest", &o.agent, 16));
    }
    super::spy::stop(e, &o);
    let bridged = !o.agent.bridge.is_empty();
    if bridged {
        e.emit(events::bridge(
            "BridgeLeave",
            &o.agent.bridge,
            1,
            Some(&o.agent),
        ));
    }
    e.emit(hangup(&o.agent, 16));
    if let Some(r) = &o.remote {
        if bridged {
            e.emit(events::bridge("BridgeLeave", &o.agent.bridge, 0, Some(r)));
        } else {
            e.emit(dial("DialEnd", Some(&o.agent), r, ("DialStatus", "CANCEL")));
        }
        e.emit(hangup(r, 16));
    }
    if bridged {
        e.emit(events::bridge("BridgeDestroy", &o.agent.bridge, 0, None));
    }
    set_device(e, &o.device, NOT_INUSE);
    tracing::info!(agent_channel = %o.agent.name, exten = %o.exten, answered = o.answered, "originated call ended");
}

/// The agent did not answer in time: failure, Reason 3. Asterisk sends no `DialEnd` for
/// it: the originate thread hangs the channel up (cause 19).
pub(crate) fn timed_out(e: &mut Engine, id: u64) {
    if e.state.origs.get(&id).is_none_or(|o| o.answered) {
        return;
    }
    let Some(o) = e.state.origs.remove(&id) else {
        return;
    };
    e.emit(hangup(&o.agent, 19));
    set_device(e, &o.device, NOT_INUSE);
    // A synchronous Originate answers in its response; only an async one gets the event.
    if let Some(action) = e.sync_originates.remove(&id) {
        e.reply(o.session, error(&action, "Originate failed"));
    } else {
        let cid = (o.agent.cid_num.as_str(), o.agent.cid_name.as_str());
        let target = outcome_target(&o);
        fail(
            e,
            o.action_id.as_deref(),
            &o.requested,
            target,
            3,
            cid,
            "<unknown>",
        );
    }
    tracing::info!(agent_channel = %o.agent.name, "originate: no answer");
}

/// Emits a failed `OriginateResponse` (`Channel` as requested, `Uniqueid` the requested
/// `ChannelId` or `<unknown>`): Reason 0 (failed), 5 (busy).
pub(crate) fn originate_fail(
    e: &mut Engine,
    action_id: Option<&str>,
    requested: &str,
    target: [(&str, &str); 2],
    reason: u8,
    cid: (&str, &str),
    uniqueid: &str,
) {
    fail(e, action_id, requested, target, reason, cid, uniqueid);
}

fn fail(
    e: &mut Engine,
    action_id: Option<&str>,
    requested: &str,
    target: [(&str, &str); 2],
    reason: u8,
    cid: (&str, &str),
    uniqueid: &str,
) {
    let outcome = OriginateOutcome {
        action_id,
        success: false,
        channel: requested,
        target,
        reason,
        uniqueid,
        cid_num: cid.0,
        cid_name: cid.1,
    };
    e.emit(events::originate_response(&outcome));
}
