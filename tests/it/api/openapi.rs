//! The OpenAPI document and the docs page as a client sees them: served without a key on a
//! keyed service, and the events that really travel (the recorded golden events, and a live
//! stream's snapshot and changes, with their ids) validate against the document's event schemas.

use crate::support::app as support;

use serde_json::{json, Value};
use std::collections::BTreeSet;
use support::{spawn_app_keyed, TestApp};

const KEY: &str = "all-key-0123456789abcdef";

async fn spawn() -> TestApp {
    let toml = format!(
        r#"
        summary_refresh_seconds = 1
        [[auth.keys]]
        name = "all"
        key = "{KEY}"
        scopes = ["events", "control", "admin"]
        "#
    );
    let configured = pbxis_ws::config::Settings::from_toml(&toml).unwrap();
    spawn_app_keyed(
        move |s| {
            s.auth = configured.auth;
            s.summary_refresh_seconds = configured.summary_refresh_seconds;
        },
        Some(KEY),
    )
    .await
}

async fn document(app: &TestApp) -> Value {
    let r = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

fn validator(document: &Value) -> jsonschema::Validator {
    let schema = json!({
        "$ref": "#/components/schemas/Event",
        "components": document["components"],
    });
    jsonschema::validator_for(&schema).unwrap()
}

fn check(validator: &jsonschema::Validator, event: &Value, types: &mut BTreeSet<String>) {
    let errors: Vec<String> = validator
        .iter_errors(event)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{event}: {errors:?}");
    types.insert(event["type"].as_str().unwrap().to_owned());
}

#[tokio::test]
async fn the_document_and_the_docs_page_are_served_without_a_key() {
    let app = spawn().await;
    let unkeyed = app.http.post(app.url("/ticket")).send().await.unwrap();
    assert_eq!(unkeyed.status(), 401, "the service has keys");
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/ticket"]["post"].is_object(), "{doc}");
    let docs = app.http.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let headers = docs.headers().clone();
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'self'"));
    let html = docs.text().await.unwrap();
    assert!(html.contains("docs.js"), "{html}");
    for asset in ["/docs.js", "/docs.css"] {
        let r = app.http.get(app.url(asset)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{asset}");
    }
    app.stop_and_join().await;
}

#[tokio::test]
async fn golden_and_live_events_validate_against_the_event_schemas() {
    let app = spawn().await;
    let validator = validator(&document(&app).await);
    let mut types = BTreeSet::new();
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut lines = 0;
    for file in std::fs::read_dir(&golden).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            check(&validator, &serde_json::from_str(line).unwrap(), &mut types);
            lines += 1;
        }
    }
    assert!(lines > 200, "{lines} golden events");
    // A live stream: its snapshot, a change, and the wallboard's summaries, each with its id.
    let r = app
        .http
        .post(app.url("/ticket"))
        .bearer_auth(KEY)
        .json(&json!({"agents": ["147", "148"], "queues": ["q1", "q2"], "summaryEvents": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let ticket: String = r.json().await.unwrap();
    let r = app
        .http
        .post(app.url("/queue/pause"))
        .bearer_auth(KEY)
        .json(&json!({"queue": "q1", "agent": "147", "paused": true, "reason": "lunch"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = app
        .long_poll_until(&ticket, |e| {
            support::is(
                e,
                "queueMemberStatus",
                &[("agent", json!("147")), ("status", json!("paused"))],
            )
        })
        .await;
    let summaries = app
        .long_poll_until(&ticket, |e| e["type"] == "memberSummary")
        .await;
    for event in seen.iter().chain(&summaries) {
        assert!(event["id"].is_string(), "{event}");
        check(&validator, event, &mut types);
    }
    for want in [
        "pbxStatus",
        "agentName",
        "queueMemberStatus",
        "queueCount",
        "phoneNumber",
        "queueSummary",
        "memberSummary",
    ] {
        assert!(types.contains(want), "no {want} validated: {types:?}");
    }
    app.stop_and_join().await;
}
