//! Order comparisons of the fidelity tests, per agent: the life of each agent channel
//! (`Newchannel` … `AgentCalled` … `DialBegin` … `BridgeEnter` … `Hangup`) and, per agent
//! device, the sequences of `DeviceStateChange`, `ExtensionStatus` and `QueueMemberStatus`.
//!
//! Names are reduced to the agent number, so the recorded rig (`Local/147@agents-0000000f;1`,
//! `Custom:147`) and a PJSIP simulator (`PJSIP/147-00000002`, `PJSIP/147`) compare. An agent
//! channel is one dialled as a `DialBegin` destination: that is the `;1` half of a recorded
//! Local channel, never the `;2` half that runs the rig's dialplan, which a PJSIP phone has
//! not. Dialplan noise (`Newexten`, `VarSet`, `Cdr`, `LocalBridge`, caller-id updates,
//! `SoftHangupRequest` between Local halves) is not part of a channel's life here.
//!
//! The three device sequences are compared each on its own: Asterisk raises them on three
//! threads (hint callbacks, the device-state cache, app_queue's device subscription), so how
//! they interleave varies from call to call in the recording itself.

use std::collections::{BTreeMap, BTreeSet};

use pbxis_ws::ami::message::AmiMessage;

/// The events of an agent channel's life, with the value that tells its step.
const CHANNEL_LIFE: &[(&str, &str)] = &[
    ("Newchannel", ""),
    ("Newstate", "ChannelStateDesc"),
    ("AgentCalled", ""),
    ("DialBegin", ""),
    ("DialState", "DialStatus"),
    ("DialEnd", "DialStatus"),
    ("AgentRingNoAnswer", ""),
    ("AgentConnect", ""),
    ("OriginateResponse", "Response"),
    ("BridgeEnter", ""),
    ("AgentComplete", "Reason"),
    ("BridgeLeave", ""),
    ("HangupRequest", "Cause"),
    ("Hangup", "Cause"),
];

/// The agent a device or interface names (`PJSIP/147`, `Custom:147`, `Local/147@agents/n`),
/// when it is one of `agents`; with `exact`, only a device that is the agent's own
/// (`Local/147@agents` is a Local device, not the agent's).
fn agent_named<'a>(name: &str, agents: &[&'a str], exact: bool) -> Option<&'a str> {
    let rest = name.split_once([':', '/']).map(|(_, r)| r)?;
    let number = if exact {
        rest
    } else {
        rest.split(['@', '-', '/', ';']).next().unwrap_or("")
    };
    agents.iter().copied().find(|a| *a == number)
}

/// Whether `channel` is the `;2` half of a recorded agent's Local channel
/// (`Local/147@agents-0000000f;2`): the rig's phone dialplan.
pub fn is_agent_phone_half(channel: &str) -> bool {
    channel.starts_with("Local/") && channel.contains("@agents-") && channel.ends_with(";2")
}

