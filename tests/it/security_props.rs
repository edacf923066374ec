//! Property tests of input validation against AMI injection: random strings (CR, LF, NUL, tab,
//! C0/C1 controls, Unicode line separators, bidi and zero-width format characters, `:` and `,`
//! mixed with ordinary text) go through every validator and then through the AMI encoder in the
//! actions the service sends (built by the model's own `pbx::actions`, under several location
//! templates). Each value is either refused, or the bytes on the wire decode (as
//! Asterisk's side reads them) to exactly the intended headers, no more, no fewer.

use bytes::BytesMut;
use pbxis_ws::ami::codec::{AmiCodec, AmiFrame};
use pbxis_ws::ami::AmiMessage;
use pbxis_ws::pbx::service::QueueAction;
use pbxis_ws::pbx::{actions, Location};
use pbxis_ws::pbx::{AgentId, CallerId, Context, Destination, MemberName, PauseReason, QueueName};
use pbxis_ws::pbx::{AgentOrChannel, ChannelName, SpyMode};
use pbxis_ws::pbx::{VariableName, VariableValue, Variables};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

/// Characters that must never reach AMI inside a validated value.
const DANGEROUS: &[char] = &[
    '\r', '\n', '\0', '\t', '\u{b}', '\u{c}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{2028}',
    '\u{2029}', '\u{200b}', '\u{200d}', '\u{202e}', '\u{2066}', '\u{feff}',
];

fn is_dangerous(c: char) -> bool {
    c.is_control() || DANGEROUS.contains(&c)
}

/// One character, biased towards the ones that break protocols.
fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(DANGEROUS.to_vec()),
        2 => prop::sample::select(vec![':', ',', ' ', '"', '<', '>', '/', '@', '_', '+', '*', '#', '.', '-', '\'', '!', '?', '(', ')', 'Š', 'ć', '中']),
        4 => prop::char::range('a', 'z'),
        3 => prop::char::range('0', '9'),
        1 => any::<char>(),
    ]
}

/// A random string: mostly plausible text with hostile characters in it, sometimes long.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::collection::vec(hostile_char(), 0..24),
        1 => prop::collection::vec(hostile_char(), 24..120),
        1 => ("[0-9a-z]{1,10}", prop::sample::select(vec!["\r\n", "\n", "\r", "\0", "\r\n\r\n"]), "[A-Za-z: ]{0,30}")
            .prop_map(|(a, brk, b)| format!("{a}{brk}{b}").chars().collect()),
    ]
    .prop_map(|chars: Vec<char>| chars.into_iter().collect())
}

/// Encodes `action` as the service's AMI client does; on success decodes the bytes as the
/// server (Asterisk, or the simulator) does and returns what it read.
fn wire_round_trip(action: &AmiMessage) -> Option<Vec<AmiMessage>> {
    let mut wire = BytesMut::new();
    AmiCodec::client().encode(action, &mut wire).ok()?;
    let mut server = AmiCodec::server();
    let mut read = Vec::new();
    while let Some(frame) = server.decode(&mut wire).expect("server decode") {
        match frame {
            AmiFrame::Message(m) => read.push(m),
            other => panic!("unexpected frame {other:?}"),
        }
    }
    assert!(wire.is_empty(), "bytes left over: {wire:?}");
    Some(read)
}

