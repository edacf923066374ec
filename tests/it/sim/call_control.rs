//! Fidelity of call control: the recorded scenarios 09-13 (redirect and blind transfer, park,
//! ChanSpy, hangup, originate with variables and channel ids) replayed against the simulator,
//! compared with the recordings as `fidelity` compares 01-08: the responses (status and
//! message, in order), the queue milestones in order with their keys, the order of each agent
//! channel's life and device steps, and the key sets of every relevant event, the call-control
//! events (`ParkedCall`, `UnParkedCall`, `ParkedCallTimeOut`, `ParkedCallGiveUp`,
//! `ChanSpyStart`, `ChanSpyStop`, `BlindTransfer`, `Unhold`) included.
//!
//! The recorded actions name channels the recorded Asterisk created
//! (`Local/q1@callers-00000006;2`, `Local/147@agents-00000007;1`): each is rewritten to the
//! simulator's channel of the same kind that was created last (the agents' channels of a PJSIP
//! simulator have no `;1`/`;2` halves: both halves map to the one channel; the recorded
//! outside leg `Local/1562830@pstn-...` is the simulator's trunk leg `PJSIP/trunk-...`).
//!
//! Not simulated, and left out of the comparison where the recording has it: parking through
//! the dialplan (`Local/700@parkedcalls`, the end of 10), and the rig's phone half `;2` as a
//! channel of its own (12 hangs it up with `Cause: 17`; the simulator's agent has one channel,
//! whose `Hangup` is the recorded hangup of the bridged leg).

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::sim as sim_support;
use pbxis_ws::ami::message::AmiMessage;
use pbxis_ws::sim::SimConfig;

use sim_support::order::assert_same_order;
use sim_support::{
    assert_same_milestones, recorded, replay_with, responses, shape, shapes, start, Client,
};

const AGENTS: &[&str] = &["147", "148", "149"];

/// Events of call control whose key sets must match the recording's exactly.
const CONTROL: &[&str] = &[
    "ParkedCall",
    "UnParkedCall",
    "ParkedCallTimeOut",
    "ParkedCallGiveUp",
    "ChanSpyStart",
    "ChanSpyStop",
    "BlindTransfer",
    "Unhold",
    "Parkinglot",
    "ParkinglotsComplete",
    "ParkedCallsComplete",
];

/// The recorded rig: 147 in q1 (dynamic), 148 static in q2.
async fn rig() -> pbxis_ws::sim::SimHandle {
    let mut config = SimConfig::quiet();
    config.secret = "pbxis-secret".to_owned();
    config.location = "Local/{agent}@agents/n".to_owned();
    config.device = "Custom:{agent}".to_owned();
    config.hint_context = "hints".to_owned();
    config.initial_members = false;
    config.static_members = vec![("q2".to_owned(), "148".to_owned())];
    let sim = start(config).await;
    let mut control = Client::connect(sim.addr()).await;
    let login = AmiMessage::action("Login")
        .with("Username", "pbxis")
        .with("Secret", "pbxis-secret");
    assert!(control.action(login).await.is_success());
    let add = AmiMessage::action("QueueAdd")
        .with("Queue", "q1")
        .with("Interface", "Local/147@agents/n")
        .with("MemberName", "Agent 147")
        .with("StateInterface", "Custom:147");
    assert!(control.action(add).await.is_success());
    sim
}

/// `Local/q1@callers-00000006;2` → (`Local/q1@callers-`, `;2`).
fn recorded_kind(name: &str) -> Option<(String, String)> {
    let (base, rest) = name.rsplit_once('-')?;
    if base.contains("nosuch") {
        return None;
    }
    let half = rest.find(';').map_or("", |i| &rest[i..]);
    Some((format!("{base}-"), half.to_owned()))
}

