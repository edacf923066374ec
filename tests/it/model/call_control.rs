//! The model's call-control facts, one rule each: the callers waiting in a queue
//! (`queueCallers`: line order, renumbering, one event per change, `joined` agreeing across a
//! rebuild), originates linked to their channel by `ChannelId`, spies (`spyStarted` /
//! `spyStopped` with the mode of a spy of ours), parked calls (`parked`), and an agent's calls
//! as channel names (what call control acts on).

use std::time::Duration;

use pbxis_ws::ami::AmiMessage;
use pbxis_ws::pbx::sync::{rebuild, sync_events, Lists};
use pbxis_ws::pbx::{AgentId, Event, Location, ParkState, QueueName, SpyMode, State};

fn rig() -> State {
    let mut s = State::new(Location::parse("Local/{agent}@agents/n").unwrap(), "hints");
    for agent in ["147", "148"] {
        s.apply(&ev(
            "QueueMemberAdded",
            &[
                ("Queue", "q1"),
                ("MemberName", &format!("Agent {agent}")),
                ("Interface", &format!("Local/{agent}@agents/n")),
                ("StateInterface", &format!("Local/{agent}@agents")),
                ("Membership", "dynamic"),
                ("Status", "1"),
                ("Paused", "0"),
            ],
        ));
    }
    s
}
fn a(s: &str) -> AgentId {
    AgentId::parse(s).unwrap()
}
fn q(s: &str) -> QueueName {
    QueueName::parse(s).unwrap()
}
fn ev(name: &str, fields: &[(&str, &str)]) -> AmiMessage {
    fields
        .iter()
        .fold(AmiMessage::event(name), |m, (k, v)| m.with(k, v))
}
fn join(uid: &str, number: &str, position: &str, count: &str) -> AmiMessage {
    ev(
        "QueueCallerJoin",
        &[
            ("Queue", "q1"),
            ("Uniqueid", uid),
            ("Channel", &format!("Local/q1@callers-{uid};2")),
            ("CallerIDNum", number),
            ("CallerIDName", &format!("Customer {number}")),
            ("Position", position),
            ("Count", count),
        ],
    )
}
/// The listed callers of a `queueCallers` event: (uniqueid, number, position).
fn listed(events: &[Event]) -> Vec<Vec<(String, String, u32)>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::QueueCallers { callers, .. } => Some(
                callers
                    .iter()
                    .map(|c| (c.unique_id.clone(), c.caller_id.clone(), c.position))
                    .collect(),
            ),
            _ => None,
        })
        .collect()
}
fn l(items: &[(&str, &str, u32)]) -> Vec<(String, String, u32)> {
    items
        .iter()
        .map(|(u, n, p)| (u.to_string(), n.to_string(), *p))
        .collect()
}

#[test]
fn waiting_callers_in_line_order_renumbered_one_event_per_change() {
    let mut s = rig();
    s.apply(&join("1.1", "0911", "1", "1"));
    let got = s.apply(&join("1.2", "0912", "2", "2"));
    assert_eq!(
        listed(&got),
        vec![l(&[("1.1", "0911", 1), ("1.2", "0912", 2)])]
    );
    // A caller of higher priority joins ahead of both.
    let got = s.apply(&join("1.3", "0913", "1", "3"));
    assert_eq!(
        listed(&got),
        vec![l(&[
            ("1.3", "0913", 1),
            ("1.1", "0911", 2),
            ("1.2", "0912", 3)
        ])]
    );
    // The first leaves (answered): the others move up.
    let leave = ev(
        "QueueCallerLeave",
        &[("Queue", "q1"), ("Uniqueid", "1.3"), ("Count", "2")],
    );
    let got = s.apply(&leave);
    assert_eq!(
        listed(&got),
        vec![l(&[("1.1", "0911", 1), ("1.2", "0912", 2)])]
    );
    // An abandon and its leave: one event.
    let abandon = ev(
        "QueueCallerAbandon",
        &[("Queue", "q1"), ("Uniqueid", "1.1")],
    );
    let got = s.apply(&abandon);
    assert_eq!(listed(&got), vec![l(&[("1.2", "0912", 1)])]);
    let leave = ev(
        "QueueCallerLeave",
        &[("Queue", "q1"), ("Uniqueid", "1.1"), ("Count", "1")],
    );
    assert_eq!(listed(&s.apply(&leave)), Vec::<Vec<_>>::new());
    // A waiting caller's channel hangs up.
    let got = s.apply(&ev("Hangup", &[("Uniqueid", "1.2")]));
    assert_eq!(listed(&got), vec![vec![]]);
}

