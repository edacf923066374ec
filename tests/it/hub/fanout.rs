//! Hub fan-out: which ticket receives which event (DESIGN.md, "Events", filtering), the snapshot
//! first, each event serialized once, buffering without a stream, and the `EventSink` face.

use std::sync::Arc;
use std::time::Duration;

use pbxis_ws::hub::{Delivery, Hub, HubConfig};
use pbxis_ws::pbx::service::EventSink;
use pbxis_ws::pbx::{AgentId, DeviceStatus, Event, Filter, MemberStatus, QueueName};

fn agent(s: &str) -> AgentId {
    AgentId::parse(s).unwrap()
}
fn queue(s: &str) -> QueueName {
    QueueName::parse(s).unwrap()
}
fn filter(agents: &[&str], queues: &[&str]) -> Filter {
    Filter::new(
        agents.iter().map(|a| agent(a)),
        queues.iter().map(|q| queue(q)),
    )
}
fn hub() -> Hub {
    Hub::new(HubConfig::default())
}

/// Everything pending on a ticket now (attaches, takes, detaches).
async fn pending(hub: &Hub, ticket: &str) -> Vec<Delivery> {
    let mut sub = hub.attach(ticket).unwrap();
    sub.poll(Duration::ZERO, Duration::ZERO)
        .await
        .into_iter()
        .map(|s| s.delivery)
        .collect()
}

fn jsons(ds: &[Delivery]) -> Vec<String> {
    ds.iter().map(Delivery::json).collect()
}

fn phone(a: &str, number: &str, q: Option<&str>) -> Event {
    Event::PhoneNumber {
        agent: agent(a),
        number: Some(number.into()),
        name: None,
        queue: q.map(queue),
    }
}
fn member(a: &str, q: &str) -> Event {
    Event::QueueMemberStatus {
        agent: agent(a),
        queue: queue(q),
        status: MemberStatus::Paused,
        reason: None,
    }
}
fn count(q: &str, n: u32) -> Event {
    Event::QueueCount {
        queue: queue(q),
        count: n,
    }
}
fn ext(a: &str) -> Event {
    Event::ExtensionStatus {
        agent: agent(a),
        status: DeviceStatus::Inuse,
    }
}
fn summary(q: &str) -> Event {
    Event::QueueSummary {
        queue: queue(q),
        waiting: 0,
        longest_wait: 0,
        logged_in: 1,
        available: 1,
        completed: 0,
        abandoned: 0,
        hold_time: 0,
        talk_time: 0,
        service_level: 60,
        service_level_perf: 100.0,
    }
}

#[tokio::test(start_paused = true)]
async fn each_ticket_gets_the_events_whose_scope_keys_it_holds() {
    let hub = hub();
    let agent_only = hub
        .create_ticket(filter(&["147"], &[]), vec![], None)
        .unwrap();
    let queue_only = hub
        .create_ticket(filter(&[], &["q1"]), vec![], None)
        .unwrap();
    let both = hub
        .create_ticket(filter(&["147"], &["q1"]), vec![], None)
        .unwrap();
    let others = hub
        .create_ticket(filter(&["148"], &["q2"]), vec![], None)
        .unwrap();
    let mut wallboard_filter = filter(&[], &["q1"]);
    wallboard_filter.summary = true;
    let wallboard = hub.create_ticket(wallboard_filter, vec![], None).unwrap();

    let events = [
        phone("147", "0911", Some("q1")),
        member("147", "q1"),
        count("q1", 1),
        ext("148"),
        Event::PbxStatus { connected: false },
        summary("q1"),
    ];
    hub.publish(&events);
    let types = |ds: Vec<Delivery>| -> Vec<String> {
        ds.iter().map(|d| d.type_name().to_owned()).collect()
    };

    // An agent-only ticket gets phoneNumber although the call came through q1 (a detail), but
    // not queueMemberStatus, whose scope includes the queue.
    let got = pending(&hub, agent_only.as_str()).await;
    assert_eq!(
        jsons(&got),
        [
            r#"{"type":"phoneNumber","agent":"147","number":"0911","queue":"q1"}"#,
            r#"{"type":"pbxStatus","connected":false}"#,
        ]
    );
    assert_eq!(
        types(pending(&hub, queue_only.as_str()).await),
        ["queueCount", "pbxStatus"]
    );
    assert_eq!(
        types(pending(&hub, both.as_str()).await),
        [
            "phoneNumber",
            "queueMemberStatus",
            "queueCount",
            "pbxStatus"
        ]
    );
    assert_eq!(
        types(pending(&hub, others.as_str()).await),
        ["extensionStatus", "pbxStatus"]
    );
    assert_eq!(
        types(pending(&hub, wallboard.as_str()).await),
        ["queueCount", "pbxStatus", "queueSummary"]
    );
}

