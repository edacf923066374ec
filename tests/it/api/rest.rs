//! The REST endpoints over real HTTP against the simulated Asterisk: success and failure paths,
//! parameters from the query, a JSON body and form data alike; nothing invalid reaches AMI.

use crate::support::app as support;

use serde_json::{json, Value};
use support::{spawn_app, spawn_app_with};

async fn member(
    app: &support::TestApp,
    queue: &str,
    agent: &str,
) -> Option<pbxis_ws::sim::MemberTruth> {
    let truth = app.sim.truth().await;
    let q = truth.queues.into_iter().find(|q| q.name == queue)?;
    q.members
        .into_iter()
        .find(|m| m.interface == format!("PJSIP/{agent}"))
}

#[tokio::test]
async fn health_ready_and_unknown_routes() {
    let app = spawn_app().await;
    assert_eq!(app.get("/health").await, (200, json!({"status": "ok"})));
    let (status, body) = app.get("/ready").await;
    assert_eq!(status, 200);
    assert_eq!(body["ready"], true);
    assert_eq!(body["connected"], true);
    let (status, body) = app.get("/no/such/thing/here").await;
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
    let r = app.http.get(app.url("/queue/add")).send().await.unwrap();
    let (status, body) = support::status_json(r).await;
    assert_eq!(status, 405);
    assert_eq!(body["error"], "method not allowed");
    let (status, _) = app.post_query("/queue/status", &[]).await;
    assert_eq!(status, 405);
    // The pages are merged into the same router.
    let page = app
        .http
        .get(app.url("/client/sse/147,148/q1"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    app.stop_and_join().await;
}

#[tokio::test]
async fn add_remove_pause_from_query_json_and_form() {
    let app = spawn_app().await;
    // remove, query parameters
    let (status, body) = app
        .post_query("/queue/remove", &[("queue", "q1"), ("agent", "147")])
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["message"].is_string());
    assert!(member(&app, "q1", "147").await.is_none());
    // add, JSON body, boolean as a string
    let (status, body) = app
        .post_json(
            "/queue/add",
            json!({"queue":"q1","agent":"147","memberName":"Ana 147","paused":"true"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let m = member(&app, "q1", "147").await.expect("a member again");
    assert!(m.paused);
    assert_eq!(m.name, "Ana 147");
    // pause, form data, with a reason
    let r = app
        .http
        .post(app.url("/queue/pause"))
        .form(&[("queue", "q1"), ("agent", "147"), ("paused", "false")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(!member(&app, "q1", "147").await.unwrap().paused);
    let (status, _) = app
        .post_json(
            "/queue/pause",
            json!({"queue":"q1","agent":"147","paused":true,"reason":"lunch"}),
        )
        .await;
    assert_eq!(status, 200);
    let m = member(&app, "q1", "147").await.unwrap();
    assert!(m.paused);
    assert_eq!(m.reason, "lunch");
    app.stop_and_join().await;
}

#[tokio::test]
async fn reset_with_and_without_queue() {
    let app = spawn_app().await;
    let (status, body) = app.post_query("/queue/reset", &[("queue", "q2")]).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.post_json("/queue/reset", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.commands_received(), ["QueueReset", "QueueReset"]);
    app.stop_and_join().await;
}

#[tokio::test]
async fn asterisk_refusal_is_409_with_its_message() {
    let app = spawn_app().await;
    let (status, body) = app
        .post_query("/queue/add", &[("queue", "q1"), ("agent", "147")])
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("Asterisk refused"),
        "{body}"
    );
    let (status, _) = app
        .post_query("/queue/remove", &[("queue", "q1"), ("agent", "999")])
        .await;
    assert_eq!(status, 409);
    app.stop_and_join().await;
}

#[tokio::test]
async fn invalid_queue_actions_never_reach_asterisk() {
    let app = spawn_app().await;
    app.sim.clear_actions();
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "/queue/pause",
            json!({"queue":"q1","agent":"147"}),
            400,
            "`paused`",
        ),
        (
            "/queue/pause",
            json!({"queue":"q1","agent":"147","paused":"yes"}),
            400,
            "`paused`",
        ),
        ("/queue/add", json!({"queue":"q1"}), 400, "`agent`"),
        (
            "/queue/add",
            json!({"queue":"q1","agent":"147\r\nAction: Originate"}),
            400,
            "`agent`",
        ),
        (
            "/queue/add",
            json!({"queue":"q1","agent":"148","memberName":"x\ny"}),
            400,
            "`memberName`",
        ),
        (
            "/queue/pause",
            json!({"queue":"q1","agent":"147","paused":true,"reason":"a\u{0}"}),
            400,
            "`reason`",
        ),
        (
            "/queue/remove",
            json!({"queue":["q1","q2"],"agent":"147"}),
            400,
            "`queue`",
        ),
        (
            "/queue/remove",
            json!({"queue":"q1","agent":"147","extra":"1"}),
            400,
            "extra",
        ),
        (
            "/queue/launch",
            json!({"queue":"q1"}),
            404,
            "unknown queue action",
        ),
    ];
    for (path, body, want, needle) in cases {
        let (status, answer) = app.post_json(path, body.clone()).await;
        assert_eq!(status, want, "{path} {body} -> {answer}");
        let msg = answer["error"].as_str().unwrap_or_default();
        assert!(msg.contains(needle), "{path} {body} -> {answer}");
    }
    // The same through the query string.
    let (status, answer) = app
        .post_query("/queue/remove", &[("queue", "q1\r\n"), ("agent", "147")])
        .await;
    assert_eq!(status, 400, "{answer}");
    // Malformed JSON, wrong content type, too large a body.
    let status = post_raw(&app, "/queue/remove", "application/json", "{\"queue\":").await;
    assert_eq!(status, 400);
    let status = post_raw(&app, "/queue/remove", "text/plain", "queue=q1").await;
    assert_eq!(status, 415);
    let r = app
        .http
        .post(app.url("/queue/remove?queue=q1&agent=147"))
        .header("x-padding", "p".repeat(20_000))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431);
    let long_query = format!(
        "/queue/remove?queue=q1&agent=147&memberName={}",
        "m".repeat(20_000)
    );
    let (status, answer) = app.post_query(&long_query, &[]).await;
    assert_eq!(status, 431, "{answer}");
    assert!(answer["error"].is_string());
    let big = json!({"queue":"q1","agent":"147","memberName":"x".repeat(20_000)});
    let (status, answer) = app.post_json("/queue/add", big).await;
    assert_eq!(status, 413, "{answer}");
    assert!(answer["error"].is_string());
    assert!(
        app.commands_received().is_empty(),
        "{:?}",
        app.commands_received()
    );
    app.stop_and_join().await;
}

#[tokio::test]
async fn originate_returns_the_action_id() {
    let app = spawn_app().await;
    app.sim.clear_actions();
    let (status, id) = app
        .post_query("/originate/148/1562830", &[("callerId", "7012888")])
        .await;
    assert_eq!(status, 200, "{id}");
    let id = id.as_str().expect("a JSON string").to_owned();
    assert!(!id.is_empty());
    let (status, id2) = app
        .post_json("/originate/148/1562830", json!({"callerId":"7012888"}))
        .await;
    assert_eq!(status, 200);
    assert_ne!(id2.as_str().unwrap(), id);
    let (status, body) = app.post_query("/originate/147/+38512345", &[]).await;
    assert_eq!(status, 200, "{body}");
    // A valid request Asterisk cannot carry out: its refusal, as 409.
    let (status, body) = app.post_query("/originate/147/nosuchplace", &[]).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"], "Asterisk refused: Extension does not exist.");
    let originates: Vec<_> = app
        .sim
        .actions_received()
        .into_iter()
        .filter(|m| {
            m.get("Action")
                .is_some_and(|a| a.eq_ignore_ascii_case("originate"))
        })
        .collect();
    assert_eq!(originates.len(), 4);
    assert!(originates[0]
        .get("CallerID")
        .unwrap_or_default()
        .contains("7012888"));
    app.stop_and_join().await;
}

#[tokio::test]
async fn invalid_originate_never_reaches_asterisk() {
    let app = spawn_app().await;
    app.sim.clear_actions();
    for (path, body, needle) in [
        (
            "/originate/148/156%0D%0AAction:%20Hangup",
            json!({}),
            "`dest`",
        ),
        ("/originate/14%0A8/1562830", json!({}), "`src`"),
        ("/originate/148/Local%2F1@x", json!({}), "`dest`"),
        (
            "/originate/148/1562830",
            json!({"callerId":"7\r\n"}),
            "`callerId`",
        ),
        (
            "/originate/148/1562830",
            json!({"callerId":{"n":1}}),
            "`callerId`",
        ),
        (
            "/originate/148/1562830",
            json!({"callerid":"1"}),
            "callerid",
        ),
    ] {
        let (status, answer) = app.post_json(path, body).await;
        assert_eq!(status, 400, "{path} -> {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(needle),
            "{path} -> {answer}"
        );
    }
    let (status, _) = app
        .post_query("/originate/148/1562830", &[("callerId", "a\u{7}")])
        .await;
    assert_eq!(status, 400);
    assert!(
        app.commands_received().is_empty(),
        "{:?}",
        app.commands_received()
    );
    app.stop_and_join().await;
}

#[tokio::test]
async fn ticket_from_json_query_and_form() {
    let app = spawn_app_with(|s| s.limits.max_agents_per_ticket = 3).await;
    let t1 = app.ticket(&["147", "148"], &["q1"]).await;
    assert!(t1.len() >= 22, "{t1}");
    let (status, t2) = app
        .post_query("/ticket", &[("agents", "147,148"), ("queues", "q1")])
        .await;
    assert_eq!(status, 200);
    let r = app
        .http
        .post(app.url("/ticket"))
        .form(&[
            ("agents", "147"),
            ("agents", "149"),
            ("summaryEvents", "true"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t3: String = r.json().await.unwrap();
    assert_ne!(t1, t2.as_str().unwrap());
    assert_ne!(t1, t3);
    for (body, needle) in [
        (json!({"agents":["1","2","3","4"]}), "`agents`"),
        (json!({"agents":"147\n"}), "`agents`"),
        (json!({"queues":[1.5]}), "`queues`"),
        (
            json!({"queues":["q1"],"summaryEvents":"maybe"}),
            "`summaryEvents`",
        ),
        (json!({"agent":["147"]}), "agent"),
    ] {
        let (status, answer) = app.post_json("/ticket", body.clone()).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(needle),
            "{body} -> {answer}"
        );
    }
    assert_eq!(app.ticket_count().await, 3);
    app.stop_and_join().await;
}

/// POSTs `body` with `content_type` as is; the answer's status.
async fn post_raw(app: &support::TestApp, path: &str, content_type: &str, body: &str) -> u16 {
    let r = app
        .http
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}
