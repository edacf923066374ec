//! Unit tests of the model's digest, one mapping rule each: AMI events in, published events out
//! (only real changes), for current and legacy event names.

use pbxis_ws::ami::AmiMessage;
use pbxis_ws::pbx::{AgentId, DeviceStatus, Event, Location, MemberStatus, QueueName, State};

fn pjsip() -> State {
    State::new(Location::parse("PJSIP/{agent}").unwrap(), "hints")
}
/// A model that knows agents 147 and 148 (hints `147@hints`, `148@hints`, idle).
fn known() -> State {
    let mut s = pjsip();
    for agent in ["147", "148"] {
        s.apply(&ev(
            "ExtensionStatus",
            &[("Exten", agent), ("Context", "hints"), ("Status", "0")],
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
fn phone(agent: &str, number: Option<&str>, name: Option<&str>, queue: Option<&str>) -> Event {
    Event::PhoneNumber {
        agent: a(agent),
        number: number.map(str::to_owned),
        name: name.map(str::to_owned),
        queue: queue.map(q),
    }
}
fn member(agent: &str, queue: &str, status: MemberStatus, reason: Option<&str>) -> Event {
    Event::QueueMemberStatus {
        agent: a(agent),
        queue: q(queue),
        status,
        reason: reason.map(str::to_owned),
    }
}
fn member_event(name: &str, queue: &str, iface: &str, status: &str, paused: &str) -> AmiMessage {
    ev(
        name,
        &[
            ("Queue", queue),
            ("MemberName", "Alice"),
            ("Interface", iface),
            ("StateInterface", iface),
            ("Membership", "dynamic"),
            ("Status", status),
            ("Paused", paused),
            ("PausedReason", if paused == "1" { "lunch" } else { "" }),
        ],
    )
}

#[test]
fn queue_count_from_join_and_leave_current_and_legacy() {
    let mut s = pjsip();
    let join = ev(
        "QueueCallerJoin",
        &[("Queue", "q1"), ("Count", "1"), ("Uniqueid", "1.1")],
    );
    let count1 = Event::QueueCount {
        queue: q("q1"),
        count: 1,
    };
    assert_eq!(s.apply(&join), vec![count1]);
    assert_eq!(s.apply(&join), vec![], "same count twice is no event");
    let legacy = ev(
        "Leave",
        &[("Queue", "q1"), ("Count", "0"), ("Uniqueid", "1.1")],
    );
    assert_eq!(
        s.apply(&legacy),
        vec![Event::QueueCount {
            queue: q("q1"),
            count: 0
        }]
    );
    let legacy = ev("Join", &[("Queue", "q1"), ("Count", "2")]);
    assert_eq!(
        s.apply(&legacy),
        vec![Event::QueueCount {
            queue: q("q1"),
            count: 2
        }]
    );
}

#[test]
fn member_added_paused_removed() {
    let mut s = pjsip();
    let added = member_event("QueueMemberAdded", "q1", "PJSIP/147", "1", "0");
    assert_eq!(
        s.apply(&added),
        vec![
            member(
                "147",
                "q1",
                MemberStatus::Device(DeviceStatus::NotInuse),
                None
            ),
            Event::AgentName {
                agent: a("147"),
                name: "Alice".into()
            },
            Event::ExtensionStatus {
                agent: a("147"),
                status: DeviceStatus::NotInuse
            },
        ]
    );
    let paused = member_event("QueueMemberPause", "q1", "PJSIP/147", "1", "1");
    assert_eq!(
        s.apply(&paused),
        vec![member("147", "q1", MemberStatus::Paused, Some("lunch"))]
    );
    assert_eq!(s.apply(&paused), vec![]);
    let ringing = member_event("QueueMemberStatus", "q1", "PJSIP/147", "6", "1");
    assert_eq!(
        s.apply(&ringing),
        vec![Event::ExtensionStatus {
            agent: a("147"),
            status: DeviceStatus::Ringing
        }],
        "a paused member stays paused; the device follows"
    );
    let removed = member_event("QueueMemberRemoved", "q1", "PJSIP/147", "6", "1");
    assert_eq!(
        s.apply(&removed),
        vec![member("147", "q1", MemberStatus::LoggedOff, None)]
    );
    assert_eq!(s.apply(&removed), vec![]);
}

#[test]
fn legacy_queue_member_paused_uses_location_and_reason() {
    let mut s = pjsip();
    s.apply(&member_event(
        "QueueMemberAdded",
        "q1",
        "PJSIP/147",
        "2",
        "0",
    ));
    let legacy = ev(
        "QueueMemberPaused",
        &[
            ("Queue", "q1"),
            ("Location", "PJSIP/147"),
            ("MemberName", "Alice"),
            ("Paused", "1"),
            ("Reason", "coffee"),
        ],
    );
    assert_eq!(
        s.apply(&legacy),
        vec![member("147", "q1", MemberStatus::Paused, Some("coffee"))]
    );
    let unpause = ev(
        "QueueMemberPaused",
        &[("Queue", "q1"), ("Location", "PJSIP/147"), ("Paused", "0")],
    );
    assert_eq!(
        s.apply(&unpause),
        vec![member(
            "147",
            "q1",
            MemberStatus::Device(DeviceStatus::Inuse),
            None
        )],
        "unpaused: the member's last device status"
    );
}

#[test]
fn members_outside_the_template_are_not_agents() {
    let mut s = pjsip();
    let trunk = member_event("QueueMemberAdded", "q1", "SIP/147", "1", "0");
    assert_eq!(s.apply(&trunk), vec![]);
    assert!(s.agents().is_empty());
}

#[test]
fn extension_status_from_the_hint_context_only_and_wins_over_devices() {
    let mut s = pjsip();
    let other = ev(
        "ExtensionStatus",
        &[("Exten", "147"), ("Context", "default"), ("Status", "8")],
    );
    assert_eq!(s.apply(&other), vec![]);
    let hint = ev(
        "ExtensionStatus",
        &[("Exten", "147"), ("Context", "hints"), ("Status", "9")],
    );
    assert_eq!(
        s.apply(&hint),
        vec![Event::ExtensionStatus {
            agent: a("147"),
            status: DeviceStatus::Ringinuse
        }]
    );
    s.apply(&member_event(
        "QueueMemberAdded",
        "q1",
        "PJSIP/147",
        "1",
        "0",
    ));
    let device = ev(
        "DeviceStateChange",
        &[("Device", "PJSIP/147"), ("State", "NOT_INUSE")],
    );
    assert_eq!(
        s.apply(&device),
        vec![],
        "the hint decides the extension status"
    );
}

#[test]
fn device_state_of_the_state_interface() {
    let mut s = State::new(Location::parse("Local/{agent}@agents/n").unwrap(), "hints");
    let added = ev(
        "QueueMemberAdded",
        &[
            ("Queue", "q1"),
            ("Interface", "Local/147@agents/n"),
            ("StateInterface", "Custom:147"),
            ("Status", "1"),
            ("Paused", "0"),
        ],
    );
    s.apply(&added);
    let local = ev(
        "DeviceStateChange",
        &[("Device", "Local/147@agents"), ("State", "INUSE")],
    );
    assert_eq!(
        s.apply(&local),
        vec![],
        "a Local channel's state is not the phone's"
    );
    let custom = ev(
        "DeviceStateChange",
        &[("Device", "Custom:147"), ("State", "RINGING")],
    );
    assert_eq!(
        s.apply(&custom),
        vec![Event::ExtensionStatus {
            agent: a("147"),
            status: DeviceStatus::Ringing
        }]
    );
}

fn agent_event(name: &str, extra: &[(&str, &str)]) -> AmiMessage {
    let base = [
        ("Channel", "PJSIP/trunk-00000001"),
        ("Uniqueid", "100.1"),
        ("Linkedid", "100.1"),
        ("CallerIDNum", "0911"),
        ("CallerIDName", "Customer"),
        ("DestChannel", "PJSIP/147-00000002"),
        ("DestUniqueid", "100.2"),
        ("DestLinkedid", "100.1"),
        ("Queue", "q1"),
        ("Interface", "PJSIP/147"),
        ("MemberName", "Alice"),
    ];
    let all: Vec<_> = base.iter().chain(extra).copied().collect();
    ev(name, &all)
}

#[test]
fn queue_call_rings_then_no_answer() {
    let mut s = pjsip();
    let ring = phone("147", Some("0911"), Some("Customer"), Some("q1"));
    assert_eq!(s.apply(&agent_event("AgentCalled", &[])), vec![ring]);
    assert_eq!(
        s.apply(&agent_event("AgentRingNoAnswer", &[("RingTime", "5000")])),
        vec![phone("147", None, None, None)]
    );
}

#[test]
fn queue_call_answered_and_completed() {
    let mut s = pjsip();
    s.apply(&agent_event("AgentCalled", &[]));
    assert_eq!(
        s.apply(&agent_event(
            "AgentConnect",
            &[("HoldTime", "3"), ("RingTime", "2")]
        )),
        vec![]
    );
    let complete = agent_event(
        "AgentComplete",
        &[("HoldTime", "3"), ("TalkTime", "20"), ("Reason", "caller")],
    );
    assert_eq!(
        s.apply(&complete),
        vec![
            phone("147", None, None, None),
            Event::AgentComplete {
                agent: a("147"),
                unique_id: "100.1".into(),
                talk_time: 20,
                hold_time: 3,
                queue: q("q1"),
                reason: "caller".into()
            }
        ]
    );
}

#[test]
fn caller_abandon_and_hangups_end_the_call() {
    let mut s = pjsip();
    s.apply(&agent_event("AgentCalled", &[]));
    let abandon = ev(
        "QueueCallerAbandon",
        &[("Queue", "q1"), ("Uniqueid", "100.1")],
    );
    assert_eq!(s.apply(&abandon), vec![phone("147", None, None, None)]);
    s.apply(&agent_event("AgentCalled", &[]));
    let agent_leg = ev(
        "Hangup",
        &[("Channel", "PJSIP/147-00000002"), ("Uniqueid", "100.2")],
    );
    assert_eq!(s.apply(&agent_leg), vec![phone("147", None, None, None)]);
}

fn dial(
    name: &str,
    from: (&str, &str, &str),
    to: (&str, &str, &str),
    status: Option<&str>,
) -> AmiMessage {
    let mut m = ev(
        name,
        &[
            ("Channel", from.0),
            ("Uniqueid", from.1),
            ("CallerIDNum", from.2),
            ("DestChannel", to.0),
            ("DestUniqueid", to.1),
            ("DestCallerIDNum", to.2),
        ],
    );
    if let Some(st) = status {
        m.push("DialStatus", st);
    }
    m
}

#[test]
fn direct_call_rings_is_bridged_and_hangs_up() {
    let mut s = known();
    let caller = ("PJSIP/trunk-0000000a", "200.1", "0915");
    let agent = ("PJSIP/147-0000000b", "200.2", "147");
    assert_eq!(
        s.apply(&dial("DialBegin", caller, agent, None)),
        vec![phone("147", Some("0915"), None, None)]
    );
    assert_eq!(
        s.apply(&dial("DialEnd", caller, agent, Some("ANSWER"))),
        vec![]
    );
    for (ch, uid, num) in [agent, caller] {
        let enter = ev(
            "BridgeEnter",
            &[
                ("BridgeUniqueid", "b1"),
                ("Channel", ch),
                ("Uniqueid", uid),
                ("CallerIDNum", num),
            ],
        );
        assert_eq!(s.apply(&enter), vec![], "already shown");
    }
    let hangup = ev("Hangup", &[("Channel", caller.0), ("Uniqueid", caller.1)]);
    assert_eq!(s.apply(&hangup), vec![phone("147", None, None, None)]);
}

#[test]
fn outbound_call_of_an_agent_shows_the_dialled_party_until_busy() {
    let mut s = known();
    let agent = ("PJSIP/147-0000000c", "300.1", "147");
    let out = ("PJSIP/trunk-0000000d", "300.2", "1562831");
    assert_eq!(
        s.apply(&dial("DialBegin", agent, out, None)),
        vec![phone("147", Some("1562831"), None, None)]
    );
    assert_eq!(
        s.apply(&dial("DialEnd", agent, out, Some("BUSY"))),
        vec![phone("147", None, None, None)]
    );
}

#[test]
fn bridge_alone_gives_the_remote_party_and_bridge_leave_ends_it() {
    let mut s = known();
    let enter = |ch: &str, uid: &str, num: &str, name: &str| {
        ev(
            "BridgeEnter",
            &[
                ("BridgeUniqueid", "b2"),
                ("Channel", ch),
                ("Uniqueid", uid),
                ("CallerIDNum", num),
                ("CallerIDName", name),
            ],
        )
    };
    assert_eq!(
        s.apply(&enter("PJSIP/147-00000001", "400.1", "147", "Alice")),
        vec![]
    );
    assert_eq!(
        s.apply(&enter("PJSIP/148-00000002", "400.2", "148", "Bob")),
        vec![
            phone("147", Some("148"), Some("Bob"), None),
            phone("148", Some("147"), Some("Alice"), None)
        ],
        "agent to agent: each sees the other"
    );
    let leave = ev(
        "BridgeLeave",
        &[
            ("BridgeUniqueid", "b2"),
            ("Channel", "PJSIP/148-00000002"),
            ("Uniqueid", "400.2"),
        ],
    );
    assert_eq!(
        s.apply(&leave),
        vec![
            phone("147", None, None, None),
            phone("148", None, None, None)
        ]
    );
}

#[test]
fn legacy_bridge_link_and_unlink() {
    let mut s = State::new(Location::parse("SIP/{agent}").unwrap(), "hints");
    s.apply(&ev(
        "ExtensionStatus",
        &[("Exten", "147"), ("Context", "hints"), ("Status", "0")],
    ));
    let link = ev(
        "Bridge",
        &[
            ("Bridgestate", "Link"),
            ("Channel1", "SIP/trunk-00000001"),
            ("Channel2", "SIP/147-00000002"),
            ("Uniqueid1", "1.1"),
            ("Uniqueid2", "1.2"),
            ("CallerID1", "0916"),
            ("CallerID2", "147"),
        ],
    );
    assert_eq!(s.apply(&link), vec![phone("147", Some("0916"), None, None)]);
    let unlink = ev(
        "Unlink",
        &[
            ("Channel1", "SIP/trunk-00000001"),
            ("Channel2", "SIP/147-00000002"),
            ("Uniqueid1", "1.1"),
            ("Uniqueid2", "1.2"),
        ],
    );
    assert_eq!(s.apply(&unlink), vec![phone("147", None, None, None)]);
}

#[test]
fn trunks_that_fit_the_template_are_not_agents() {
    let mut s = known();
    let trunk = ("PJSIP/provider-0000000a", "600.1", "0917");
    let other = ("PJSIP/provider-0000000b", "600.2", "0918");
    assert_eq!(s.apply(&dial("DialBegin", trunk, other, None)), vec![]);
    assert!(!s.agents().contains_key(&a("provider")));
}

#[test]
fn two_calls_show_the_newest_and_fall_back() {
    let mut s = known();
    let agent = ("PJSIP/147-00000001", "500.1", "147");
    s.apply(&dial(
        "DialBegin",
        ("PJSIP/t-00000002", "500.2", "111"),
        agent,
        None,
    ));
    let agent2 = ("PJSIP/147-00000003", "500.3", "147");
    assert_eq!(
        s.apply(&dial(
            "DialBegin",
            ("PJSIP/t-00000004", "500.4", "222"),
            agent2,
            None
        )),
        vec![phone("147", Some("222"), None, None)]
    );
    let hangup = ev(
        "Hangup",
        &[("Channel", "PJSIP/t-00000004"), ("Uniqueid", "500.4")],
    );
    assert_eq!(
        s.apply(&hangup),
        vec![phone("147", Some("111"), None, None)]
    );
}

#[test]
fn originate_failure_goes_to_the_src_agent() {
    let mut s = pjsip();
    s.expect_originate("pbxis-1", a("147"));
    let fail = ev(
        "OriginateResponse",
        &[
            ("ActionID", "pbxis-1"),
            ("Response", "Failure"),
            ("Exten", "1562830"),
            ("Reason", "5"),
        ],
    );
    assert_eq!(
        s.apply(&fail),
        vec![Event::OriginateFailed {
            agent: a("147"),
            action_id: "pbxis-1".into(),
            reason: "busy".into()
        }]
    );
    assert_eq!(s.apply(&fail), vec![], "once");
    s.expect_originate("pbxis-2", a("147"));
    let ok = ev(
        "OriginateResponse",
        &[
            ("ActionID", "pbxis-2"),
            ("Response", "Success"),
            ("Reason", "4"),
        ],
    );
    assert_eq!(s.apply(&ok), vec![]);
    let foreign = ev(
        "OriginateResponse",
        &[("ActionID", "other"), ("Response", "Failure")],
    );
    assert_eq!(s.apply(&foreign), vec![], "not ours");
}

#[test]
fn garbage_changes_nothing() {
    let mut s = pjsip();
    for m in [
        AmiMessage::new(),
        AmiMessage::response("Success"),
        ev(
            "QueueMemberAdded",
            &[("Queue", "bad queue\n"), ("Interface", "PJSIP/147")],
        ),
        ev("QueueCallerJoin", &[("Count", "x")]),
        ev("BridgeEnter", &[("Channel", "PJSIP/147-1")]),
        ev("AgentComplete", &[("Interface", "PJSIP/147")]),
        ev("Hangup", &[]),
    ] {
        assert_eq!(s.apply(&m), vec![], "{m:?}");
    }
    assert!(s.queues().is_empty());
}
