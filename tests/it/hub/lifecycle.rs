//! Hub lifecycle and bounds on the paused clock: expiry of tickets without a stream and the
//! release of their memory, the overflow policy, ticket limits in total and per owner, and
//! tickets as capabilities (format, entropy, one error for unknown and expired).

use std::collections::HashSet;
use std::time::Duration;
use tokio::time::sleep;

use pbxis_ws::hub::{Delivery, Hub, HubConfig, HubError};
use pbxis_ws::pbx::{AgentId, DeviceStatus, Event, Filter, QueueName};

const TIMEOUT: Duration = Duration::from_secs(30);
const GATHER: Duration = Duration::from_millis(100);

fn config() -> HubConfig {
    HubConfig {
        unsub_delay: Duration::from_secs(15),
        sweep_interval: Duration::from_secs(1),
        ..HubConfig::default()
    }
}
fn count(n: u32) -> Event {
    Event::QueueCount {
        queue: QueueName::parse("q1").unwrap(),
        count: n,
    }
}
fn q1() -> Filter {
    Filter::new([], [QueueName::parse("q1").unwrap()])
}
fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[tokio::test(start_paused = true)]
async fn a_ticket_without_a_stream_expires_after_unsub_delay() {
    let hub = Hub::new(config());
    let t = hub.create_ticket(q1(), vec![count(0)], None).unwrap();
    sleep(secs(10.5)).await;
    assert_eq!(hub.ticket_count(), 1);
    // A poll at 10.5 s; the countdown restarts when it ends.
    let mut sub = hub.attach(t.as_str()).unwrap();
    assert_eq!(sub.poll(TIMEOUT, GATHER).await.len(), 1);
    drop(sub);
    sleep(secs(14.6)).await; // 25.1 s: 14.6 s without a stream
    assert_eq!(hub.ticket_count(), 1);
    sleep(secs(1.0)).await; // 26.1 s: the sweep at 26 s found it 15.5 s old
    assert_eq!(hub.ticket_count(), 0);
    assert_eq!(hub.attach(t.as_str()).unwrap_err(), HubError::UnknownTicket);
}