#[tokio::test(start_paused = true)]
async fn an_event_is_serialized_once_for_every_ticket() {
    let hub = hub();
    let a = hub
        .create_ticket(filter(&["147"], &["q1"]), vec![], None)
        .unwrap();
    let b = hub
        .create_ticket(filter(&["147"], &[]), vec![], None)
        .unwrap();
    hub.publish(&[phone("147", "0911", None)]);
    let got_a = pending(&hub, a.as_str()).await;
    let got_b = pending(&hub, b.as_str()).await;
    assert_eq!(got_a.len(), 1);
    assert_eq!(got_b.len(), 1);
    assert!(got_a[0].same_bytes(&got_b[0]), "two serializations");
    assert_eq!(got_a[0].json(), got_b[0].json());
    assert_eq!(got_a[0].data_json(), r#"{"agent":"147","number":"0911"}"#);
}

#[tokio::test(start_paused = true)]
async fn the_snapshot_comes_first_then_the_changes_in_order() {
    let hub = hub();
    let snapshot = vec![
        Event::PbxStatus { connected: true },
        member("147", "q1"),
        count("q1", 0),
    ];
    let t = hub
        .create_ticket(filter(&["147"], &["q1"]), snapshot, None)
        .unwrap();
    hub.publish(&[count("q1", 1)]);
    hub.publish(&[count("q1", 2), count("q2", 5)]);
    let got = pending(&hub, t.as_str()).await;
    assert_eq!(
        jsons(&got),
        [
            r#"{"type":"pbxStatus","connected":true}"#,
            r#"{"type":"queueMemberStatus","agent":"147","queue":"q1","status":"paused"}"#,
            r#"{"type":"queueCount","queue":"q1","count":0}"#,
            r#"{"type":"queueCount","queue":"q1","count":1}"#,
            r#"{"type":"queueCount","queue":"q1","count":2}"#,
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn events_between_polls_are_kept_and_none_is_lost() {
    let hub = hub();
    let t = hub
        .create_ticket(filter(&[], &["q1"]), vec![count("q1", 0)], None)
        .unwrap();
    let mut seen = Vec::new();
    for round in 1..=5u32 {
        // No stream attached while these are published.
        for n in 0..round {
            hub.publish(&[count("q1", round * 10 + n)]);
        }
        let mut sub = hub.attach(t.as_str()).unwrap();
        let got = sub
            .poll(Duration::from_secs(30), Duration::from_millis(100))
            .await;
        assert_eq!(got.len() as u32, if round == 1 { 2 } else { round });
        seen.extend(got.iter().map(|d| d.delivery.json()));
    }
    let mut expected = vec![r#"{"type":"queueCount","queue":"q1","count":0}"#.to_owned()];
    for round in 1..=5u32 {
        for n in 0..round {
            expected.push(format!(
                r#"{{"type":"queueCount","queue":"q1","count":{}}}"#,
                round * 10 + n
            ));
        }
    }
    assert_eq!(seen, expected);
}

#[tokio::test(start_paused = true)]
async fn the_hub_is_the_models_event_sink() {
    let hub = hub();
    let t = hub
        .create_ticket(filter(&["149"], &[]), vec![], None)
        .unwrap();
    let sink: Arc<dyn EventSink> = Arc::new(hub.clone());
    sink.publish(&[ext("149"), ext("147")]);
    let got = pending(&hub, t.as_str()).await;
    assert_eq!(
        jsons(&got),
        [r#"{"type":"extensionStatus","agent":"149","status":"inuse"}"#]
    );
}

mod property {
    use super::*;
    use proptest::prelude::*;

    fn any_filter() -> impl Strategy<Value = Filter> {
        (
            proptest::collection::btree_set(0usize..4, 0..4),
            proptest::collection::btree_set(0usize..3, 0..3),
            any::<bool>(),
        )
            .prop_map(|(agents, queues, summary)| {
                let mut f = Filter::new(
                    agents.into_iter().map(|a| agent(&format!("{}", 147 + a))),
                    queues.into_iter().map(|q| queue(&format!("q{}", q + 1))),
                );
                f.summary = summary;
                f
            })
    }

    fn any_event() -> impl Strategy<Value = Event> {
        (0usize..6, 0usize..4, 0usize..3, 0u32..100).prop_map(|(kind, a, q, n)| {
            let a = format!("{}", 147 + a);
            let q = format!("q{}", q + 1);
            match kind {
                0 => phone(&a, &n.to_string(), Some(&q)),
                1 => member(&a, &q),
                2 => count(&q, n),
                3 => ext(&a),
                4 => summary(&q),
                _ => Event::PbxStatus {
                    connected: n % 2 == 0,
                },
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever the filters and events, each ticket receives exactly the events its filter
        /// matches, in publishing order, however they are grouped into publish calls.
        #[test]
        fn fan_out_equals_the_filter(
            filters in proptest::collection::vec(any_filter(), 1..12),
            events in proptest::collection::vec(any_event(), 0..60),
            chunk in 1usize..8,
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .unwrap();
            runtime.block_on(async {
                let hub = hub();
                let tickets: Vec<_> = filters
                    .iter()
                    .map(|f| hub.create_ticket(f.clone(), vec![], None).unwrap())
                    .collect();
                for group in events.chunks(chunk) {
                    hub.publish(group);
                }
                for (f, t) in filters.iter().zip(&tickets) {
                    let got = pending(&hub, t.as_str()).await;
                    let expected: Vec<String> = events
                        .iter()
                        .filter(|e| f.matches(e))
                        .map(|e| serde_json::to_string(e).unwrap())
                        .collect();
                    let got: Vec<String> = got.iter().map(|d| d.json()).collect();
                    assert_eq!(got, expected);
                }
            });
        }
    }
}