/// Renames the recorded channels an action names to the simulator's.
fn rewrite(action: &mut AmiMessage, got: &[AmiMessage]) {
    for key in [
        "Channel",
        "ExtraChannel",
        "TimeoutChannel",
        "AnnounceChannel",
    ] {
        let Some((mut prefix, mut half)) = action.get(key).and_then(recorded_kind) else {
            continue;
        };
        if prefix.contains("@pstn-") {
            (prefix, half) = ("PJSIP/trunk-".to_owned(), String::new());
        }
        let ours = got
            .iter()
            .rev()
            .filter(|m| m.is_event("Newchannel"))
            .filter_map(|m| m.get("Channel"))
            .find(|c| c.starts_with(&prefix) && (c.ends_with(&half) || !c.contains(';')))
            .map(str::to_owned);
        if let Some(ours) = ours {
            action.set(key, &ours);
        }
    }
}

/// Key sets of the relevant events: every one the simulator sends is recorded, and every
/// recorded one is sent, except events the recorded rig's Local channels alone produce.
fn assert_keys(sim: &[AmiMessage], rec: &[AmiMessage]) {
    sim_support::assert_same_keys(sim, rec);
    let s: BTreeSet<_> = shapes(sim, CONTROL).into_iter().collect();
    let r: BTreeSet<_> = shapes(rec, CONTROL).into_iter().collect();
    assert_eq!(s, r, "call-control event keys differ");
}

fn count(msgs: &[AmiMessage], name: &str) -> usize {
    msgs.iter().filter(|m| m.is_event(name)).count()
}

fn reasons(msgs: &[AmiMessage]) -> Vec<String> {
    msgs.iter()
        .filter(|m| m.is_event("AgentComplete"))
        .map(|m| m.get("Reason").unwrap_or("").to_owned())
        .collect()
}

async fn replay(file: &str, tail: u64) -> (Client, Vec<AmiMessage>) {
    let sim = rig().await;
    let c = replay_with(sim.addr(), file, "main", Duration::from_secs(tail), rewrite).await;
    (c, recorded(file, "main"))
}

#[tokio::test(start_paused = true)]
async fn redirect_dual_redirect_and_blind_transfer_match_09() {
    let (c, rec) = replay("09-redirect.txt", 2).await;
    assert_eq!(responses(&c.all), responses(&rec));
    assert_eq!(reasons(&c.seen), reasons(&rec), "caller, agent, transfer");
    assert_same_milestones(&c.seen, &rec);
    assert_same_order(&c.seen, &rec, AGENTS);
    assert_keys(&c.all, &rec);
}

#[tokio::test(start_paused = true)]
async fn park_timeout_pickup_and_give_up_match_10() {
    let (c, rec) = replay("10-park.txt", 2).await;
    // Parking through the dialplan (`Local/700@parkedcalls`) is not simulated.
    let dialplan = |m: &AmiMessage| {
        m.get("ParkerDialString") == Some("Local/700@parkedcalls")
            || m.get("Channel")
                .is_some_and(|c| c.starts_with("Local/700@"))
    };
    let rec: Vec<AmiMessage> = rec.into_iter().filter(|m| !dialplan(m)).collect();
    assert_eq!(responses(&c.all), responses(&rec));
    for name in [
        "ParkedCall",
        "UnParkedCall",
        "ParkedCallTimeOut",
        "ParkedCallGiveUp",
    ] {
        assert_eq!(count(&c.all, name), count(&rec, name), "{name}");
    }
    let spaces = |m: &[AmiMessage]| -> Vec<String> {
        m.iter()
            .filter(|m| m.is_event("ParkedCall"))
            .map(|m| {
                format!(
                    "{} {}",
                    m.get("ParkingSpace").unwrap_or(""),
                    m.get("ParkingTimeout").unwrap_or("")
                )
            })
            .collect()
    };
    assert_eq!(spaces(&c.all), spaces(&rec));
    assert_eq!(reasons(&c.seen), reasons(&rec));
    assert_same_milestones(&c.seen, &rec);
    assert_keys(&c.all, &rec);
}

