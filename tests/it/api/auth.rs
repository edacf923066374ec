//! CORS, the open-service rule, and API keys through every REST handler: the scope each endpoint needs, keys restricted to some
//! agents and queues (403, nothing reaches Asterisk), tickets owned by their key (the per-key
//! limit answers 429), keys from the TOML configuration.

use crate::support::app as support;

use reqwest::Method;
use serde_json::json;
use support::{spawn_app_keyed, TestApp};

const EVENTS: &str = "events-key-0123456789abcdef";
const CONTROL: &str = "control-key-0123456789abcdef";
const ADMIN: &str = "admin-key-0123456789abcdef";
const NARROW: &str = "narrow-key-0123456789abcdef";

async fn spawn() -> TestApp {
    let toml = format!(
        r#"
        [limits]
        max_tickets_per_owner = 2
        [[auth.keys]]
        name = "events"
        key = "{EVENTS}"
        scopes = ["events"]
        [[auth.keys]]
        name = "control"
        key = "{CONTROL}"
        scopes = ["control"]
        [[auth.keys]]
        name = "admin"
        key = "{ADMIN}"
        scopes = ["admin"]
        [[auth.keys]]
        name = "narrow"
        key = "{NARROW}"
        scopes = ["events", "control"]
        agents = ["149"]
        queues = ["q2"]
        "#
    );
    let configured = pbxis_ws::config::Settings::from_toml(&toml).unwrap();
    spawn_app_keyed(
        move |s| {
            s.auth = configured.auth;
            s.limits = configured.limits;
        },
        Some(ADMIN),
    )
    .await
}

