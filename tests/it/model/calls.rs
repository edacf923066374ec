//! Unit tests of call tracking (`phoneNumber`, `agentComplete`), one rule each: queue calls,
//! direct and outbound calls, bridges (current and legacy), hang-ups of either leg, trunks, and
//! several calls at once.

use pbxis_ws::ami::AmiMessage;
use pbxis_ws::pbx::{AgentId, Event, Location, QueueName, State};

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
fn inherited_names_are_not_the_remote_party() {
    let mut s = known();
    let enter = |ch: &str, uid: &str, num: &str, name: &str| {
        ev(
            "BridgeEnter",
            &[
                ("BridgeUniqueid", "b9"),
                ("Channel", ch),
                ("Uniqueid", uid),
                ("CallerIDNum", num),
                ("CallerIDName", name),
            ],
        )
    };
    // Inbound: the agent's leg was dialled and carries the caller's number and name.
    s.apply(&enter("PJSIP/147-00000001", "700.2", "0911", "Customer"));
    let inbound = s.apply(&enter("PJSIP/trunk-00000002", "700.1", "0911", "Customer"));
    assert_eq!(
        inbound,
        vec![phone("147", Some("0911"), Some("Customer"), None)]
    );
    // Outbound: the dialled party's channel took over the agent's name.
    let mut s = known();
    let enter2 = |ch: &str, uid: &str, num: &str, name: &str| {
        ev(
            "BridgeEnter",
            &[
                ("BridgeUniqueid", "b10"),
                ("Channel", ch),
                ("Uniqueid", uid),
                ("CallerIDNum", num),
                ("CallerIDName", name),
            ],
        )
    };
    s.apply(&enter2("PJSIP/148-00000003", "701.1", "148", "Bob"));
    let outbound = s.apply(&enter2("PJSIP/trunk-00000004", "701.2", "1562830", "Bob"));
    assert_eq!(outbound, vec![phone("148", Some("1562830"), None, None)]);
}

#[test]
fn a_swapped_channel_keeps_the_call() {
    let mut s = known();
    let caller = ("PJSIP/trunk-0000000a", "800.1", "0919");
    let agent = ("PJSIP/147-0000000b", "800.2", "0919");
    s.apply(&dial("DialBegin", caller, agent, None));
    let enter = |ch: &str, uid: &str, swap: Option<&str>| {
        let mut m = ev(
            "BridgeEnter",
            &[
                ("BridgeUniqueid", "b11"),
                ("Channel", ch),
                ("Uniqueid", uid),
                ("CallerIDNum", "0919"),
            ],
        );
        if let Some(old) = swap {
            m.push("SwapUniqueid", old);
        }
        m
    };
    s.apply(&enter(agent.0, agent.1, None));
    s.apply(&enter(caller.0, caller.1, None));
    let swapped = enter("PJSIP/trunk-0000000c", "800.3", Some("800.1"));
    assert_eq!(s.apply(&swapped), vec![], "same party, same number");
    let old_gone = ev("Hangup", &[("Channel", caller.0), ("Uniqueid", caller.1)]);
    assert_eq!(
        s.apply(&old_gone),
        vec![],
        "the replaced channel's hangup ends nothing"
    );
    let new_gone = ev(
        "Hangup",
        &[("Channel", "PJSIP/trunk-0000000c"), ("Uniqueid", "800.3")],
    );
    assert_eq!(s.apply(&new_gone), vec![phone("147", None, None, None)]);
}