#[tokio::test(start_paused = true)]
async fn joined_is_the_same_live_and_after_a_rebuild() {
    let wall = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let made = wall();
    let mut s = rig();
    tokio::time::advance(Duration::from_secs(70)).await;
    let before = s.clone();
    let got = s.apply(&join("2.1", "0921", "1", "1"));
    let Some(Event::QueueCallers { callers, .. }) = got.last() else {
        panic!("{got:?}")
    };
    let joined = callers[0].joined;
    assert!(
        joined.abs_diff(made + 70) <= 2,
        "joined is the model's wall clock, advanced with its clock: {joined} {made}"
    );
    tokio::time::advance(Duration::from_secs(30)).await;
    let entry = |wait: &str| Lists {
        queue_status: vec![
            ev("QueueParams", &[("Queue", "q1"), ("Calls", "1")]),
            ev(
                "QueueEntry",
                &[
                    ("Queue", "q1"),
                    ("Position", "1"),
                    ("Uniqueid", "2.1"),
                    ("CallerIDNum", "0921"),
                    ("CallerIDName", "Customer 0921"),
                    ("Wait", wait),
                ],
            ),
        ],
        ..Lists::default()
    };
    // A model that never saw the join takes it from the wait.
    let rebuilt = rebuild(&before, &entry("30"));
    let shown = rebuilt.queues()[&q("q1")].waiting[0].joined;
    assert_eq!(shown, joined, "now less the wait");
    // A model that saw it keeps what it saw (the wait is in whole seconds).
    let rebuilt = rebuild(&s, &entry("29"));
    assert_eq!(rebuilt.queues()[&q("q1")].waiting[0].joined, joined);
    let corrections = sync_events(&s, &rebuilt);
    assert!(
        !corrections
            .iter()
            .any(|e| matches!(e, Event::QueueCallers { .. })),
        "{corrections:?}"
    );
}

fn dial_ringing(uid: &str, agent: &str) -> AmiMessage {
    ev(
        "DialBegin",
        &[
            ("DestChannel", &format!("Local/{agent}@agents-0000001a;1")),
            ("DestUniqueid", uid),
        ],
    )
}

#[test]
fn originates_are_linked_to_their_channel_by_channel_id() {
    let mut s = rig();
    s.expect_originate_on("o1", a("147"), Some("1562830"), Some("pbxis-c1"));
    s.expect_originate_on("o2", a("147"), Some("1562999"), Some("pbxis-c2"));
    let got = s.apply(&dial_ringing("pbxis-c2", "147"));
    assert_eq!(
        got,
        vec![Event::PhoneNumber {
            agent: a("147"),
            number: Some("1562999".into()),
            name: None,
            queue: None
        }],
        "two originates for one agent: the ChannelId tells which one rings"
    );
    // Without channel ids, the same ringing is ambiguous: nothing is shown.
    let mut s = rig();
    s.expect_originate_to("o1", a("147"), Some("1562830"));
    s.expect_originate_to("o2", a("147"), Some("1562999"));
    assert_eq!(s.apply(&dial_ringing("9.9", "147")), vec![]);
}

fn spy(name: &str, spyer_uid: &str, spyer: &str) -> AmiMessage {
    ev(
        name,
        &[
            ("SpyerChannel", spyer),
            ("SpyerUniqueid", spyer_uid),
            ("SpyeeChannel", "Local/147@agents-0000000e;1"),
            ("SpyeeUniqueid", "3.28"),
        ],
    )
}

