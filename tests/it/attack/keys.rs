//! Every endpoint without a key, with a wrong key, with a key of the wrong scope, and with a key
//! restricted to other agents and queues: 401 or 403, a JSON error, nothing sent to Asterisk, and
//! the service still up (a refused `/stop` did not stop it).

use super::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// One endpoint, called in a way that is valid apart from the key.
pub struct Endpoint {
    pub method: Method,
    pub path: &'static str,
    pub body: Option<Value>,
    /// A configured key that lacks the endpoint's scope.
    pub wrong_scope_key: &'static str,
    /// Whether the call names agent 147 or queue q1 (outside the restricted key's).
    pub names_others: bool,
}

fn endpoint(
    method: Method,
    path: &'static str,
    body: Option<Value>,
    wrong_scope_key: &'static str,
    names_others: bool,
) -> Endpoint {
    Endpoint {
        method,
        path,
        body,
        wrong_scope_key,
        names_others,
    }
}

/// Every endpoint that needs a key.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        endpoint(
            Method::GET,
            "/queue/status?queue=q1",
            None,
            CONTROL_KEY,
            true,
        ),
        endpoint(
            Method::POST,
            "/queue/add",
            Some(json!({"queue": "q1", "agent": "147", "memberName": "Agent 147"})),
            EVENTS_KEY,
            true,
        ),
        endpoint(
            Method::POST,
            "/queue/remove",
            Some(json!({"queue": "q1", "agent": "147"})),
            EVENTS_KEY,
            true,
        ),
        endpoint(
            Method::POST,
            "/queue/pause",
            Some(json!({"queue": "q1", "agent": "147", "paused": true, "reason": "lunch"})),
            EVENTS_KEY,
            true,
        ),
        endpoint(
            Method::POST,
            "/queue/reset",
            Some(json!({"queue": "q1"})),
            EVENTS_KEY,
            true,
        ),
        endpoint(Method::POST, "/queue/reset", None, ADMIN_KEY, true),
        endpoint(
            Method::POST,
            "/originate/147/1562830",
            Some(json!({"callerId": "7012888"})),
            EVENTS_KEY,
            true,
        ),
        endpoint(Method::GET, "/calls?agent=147", None, CONTROL_KEY, true),
        endpoint(
            Method::POST,
            "/hangup",
            Some(json!({"agent-or-channel": "147"})),
            EVENTS_KEY,
            true,
        ),
        endpoint(
            Method::POST,
            "/hangup",
            Some(json!({"agent-or-channel": "PJSIP/149-00000001"})),
            EVENTS_KEY,
            true,
        ),
        endpoint(
            Method::POST,
            "/redirect-to/1562830",
            Some(json!({"agent-or-channel": "147"})),
            EVENTS_KEY,
            true,
        ),
        endpoint(
            Method::POST,
            "/park-and-announce",
            Some(json!({"agent-or-channel": "147"})),
            EVENTS_KEY,
            true,
        ),
        endpoint(
            Method::POST,
            "/spy/148/147",
            Some(json!({"mode": "listen"})),
            CONTROL_KEY,
            false,
        ),
        endpoint(
            Method::POST,
            "/ticket",
            Some(json!({"agents": ["147"], "queues": ["q2"]})),
            CONTROL_KEY,
            true,
        ),
        endpoint(
            Method::POST,
            "/ticket",
            Some(json!({"agents": ["149"], "queues": ["q1"]})),
            ADMIN_KEY,
            true,
        ),
        endpoint(Method::POST, "/stop", None, CONTROL_KEY, false),
        endpoint(Method::GET, "/health", None, EVENTS_KEY, false),
        endpoint(Method::GET, "/ready", None, RESTRICTED_KEY, false),
    ]
}

async fn call(app: &TestApp, e: &Endpoint, key: Option<&str>) -> reqwest::Response {
    let mut request = app.request(e.method.clone(), e.path);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = &e.body {
        request = request.json(body);
    }
    request.send().await.expect("request")
}

#[tokio::test]
async fn every_endpoint_refuses_a_missing_or_wrong_key() {
    let app = spawn_app(|_| {}).await;
    app.assert_reaches_nothing(async {
        for e in endpoints() {
            let what = format!("{} {}", e.method, e.path);
            let msg =
                expect_error(call(&app, &e, None).await, StatusCode::UNAUTHORIZED, &what).await;
            assert!(msg.contains("Bearer"), "{what}: {msg}");
            for wrong in [
                WRONG_KEY,
                "",
                &EVENTS_KEY[1..],
                &format!("{EVENTS_KEY}{EVENTS_KEY}"),
            ] {
                let response = call(&app, &e, Some(wrong)).await;
                expect_error(
                    response,
                    StatusCode::UNAUTHORIZED,
                    &format!("{what} key {wrong:?}"),
                )
                .await;
            }
            let basic = app
                .request(e.method.clone(), e.path)
                .basic_auth("admin", Some(ADMIN_KEY))
                .send()
                .await
                .unwrap();
            expect_error(basic, StatusCode::UNAUTHORIZED, &format!("{what} basic")).await;
        }
    })
    .await;
    app.wait_ready().await;
}

