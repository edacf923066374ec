//! The rebuild against an Asterisk that refuses lists (played by a scripted AMI server over real
//! TCP): without `ExtensionStateList` the model asks `ExtensionState` in the configured hint
//! context for every agent it knows, and takes the answers as the agents' extension status; a
//! refused `CoreShowChannels` counts as "no calls known" and the model is built all the same.

use crate::support::scripted_ami;

use std::sync::Arc;
use std::time::Duration;

use pbxis_ws::ami::client;
use pbxis_ws::ami::AmiMessage;
use pbxis_ws::pbx::service::{try_spawn, EventSink, PbxConfig};
use pbxis_ws::pbx::{AgentId, Context, DeviceStatus, Event, Filter, MemberStatus, QueueName};
use scripted_ami::{reply, Peer, ScriptedAmi};

struct Discard;

impl EventSink for Discard {
    fn publish(&self, _: &[Event]) {}
}

/// The next action other than a keep-alive `Ping` (answered).
async fn action(peer: &mut Peer, name: &str) -> AmiMessage {
    loop {
        let a = peer.recv().await;
        if a.action_name() == Some("Ping") {
            peer.send(reply(&a, "Success").with("Ping", "Pong")).await;
            continue;
        }
        assert_eq!(a.action_name(), Some(name), "{a:?}");
        return a;
    }
}

fn item(name: &str, action: &AmiMessage, fields: &[(&str, &str)]) -> AmiMessage {
    fields
        .iter()
        .fold(AmiMessage::event(name), |m, (k, v)| m.with(k, v))
        .with("ActionID", action.action_id().unwrap_or_default())
}

async fn list(peer: &mut Peer, action: &AmiMessage, complete: &str, items: Vec<AmiMessage>) {
    peer.send(
        reply(action, "Success")
            .with("EventList", "start")
            .with("Message", "will follow"),
    )
    .await;
    let n = items.len().to_string();
    for i in items {
        peer.send(i).await;
    }
    let end = item(
        complete,
        action,
        &[("EventList", "Complete"), ("ListItems", &n)],
    );
    peer.send(end).await;
}

#[tokio::test]
async fn extension_state_per_agent_when_the_list_is_refused() {
    let server = ScriptedAmi::start().await;
    let (ami, events) = client::connect(server.config());
    let config = PbxConfig {
        location: "PJSIP/{agent}".into(),
        hint_context: Context::parse("agent-hints").unwrap(),
        ..PbxConfig::default()
    };
    let pbx = try_spawn(ami, events, Arc::new(Discard), config).unwrap();
    let mut peer = server.accept_logged_in().await;

    let qs = action(&mut peer, "QueueStatus").await;
    let items = vec![
        item("QueueParams", &qs, &[("Queue", "q1"), ("Calls", "0")]),
        item(
            "QueueMember",
            &qs,
            &[
                ("Queue", "q1"),
                ("Name", "Alice"),
                ("Location", "PJSIP/147"),
                ("Status", "1"),
                ("Paused", "0"),
            ],
        ),
    ];
    list(&mut peer, &qs, "QueueStatusComplete", items).await;

    let esl = action(&mut peer, "ExtensionStateList").await;
    let refusal = "Invalid/unknown command: ExtensionStateList. Use Action: ListCommands to show available commands.";
    peer.send(reply(&esl, "Error").with("Message", refusal))
        .await;

    let es = action(&mut peer, "ExtensionState").await;
    assert_eq!(es.get("Exten"), Some("147"));
    assert_eq!(es.get("Context"), Some("agent-hints"));
    let answer = reply(&es, "Success")
        .with("Message", "Extension Status")
        .with("Exten", "147")
        .with("Context", "agent-hints")
        .with("Hint", "PJSIP/147")
        .with("Status", "8")
        .with("StatusText", "Ringing");
    peer.send(answer).await;

    let csc = action(&mut peer, "CoreShowChannels").await;
    list(&mut peer, &csc, "CoreShowChannelsComplete", Vec::new()).await;

    tokio::time::timeout(Duration::from_secs(20), async {
        while !pbx.link().ready {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the model is rebuilt");
    let agent = AgentId::parse("147").unwrap();
    let filter = Filter::new([agent.clone()], [QueueName::parse("q1").unwrap()]);
    let snapshot = pbx.subscribe(filter, |s| s).await.unwrap();
    let ringing = Event::ExtensionStatus {
        agent,
        status: DeviceStatus::Ringing,
    };
    assert!(snapshot.contains(&ringing), "{snapshot:?}");
}

#[tokio::test]
async fn a_refused_channel_list_means_no_calls_and_the_model_is_built() {
    let server = ScriptedAmi::start().await;
    let (ami, events) = client::connect(server.config());
    let config = PbxConfig {
        location: "PJSIP/{agent}".into(),
        ..PbxConfig::default()
    };
    let pbx = try_spawn(ami, events, Arc::new(Discard), config).unwrap();
    let mut peer = server.accept_logged_in().await;

    let qs = action(&mut peer, "QueueStatus").await;
    let member = item(
        "QueueMember",
        &qs,
        &[
            ("Queue", "q1"),
            ("Name", "Alice"),
            ("Location", "PJSIP/147"),
            ("Status", "1"),
            ("Paused", "1"),
        ],
    );
    let items = vec![
        item("QueueParams", &qs, &[("Queue", "q1"), ("Calls", "0")]),
        member,
    ];
    list(&mut peer, &qs, "QueueStatusComplete", items).await;
    let esl = action(&mut peer, "ExtensionStateList").await;
    list(&mut peer, &esl, "ExtensionStateListComplete", Vec::new()).await;
    let csc = action(&mut peer, "CoreShowChannels").await;
    peer.send(reply(&csc, "Error").with("Message", "Permission denied"))
        .await;

    tokio::time::timeout(Duration::from_secs(20), async {
        while !pbx.link().ready {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the model is built despite the refusal");
    let agent = AgentId::parse("147").unwrap();
    let queue = QueueName::parse("q1").unwrap();
    let snapshot = pbx
        .subscribe(Filter::new([agent.clone()], [queue.clone()]), |s| s)
        .await
        .unwrap();
    assert_eq!(snapshot[0], Event::PbxStatus { connected: true });
    let paused = Event::QueueMemberStatus {
        agent,
        queue,
        status: MemberStatus::Paused,
        reason: None,
    };
    assert!(snapshot.contains(&paused), "{snapshot:?}");
    assert!(
        !snapshot
            .iter()
            .any(|e| matches!(e, Event::PhoneNumber { .. })),
        "no calls known: {snapshot:?}"
    );
}