#[test]
fn spies_of_ours_carry_their_mode_others_only_who() {
    let mut s = rig();
    s.expect_spy("pbxis-spy-1", a("148"), SpyMode::Whisper);
    let started = Event::SpyStarted {
        agent: a("147"),
        supervisor: Some(a("148")),
        mode: Some(SpyMode::Whisper),
    };
    let spyer = "Local/148@agents-0000000f;1";
    assert_eq!(
        s.apply(&spy("ChanSpyStart", "pbxis-spy-1", spyer)),
        vec![started]
    );
    assert_eq!(
        s.apply(&spy("ChanSpyStop", "pbxis-spy-1", spyer)),
        vec![Event::SpyStopped {
            agent: a("147"),
            supervisor: Some(a("148")),
            mode: Some(SpyMode::Whisper),
        }]
    );
    s.apply(&ev("Hangup", &[("Uniqueid", "pbxis-spy-1")]));
    assert_eq!(
        s.apply(&spy("ChanSpyStart", "pbxis-spy-1", spyer)),
        vec![Event::SpyStarted {
            agent: a("147"),
            supervisor: Some(a("148")),
            mode: None,
        }],
        "forgotten with its channel: no mode any more"
    );
    let stranger = spy("ChanSpyStart", "4.1", "PJSIP/trunk-00000001");
    assert_eq!(
        s.apply(&stranger),
        vec![Event::SpyStarted {
            agent: a("147"),
            supervisor: None,
            mode: None,
        }]
    );
}

/// 147 answers the q1 caller `5.1` on its leg `5.2`.
fn answered(s: &mut State) {
    s.apply(&join("5.1", "0915", "1", "1"));
    s.apply(&ev(
        "AgentConnect",
        &[
            ("Queue", "q1"),
            ("Uniqueid", "5.1"),
            ("Channel", "Local/q1@callers-5.1;2"),
            ("CallerIDNum", "0915"),
            ("DestUniqueid", "5.2"),
            ("DestChannel", "Local/147@agents-00000007;1"),
            ("Interface", "Local/147@agents/n"),
        ],
    ));
}

fn park_event(name: &str, uid: &str, timeout: &str) -> AmiMessage {
    ev(
        name,
        &[
            ("ParkeeChannel", "Local/q1@callers-5.1;2"),
            ("ParkeeUniqueid", uid),
            ("ParkeeCallerIDNum", "0915"),
            ("ParkerDialString", "Local/147@agents"),
            ("Parkinglot", "default"),
            ("ParkingSpace", "701"),
            ("ParkingTimeout", timeout),
        ],
    )
}

#[test]
fn a_parked_call_of_an_agent_is_told_until_it_is_picked_up() {
    let mut s = rig();
    answered(&mut s);
    let parked = |state| Event::Parked {
        agent: a("147"),
        queue: Some(q("q1")),
        state,
        channel: "Local/q1@callers-5.1;2".into(),
        caller_id: "0915".into(),
        name: None,
        lot: "default".into(),
        space: "701".into(),
        timeout: 20,
    };
    assert_eq!(
        s.apply(&park_event("ParkedCall", "5.1", "20")),
        vec![parked(ParkState::Parked)]
    );
    assert_eq!(
        s.apply(&park_event("UnParkedCall", "5.1", "20")),
        vec![parked(ParkState::Retrieved)]
    );
    assert_eq!(
        s.apply(&park_event("ParkedCallGiveUp", "5.1", "20")),
        vec![],
        "once ended, nothing more"
    );
    // A call parked through the dialplan by nobody the model knows: no one to tell.
    let nobody = ev(
        "ParkedCall",
        &[
            ("ParkeeChannel", "Local/q1@callers-6.1;2"),
            ("ParkeeUniqueid", "6.1"),
            ("ParkerDialString", "Local/700@parkedcalls"),
            ("Parkinglot", "default"),
            ("ParkingSpace", "702"),
        ],
    );
    let mut s = rig();
    assert_eq!(s.apply(&nobody), vec![]);
}

#[test]
fn an_agents_calls_name_both_channels() {
    let mut s = rig();
    answered(&mut s);
    let calls = s.calls_of(&a("147"));
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].agent_channel.as_deref(),
        Some("Local/147@agents-00000007;1")
    );
    assert_eq!(
        calls[0].bridged_channel.as_deref(),
        Some("Local/q1@callers-5.1;2")
    );
    assert_eq!(calls[0].caller_id, "0915");
    assert_eq!(calls[0].queue, Some(q("q1")));
    assert!(s.knows_channel("Local/q1@callers-5.1;2"));
    s.apply(&ev("Hangup", &[("Uniqueid", "5.1")]));
    assert!(s.calls_of(&a("147")).is_empty());
    assert!(
        !s.knows_channel("Local/q1@callers-5.1;2"),
        "forgotten at hangup"
    );
}