/// Without a key, nothing of the request is looked at: malformed, oversized or hostile
/// parameters still get the 401, so a stranger learns nothing and costs no parsing.
#[tokio::test]
async fn the_key_is_checked_before_the_parameters() {
    let app = spawn_app(|_| {}).await;
    app.assert_reaches_nothing(async {
        for path in [
            "/ticket",
            "/queue/pause",
            "/originate/147/1562830",
            "/queue/status",
        ] {
            let method = if path == "/queue/status" {
                Method::GET
            } else {
                Method::POST
            };
            let bodies: [(&str, Vec<u8>); 4] = [
                ("application/json", b"{not json".to_vec()),
                (
                    "application/json",
                    br#"{"agent": "147\r\nAction: Logoff", "x": 1}"#.to_vec(),
                ),
                ("text/plain", b"agent=147".to_vec()),
                ("application/json", vec![b' '; MAX_BODY * 2]),
            ];
            for (content_type, body) in bodies {
                let response = app
                    .request(method.clone(), &format!("{path}?unknown=%0D%0A"))
                    .header("content-type", content_type)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                expect_error(
                    response,
                    StatusCode::UNAUTHORIZED,
                    &format!("{path} {content_type}"),
                )
                .await;
            }
        }
    })
    .await;
}

#[tokio::test]
async fn every_endpoint_refuses_a_key_of_the_wrong_scope() {
    let app = spawn_app(|_| {}).await;
    app.assert_reaches_nothing(async {
        for e in endpoints() {
            let what = format!("{} {} with {}", e.method, e.path, e.wrong_scope_key);
            let msg = expect_error(
                call(&app, &e, Some(e.wrong_scope_key)).await,
                StatusCode::FORBIDDEN,
                &what,
            )
            .await;
            assert!(msg.contains("scope"), "{what}: {msg}");
        }
    })
    .await;
    // The refused /stop did not stop the service.
    app.wait_ready().await;
}

#[tokio::test]
async fn a_restricted_key_cannot_reach_other_agents_or_queues() {
    let app = spawn_app(|_| {}).await;
    app.assert_reaches_nothing(async {
        for e in endpoints().into_iter().filter(|e| e.names_others) {
            let what = format!("{} {} {:?}", e.method, e.path, e.body);
            let msg = expect_error(
                call(&app, &e, Some(RESTRICTED_KEY)).await,
                StatusCode::FORBIDDEN,
                &what,
            )
            .await;
            assert!(
                msg.contains("may not use") || msg.contains("restricted"),
                "{what}: {msg}"
            );
        }
    })
    .await;
    // Within its agents and queues the same key works: the refusals above were about scope.
    let ok = app
        .request(Method::POST, "/ticket")
        .bearer_auth(RESTRICTED_KEY)
        .json(&json!({"agents": ["149"], "queues": ["q2"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let status: Value = app
        .request(Method::GET, "/queue/status")
        .bearer_auth(RESTRICTED_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let queues: Vec<&str> = status
        .as_array()
        .expect("an array of queues")
        .iter()
        .filter_map(|q| q["queue"].as_str())
        .collect();
    assert_eq!(queues, ["q2"], "a restricted key sees only its queues");
}

/// The control experiment: with the right key the same calls do reach Asterisk, so the
/// "reaches nothing" checks above can fail.
#[tokio::test]
async fn the_right_key_reaches_asterisk() {
    let app = spawn_app(|_| {}).await;
    let before = app.foreign_actions().len();
    let pause = app
        .request(Method::POST, "/queue/pause")
        .bearer_auth(CONTROL_KEY)
        .json(&json!({"queue": "q1", "agent": "147", "paused": true, "reason": "lunch"}))
        .send()
        .await
        .unwrap();
    assert_eq!(pause.status(), StatusCode::OK);
    let originate = app
        .request(Method::POST, "/originate/149/1562830")
        .bearer_auth(RESTRICTED_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(originate.status(), StatusCode::OK);
    let sent = app.foreign_actions();
    let names: Vec<_> = sent[before..]
        .iter()
        .filter_map(|a| a.action_name())
        .collect();
    assert_eq!(names, ["QueuePause", "Originate"]);
    assert_eq!(sent[before].get("Reason"), Some("lunch"));
    // The only Originate form the service sends: no Application, Data or Variable; the
    // channel ids are the service's own (the action id).
    let originate = &sent[before + 1];
    let keys: Vec<_> = originate.fields().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [
            "Action",
            "ActionID",
            "Channel",
            "Exten",
            "Context",
            "Priority",
            "Async",
            "ChannelId",
            "OtherChannelId"
        ]
    );
    let id = originate.get("ActionID").unwrap();
    assert_eq!(originate.get("ChannelId"), Some(id));
    assert_eq!(
        originate.get("OtherChannelId"),
        Some(format!("{id}-2").as_str())
    );
    assert_eq!(originate.get("Channel"), Some("PJSIP/149"));
    assert_eq!(originate.get("Context"), Some("default"));
}

#[tokio::test]
async fn the_right_key_is_accepted_and_stop_can_be_disabled() {
    let app = spawn_app(|s| s.allow_stop = false).await;
    let response = app
        .request(Method::POST, "/stop")
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::NOT_FOUND, "disabled /stop").await;
    app.wait_ready().await;
    let health = app
        .request(Method::GET, "/health")
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    // A wrong method is a JSON 405, not a way around the checks.
    let wrong = app.request(Method::GET, "/ticket").send().await.unwrap();
    expect_error(wrong, StatusCode::METHOD_NOT_ALLOWED, "GET /ticket").await;
}
