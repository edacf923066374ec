//! Bounds: oversized bodies (413), too many agents, queues or agent × queue pairs in a ticket, or
//! a snapshot over the byte budget (400), too many tickets per key or, without keys, per client
//! address (429), too many streams from one address (429), and ticket guessing: random tickets
//! get the same answer as an expired one (404 for long-poll; the closing events for SSE; close
//! code 4404 for WebSocket), so no answer tells a live ticket from a guess.

use super::helpers::*;
use futures_util::StreamExt;
use rand::distributions::{Alphanumeric, DistString};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let app = spawn_app(|_| {}).await;
    app.assert_reaches_nothing(async {
        let big = "1".repeat(MAX_BODY * 4);
        for (path, body) in [
            ("/ticket", json!({"agents": ["147"], "queues": [big]})),
            (
                "/queue/add",
                json!({"queue": "q1", "agent": "147", "memberName": big}),
            ),
            ("/originate/147/1562830", json!({"callerId": big})),
        ] {
            let response = app
                .request(Method::POST, path)
                .bearer_auth(FULL_KEY)
                .json(&body)
                .send()
                .await
                .unwrap();
            expect_error(response, StatusCode::PAYLOAD_TOO_LARGE, path).await;
        }
        // Streamed without a Content-Length, too.
        let chunks =
            futures_util::stream::iter((0..64).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024])));
        let response = app
            .request(Method::POST, "/ticket")
            .bearer_auth(FULL_KEY)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await
            .unwrap();
        expect_error(response, StatusCode::PAYLOAD_TOO_LARGE, "chunked").await;
    })
    .await;
}

fn agents(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{}", 1000 + i)).collect()
}

