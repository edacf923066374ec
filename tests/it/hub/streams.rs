//! Hub streams on the paused clock: long-poll (at once / first event plus gather / `[]` after the
//! timeout), `recv` for SSE and WebSocket, cancellation safety, replacement of a stream by a
//! second attach, and shutdown with `close_all`.

use std::time::Duration;
use tokio::time::{sleep, Instant};

use pbxis_ws::hub::{Hub, HubConfig, HubError, Sent};
use pbxis_ws::pbx::{Event, Filter, QueueName};

const TIMEOUT: Duration = Duration::from_secs(30);
const GATHER: Duration = Duration::from_millis(100);

fn count(n: u32) -> Event {
    Event::QueueCount {
        queue: QueueName::parse("q1").unwrap(),
        count: n,
    }
}
fn q1() -> Filter {
    Filter::new([], [QueueName::parse("q1").unwrap()])
}
fn counts(ds: &[Sent]) -> Vec<String> {
    ds.iter()
        .map(|d| d.delivery.data_json().to_owned())
        .collect()
}
fn c(n: u32) -> String {
    format!(r#"{{"queue":"q1","count":{n}}}"#)
}

#[tokio::test(start_paused = true)]
async fn long_poll_answers_at_once_with_what_is_pending() {
    let hub = Hub::new(HubConfig::default());
    let t = hub.create_ticket(q1(), vec![count(0)], None).unwrap();
    hub.publish(&[count(1)]);
    let mut sub = hub.attach(t.as_str()).unwrap();
    let start = Instant::now();
    let got = sub.poll(TIMEOUT, GATHER).await;
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(counts(&got), [c(0), c(1)]);
}

#[tokio::test(start_paused = true)]
async fn long_poll_waits_for_the_first_event_then_gathers_a_burst() {
    let hub = Hub::new(HubConfig::default());
    let t = hub.create_ticket(q1(), vec![], None).unwrap();
    let publisher = hub.clone();
    tokio::spawn(async move {
        sleep(Duration::from_secs(5)).await;
        publisher.publish(&[count(1)]);
        sleep(Duration::from_millis(60)).await;
        publisher.publish(&[count(2)]);
        sleep(Duration::from_millis(100)).await; // after the gather window
        publisher.publish(&[count(3)]);
    });
    let mut sub = hub.attach(t.as_str()).unwrap();
    let start = Instant::now();
    let got = sub.poll(TIMEOUT, GATHER).await;
    assert_eq!(start.elapsed(), Duration::from_secs(5) + GATHER);
    assert_eq!(counts(&got), [c(1), c(2)]);
    let got = sub.poll(TIMEOUT, GATHER).await;
    assert_eq!(counts(&got), [c(3)]);
}

#[tokio::test(start_paused = true)]
async fn long_poll_returns_nothing_after_the_timeout() {
    let hub = Hub::new(HubConfig::default());
    let t = hub.create_ticket(q1(), vec![], None).unwrap();
    // An event for another queue does not end the poll.
    hub.publish(&[Event::QueueCount {
        queue: QueueName::parse("q2").unwrap(),
        count: 1,
    }]);
    let mut sub = hub.attach(t.as_str()).unwrap();
    let start = Instant::now();
    let got = sub.poll(TIMEOUT, GATHER).await;
    assert!(got.is_empty());
    assert_eq!(start.elapsed(), TIMEOUT);
}

#[tokio::test(start_paused = true)]
async fn a_poll_dropped_while_waiting_loses_nothing() {
    let hub = Hub::new(HubConfig::default());
    let t = hub.create_ticket(q1(), vec![], None).unwrap();
    let mut sub = hub.attach(t.as_str()).unwrap();
    let publisher = hub.clone();
    tokio::spawn(async move {
        sleep(Duration::from_secs(1)).await;
        publisher.publish(&[count(1)]);
    });
    // The client goes away in the middle of the gather window.
    let dropped = tokio::time::timeout(
        Duration::from_secs(1) + GATHER / 2,
        sub.poll(TIMEOUT, GATHER),
    )
    .await;
    assert!(dropped.is_err());
    drop(sub);
    let mut sub = hub.attach(t.as_str()).unwrap();
    assert_eq!(counts(&sub.poll(TIMEOUT, GATHER).await), [c(1)]);
}

#[tokio::test(start_paused = true)]
async fn recv_streams_events_as_they_come() {
    let hub = Hub::new(HubConfig::default());
    let t = hub.create_ticket(q1(), vec![count(0)], None).unwrap();
    let mut sub = hub.attach(t.as_str()).unwrap();
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        for _ in 0..3 {
            let d = sub.recv().await.unwrap();
            got.push((Instant::now(), d.delivery.data_json().to_owned()));
        }
        got
    });
    let start = Instant::now();
    sleep(Duration::from_secs(2)).await;
    hub.publish(&[count(1)]);
    sleep(Duration::from_secs(3)).await;
    hub.publish(&[count(2)]);
    let got = reader.await.unwrap();
    let at: Vec<Duration> = got.iter().map(|(t, _)| *t - start).collect();
    assert_eq!(
        at,
        [
            Duration::ZERO,
            Duration::from_secs(2),
            Duration::from_secs(5)
        ]
    );
    let data: Vec<&str> = got.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(data, [c(0), c(1), c(2)]);
}