fn fields(m: &AmiMessage) -> Vec<(String, String)> {
    m.fields()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Checks a validated value: nothing dangerous in it, and every action it goes into arrives
/// exactly as built.
fn check_accepted(value: &str, actions: &[AmiMessage]) {
    assert!(
        !value.chars().any(is_dangerous),
        "validator accepted {value:?}"
    );
    assert!(!value.starts_with(' ') && !value.ends_with(' '));
    for action in actions {
        let read = wire_round_trip(action).expect("a validated value must be encodable");
        assert_eq!(read.len(), 1, "{read:?}");
        assert_eq!(fields(&read[0]), fields(action));
    }
}

fn locations() -> Vec<Location> {
    ["PJSIP/{agent}", "Local/{agent}@agents/n", "SIP/{agent}"]
        .into_iter()
        .map(|t| Location::parse(t).unwrap())
        .collect()
}

fn agent(s: &str) -> AgentId {
    AgentId::parse(s).unwrap()
}

fn queue(s: &str) -> QueueName {
    QueueName::parse(s).unwrap()
}

/// The model's own `Originate` (the only form it sends).
fn originate(
    src: &AgentId,
    dest: &Destination,
    cid: Option<&CallerId>,
    ctx: &Context,
) -> Vec<AmiMessage> {
    locations()
        .iter()
        .map(|l| actions::originate("pbxis-17", src, dest, cid, &Variables::default(), ctx, l))
        .collect()
}

/// The model's own `Originate` with one variable (`name` and `value` already accepted), under
/// every location template: the `Variable` header is exactly `name=value`.
fn with_variable(name: &str, value: &str) -> Vec<AmiMessage> {
    let json = serde_json::json!({ name: value }).to_string();
    let vars: Variables = serde_json::from_str(&json).unwrap();
    let all: Vec<AmiMessage> = locations()
        .iter()
        .map(|l| {
            let (a, d, c) = (agent("148"), dest(), default_context());
            actions::originate("pbxis-17", &a, &d, None, &vars, &c, l)
        })
        .collect();
    for m in &all {
        assert_eq!(
            m.get_all("Variable").collect::<Vec<_>>(),
            [format!("{name}={value}")]
        );
    }
    all
}

/// The model's own queue actions, under every location template.
fn queue_actions(action: QueueAction) -> Vec<AmiMessage> {
    locations()
        .iter()
        .map(|l| actions::queue_action(&action, l))
        .collect()
}

fn default_context() -> Context {
    Context::parse("default").unwrap()
}

fn dest() -> Destination {
    Destination::parse("1562830").unwrap()
}

fn agent_actions(a: &AgentId) -> Vec<AmiMessage> {
    let mut all = queue_actions(QueueAction::Add {
        queue: queue("q1"),
        agent: a.clone(),
        member_name: None,
        paused: Some(false),
    });
    all.extend(queue_actions(QueueAction::Remove {
        queue: queue("q1"),
        agent: a.clone(),
    }));
    all.extend(queue_actions(QueueAction::Pause {
        queue: queue("q1"),
        agent: a.clone(),
        paused: true,
        reason: None,
    }));
    all.extend(originate(a, &dest(), None, &default_context()));
    all.push(
        AmiMessage::action("ExtensionState")
            .with("Exten", a.as_str())
            .with("Context", "default"),
    );
    all
}

fn queue_name_actions(q: &QueueName) -> Vec<AmiMessage> {
    let mut all = queue_actions(QueueAction::Reset {
        queue: Some(q.clone()),
    });
    all.extend(queue_actions(QueueAction::Pause {
        queue: q.clone(),
        agent: agent("147"),
        paused: false,
        reason: None,
    }));
    all.push(AmiMessage::action("QueueStatus").with("Queue", q.as_str()));
    all.push(AmiMessage::action("QueueSummary").with("Queue", q.as_str()));
    all
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn agent_ids(s in hostile_string()) {
        if let Ok(a) = AgentId::parse(&s) {
            prop_assert_eq!(a.as_str(), s.as_str());
            prop_assert!(!s.contains([':', ',', '/', '@', ' ']));
            check_accepted(a.as_str(), &agent_actions(&a));
        }
    }

    #[test]
    fn queue_names(s in hostile_string()) {
        if let Ok(q) = QueueName::parse(&s) {
            prop_assert!(!s.contains([':', ',', '/', '@', ' ']));
            check_accepted(q.as_str(), &queue_name_actions(&q));
        }
    }

    #[test]
    fn member_names(s in hostile_string()) {
        if let Ok(v) = MemberName::parse(&s) {
            check_accepted(v.as_str(), &queue_actions(QueueAction::Add {
                queue: queue("q1"), agent: agent("147"), member_name: Some(v.clone()), paused: Some(true),
            }));
        }
    }

    #[test]
    fn pause_reasons(s in hostile_string()) {
        if let Ok(v) = PauseReason::parse(&s) {
            check_accepted(v.as_str(), &queue_actions(QueueAction::Pause {
                queue: queue("q1"), agent: agent("147"), paused: true, reason: Some(v.clone()),
            }));
        }
    }

    /// Channel names (`agent-or-channel` of hangup, redirect, park), behind a plausible
    /// technology so that both outcomes are common; in every call-control action.
    #[test]
    fn channel_names(s in hostile_string()) {
        let s = format!("PJSIP/{s}");
        if let Ok(v) = ChannelName::parse(&s) {
            prop_assert!(!s.contains([',', '|', '&', ' ', '"', '\'']), "{:?}", s);
            prop_assert_eq!(
                AgentOrChannel::parse(&s),
                Ok(AgentOrChannel::Channel(v.clone()))
            );
            let c = v.as_str();
            check_accepted(c, &[
                actions::hangup(c),
                actions::redirect(c, &default_context(), &dest()),
                actions::park(c, Some(c)),
            ]);
        } else {
            prop_assert!(AgentOrChannel::parse(&s).is_err());
        }
    }

    /// Agent ids as `agent-or-channel`, and in the spy originate (`ChanSpy` data included).
    #[test]
    fn agents_to_spy_on(s in hostile_string()) {
        if let Ok(a) = AgentId::parse(&s) {
            prop_assert_eq!(AgentOrChannel::parse(&s), Ok(AgentOrChannel::Agent(a.clone())));
            for l in locations() {
                for mode in [SpyMode::Listen, SpyMode::Whisper, SpyMode::Barge] {
                    let m = actions::spy("pbxis-17", &agent("148"), &a, mode, &l);
                    let data = format!("{}-,{}", l.device(&a), mode.chanspy_options());
                    prop_assert_eq!(m.get("Data"), Some(data.as_str()));
                    check_accepted(a.as_str(), &[m]);
                }
            }
        }
    }

    #[test]
    fn destinations(s in hostile_string()) {
        if let Ok(v) = Destination::parse(&s) {
            prop_assert!(!s.starts_with('_'));
            prop_assert!(!s.contains(['/', '@', '&', ',', '(', '|']));
            check_accepted(v.as_str(), &originate(&agent("148"), &v, None, &default_context()));
        }
    }

    #[test]
    fn caller_ids(s in hostile_string()) {
        if let Ok(v) = CallerId::parse(&s) {
            check_accepted(v.as_str(), &originate(&agent("148"), &dest(), Some(&v), &default_context()));
        }
    }

    #[test]
    fn variable_names(s in hostile_string()) {
        if let Ok(v) = VariableName::parse(&s) {
            prop_assert!(!s.contains(['=', ',', ' ', '$', '{', '(']), "{:?}", s);
            check_accepted(v.as_str(), &with_variable(v.as_str(), "1"));
        }
    }

    #[test]
    fn variable_values(s in hostile_string()) {
        if let Ok(v) = VariableValue::parse(&s) {
            // A comma would set another variable: Asterisk splits the header at commas.
            prop_assert!(!s.contains(','), "{:?}", s);
            check_accepted(v.as_str(), &with_variable("CRM_ID", v.as_str()));
        }
    }

    #[test]
    fn contexts(s in hostile_string()) {
        if let Ok(v) = Context::parse(&s) {
            prop_assert!(!s.contains([',', '(', ')', '$', '{', '}', '/', '@']), "{:?}", s);
            let mut all = originate(&agent("148"), &dest(), None, &v);
            all.push(AmiMessage::action("ExtensionState").with("Exten", "147").with("Context", v.as_str()));
            check_accepted(v.as_str(), &all);
        }
    }

    /// The encoder alone, with no validator in front: any value either is refused or arrives as
    /// one header (leading blanks dropped, as Asterisk's parser drops them); never an extra
    /// header or action.
    #[test]
    fn encoder_never_splits_a_value(s in hostile_string(), key in prop::sample::select(vec!["CallerID", "MemberName", "Reason", "Exten"])) {
        let action = AmiMessage::action("Originate").with("ActionID", "x").with(key, &s);
        match wire_round_trip(&action) {
            None => prop_assert!(s.contains(['\r', '\n', '\0']) || s.len() > 1000),
            Some(read) => {
                prop_assert!(!s.contains(['\r', '\n', '\0']));
                prop_assert_eq!(read.len(), 1);
                prop_assert_eq!(read[0].len(), 3);
                prop_assert_eq!(read[0].get(key), Some(s.trim_start_matches([' ', '\t'])));
            }
        }
    }
}

/// Every validator refuses each dangerous character in any position.
#[test]
fn every_validator_refuses_every_dangerous_character() {
    for &c in DANGEROUS {
        for s in [format!("{c}147"), format!("14{c}7"), format!("147{c}")] {
            assert!(AgentId::parse(&s).is_err(), "{s:?}");
            assert!(QueueName::parse(&s).is_err(), "{s:?}");
            assert!(MemberName::parse(&s).is_err(), "{s:?}");
            assert!(PauseReason::parse(&s).is_err(), "{s:?}");
            assert!(Destination::parse(&s).is_err(), "{s:?}");
            assert!(CallerId::parse(&s).is_err(), "{s:?}");
            assert!(Context::parse(&s).is_err(), "{s:?}");
            assert!(ChannelName::parse(&format!("PJSIP/{s}")).is_err(), "{s:?}");
            assert!(
                AgentOrChannel::parse(&format!("PJSIP/{s}")).is_err(),
                "{s:?}"
            );
        }
    }
}

/// Every Unicode control and format character, exhaustively, against the free-text validators
/// (the ones that accept letters of any script).
#[test]
fn free_text_validators_refuse_all_unicode_controls() {
    let controls = (0u32..=0x10FFFF)
        .filter_map(char::from_u32)
        .filter(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'));
    for c in controls {
        let s = format!("a{c}b");
        assert!(MemberName::parse(&s).is_err(), "{s:?}");
        assert!(PauseReason::parse(&s).is_err(), "{s:?}");
        assert!(CallerId::parse(&s).is_err(), "{s:?}");
    }
}

/// The generator is not vacuous: each validator accepts some of its strings and refuses others,
/// so the properties above exercise both branches.
#[test]
fn generator_reaches_both_outcomes_of_every_validator() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    type Check = fn(&str) -> bool;
    let validators: [(&str, Check); 8] = [
        ("channel", |s| {
            ChannelName::parse(&format!("PJSIP/{s}")).is_ok()
        }),
        ("agent", |s| AgentId::parse(s).is_ok()),
        ("queue", |s| QueueName::parse(s).is_ok()),
        ("memberName", |s| MemberName::parse(s).is_ok()),
        ("reason", |s| PauseReason::parse(s).is_ok()),
        ("destination", |s| Destination::parse(s).is_ok()),
        ("callerId", |s| CallerId::parse(s).is_ok()),
        ("context", |s| Context::parse(s).is_ok()),
    ];
    let mut runner = TestRunner::deterministic();
    let samples: Vec<String> = (0..2000)
        .map(|_| hostile_string().new_tree(&mut runner).unwrap().current())
        .collect();
    for (name, ok) in validators {
        let accepted = samples.iter().filter(|s| ok(s)).count();
        assert!(
            accepted > 20 && accepted < samples.len() - 20,
            "{name}: {accepted} of {} accepted",
            samples.len()
        );
    }
}
