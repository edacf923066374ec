//! The three streams with real clients: reqwest for long-poll, a raw SSE reader, and
//! tokio-tungstenite for WebSocket. Each: the snapshot first, then a queue action's events, then
//! the closing events on `/stop`; plus unknown tickets, replacement, expiry and memory release,
//! the per-address stream limit, the WebSocket Origin check, and filtering.

use crate::support::app as support;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use support::{is, spawn_app, spawn_app_with, SseReader, PATIENCE};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

fn assert_snapshot(events: &[Value]) {
    assert!(
        events
            .iter()
            .any(|e| is(e, "pbxStatus", &[("connected", json!(true))])),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| is(
            e,
            "queueMemberStatus",
            &[
                ("agent", json!("147")),
                ("queue", json!("q1")),
                ("status", json!("not_inuse"))
            ]
        )),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| is(
            e,
            "queueCount",
            &[("queue", json!("q1")), ("count", json!(0))]
        )),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| is(
            e,
            "queueCallers",
            &[("queue", json!("q1")), ("callers", json!([]))]
        )),
        "{events:?}"
    );
}

fn paused_147(e: &Value) -> bool {
    is(
        e,
        "queueMemberStatus",
        &[
            ("agent", json!("147")),
            ("queue", json!("q1")),
            ("status", json!("paused")),
        ],
    )
}