/// One step of a channel's life: event name, the channel's role (`Channel` or `Dest`), and
/// the value that tells the step (state, dial status, cause, reason).
pub type Step = (String, &'static str, String);

/// The life of every agent channel, per agent, channels in order of their first event.
pub fn channel_lives(msgs: &[AmiMessage], agents: &[&str]) -> BTreeMap<String, Vec<Vec<Step>>> {
    let channels: Vec<String> = msgs
        .iter()
        .filter(|m| m.is_event("DialBegin"))
        .filter_map(|m| m.get("DestChannel"))
        .filter(|c| agent_named(c, agents, false).is_some())
        .map(str::to_owned)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut lives: Vec<(usize, &str, Vec<Step>)> = Vec::new();
    for chan in &channels {
        let mut first = usize::MAX;
        let mut life = Vec::new();
        for (i, m) in msgs.iter().enumerate() {
            let Some((name, detail)) = CHANNEL_LIFE.iter().find(|(n, _)| m.is_event(n)) else {
                continue;
            };
            let role = if m.get("Channel") == Some(chan) {
                "Channel"
            } else if m.get("DestChannel") == Some(chan) {
                "Dest"
            } else {
                continue;
            };
            first = first.min(i);
            let value = m.get(detail).unwrap_or("").to_owned();
            life.push(((*name).to_owned(), role, value));
        }
        let agent = agent_named(chan, agents, false).unwrap_or("");
        lives.push((first, agent, life));
    }
    lives.sort_by_key(|(first, _, _)| *first);
    let mut out: BTreeMap<String, Vec<Vec<Step>>> = BTreeMap::new();
    for (_, agent, life) in lives {
        out.entry(agent.to_owned()).or_default().push(life);
    }
    out
}

/// Per agent, the sequences of its device's states (`DSC <state>`), its hint's statuses
/// (`Ext <status>`) and its memberships' statuses (`QMS <queue> <status>`), each on its own.
pub fn device_sequences(
    msgs: &[AmiMessage],
    agents: &[&str],
) -> BTreeMap<(String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for m in msgs {
        let f = |k| m.get(k).unwrap_or("");
        let (agent, kind, step) = match m.event_name() {
            Some("DeviceStateChange") => (
                agent_named(f("Device"), agents, true),
                "DeviceStateChange".to_owned(),
                f("State").to_owned(),
            ),
            Some("ExtensionStatus") => (
                agents.iter().copied().find(|a| *a == f("Exten")),
                "ExtensionStatus".to_owned(),
                f("Status").to_owned(),
            ),
            Some("QueueMemberStatus") => (
                agent_named(f("StateInterface"), agents, true),
                format!("QueueMemberStatus {}", f("Queue")),
                f("Status").to_owned(),
            ),
            _ => continue,
        };
        if let Some(agent) = agent {
            out.entry((agent.to_owned(), kind)).or_default().push(step);
        }
    }
    out
}

/// Asserts that every agent channel lives the recorded life, step by step, and that every
/// agent device goes through the recorded sequences.
pub fn assert_same_order(sim: &[AmiMessage], rec: &[AmiMessage], agents: &[&str]) {
    let (s, r) = (channel_lives(sim, agents), channel_lives(rec, agents));
    for agent in r.keys().chain(s.keys()) {
        assert_eq!(
            s.get(agent),
            r.get(agent),
            "agent {agent}'s channels live differently (simulated, then recorded)"
        );
    }
    let (s, r) = (device_sequences(sim, agents), device_sequences(rec, agents));
    for key in r.keys().chain(s.keys()) {
        assert_eq!(
            s.get(key),
            r.get(key),
            "agent {key:?} goes through different states (simulated, then recorded)"
        );
    }
}

/// For runs whose outcomes differ by nature (which caller meets which free agent): every
/// life an agent channel lives in the simulation is one the recording shows, and every
/// step from one device state to the next is one the recording makes. `OriginateResponse`
/// is left out of the lives: Asterisk sends it from the originate thread while the
/// channel's dialplan runs on, so where it falls varies from call to call in the recording.
pub fn assert_known_order(sim: &[AmiMessage], rec: &[AmiMessage], agents: &[&str]) {
    let racy = |life: Vec<Step>| -> Vec<Step> {
        life.into_iter()
            .filter(|(name, _, _)| name != "OriginateResponse")
            .collect()
    };
    let known: BTreeSet<Vec<Step>> = channel_lives(rec, agents)
        .into_values()
        .flatten()
        .map(racy)
        .collect();
    for (agent, lives) in channel_lives(sim, agents) {
        for life in lives.into_iter().map(racy) {
            assert!(
                known.contains(&life),
                "agent {agent}'s channel lives a life the recording never shows: {life:?}"
            );
        }
    }
    let transitions = |seqs: BTreeMap<(String, String), Vec<String>>| {
        let mut t = BTreeSet::new();
        for ((_, kind), seq) in seqs {
            for pair in seq.windows(2) {
                t.insert((kind.clone(), pair[0].clone(), pair[1].clone()));
            }
        }
        t
    };
    let known = transitions(device_sequences(rec, agents));
    for step in transitions(device_sequences(sim, agents)) {
        assert!(
            known.contains(&step),
            "a device step the recording never makes: {step:?}"
        );
    }
}