#[tokio::test]
async fn too_many_agents_or_queues_in_a_ticket_are_refused() {
    let app = spawn_app(|s| s.limits.max_queues_per_ticket = 3).await;
    let at_limit = app
        .request(Method::POST, "/ticket")
        .bearer_auth(EVENTS_KEY)
        .json(&json!({"agents": agents(MAX_AGENTS), "queues": ["q1"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(at_limit.status(), StatusCode::OK);
    for body in [
        json!({"agents": agents(MAX_AGENTS + 1), "queues": ["q1"]}),
        json!({"agents": ["147"], "queues": ["q1", "q2", "q3", "q4"]}),
    ] {
        let response = app
            .request(Method::POST, "/ticket")
            .bearer_auth(EVENTS_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        let msg = expect_error(response, StatusCode::BAD_REQUEST, &body.to_string()).await;
        assert!(msg.contains("at most"), "{msg}");
    }
}

async fn new_ticket(app: &TestApp, key: &str) -> reqwest::Response {
    app.request(Method::POST, "/ticket")
        .bearer_auth(key)
        .json(&json!({"agents": ["147"], "queues": ["q1"]}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn tickets_per_key_and_in_total_are_bounded() {
    let app = spawn_app(|s| {
        s.limits.max_tickets_per_owner = 3;
        s.limits.max_tickets = 4;
    })
    .await;
    for _ in 0..3 {
        assert_eq!(new_ticket(&app, EVENTS_KEY).await.status(), StatusCode::OK);
    }
    expect_error(
        new_ticket(&app, EVENTS_KEY).await,
        StatusCode::TOO_MANY_REQUESTS,
        "fourth ticket",
    )
    .await;
    // Another key is not starved by the first...
    assert_eq!(new_ticket(&app, FULL_KEY).await.status(), StatusCode::OK);
    // ...up to the total.
    let r = app
        .request(Method::POST, "/ticket")
        .bearer_auth(RESTRICTED_KEY)
        .json(&json!({"agents": ["149"], "queues": ["q2"]}))
        .send()
        .await
        .unwrap();
    expect_error(r, StatusCode::TOO_MANY_REQUESTS, "fifth ticket in total").await;
}

async fn ticket(app: &TestApp) -> String {
    let response = new_ticket(app, EVENTS_KEY).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn concurrent_streams_per_address_are_bounded() {
    let app = spawn_app(|s| s.limits.max_streams_per_client = 2).await;
    let mut open = Vec::new();
    for _ in 0..2 {
        let t = ticket(&app).await;
        let response = app
            .request(Method::GET, &format!("/{t}/sse"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut body = response.bytes_stream();
        // The stream is live once its first event (the snapshot) arrives.
        let first = tokio::time::timeout(Duration::from_secs(10), body.next()).await;
        assert!(matches!(first, Ok(Some(Ok(_)))));
        open.push(body);
    }
    let t = ticket(&app).await;
    let third = app
        .request(Method::GET, &format!("/{t}/long-poll"))
        .send()
        .await
        .unwrap();
    expect_error(third, StatusCode::TOO_MANY_REQUESTS, "third stream").await;
    drop(open);
}

/// The three answers to a ticket: long-poll (status, body), SSE body, WebSocket close code.
pub async fn answers(app: &TestApp, ticket: &str) -> (StatusCode, String, String, Option<u16>) {
    let poll = app
        .request(Method::GET, &format!("/{ticket}/long-poll"))
        .send()
        .await
        .unwrap();
    let status = poll.status();
    let poll_body = poll.text().await.unwrap();
    let sse = app
        .request(Method::GET, &format!("/{ticket}/sse"))
        .send()
        .await
        .unwrap();
    let sse_body = tokio::time::timeout(Duration::from_secs(10), sse.text())
        .await
        .expect("the SSE answer to a dead ticket ends")
        .unwrap();
    let url = format!("ws://{}/{ticket}/websocket", app.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("upgrade");
    let mut code = None;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        if let tokio_tungstenite::tungstenite::Message::Close(frame) = msg {
            code = frame.map(|f| u16::from(f.code));
            break;
        }
    }
    (status, poll_body, sse_body, code)
}

#[tokio::test]
async fn guessed_tickets_get_the_same_answer_as_expired_ones() {
    let app = spawn_app(|s| s.unsub_delay_seconds = 1).await;
    let expired = ticket(&app).await;
    assert!(
        expired.len() >= 22,
        "a ticket carries at least 128 bits: {expired}"
    );
    // Wait for the real expiry (nothing attached): the hub's count drops to zero.
    let gone = async {
        loop {
            let ready: Value = app
                .request(Method::GET, "/ready")
                .bearer_auth(ADMIN_KEY)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if ready["tickets"] == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), gone)
        .await
        .expect("the ticket expires");
    let reference = answers(&app, &expired).await;
    assert_eq!(reference.0, StatusCode::NOT_FOUND);
    let error: Value = serde_json::from_str(&reference.1).unwrap();
    assert!(error["error"].is_string(), "{error}");
    assert!(reference.2.contains("event: close"), "{}", reference.2);
    assert_eq!(reference.3, Some(4404));
    let mut rng = rand::thread_rng();
    for len in [1, 8, 22, 22, 22, 43, 200] {
        let guess = Alphanumeric.sample_string(&mut rng, len);
        assert_eq!(answers(&app, &guess).await, reference, "guess {guess}");
    }
    // A ticket that differs from a live one in its last character is a stranger too.
    let live = ticket(&app).await;
    let mut near = live[..live.len() - 1].to_owned();
    near.push(if live.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(answers(&app, &near).await, reference);
    // Control characters and path tricks in the ticket: a stranger like any other.
    for hostile in [
        "%0D%0A",
        "%0D%0AAction:%20Logoff",
        "%00",
        "..%2F..%2Fetc",
        "%E2%80%A8",
    ] {
        assert_eq!(answers(&app, hostile).await, reference, "ticket {hostile}");
    }
}

#[tokio::test]
async fn too_many_agent_queue_pairs_are_refused_before_any_snapshot() {
    let app = spawn_app(|s| s.limits.max_pairs_per_ticket = 20).await;
    let ticket = |agents: usize, queues: &[&str]| {
        app.request(Method::POST, "/ticket")
            .bearer_auth(EVENTS_KEY)
            .json(&json!({"agents": agents_list(agents), "queues": queues}))
            .send()
    };
    assert_eq!(
        ticket(10, &["q1", "q2"]).await.unwrap().status(),
        StatusCode::OK
    );
    let tickets_before = tickets(&app).await;
    let msg = expect_error(
        ticket(10, &["q1", "q2", "q3"]).await.unwrap(),
        StatusCode::BAD_REQUEST,
        "30 pairs",
    )
    .await;
    assert!(msg.contains("max_pairs_per_ticket"), "{msg}");
    assert_eq!(tickets(&app).await, tickets_before, "no ticket was created");
}

#[tokio::test]
async fn a_snapshot_over_the_byte_budget_refuses_the_ticket() {
    // Ten agents, each a member of ten queues: a full snapshot is 100 member entries.
    let mut sim = pbxis_ws::sim::SimConfig::quiet();
    sim.agents = agents_list(10);
    sim.queues = (1..=10).map(|q| format!("q{q}")).collect();
    let app = spawn_app_with_sim(sim, |s| {
        s.limits.max_pending_bytes = 4096;
        s.limits.max_queues_per_ticket = 10;
    })
    .await;
    let ask = |agents: Vec<String>, queues: Vec<String>| {
        app.request(Method::POST, "/ticket")
            .bearer_auth(EVENTS_KEY)
            .json(&json!({"agents": agents, "queues": queues}))
            .send()
    };
    let small = ask(agents_list(1), vec!["q1".into()]).await.unwrap();
    assert_eq!(small.status(), StatusCode::OK);
    let tickets_before = tickets(&app).await;
    let queues = (1..=10).map(|q| format!("q{q}")).collect();
    let big = ask(agents_list(10), queues).await.unwrap();
    let msg = expect_error(big, StatusCode::BAD_REQUEST, "over the budget").await;
    assert!(msg.contains("max_pending_bytes"), "{msg}");
    assert_eq!(tickets(&app).await, tickets_before, "no ticket was kept");
}

fn agents_list(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{}", 147 + i)).collect()
}

/// Live tickets, from `GET /ready`.
async fn tickets(app: &TestApp) -> u64 {
    let ready: Value = app
        .request(Method::GET, "/ready")
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    ready["tickets"].as_u64().expect("a ticket count")
}

#[tokio::test]
async fn an_open_service_bounds_the_tickets_of_each_client_address() {
    let app = spawn_app(|s| {
        s.auth = Default::default();
        s.limits.max_tickets_per_owner = 2;
    })
    .await;
    let ask = |client: &reqwest::Client| {
        client
            .post(format!("http://{}/ticket", app.addr))
            .json(&json!({"agents": ["147"], "queues": ["q1"]}))
            .send()
    };
    let here = reqwest::Client::new();
    for _ in 0..2 {
        assert_eq!(ask(&here).await.unwrap().status(), StatusCode::OK);
    }
    expect_error(
        ask(&here).await.unwrap(),
        StatusCode::TOO_MANY_REQUESTS,
        "third ticket from one address",
    )
    .await;
    // Another address (127.0.0.2 is loopback too) is not starved by the first.
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    assert_eq!(ask(&elsewhere).await.unwrap().status(), StatusCode::OK);
}