async fn pause_147(app: &support::TestApp) {
    let (status, body) = app
        .post_json(
            "/queue/pause",
            json!({"queue":"q1","agent":"147","paused":true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn long_poll_snapshot_events_and_close_on_stop() {
    let app = spawn_app().await;
    let ticket = app.ticket(&["147"], &["q1"]).await;
    let snapshot = app.long_poll(&ticket).await;
    assert_snapshot(&snapshot);
    pause_147(&app).await;
    let events = app.long_poll_until(&ticket, paused_147).await;
    assert!(
        events.iter().all(|e| e["type"] != "pbxStatus"),
        "only changes: {events:?}"
    );
    // A poll waiting at /stop gets the closing event.
    let pending = tokio::spawn({
        let url = app.url(&format!("/{ticket}/long-poll"));
        async move {
            reqwest::get(url)
                .await
                .unwrap()
                .json::<Vec<Value>>()
                .await
                .unwrap()
        }
    });
    app.wait_streams(1).await;
    app.post_query("/stop", &[]).await;
    let last = tokio::time::timeout(PATIENCE, pending)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last, vec![json!({"type":"closed","reason":"shutdown"})]);
    tokio::time::timeout(PATIENCE, app.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn long_poll_times_out_empty_and_unknown_ticket_is_404() {
    let app = spawn_app_with(|s| s.poll_timeout_seconds = 1).await;
    let ticket = app.ticket(&["149"], &[]).await;
    assert!(!app.long_poll(&ticket).await.is_empty(), "the snapshot");
    assert_eq!(app.long_poll(&ticket).await, Vec::<Value>::new());
    let (status, body) = app.get("/AAAAAAAAAAAAAAAAAAAAAAAAAA/long-poll").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"], "unknown or expired ticket");
    app.stop_and_join().await;
}

#[tokio::test]
async fn sse_snapshot_events_and_close_on_stop() {
    let app = spawn_app().await;
    let ticket = app.ticket(&["147"], &["q1"]).await;
    let (status, mut sse) = SseReader::open(&app.url(&format!("/{ticket}/sse"))).await;
    assert_eq!(status, 200);
    let first = sse.until(|e| e.event == "queueCallers").await;
    let as_json: Vec<Value> = first
        .iter()
        .map(|e| {
            assert!(e.data.get("type").is_none(), "data without type: {e:?}");
            let mut v = e.data.clone();
            v["type"] = json!(e.event);
            v
        })
        .collect();
    assert_snapshot(&as_json);
    pause_147(&app).await;
    sse.until(|e| e.event == "queueMemberStatus" && e.data["status"] == "paused")
        .await;
    app.post_query("/stop", &[]).await;
    let tail = sse.until(|e| e.event == "closed").await;
    assert_eq!(tail.last().unwrap().data, json!({"reason":"shutdown"}));
    let close = sse.next().await.expect("close follows closed");
    assert_eq!(close.event, "close");
    assert!(sse.next().await.is_none(), "the stream ends");
    tokio::time::timeout(PATIENCE, app.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn sse_unknown_ticket_closes_at_once() {
    let app = spawn_app().await;
    let (status, mut sse) = SseReader::open(&app.url("/nope/sse")).await;
    assert_eq!(status, 200);
    let closed = sse.next().await.unwrap();
    assert_eq!(
        (closed.event.as_str(), &closed.data),
        ("closed", &json!({"reason":"unknownTicket"}))
    );
    assert_eq!(sse.next().await.unwrap().event, "close");
    assert!(sse.next().await.is_none());
    app.stop_and_join().await;
}

async fn ws_connect(
    app: &support::TestApp,
    ticket: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let url = format!("ws://{}/{ticket}/websocket", app.addr);
    tokio_tungstenite::connect_async(url)
        .await
        .expect("upgrade")
        .0
}

async fn ws_next_json<S>(ws: &mut S) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let msg = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("a message")
            .expect("open")
            .unwrap();
        match msg {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn websocket_snapshot_events_ping_and_close_on_stop() {
    let app = spawn_app().await;
    let ticket = app.ticket(&["147"], &["q1"]).await;
    let mut ws = ws_connect(&app, &ticket).await;
    let mut snapshot = Vec::new();
    while !snapshot.iter().any(|e: &Value| e["type"] == "queueCallers") {
        snapshot.push(ws_next_json(&mut ws).await);
    }
    assert_snapshot(&snapshot);
    ws.send(Message::Ping(b"are you there"[..].into()))
        .await
        .unwrap();
    let pong = tokio::time::timeout(PATIENCE, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(pong, Message::Pong(b"are you there"[..].into()));
    pause_147(&app).await;
    loop {
        if paused_147(&ws_next_json(&mut ws).await) {
            break;
        }
    }
    app.post_query("/stop", &[]).await;
    let mut last = ws_next_json(&mut ws).await;
    while last["type"] != "closed" {
        last = ws_next_json(&mut ws).await;
    }
    assert_eq!(last, json!({"type":"closed","reason":"shutdown"}));
    let frame = tokio::time::timeout(PATIENCE, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        matches!(frame, Message::Close(Some(ref f)) if u16::from(f.code) == 1000),
        "{frame:?}"
    );
    tokio::time::timeout(PATIENCE, app.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn websocket_unknown_ticket_replacement_and_origin() {
    let app = spawn_app_with(|s| s.cors_origins = vec!["https://app.example.com".into()]).await;
    let mut ws = ws_connect(&app, "nope").await;
    assert_eq!(
        ws_next_json(&mut ws).await,
        json!({"type":"closed","reason":"unknownTicket"})
    );
    let frame = ws.next().await.unwrap().unwrap();
    assert!(
        matches!(frame, Message::Close(Some(ref f)) if u16::from(f.code) == 4404),
        "{frame:?}"
    );

    let ticket = app.ticket(&["147"], &["q1"]).await;
    let mut first = ws_connect(&app, &ticket).await;
    ws_next_json(&mut first).await;
    let mut second = ws_connect(&app, &ticket).await;
    let mut last = ws_next_json(&mut first).await;
    while last["type"] != "closed" {
        last = ws_next_json(&mut first).await;
    }
    assert_eq!(last["reason"], "replaced");
    // The replacement receives what happens next.
    pause_147(&app).await;
    while !paused_147(&ws_next_json(&mut second).await) {}

    let url = format!("ws://{}/{ticket}/websocket", app.addr);
    let mut request = url.clone().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let refused = tokio_tungstenite::connect_async(request).await.unwrap_err();
    assert!(refused.to_string().contains("403"), "{refused}");
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://app.example.com".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(request).await.is_ok());
    app.stop_and_join().await;
}

#[tokio::test]
async fn ticket_expires_and_is_freed() {
    let app = spawn_app_with(|s| s.unsub_delay_seconds = 1).await;
    let ticket = app.ticket(&["147"], &["q1"]).await;
    assert_eq!(app.ticket_count().await, 1);
    // While a stream is attached the ticket lives on, past the delay.
    let mut ws = ws_connect(&app, &ticket).await;
    ws_next_json(&mut ws).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(app.ticket_count().await, 1, "attached: alive");
    ws.close(None).await.unwrap();
    drop(ws);
    tokio::time::timeout(PATIENCE, async {
        while app.ticket_count().await != 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("dropped after the delay");
    let (status, _) = app.get(&format!("/{ticket}/long-poll")).await;
    assert_eq!(status, 404);
    let (_, mut sse) = SseReader::open(&app.url(&format!("/{ticket}/sse"))).await;
    assert_eq!(
        sse.next().await.unwrap().data,
        json!({"reason":"unknownTicket"})
    );
    let mut ws = ws_connect(&app, &ticket).await;
    assert_eq!(ws_next_json(&mut ws).await["reason"], "unknownTicket");
    let frame = ws.next().await.unwrap().unwrap();
    assert!(matches!(frame, Message::Close(Some(ref f)) if u16::from(f.code) == 4404));
    app.stop_and_join().await;
}

#[tokio::test]
async fn streams_per_client_address_are_limited() {
    let app = spawn_app_with(|s| s.limits.max_streams_per_client = 1).await;
    let t1 = app.ticket(&["147"], &[]).await;
    let t2 = app.ticket(&["148"], &[]).await;
    let (status, mut first) = SseReader::open(&app.url(&format!("/{t1}/sse"))).await;
    assert_eq!(status, 200);
    first.next().await.unwrap();
    let (status, body) = app.get(&format!("/{t2}/long-poll")).await;
    assert_eq!(status, 429, "{body}");
    assert!(body["error"].is_string());
    drop(first);
    tokio::time::timeout(PATIENCE, async {
        loop {
            let r = app
                .http
                .get(app.url(&format!("/{t2}/long-poll")))
                .send()
                .await
                .unwrap();
            if r.status() == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the place is freed when the first stream ends");
    app.stop_and_join().await;
}

#[tokio::test]
async fn agent_only_ticket_gets_phone_number_of_a_queue_call() {
    let app = spawn_app().await;
    app.sim.set_answer_delay("148", None);
    let ticket = app.ticket(&["147"], &[]).await;
    let snapshot = app.long_poll(&ticket).await;
    assert!(
        snapshot
            .iter()
            .all(|e| e["type"] != "queueMemberStatus" && e["type"] != "queueCount"),
        "{snapshot:?}"
    );
    app.sim.inbound_call("q1", "5551234", Some("Caller")).await;
    let events = app
        .long_poll_until(&ticket, |e| {
            is(
                e,
                "phoneNumber",
                &[("agent", json!("147")), ("number", json!("5551234"))],
            )
        })
        .await;
    let phone = events.iter().find(|e| e["type"] == "phoneNumber").unwrap();
    assert_eq!(phone["queue"], "q1", "{phone}");
    for e in &events {
        assert!(
            e["type"] != "queueCount" && e["type"] != "queueMemberStatus",
            "out of filter: {e}"
        );
        if let Some(agent) = e.get("agent") {
            assert_eq!(agent, "147", "{e}");
        }
    }
    app.stop_and_join().await;
}

#[tokio::test]
async fn queue_only_ticket_gets_counts_not_agents() {
    let app = spawn_app().await;
    let ticket = app.ticket(&[], &["q2"]).await;
    let snapshot = app.long_poll(&ticket).await;
    assert!(
        snapshot
            .iter()
            .any(|e| is(e, "queueCount", &[("queue", json!("q2"))])),
        "{snapshot:?}"
    );
    app.sim.set_answer_delay("147", None);
    app.sim.set_answer_delay("148", None);
    app.sim.inbound_call("q2", "5550000", None).await;
    app.sim.inbound_call("q1", "5550001", None).await;
    let events = app
        .long_poll_until(&ticket, |e| {
            is(
                e,
                "queueCount",
                &[("queue", json!("q2")), ("count", json!(1))],
            )
        })
        .await;
    for e in events.iter().chain(&snapshot) {
        assert!(
            e.get("agent").is_none(),
            "agent events need the agent in the ticket: {e}"
        );
        if let Some(q) = e.get("queue") {
            assert_eq!(q, "q2", "{e}");
        }
    }
    app.stop_and_join().await;
}
