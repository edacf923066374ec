//! The remote party of a bridged call is the same in the live model and in a rebuild from the
//! channel list, for the recorded calls: an inbound queue call (the agent's dialled leg carries
//! the caller's number and name: the name is the caller's and is shown) and an originated call
//! (the dialled party's channel inherits the agent's name: it is not shown as the remote's).
//!
//! The channel list is what `CoreShowChannels` answers at that moment: the last snapshot of
//! every live channel in the recording, with its current application and bridge; the hints
//! are the last `ExtensionStatus` of each.

use std::collections::BTreeMap;
use std::path::Path;

use bytes::BytesMut;
use pbxis_ws::ami::transcript::{self, Direction};
use pbxis_ws::ami::{AmiCodec, AmiFrame, AmiMessage, MessageKind};
use pbxis_ws::pbx::snapshot::Key;
use pbxis_ws::pbx::sync::{rebuild, Lists};
use pbxis_ws::pbx::{AgentId, Event, Location, QueueName, State};
use tokio_util::codec::Decoder;

const SNAPSHOT: [&str; 9] = [
    "Channel",
    "Uniqueid",
    "Linkedid",
    "CallerIDNum",
    "CallerIDName",
    "ConnectedLineNum",
    "ConnectedLineName",
    "Context",
    "Exten",
];

/// What `CoreShowChannels` would list: per channel uniqueid, the item; and what
/// `ExtensionStateList` would: per hint, its last `ExtensionStatus`.
#[derive(Default)]
struct Channels(BTreeMap<String, AmiMessage>, BTreeMap<String, AmiMessage>);

impl Channels {
    fn track(&mut self, msg: &AmiMessage) {
        if msg.is_event("ExtensionStatus") {
            let hint = format!("{:?}@{:?}", msg.get("Exten"), msg.get("Context"));
            self.1.insert(hint, msg.clone());
            return;
        }
        let Some(uid) = msg.get("Uniqueid").filter(|u| !u.is_empty()) else {
            return;
        };
        if msg.is_event("Hangup") {
            self.0.remove(uid);
            return;
        }
        if msg.get("Channel").is_none() || msg.get("DestChannel").is_some() {
            return;
        }
        let old = self.0.remove(uid);
        let keep = |key: &str| {
            old.as_ref()
                .and_then(|o| o.get(key))
                .unwrap_or_default()
                .to_owned()
        };
        let mut item = AmiMessage::event("CoreShowChannel");
        for key in SNAPSHOT {
            item.push(key, msg.get(key).unwrap_or_default());
        }
        let (app, data) = if msg.is_event("Newexten") {
            (
                msg.get("Application").unwrap_or_default().to_owned(),
                msg.get("AppData").unwrap_or_default().to_owned(),
            )
        } else {
            (keep("Application"), keep("ApplicationData"))
        };
        let bridge = match msg.event_name() {
            Some("BridgeEnter") => msg.get("BridgeUniqueid").unwrap_or_default().to_owned(),
            Some("BridgeLeave") => String::new(),
            _ => keep("BridgeId"),
        };
        item.push("Application", &app);
        item.push("ApplicationData", &data);
        item.push("BridgeId", &bridge);
        self.0.insert(uid.to_owned(), item);
    }
}

/// Replays the events of a recording until `stop` holds for an event (applied), and returns
/// the live model and the lists of that moment.
fn replay_until(name: &str, stop: impl Fn(&AmiMessage) -> bool) -> (State, Lists) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let chunks = transcript::parse(&std::fs::read(path).unwrap()).unwrap();
    let mut state = State::new(Location::parse("Local/{agent}@agents/n").unwrap(), "hints");
    let mut channels = Channels::default();
    let (mut codec, mut buf) = (AmiCodec::client(), BytesMut::new());
    let server = chunks
        .iter()
        .filter(|c| c.conn == "main" && c.direction == Direction::ServerToClient);
    for chunk in server {
        buf.extend_from_slice(&chunk.bytes);
        while let Ok(Some(frame)) = codec.decode(&mut buf) {
            let AmiFrame::Message(msg) = frame else {
                continue;
            };
            if msg.kind() != MessageKind::Event {
                continue;
            }
            state.apply(&msg);
            channels.track(&msg);
            if stop(&msg) {
                let lists = Lists {
                    channels: channels.0.into_values().collect(),
                    extensions: channels.1.into_values().collect(),
                    ..Lists::default()
                };
                return (state, lists);
            }
        }
    }
    panic!("the stop event is not in {name}");
}

fn phone_of(state: &State, agent: &AgentId) -> Option<Event> {
    state.view().0.get(&Key::Phone(agent.clone())).cloned()
}