#[tokio::test(start_paused = true)]
async fn an_attached_ticket_never_expires() {
    let hub = Hub::new(config());
    let t = hub.create_ticket(q1(), vec![], None).unwrap();
    let mut sub = hub.attach(t.as_str()).unwrap();
    assert!(sub.poll(Duration::from_secs(3600), GATHER).await.is_empty());
    assert_eq!(hub.ticket_count(), 1);
    hub.publish(&[count(1)]);
    assert_eq!(sub.poll(TIMEOUT, GATHER).await.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_expired_ticket_releases_its_buffered_events() {
    let hub = Hub::new(config());
    let abandoned = hub.create_ticket(q1(), vec![], None).unwrap();
    let live = hub.create_ticket(q1(), vec![], None).unwrap();
    let mut sub = hub.attach(live.as_str()).unwrap();
    hub.publish(&[count(7)]);
    let got = sub.recv().await.unwrap();
    // Held by the abandoned ticket's buffer, the live ticket's history and `got`.
    assert_eq!(got.delivery.holders(), 3);
    sleep(secs(15.5)).await;
    assert_eq!(hub.ticket_count(), 1);
    assert_eq!(
        got.delivery.holders(),
        2,
        "the expired ticket still holds the event"
    );
    assert_eq!(
        hub.attach(abandoned.as_str()).unwrap_err(),
        HubError::UnknownTicket
    );
}

#[tokio::test(start_paused = true)]
async fn expiry_is_exact_for_attach_even_before_the_sweep() {
    let hub = Hub::new(HubConfig {
        sweep_interval: Duration::from_secs(3600),
        max_tickets: 1,
        ..config()
    });
    let t = hub.create_ticket(q1(), vec![], None).unwrap();
    sleep(secs(14.9)).await;
    drop(hub.attach(t.as_str()).unwrap());
    sleep(secs(15.0)).await;
    // 29.9 s. The sweeper runs every 3.75 s (unsub_delay / 4): last at 26.25 s, when the ticket
    // was 11.35 s old. Not swept yet, but gone for a client: the same error as a ticket never issued.
    assert_eq!(hub.ticket_count(), 1);
    assert_eq!(hub.attach(t.as_str()).unwrap_err(), HubError::UnknownTicket);
    // At the limit, expired tickets are swept before a new one is refused.
    hub.create_ticket(q1(), vec![], None).unwrap();
    assert_eq!(hub.ticket_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn unknown_malformed_and_expired_tickets_are_one_error() {
    let hub = Hub::new(config());
    let expired = hub.create_ticket(q1(), vec![], None).unwrap();
    sleep(secs(15.5)).await;
    let never_issued = "0123456789abcdef0123456789abcdef";
    for t in [
        expired.as_str(),
        never_issued,
        "",
        "../etc/passwd",
        "ZZZ",
        &"a".repeat(10_000),
    ] {
        let err = hub.attach(t).unwrap_err();
        assert_eq!(err, HubError::UnknownTicket);
        assert_eq!(err.to_string(), "unknown or expired ticket");
    }
}

#[tokio::test(start_paused = true)]
async fn overflow_drops_the_tickets_events_for_a_resync_and_spares_the_others() {
    let hub = Hub::new(HubConfig {
        max_pending: 3,
        ..config()
    });
    // Snapshot of two, then room for three more.
    let slow = hub
        .create_ticket(q1(), vec![count(0), count(0)], None)
        .unwrap();
    let other = hub.create_ticket(q1(), vec![], None).unwrap();
    let mut other_sub = hub.attach(other.as_str()).unwrap();
    for n in 1..=3 {
        hub.publish(&[count(n)]);
        // Events for another queue do not count.
        hub.publish(&[Event::ExtensionStatus {
            agent: AgentId::parse("147").unwrap(),
            status: DeviceStatus::Busy,
        }]);
        assert_eq!(other_sub.poll(TIMEOUT, GATHER).await.len(), 1);
    }
    let before = Delivery::new(&count(4)).unwrap();
    hub.publish(&[count(4)]);
    assert_eq!(other_sub.poll(TIMEOUT, GATHER).await.len(), 1);
    // The slow ticket holds nothing now (this hub has no model: its resync snapshot is empty).
    let mut sub = hub.attach(slow.as_str()).unwrap();
    let got = sub.poll(TIMEOUT, GATHER).await;
    let jsons: Vec<String> = got.iter().map(|s| s.delivery.json()).collect();
    assert_eq!(jsons, [r#"{"type":"resync","reason":"overflow"}"#]);
    assert_eq!(
        got[0].id.unwrap().seq,
        6,
        "numbers go on after the snapshot and the events"
    );
    assert!(!sub.is_ended());
    assert_eq!(before.holders(), 1, "the dropped events are freed");
    hub.publish(&[count(5)]);
    let got = sub.poll(TIMEOUT, GATHER).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].delivery.data_json(), r#"{"queue":"q1","count":5}"#);
    assert_eq!(other_sub.poll(TIMEOUT, GATHER).await.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_attached_stream_that_falls_behind_is_told_to_resync() {
    let hub = Hub::new(HubConfig {
        max_pending: 10,
        ..config()
    });
    let t = hub.create_ticket(q1(), vec![], None).unwrap();
    let mut sub = hub.attach(t.as_str()).unwrap();
    for n in 0..11 {
        hub.publish(&[count(n)]);
    }
    let got = sub.recv().await.unwrap();
    assert_eq!(got.delivery.type_name(), "resync");
    assert_eq!(got.delivery.data_json(), r#"{"reason":"overflow"}"#);
    hub.publish(&[count(11)]);
    let got = sub.recv().await.unwrap();
    assert_eq!(got.delivery.data_json(), r#"{"queue":"q1","count":11}"#);
    assert_eq!(hub.ticket_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn ticket_limits_in_total_and_per_owner() {
    let hub = Hub::new(HubConfig {
        max_tickets: 5,
        max_tickets_per_owner: 2,
        ..config()
    });
    let a1 = hub.create_ticket(q1(), vec![], Some("app-a")).unwrap();
    hub.create_ticket(q1(), vec![], Some("app-a")).unwrap();
    assert_eq!(
        hub.create_ticket(q1(), vec![], Some("app-a")).unwrap_err(),
        HubError::TooManyTickets
    );
    hub.create_ticket(q1(), vec![], Some("app-b")).unwrap();
    hub.create_ticket(q1(), vec![], None).unwrap();
    hub.create_ticket(q1(), vec![], None).unwrap();
    assert_eq!(hub.ticket_count(), 5);
    let err = hub.create_ticket(q1(), vec![], None).unwrap_err();
    assert_eq!(err, HubError::TooManyTickets);
    assert_eq!(err.to_string(), "too many tickets");
    assert_eq!(
        hub.create_ticket(q1(), vec![], Some("app-c")).unwrap_err(),
        HubError::TooManyTickets
    );

    // A ticket that ends gives its owner's place back.
    let mut sub = hub.attach(a1.as_str()).unwrap();
    hub.close_all("test");
    assert!(sub.recv().await.unwrap().delivery.is_closed());
    assert_eq!(hub.ticket_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn expired_tickets_give_their_owners_place_back() {
    let hub = Hub::new(HubConfig {
        max_tickets_per_owner: 1,
        ..config()
    });
    hub.create_ticket(q1(), vec![], Some("app-a")).unwrap();
    assert_eq!(
        hub.create_ticket(q1(), vec![], Some("app-a")).unwrap_err(),
        HubError::TooManyTickets
    );
    sleep(secs(15.5)).await;
    hub.create_ticket(q1(), vec![], Some("app-a")).unwrap();
}

#[tokio::test(start_paused = true)]
async fn tickets_are_unguessable_url_safe_and_redacted() {
    let hub = Hub::new(HubConfig {
        max_tickets: 2000,
        max_tickets_per_owner: 2000,
        ..config()
    });
    let mut seen = HashSet::new();
    for _ in 0..1000 {
        let t = hub.create_ticket(q1(), vec![], Some("k")).unwrap();
        let s = t.as_str().to_owned();
        assert_eq!(s.len(), 32, "128 bits as hex");
        assert!(s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        assert!(!format!("{t}").contains(&s[..8]));
        assert!(!format!("{t:?}").contains(&s[..8]));
        assert!(seen.insert(s));
    }
    // Hex digits are spread evenly: each of the 16 appears 2000 ± 300 times in 32,000.
    let mut freq = [0usize; 16];
    for s in &seen {
        for b in s.bytes() {
            freq[(b as char).to_digit(16).unwrap() as usize] += 1;
        }
    }
    assert!(freq.iter().all(|&n| (1700..=2300).contains(&n)), "{freq:?}");
}

#[tokio::test(start_paused = true)]
async fn a_short_unsub_delay_is_swept_promptly() {
    // The default sweep interval (1 s) is longer than the delay: the sweeper runs every 50 ms.
    let hub = Hub::new(HubConfig {
        unsub_delay: Duration::from_millis(200),
        ..HubConfig::default()
    });
    hub.create_ticket(q1(), vec![], None).unwrap();
    sleep(Duration::from_millis(190)).await;
    assert_eq!(hub.ticket_count(), 1);
    sleep(Duration::from_millis(70)).await; // 260 ms: swept at 200 or 250 ms
    assert_eq!(hub.ticket_count(), 0);
}

#[test]
fn a_hub_outside_a_runtime_does_not_panic() {
    let hub = Hub::new(config());
    let t = hub.create_ticket(q1(), vec![count(1)], None).unwrap();
    hub.publish(&[count(2)]);
    assert_eq!(hub.ticket_count(), 1);
    assert!(hub.attach(t.as_str()).is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_snapshot_is_outside_max_pending_but_inside_the_byte_budget() {
    let size = Delivery::new(&count(0)).unwrap().size();
    let hub = Hub::new(HubConfig {
        max_pending: 2,
        max_pending_bytes: 7 * size,
        ..config()
    });
    // Over the byte budget: the ticket is refused and nothing is kept.
    let too_big: Vec<Event> = (0..8).map(count).collect();
    assert_eq!(
        hub.create_ticket(q1(), too_big, None).unwrap_err(),
        HubError::SnapshotTooLarge
    );
    assert_eq!(hub.ticket_count(), 0);
    // Within it: more than max_pending snapshot events, then max_pending changes.
    let snapshot: Vec<Event> = (0..5).map(count).collect();
    let t = hub.create_ticket(q1(), snapshot, None).unwrap();
    hub.publish(&[count(5), count(6)]);
    let mut sub = hub.attach(t.as_str()).unwrap();
    let got = sub.poll(TIMEOUT, GATHER).await;
    assert_eq!(got.len(), 7);
    assert!(got.iter().all(|d| !d.delivery.is_closed()));
    // Drained: room for max_pending again, and no more.
    drop(sub);
    hub.publish(&[count(7), count(8)]);
    hub.publish(&[count(9)]);
    let mut sub = hub.attach(t.as_str()).unwrap();
    let got = sub.poll(TIMEOUT, GATHER).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].delivery.json(),
        r#"{"type":"resync","reason":"overflow"}"#
    );
}

#[tokio::test(start_paused = true)]
async fn events_over_the_byte_budget_make_the_ticket_resync() {
    let size = Delivery::new(&count(0)).unwrap().size();
    let hub = Hub::new(HubConfig {
        max_pending: 1000,
        max_pending_bytes: 3 * size,
        ..config()
    });
    let t = hub.create_ticket(q1(), vec![count(0)], None).unwrap();
    hub.publish(&[count(1), count(2)]);
    hub.publish(&[count(3)]);
    let mut sub = hub.attach(t.as_str()).unwrap();
    let got = sub.poll(TIMEOUT, GATHER).await;
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].delivery.json(),
        r#"{"type":"resync","reason":"overflow"}"#
    );
}

fn resume_from(id: &str) -> pbxis_ws::hub::Resume<'_> {
    pbxis_ws::hub::Resume {
        last_event_id: Some(id),
        acknowledge: false,
    }
}

fn json(event: &Event) -> String {
    Delivery::new(event).unwrap().json().to_owned()
}

#[tokio::test(start_paused = true)]
async fn the_snapshot_leaves_the_history_after_the_stream_settles() {
    let hub = Hub::new(config());
    let ticket = hub.create_ticket(q1(), vec![count(0)], None).unwrap();
    // Within the first seconds, a reconnect from the start gets the snapshot again.
    let mut sub = hub.attach(ticket.as_str()).unwrap();
    let snapshot_id = sub.recv().await.unwrap().id.unwrap().to_string();
    drop(sub);
    let mut sub = hub
        .attach_resuming(ticket.as_str(), resume_from("0"))
        .unwrap();
    assert_eq!(sub.recv().await.unwrap().delivery.json(), json(&count(0)));
    // Once the stream has been attached a while, the snapshot is gone from the history.
    sleep(pbxis_ws::hub::SNAPSHOT_KEPT + Duration::from_secs(2)).await;
    hub.publish(&[count(1)]);
    assert_eq!(sub.recv().await.unwrap().delivery.json(), json(&count(1)));
    drop(sub);
    // From after the snapshot: exactly what followed; from inside it: resync.
    let mut sub = hub
        .attach_resuming(ticket.as_str(), resume_from(&snapshot_id))
        .unwrap();
    assert_eq!(sub.recv().await.unwrap().delivery.json(), json(&count(1)));
    drop(sub);
    let mut sub = hub
        .attach_resuming(ticket.as_str(), resume_from("0"))
        .unwrap();
    let first = sub.recv().await.unwrap().delivery;
    assert_eq!(first.type_name(), "resync");
    assert_eq!(first.data_json(), r#"{"reason":"history"}"#);
}

#[tokio::test(start_paused = true)]
async fn a_ticket_whose_snapshot_is_outrun_by_events_is_issued_and_resyncs() {
    let hub = Hub::new(HubConfig {
        max_pending: 3,
        ..config()
    });
    // A large snapshot being serialized while a busy call center publishes more events than
    // the ticket may hold: the ticket is still issued (the snapshot itself fits), and its
    // stream starts with a resync rather than the outrun snapshot.
    let registered = hub.register(q1(), vec![count(0), count(0)], None).unwrap();
    for n in 1..=4 {
        hub.publish(&[count(n)]);
    }
    let ticket = hub
        .complete(registered)
        .expect("issued, not refused as too large");
    let mut sub = hub.attach(ticket.as_str()).unwrap();
    let got = sub.poll(TIMEOUT, GATHER).await;
    let jsons: Vec<String> = got.iter().map(|s| s.delivery.json()).collect();
    assert_eq!(jsons, [r#"{"type":"resync","reason":"overflow"}"#]);
    hub.publish(&[count(5)]);
    let got = sub.poll(TIMEOUT, GATHER).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].delivery.data_json(), r#"{"queue":"q1","count":5}"#);
}

#[tokio::test(start_paused = true)]
async fn a_snapshot_over_the_byte_budget_is_refused_however_quiet_the_call_center() {
    let one = Delivery::new(&count(0)).unwrap().size();
    let hub = Hub::new(HubConfig {
        max_pending_bytes: one * 2,
        ..config()
    });
    let registered = hub
        .register(q1(), vec![count(0), count(0), count(0)], None)
        .unwrap();
    assert_eq!(
        hub.complete(registered).unwrap_err(),
        HubError::SnapshotTooLarge
    );
    assert_eq!(hub.ticket_count(), 0, "the refused ticket is gone");
    let fits = hub.register(q1(), vec![count(0), count(0)], None).unwrap();
    assert!(hub.complete(fits).is_ok());
}