async fn call(app: &TestApp, method: Method, path: &str, key: Option<&str>) -> u16 {
    let mut request = app.http.request(method, app.url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status == 401 {
        assert!(response.headers().contains_key("www-authenticate"));
    }
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if status >= 400 {
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    status
}

#[tokio::test]
async fn every_endpoint_needs_its_scope() {
    let app = spawn().await;
    app.sim.clear_actions();
    let endpoints: [(Method, &str, &str); 7] = [
        (Method::POST, "/ticket?agents=147", EVENTS),
        (Method::GET, "/queue/status?queue=q1", EVENTS),
        (
            Method::POST,
            "/queue/pause?queue=q1&agent=147&paused=true",
            CONTROL,
        ),
        (Method::POST, "/queue/reset?queue=q1", CONTROL),
        (Method::POST, "/originate/147/1562830", CONTROL),
        (Method::GET, "/health", ADMIN),
        (Method::GET, "/ready", ADMIN),
    ];
    for (method, path, right) in &endpoints {
        assert_eq!(call(&app, method.clone(), path, None).await, 401, "{path}");
        assert_eq!(
            call(&app, method.clone(), path, Some("wrong-key-000000000000")).await,
            401,
            "{path}"
        );
        for key in [EVENTS, CONTROL, ADMIN] {
            if key != *right {
                assert_eq!(
                    call(&app, method.clone(), path, Some(key)).await,
                    403,
                    "{path} {key}"
                );
            }
        }
    }
    assert_eq!(call(&app, Method::POST, "/stop", Some(CONTROL)).await, 403);
    assert!(
        app.commands_received().is_empty(),
        "{:?}",
        app.commands_received()
    );
    for (method, path, right) in &endpoints {
        assert_eq!(
            call(&app, method.clone(), path, Some(right)).await,
            200,
            "{path}"
        );
    }
    assert_eq!(
        app.commands_received(),
        ["QueuePause", "QueueReset", "Originate"]
    );
    assert_eq!(call(&app, Method::POST, "/stop", Some(ADMIN)).await, 202);
}

/// `GET /key` with a key: its scopes.
async fn scopes_of(app: &TestApp, key: Option<&str>) -> (u16, serde_json::Value) {
    let mut request = app.http.get(app.url("/key"));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn any_key_reads_its_own_scopes_and_only_a_key_does() {
    let app = spawn().await;
    for (key, scopes) in [
        (EVENTS, json!(["events"])),
        (CONTROL, json!(["control"])),
        (NARROW, json!(["events", "control"])),
        (ADMIN, json!(["admin"])),
    ] {
        assert_eq!(
            scopes_of(&app, Some(key)).await,
            (200, json!({ "scopes": scopes })),
            "{key}"
        );
    }
    let (status, body) = scopes_of(&app, None).await;
    assert_eq!(status, 401);
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(scopes_of(&app, Some("wrong-key-000000000000")).await.0, 401);
}

#[tokio::test]
async fn an_open_service_answers_every_scope() {
    let app = support::spawn_app().await;
    assert_eq!(
        scopes_of(&app, None).await,
        (
            200,
            json!({ "scopes": ["events", "control", "admin", "health", "supervise"] })
        )
    );
}

#[tokio::test]
async fn a_restricted_key_stays_inside_its_agents_and_queues() {
    let app = spawn().await;
    app.sim.clear_actions();
    for (method, path) in [
        (Method::POST, "/ticket?agents=147"),
        (Method::POST, "/ticket?queues=q1"),
        (Method::POST, "/ticket?agents=149&queues=q1,q2"),
        (Method::GET, "/queue/status?queue=q1"),
        (Method::POST, "/queue/pause?queue=q1&agent=149&paused=true"),
        (Method::POST, "/queue/pause?queue=q2&agent=147&paused=true"),
        (Method::POST, "/queue/reset"),
        (Method::POST, "/originate/147/1562830"),
    ] {
        assert_eq!(call(&app, method, path, Some(NARROW)).await, 403, "{path}");
    }
    assert!(
        app.commands_received().is_empty(),
        "{:?}",
        app.commands_received()
    );
    assert_eq!(
        call(
            &app,
            Method::POST,
            "/queue/pause?queue=q2&agent=149&paused=true",
            Some(NARROW)
        )
        .await,
        200
    );
    assert_eq!(
        call(&app, Method::POST, "/originate/149/1562830", Some(NARROW)).await,
        200
    );
    // The queue list shows only its queues.
    let all: serde_json::Value = app
        .http
        .get(app.url("/queue/status"))
        .bearer_auth(NARROW)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["queue"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["q2"]);
    app.stop_and_join().await;
}

#[tokio::test]
async fn tickets_are_counted_per_key() {
    let app = spawn().await;
    let ticket = |key: &'static str| {
        app.http
            .post(app.url("/ticket"))
            .bearer_auth(key)
            .json(&json!({"agents":["149"],"queues":["q2"]}))
            .send()
    };
    assert_eq!(ticket(EVENTS).await.unwrap().status(), 200);
    assert_eq!(ticket(EVENTS).await.unwrap().status(), 200);
    let third = ticket(EVENTS).await.unwrap();
    assert_eq!(third.status(), 429);
    // Another key has its own allowance.
    assert_eq!(ticket(NARROW).await.unwrap().status(), 200);
    assert_eq!(app.ticket_count().await, 3);
    app.stop_and_join().await;
}

#[tokio::test]
async fn cors_preflight_allowed_and_refused() {
    let app =
        support::spawn_app_with(|s| s.cors_origins = vec!["https://app.example.com".into()]).await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/ticket"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let ok = preflight("https://app.example.com").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let refused = preflight("https://evil.example").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let r = app
        .http
        .get(app.url("/health"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    app.stop_and_join().await;
}

#[tokio::test]
async fn open_service_refuses_a_public_address() {
    let mut settings = pbxis_ws::config::Settings {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..Default::default()
    };
    let err = pbxis_ws::app::Application::build(settings.clone())
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("--insecure-no-auth"), "{err}");
    settings.insecure_no_auth = true;
    let app = pbxis_ws::app::Application::build(settings)
        .await
        .expect("allowed when insisted");
    assert!(app.addr().ip().is_unspecified());
}