#[tokio::test(start_paused = true)]
async fn a_second_attach_replaces_the_first() {
    let hub = Hub::new(HubConfig::default());
    let t = hub.create_ticket(q1(), vec![count(0)], None).unwrap();
    let mut first = hub.attach(t.as_str()).unwrap();
    assert_eq!(counts(&[first.recv().await.unwrap()]), [c(0)]);
    // The first stream is waiting when the second one arrives.
    let waiting = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Some(d) = first.recv().await {
            got.push(d.delivery.json().to_owned());
        }
        (got, first.is_ended())
    });
    sleep(Duration::from_secs(1)).await;
    let mut second = hub.attach(t.as_str()).unwrap();
    let (got, ended) = waiting.await.unwrap();
    assert_eq!(got, [r#"{"type":"closed","reason":"replaced"}"#]);
    assert!(ended);
    hub.publish(&[count(1)]);
    assert_eq!(counts(&second.poll(TIMEOUT, GATHER).await), [c(1)]);
    assert_eq!(hub.ticket_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_replaced_long_poll_ends_with_replaced() {
    let hub = Hub::new(HubConfig::default());
    let t = hub.create_ticket(q1(), vec![], None).unwrap();
    let mut first = hub.attach(t.as_str()).unwrap();
    let poller = tokio::spawn(async move { first.poll(TIMEOUT, GATHER).await });
    sleep(Duration::from_secs(1)).await;
    let _second = hub.attach(t.as_str()).unwrap();
    let start = Instant::now();
    let got = poller.await.unwrap();
    // No gather window: nothing can follow the closing event.
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(got.len(), 1);
    assert!(got[0].delivery.is_closed());
    assert_eq!(got[0].delivery.data_json(), r#"{"reason":"replaced"}"#);
}

#[tokio::test(start_paused = true)]
async fn close_all_ends_every_stream_and_every_ticket() {
    let hub = Hub::new(HubConfig::default());
    let streaming = hub.create_ticket(q1(), vec![], None).unwrap();
    let pending = hub.create_ticket(q1(), vec![count(0)], None).unwrap();
    let idle = hub.create_ticket(q1(), vec![], None).unwrap();
    let mut sse = hub.attach(streaming.as_str()).unwrap();
    let reader = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Some(d) = sse.recv().await {
            got.push(d.delivery.json().to_owned());
        }
        got
    });
    let mut poll = hub.attach(pending.as_str()).unwrap();
    sleep(Duration::from_secs(1)).await;
    hub.close_all("shutdown");

    let closed = r#"{"type":"closed","reason":"shutdown"}"#;
    assert_eq!(reader.await.unwrap(), [closed]);
    // What was pending still comes first.
    let got: Vec<String> = poll
        .poll(TIMEOUT, GATHER)
        .await
        .iter()
        .map(|d| d.delivery.json().to_owned())
        .collect();
    assert_eq!(
        got,
        [r#"{"type":"queueCount","queue":"q1","count":0}"#, closed]
    );
    assert!(poll.is_ended());
    assert!(poll.poll(TIMEOUT, GATHER).await.is_empty());
    assert_eq!(hub.ticket_count(), 0);
    assert_eq!(
        hub.attach(idle.as_str()).unwrap_err(),
        HubError::UnknownTicket
    );
    assert_eq!(
        hub.create_ticket(q1(), vec![], None).unwrap_err(),
        HubError::ShuttingDown
    );
}
