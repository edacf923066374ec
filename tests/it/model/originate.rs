//! Unit tests of our originates while they ring the agent's phone: the destination is shown
//! from the ringing on (the events shaped as recorded: a `DialBegin` without a calling channel,
//! the agent's channel at its own extension), it gives way to the dialled party without a
//! flicker, and it is cleared however the originate ends; a ringing that cannot be linked to
//! exactly one originate of ours shows nothing; a rebuild restores it.

use pbxis_ws::ami::AmiMessage;
use pbxis_ws::pbx::sync::{rebuild, Lists};
use pbxis_ws::pbx::{AgentId, Event, Location, State};

/// A model that knows agents 147 and 148 (hints, idle), location `PJSIP/{agent}`.
fn known() -> State {
    let mut s = State::new(Location::parse("PJSIP/{agent}").unwrap(), "hints");
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
fn ev(name: &str, fields: &[(&str, &str)]) -> AmiMessage {
    fields
        .iter()
        .fold(AmiMessage::event(name), |m, (k, v)| m.with(k, v))
}
fn phone(agent: &str, number: Option<&str>) -> Event {
    Event::PhoneNumber {
        agent: a(agent),
        number: number.map(str::to_owned),
        name: None,
        queue: None,
    }
}

/// The agent's phone rings for an originate: no calling channel, as recorded.
fn rings(channel: &str, uid: &str) -> AmiMessage {
    ev(
        "DialBegin",
        &[
            ("DestChannel", channel),
            ("DestUniqueid", uid),
            ("DestCallerIDNum", "147"),
            ("DestCallerIDName", "Agent 147"),
            ("DestExten", "147"),
            ("DialString", "147"),
        ],
    )
}
fn response(id: &str, ok: bool, uid: &str, reason: &str) -> AmiMessage {
    let r = if ok { "Success" } else { "Failure" };
    ev(
        "OriginateResponse",
        &[
            ("ActionID", id),
            ("Response", r),
            ("Uniqueid", uid),
            ("Reason", reason),
        ],
    )
}
fn hangup(channel: &str, uid: &str) -> AmiMessage {
    ev("Hangup", &[("Channel", channel), ("Uniqueid", uid)])
}

#[test]
fn answered_originate_shows_the_destination_from_the_ringing_on_without_flicker() {
    let mut s = known();
    s.expect_originate_to("pbxis-1", a("147"), Some("1562830"));
    let ring = rings("PJSIP/147-00000001", "500.1");
    assert_eq!(s.apply(&ring), vec![phone("147", Some("1562830"))]);
    assert_eq!(s.apply(&ring), vec![], "a repeated event changes nothing");
    let ok = response("pbxis-1", true, "500.1", "4");
    assert_eq!(s.apply(&ok), vec![]);
    // The destination is dialled from the agent's channel; it inherits the agent's name.
    let dial = ev(
        "DialBegin",
        &[
            ("Channel", "PJSIP/147-00000001"),
            ("Uniqueid", "500.1"),
            ("CallerIDNum", "147"),
            ("CallerIDName", "Agent 147"),
            ("DestChannel", "PJSIP/trunk-00000002"),
            ("DestUniqueid", "500.2"),
            ("DestCallerIDNum", "1562830"),
            ("DestCallerIDName", "Agent 147"),
        ],
    );
    assert_eq!(s.apply(&dial), vec![], "the same number, no flicker");
    let gone = s.apply(&hangup("PJSIP/trunk-00000002", "500.2"));
    assert_eq!(gone, vec![phone("147", None)], "the placeholder gave way");
    assert_eq!(s.apply(&hangup("PJSIP/147-00000001", "500.1")), vec![]);
}

#[test]
fn unanswered_originate_is_cleared_by_the_hangup_or_the_failure() {
    // As recorded: the ringing channel hangs up, then the failure arrives.
    let mut s = known();
    s.expect_originate_to("pbxis-1", a("147"), Some("1562830"));
    s.apply(&rings("PJSIP/147-00000001", "500.1"));
    let gone = s.apply(&hangup("PJSIP/147-00000001", "500.1"));
    assert_eq!(gone, vec![phone("147", None)]);
    let failed = s.apply(&response("pbxis-1", false, "<unknown>", "3"));
    assert_eq!(
        failed,
        vec![Event::OriginateFailed {
            agent: a("147"),
            action_id: "pbxis-1".into(),
            reason: "no answer".into(),
        }]
    );
    // The failure first: it clears the number itself.
    let mut s = known();
    s.expect_originate_to("pbxis-2", a("147"), Some("1562830"));
    s.apply(&rings("PJSIP/147-00000003", "501.1"));
    let failed = s.apply(&response("pbxis-2", false, "<unknown>", "5"));
    assert_eq!(failed[0], phone("147", None));
    assert!(matches!(failed[1], Event::OriginateFailed { .. }));
    assert_eq!(s.apply(&hangup("PJSIP/147-00000003", "501.1")), vec![]);
}

#[test]
fn ringing_that_is_not_exactly_one_of_our_originates_shows_nothing() {
    let mut s = known();
    let ring = rings("PJSIP/147-00000001", "500.1");
    assert_eq!(s.apply(&ring), vec![], "no originate of ours");
    s.expect_originate_to("pbxis-1", a("148"), Some("1562830"));
    assert_eq!(s.apply(&ring), vec![], "ours is for another agent");
    s.expect_originate_to("pbxis-2", a("147"), Some("1562830"));
    s.expect_originate_to("pbxis-3", a("147"), Some("1562831"));
    assert_eq!(s.apply(&ring), vec![], "two of ours: ambiguous");
    let mut s = known();
    s.expect_originate("pbxis-4", a("147"));
    assert_eq!(s.apply(&ring), vec![], "destination unknown");
}

#[test]
fn a_ringing_linked_to_the_wrong_originate_is_withdrawn_on_success() {
    let mut s = known();
    s.expect_originate_to("pbxis-1", a("147"), Some("1562830"));
    // Someone else's originate rings 147 first and is taken for ours.
    s.apply(&rings("PJSIP/147-00000001", "500.1"));
    let ok = response("pbxis-1", true, "500.9", "4");
    assert_eq!(s.apply(&ok), vec![phone("147", None)]);
}

fn channel(name: &str, uid: &str) -> AmiMessage {
    ev(
        "CoreShowChannel",
        &[
            ("Channel", name),
            ("Uniqueid", uid),
            ("Linkedid", uid),
            ("CallerIDNum", "147"),
            ("CallerIDName", "Agent 147"),
            ("BridgeId", ""),
        ],
    )
}

#[test]
fn a_rebuild_restores_a_ringing_originate_of_ours_only() {
    let mut s = known();
    s.expect_originate_to("pbxis-1", a("147"), Some("1562830"));
    s.apply(&rings("PJSIP/147-00000001", "500.1"));
    let hints = ["147", "148"].map(|agent| {
        ev(
            "ExtensionStatus",
            &[("Exten", agent), ("Context", "hints"), ("Status", "8")],
        )
    });
    let lists = Lists {
        extensions: hints.to_vec(),
        channels: vec![channel("PJSIP/147-00000001", "500.1")],
        ..Lists::default()
    };
    let key = pbxis_ws::pbx::snapshot::Key::Phone(a("147"));
    let rebuilt = rebuild(&s, &lists).view();
    assert_eq!(rebuilt.0.get(&key), Some(&phone("147", Some("1562830"))));
    assert_eq!(rebuilt.0.get(&key), s.view().0.get(&key), "as live");
    // The same channel, but the originate is not ours (or already answered): nothing.
    let other = Lists {
        channels: vec![channel("PJSIP/147-00000002", "502.1")],
        ..lists
    };
    assert_eq!(rebuild(&s, &other).view().0.get(&key), None);
}