#[tokio::test(start_paused = true)]
async fn chanspy_originates_match_11() {
    let (c, rec) = replay("11-chanspy.txt", 2).await;
    assert_eq!(responses(&c.all), responses(&rec));
    assert_eq!(count(&c.seen, "ChanSpyStart"), 3);
    assert_eq!(count(&c.seen, "ChanSpyStop"), 3);
    // The spied channel is 147's, found by its name's prefix.
    for m in c.seen.iter().filter(|m| m.is_event("ChanSpyStart")) {
        let spyee = m.get("SpyeeChannel").unwrap_or("");
        assert!(spyee.starts_with("Local/147@agents-"), "{spyee}");
        assert!(m
            .get("SpyerChannel")
            .unwrap_or("")
            .starts_with("Local/148@agents-"));
    }
    assert_same_milestones(&c.seen, &rec);
    assert_keys(&c.all, &rec);
}

#[tokio::test(start_paused = true)]
async fn hangups_match_12() {
    let (c, rec) = replay("12-hangup-hold.txt", 2).await;
    assert_eq!(responses(&c.all), responses(&rec));
    // The first call, whose bridged member leg is hung up, goes as recorded; the second's
    // recorded hangup is of the rig's phone half (`;2`), which the simulator has not.
    let first = |m: &[AmiMessage]| -> Vec<AmiMessage> {
        let end = m
            .iter()
            .position(|m| m.is_event("AgentComplete"))
            .map_or(0, |i| i + 1);
        m[..end].to_vec()
    };
    assert_same_milestones(&first(&c.seen), &first(&rec));
    let bare = |m: &[AmiMessage]| -> Vec<(String, BTreeSet<String>)> {
        m.iter()
            .filter(|m| m.is_event("AgentComplete") && !m.has("Channel"))
            .map(shape)
            .collect()
    };
    assert_eq!(
        bare(&first(&c.seen)),
        bare(&first(&rec)),
        "the member leg's hangup"
    );
    let entries = |m: &[AmiMessage]| count(m, "QueueEntry");
    assert_eq!(entries(&c.all), entries(&rec));
    assert_keys(&c.all, &rec);
}

#[tokio::test(start_paused = true)]
async fn originate_with_variables_and_channel_ids_matches_13() {
    let (c, rec) = replay("13-originate-variables.txt", 2).await;
    // All but the last `Getvar`, which the recording sends right after its call ended (the
    // rig's talk time counts from a moment the simulator's does not).
    let (mut ours, mut theirs) = (responses(&c.all), responses(&rec));
    assert_eq!(ours.len(), theirs.len());
    ours.remove(ours.len() - 2);
    theirs.remove(theirs.len() - 2);
    assert_eq!(ours, theirs);
    let outcomes = |msgs: &[AmiMessage]| -> Vec<(String, String, String)> {
        msgs.iter()
            .filter(|m| m.is_event("OriginateResponse"))
            .map(|m| {
                let f = |k| m.get(k).unwrap_or("").to_owned();
                (f("ActionID"), f("Response"), f("Uniqueid"))
            })
            .collect()
    };
    assert_eq!(outcomes(&c.all), outcomes(&rec));
    let first = c
        .all
        .iter()
        .find(|m| m.is_event("Newchannel"))
        .expect("the phone's channel");
    assert_eq!(first.get("Uniqueid"), Some("pbxis-13-0001-a"));
    assert_eq!(first.get("Linkedid"), Some("pbxis-13-0001-a"));
    let values = |msgs: &[AmiMessage]| -> Vec<Option<String>> {
        msgs.iter()
            .filter(|m| m.response_status().is_some() && m.has("Value"))
            .map(|m| m.get("Value").map(str::to_owned))
            .collect()
    };
    let (ours, theirs) = (values(&c.all), values(&rec));
    assert_eq!(
        ours.first(),
        theirs.first(),
        "CRM_ID on the phone's channel"
    );
    assert_eq!(ours.get(1), theirs.get(1), "CAMPAIGN");
    // The recorded rig had no queue member in this scenario, and the call outlives the
    // session in the simulator: the events of the call's start only.
    let call = ["OriginateResponse", "Newchannel", "BridgeEnter"];
    let s: BTreeSet<_> = shapes(&c.all, &call).into_iter().collect();
    let r: BTreeSet<_> = shapes(&rec, &call).into_iter().collect();
    assert_eq!(s, r);
}