/// Live and rebuilt phoneNumber of `agent` once the bridge `bridge` has both parties.
fn live_and_rebuilt(name: &str, bridge: &str, agent: &str) -> (Option<Event>, Option<Event>) {
    let entered = std::cell::Cell::new(0);
    let (live, lists) = replay_until(name, |m| {
        if m.is_event("BridgeEnter") && m.get("BridgeUniqueid") == Some(bridge) {
            entered.set(entered.get() + 1);
        }
        entered.get() == 2
    });
    let agent = AgentId::parse(agent).unwrap();
    (
        phone_of(&live, &agent),
        phone_of(&rebuild(&live, &lists), &agent),
    )
}

#[test]
fn inbound_queue_call_shows_the_callers_name_live_and_rebuilt() {
    let (live, rebuilt) = live_and_rebuilt(
        "05-inbound-agent-hangup.txt",
        "8b85351e-a42a-4f3b-a0ed-aa41913554f3",
        "147",
    );
    let expected = Event::PhoneNumber {
        agent: AgentId::parse("147").unwrap(),
        number: Some("0911555123".into()),
        name: Some("Customer 0911555123".into()),
        queue: Some(QueueName::parse("q1").unwrap()),
    };
    assert_eq!(live, Some(expected.clone()), "live");
    assert_eq!(rebuilt, Some(expected), "rebuilt from the channel list");
}

#[test]
fn originated_call_does_not_show_the_agents_own_name_live_or_rebuilt() {
    let (live, rebuilt) = live_and_rebuilt(
        "04-originate.txt",
        "3f9e280c-c276-4d1d-93d7-f916f3f947f9",
        "147",
    );
    let expected = Event::PhoneNumber {
        agent: AgentId::parse("147").unwrap(),
        number: Some("1562830".into()),
        name: None,
        queue: None,
    };
    assert_eq!(live, Some(expected.clone()), "live");
    assert_eq!(rebuilt, Some(expected), "rebuilt from the channel list");
}

/// A `CoreShowChannel` item.
fn channel(name: &str, uid: &str, linked: &str, cid: (&str, &str), bridge: &str) -> AmiMessage {
    let mut m = AmiMessage::event("CoreShowChannel");
    for (k, v) in [
        ("Channel", name),
        ("Uniqueid", uid),
        ("Linkedid", linked),
        ("CallerIDNum", cid.0),
        ("CallerIDName", cid.1),
        ("BridgeId", bridge),
    ] {
        m.push(k, v);
    }
    m
}

fn hint(exten: &str) -> AmiMessage {
    let mut m = AmiMessage::event("ExtensionStatus");
    for (k, v) in [("Exten", exten), ("Context", "hints"), ("Status", "1")] {
        m.push(k, v);
    }
    m
}

/// With one channel per phone (`PJSIP/{agent}`: no Local half to fall back on) only the bridge
/// tells who talks to whom. As recorded, the agent's dialled leg carries the caller's number
/// and name, so the name is the caller's; an originated call's dialled party carries the agent's
/// name under the dialled number, and that name is not shown.
#[test]
fn one_channel_per_phone_rebuilds_the_remote_name_by_the_recorded_rule() {
    let base = State::new(Location::parse("PJSIP/{agent}").unwrap(), "hints");
    let lists = Lists {
        extensions: vec![hint("147"), hint("148")],
        channels: vec![
            channel(
                "PJSIP/trunk-00000001",
                "700.1",
                "700.1",
                ("0911555123", "Customer"),
                "b1",
            ),
            channel(
                "PJSIP/147-00000002",
                "700.2",
                "700.1",
                ("0911555123", "Customer"),
                "b1",
            ),
            channel(
                "PJSIP/148-00000003",
                "701.1",
                "701.1",
                ("148", "Agent 148"),
                "b2",
            ),
            channel(
                "PJSIP/trunk-00000004",
                "701.2",
                "701.1",
                ("1562830", "Agent 148"),
                "b2",
            ),
        ],
        ..Lists::default()
    };
    let rebuilt = rebuild(&base, &lists);
    let phone = |agent: &str, number: &str, name: Option<&str>| {
        Some(Event::PhoneNumber {
            agent: AgentId::parse(agent).unwrap(),
            number: Some(number.into()),
            name: name.map(Into::into),
            queue: None,
        })
    };
    let a = |s: &str| AgentId::parse(s).unwrap();
    assert_eq!(
        phone_of(&rebuilt, &a("147")),
        phone("147", "0911555123", Some("Customer"))
    );
    assert_eq!(phone_of(&rebuilt, &a("148")), phone("148", "1562830", None));
}
