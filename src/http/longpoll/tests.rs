//! Tests of long-poll timing on the router, on tokio's paused clock.

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use std::time::Duration;
use tokio::time::Instant;
use tower::ServiceExt;

use crate::http::state::StreamTiming;
use crate::http::{router, AppState};
use crate::hub::{Hub, HubConfig};
use crate::pbx::{Event, Filter, QueueName};

fn count(n: u32) -> Event {
    Event::QueueCount {
        queue: QueueName::parse("q1").unwrap(),
        count: n,
    }
}

async fn poll(state: &AppState, ticket: &str) -> (StatusCode, String, Duration) {
    let start = Instant::now();
    let request = Request::get(format!("/{ticket}/long-poll"))
        .body(Body::empty())
        .unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (
        status,
        String::from_utf8(body.to_vec()).unwrap(),
        start.elapsed(),
    )
}

#[tokio::test(start_paused = true)]
async fn pending_at_once_then_first_event_plus_gather_then_empty_at_timeout() {
    let hub = Hub::new(HubConfig::default());
    let timing = StreamTiming::default();
    let state = AppState::for_tests(hub.clone(), timing);
    let filter = Filter::new([], [QueueName::parse("q1").unwrap()]);
    let ticket = hub.create_ticket(filter, vec![count(0)], None).unwrap();
    let ticket = ticket.as_str().to_owned();

    let (status, body, waited) = poll(&state, &ticket).await;
    assert_eq!(status, StatusCode::OK);
    let e = hub.epoch();
    assert_eq!(
        body,
        format!(r#"[{{"type":"queueCount","id":"{e}-1","queue":"q1","count":0}}]"#)
    );
    assert_eq!(waited, Duration::ZERO);

    let publisher = hub.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        publisher.publish(&[count(1)]);
        tokio::time::sleep(Duration::from_millis(50)).await;
        publisher.publish(&[count(2)]);
    });
    let (_, body, waited) = poll(&state, &ticket).await;
    assert_eq!(
        body,
        format!(
            r#"[{{"type":"queueCount","id":"{e}-2","queue":"q1","count":1}},{{"type":"queueCount","id":"{e}-3","queue":"q1","count":2}}]"#
        )
    );
    assert!(
        waited >= Duration::from_secs(5) + timing.gather,
        "{waited:?}"
    );
    assert!(waited < Duration::from_secs(6), "{waited:?}");

    let (status, body, waited) = poll(&state, &ticket).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "[]"));
    assert!(waited >= timing.poll_timeout && waited < timing.poll_timeout + Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn unknown_ticket_is_a_json_404() {
    let state = AppState::for_tests(Hub::new(HubConfig::default()), StreamTiming::default());
    let (status, body, _) = poll(&state, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, r#"{"error":"unknown or expired ticket"}"#);
}
