//! Tests of the SSE framing on the router, without a socket, on tokio's paused clock.

use axum::body::Body;
use axum::http::Request;
use futures_util::StreamExt;
use std::time::Duration;
use tower::ServiceExt;

use crate::http::state::StreamTiming;
use crate::http::{router, AppState};
use crate::hub::{Hub, HubConfig};
use crate::pbx::{Event, Filter, QueueName};

fn q1() -> QueueName {
    QueueName::parse("q1").unwrap()
}

/// Opens `/<path>`, or `/<ticket>/sse` when `path` is a bare ticket.
async fn open(state: &AppState, path: &str) -> axum::body::BodyDataStream {
    let path = if path.contains('/') {
        path.to_owned()
    } else {
        format!("{path}/sse")
    };
    let request = Request::get(format!("/{path}"))
        .body(Body::empty())
        .unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    response.into_body().into_data_stream()
}

async fn next_text(body: &mut axum::body::BodyDataStream) -> String {
    String::from_utf8(body.next().await.unwrap().unwrap().to_vec()).unwrap()
}

#[tokio::test(start_paused = true)]
async fn events_keep_alive_then_closed_and_close() {
    let hub = Hub::new(HubConfig::default());
    let timing = StreamTiming::default();
    let state = AppState::for_tests(hub.clone(), timing);
    let snapshot = vec![Event::QueueCount {
        queue: q1(),
        count: 2,
    }];
    let ticket = hub
        .create_ticket(Filter::new([], [q1()]), snapshot, None)
        .unwrap();
    let mut body = open(&state, ticket.as_str()).await;
    assert_eq!(
        next_text(&mut body).await,
        format!(
            "event: queueCount\ndata: {{\"queue\":\"q1\",\"count\":2}}\nid: {}-1\n\n",
            hub.epoch()
        )
    );
    let start = tokio::time::Instant::now();
    assert_eq!(next_text(&mut body).await, ": keep-alive\n\n");
    let waited = start.elapsed();
    assert!(waited >= timing.keep_alive && waited < timing.keep_alive + Duration::from_secs(1));
    hub.close_all("shutdown");
    assert_eq!(
        next_text(&mut body).await,
        "event: closed\ndata: {\"reason\":\"shutdown\"}\n\n"
    );
    assert_eq!(
        next_text(&mut body).await,
        "event: close\ndata: {\"reason\":\"shutdown\"}\n\n"
    );
    assert!(body.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn with_heartbeat_the_keep_alive_is_an_event_a_script_sees() {
    let hub = Hub::new(HubConfig::default());
    let timing = StreamTiming::default();
    let state = AppState::for_tests(hub.clone(), timing);
    let ticket = hub
        .create_ticket(Filter::new([], [q1()]), vec![], None)
        .unwrap();
    let mut body = open(
        &state,
        &format!("{}/sse?heartbeat=1&_=123", ticket.as_str()),
    )
    .await;
    let heartbeat = "event: heartbeat\ndata: {\"intervalMs\":15000}\n\n";
    let start = tokio::time::Instant::now();
    assert_eq!(next_text(&mut body).await, heartbeat, "the first at once");
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!(next_text(&mut body).await, heartbeat);
    assert_eq!(start.elapsed(), timing.keep_alive);
}
