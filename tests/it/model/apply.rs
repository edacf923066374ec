//! Unit tests of the model's digest, one mapping rule each: AMI events in, published events out
//! (only real changes), for current and legacy event names: queue counts, members, devices,
//! originate failures, junk. Calls (`phoneNumber`) are in `model_calls.rs`.

use pbxis_ws::ami::AmiMessage;
use pbxis_ws::pbx::sync::{rebuild, sync_events, Lists};
use pbxis_ws::pbx::{AgentId, DeviceStatus, Event, Location, MemberStatus, QueueName, State};

fn pjsip() -> State {
    State::new(Location::parse("PJSIP/{agent}").unwrap(), "hints")
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
    let got = s.apply(&join);
    assert_eq!(got[0], count1);
    assert!(
        matches!(&got[1..], [Event::QueueCallers { callers, .. }] if callers.len() == 1),
        "{got:?}"
    );
    assert_eq!(s.apply(&join), vec![], "same count twice is no event");
    let legacy = ev(
        "Leave",
        &[("Queue", "q1"), ("Count", "0"), ("Uniqueid", "1.1")],
    );
    assert_eq!(
        s.apply(&legacy),
        vec![
            Event::QueueCount {
                queue: q("q1"),
                count: 0
            },
            Event::QueueCallers {
                queue: q("q1"),
                callers: vec![]
            }
        ]
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

/// A member event of 147 named `name`.
fn named(event: &str, queue: &str, name: &str) -> AmiMessage {
    ev(
        event,
        &[
            ("Queue", queue),
            ("MemberName", name),
            ("Interface", "PJSIP/147"),
            ("StateInterface", "PJSIP/147"),
            ("Membership", "dynamic"),
            ("Status", "1"),
            ("Paused", "0"),
        ],
    )
}

fn names(events: &[Event]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::AgentName { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn names_follow_the_latest_word_of_asterisk() {
    let mut s = pjsip();
    assert_eq!(
        names(&s.apply(&named("QueueMemberAdded", "q1", "Ana"))),
        ["Ana"]
    );
    // Added to another queue under another name: renamed, though still a member of q1 as Ana.
    assert_eq!(
        names(&s.apply(&named("QueueMemberAdded", "q2", "Ana Horvat"))),
        ["Ana Horvat"]
    );
    // q1's unchanged name in a status event is no news.
    assert!(names(&s.apply(&named("QueueMemberStatus", "q1", "Ana"))).is_empty());
    // A known member reported under a new name: renamed.
    assert_eq!(
        names(&s.apply(&named("QueueMemberStatus", "q1", "Ana H."))),
        ["Ana H."]
    );
    // Added without a name (Asterisk then names the member by its interface): no rename.
    assert!(names(&s.apply(&named("QueueMemberAdded", "q3", "PJSIP/147"))).is_empty());
    // A log-off does not rename.
    let removed = ev(
        "QueueMemberRemoved",
        &[("Queue", "q1"), ("Interface", "PJSIP/147")],
    );
    assert!(names(&s.apply(&removed)).is_empty());
    assert_eq!(s.agents()[&a("147")].name.as_deref(), Some("Ana H."));
}

#[test]
fn an_agent_without_a_name_takes_even_the_interface() {
    let mut s = pjsip();
    assert_eq!(
        names(&s.apply(&named("QueueMemberAdded", "q1", "PJSIP/147"))),
        ["PJSIP/147"]
    );
    assert_eq!(
        names(&s.apply(&named("QueueMemberAdded", "q2", "Ana"))),
        ["Ana"]
    );
}

#[test]
fn a_rebuild_keeps_a_name_still_held_and_follows_one_changed_meanwhile() {
    let mut s = pjsip();
    s.apply(&named("QueueMemberAdded", "q1", "Ana"));
    s.apply(&named("QueueMemberAdded", "q2", "Zoe"));
    let rebuilt = |items: Vec<AmiMessage>| {
        let lists = Lists {
            queue_status: items,
            ..Lists::default()
        };
        let new = rebuild(&s, &lists);
        let name = new.agents()[&a("147")].name.clone();
        (name, names(&sync_events(&s, &new)).len())
    };
    // Zoe is still q2's name, whatever the order of the list: the agent stays Zoe.
    for order in [["q1", "q2"], ["q2", "q1"]] {
        let items = order
            .iter()
            .map(|queue| {
                named(
                    "QueueMember",
                    queue,
                    if *queue == "q1" { "Ana" } else { "Zoe" },
                )
            })
            .collect();
        assert_eq!(rebuilt(items), (Some("Zoe".to_owned()), 0), "{order:?}");
    }
    // Renamed in Asterisk while the link was down: the list's name is followed.
    let items = vec![
        named("QueueMember", "q1", "Ana"),
        named("QueueMember", "q2", "Zoey"),
    ];
    assert_eq!(rebuilt(items), (Some("Ana".to_owned()), 1));
}

#[test]
fn strings_from_ami_are_kept_clipped_on_a_character_boundary() {
    use pbxis_ws::pbx::state::MAX_TEXT_BYTES;
    let long_name = "Ana č".repeat(1000);
    let long_reason = "ručak ".repeat(1000);
    let mut s = pjsip();
    let added = ev(
        "QueueMemberAdded",
        &[
            ("Queue", "q1"),
            ("MemberName", &long_name),
            ("Interface", "PJSIP/147"),
            ("Membership", "dynamic"),
            ("Status", "1"),
            ("Paused", "1"),
            ("PausedReason", &long_reason),
        ],
    );
    let out = s.apply(&added);
    let name = names(&out)[0];
    assert!(
        name.len() <= MAX_TEXT_BYTES && name.len() > MAX_TEXT_BYTES - 4,
        "{}",
        name.len()
    );
    assert!(long_name.starts_with(name));
    let reason = out
        .iter()
        .find_map(|e| match e {
            Event::QueueMemberStatus { reason, .. } => reason.clone(),
            _ => None,
        })
        .expect("paused with a reason");
    assert!(reason.len() <= MAX_TEXT_BYTES && long_reason.starts_with(&reason));
    let kept = &s.agents()[&a("147")];
    assert_eq!(kept.name.as_deref(), Some(name));
    assert!(kept
        .members
        .values()
        .all(|m| m.name.len() <= MAX_TEXT_BYTES && m.reason.len() <= MAX_TEXT_BYTES));
}
