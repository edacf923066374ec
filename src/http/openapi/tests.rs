//! The document against the router it describes: every route of the served router, with each
//! method it answers, is in the document and nothing else is; every `$ref` resolves; every
//! path's parameters are its route's; and the events the model and the hub really write
//! validate against the event schemas.

use super::*;
use crate::http::auth::{ApiKeyConfig, Auth, AuthConfig, Scope};
use crate::http::state::StreamTiming;
use crate::hub::{Delivery, Hub, HubConfig};
use crate::pbx::{
    AgentId, DeviceStatus, Event as ModelEvent, MemberStatus, ParkState, QueueName, SpyMode,
    WaitingCaller,
};
use axum::body::{to_bytes, Body};
use axum::http::{Method, Request, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use tower::ServiceExt;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

fn document_json() -> Value {
    serde_json::from_str(&DOCUMENT).expect("the document is JSON")
}

/// The service's router, with an API key configured, so that no REST call gets past the key
/// check (nothing reaches the model).
fn served_router() -> axum::Router {
    let key = ApiKeyConfig {
        name: "k".into(),
        sha256: None,
        key: Some("k-0123456789abcdef0123".into()),
        scopes: vec![Scope::Admin],
        agents: None,
        queues: None,
    };
    let auth = Auth::new(AuthConfig { keys: vec![key] }).expect("a valid key");
    let hub = Hub::new(HubConfig::default());
    crate::http::router(AppState::for_tests_with(hub, StreamTiming::default(), auth))
}

/// The paths the router routes, read from the router itself (its `Debug` lists them).
fn routed_paths(router: &axum::Router) -> BTreeSet<String> {
    let debug = format!("{router:?}");
    let mut paths = BTreeSet::new();
    for piece in debug.split("RouteId(").skip(1) {
        let Some(start) = piece.find("\"/") else {
            continue;
        };
        let rest = &piece[start + 1..];
        if let Some(end) = rest.find('"') {
            paths.insert(rest[..end].to_owned());
        }
    }
    paths
}

/// A concrete URL of a route template: every `{segment}` becomes `x`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether the router answers `method` on `path` with a route's handler (not the 404 of unknown
/// routes, not a 405).
async fn answers(router: &axum::Router, method: &str, path: &str) -> bool {
    let request = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).expect("a method"))
        .uri(concrete(path))
        .body(Body::empty())
        .expect("a request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let unknown = status == StatusCode::NOT_FOUND
        && String::from_utf8_lossy(&body).contains("no such endpoint");
    status != StatusCode::METHOD_NOT_ALLOWED && !unknown
}

#[tokio::test]
async fn every_route_of_the_router_is_documented_with_its_methods() {
    let router = served_router();
    // A path the router lists but answers on no method is the fallback's (`/` and its
    // catch-all): the 404 of unknown routes.
    let mut routed = BTreeSet::new();
    for path in routed_paths(&router) {
        for method in METHODS {
            if answers(&router, method, &path).await {
                routed.insert(path.clone());
            }
        }
    }
    assert!(
        routed.contains("/ticket") && routed.contains("/{ticket}/sse") && routed.len() > 20,
        "the router's routes could not be read: {routed:?}"
    );
    let document = document_json();
    let documented: BTreeSet<String> = document["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect();
    assert_eq!(routed, documented, "routes served and documented differ");
    for path in &routed {
        for method in METHODS {
            let served = answers(&router, method, path).await;
            let described = document["paths"][path][method.to_lowercase()].is_object();
            assert_eq!(
                served, described,
                "{method} {path}: served {served}, documented {described}"
            );
        }
    }
}

/// Every `$ref` in `value`.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_ref_resolves_and_the_document_is_openapi_3_1() {
    let document = document_json();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["info"]["title"].is_string() && document["info"]["version"].is_string());
    let mut all = Vec::new();
    refs(&document, &mut all);
    assert!(all.len() > 50, "{} refs", all.len());
    for reference in all {
        let pointer = reference.strip_prefix('#').expect("a local reference");
        assert!(
            document.pointer(pointer).is_some(),
            "{reference} does not resolve"
        );
    }
    let mut ids = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let responses = operation["responses"].as_object().expect("responses");
            assert!(!responses.is_empty(), "{method} {path} has no responses");
            for (status, response) in responses {
                assert!(status.parse::<u16>().is_ok(), "{method} {path}: {status}");
                assert!(
                    response["description"].is_string(),
                    "{method} {path} {status}"
                );
            }
            let id = operation["operationId"].as_str().expect("an operationId");
            assert!(ids.insert(id.to_owned()), "operationId {id} twice");
        }
    }
}

#[test]
fn every_path_has_exactly_its_route_parameters() {
    let document = document_json();
    for (path, item) in document["paths"].as_object().expect("paths") {
        let in_route: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        for (method, operation) in item.as_object().expect("a path item") {
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let in_path: BTreeSet<&str> = parameters
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().expect("a name"))
                .collect();
            assert_eq!(in_route, in_path, "{method} {path}");
            let mut seen = BTreeSet::new();
            for p in &parameters {
                assert!(
                    seen.insert((p["name"].to_string(), p["in"].to_string())),
                    "{method} {path}: {p} twice"
                );
                if p["in"] == "path" {
                    assert_eq!(p["required"], true, "{method} {path}: {p}");
                }
            }
        }
    }
}

/// A validator of one event against the document's `Event` schema.
pub(crate) fn event_validator() -> jsonschema::Validator {
    let document = document_json();
    let schema = json!({
        "$ref": "#/components/schemas/Event",
        "components": document["components"],
    });
    jsonschema::validator_for(&schema).expect("the event schema compiles")
}

/// One of every event the model writes. The match is exhaustive: a new event type does not
/// compile here until it is added, and then it must validate against a schema.
fn one_of_each() -> Vec<ModelEvent> {
    let agent = AgentId::parse("147").expect("valid");
    let queue = QueueName::parse("q1").expect("valid");
    let events = vec![
        ModelEvent::AgentName {
            agent: agent.clone(),
            name: "Agent 147".into(),
        },
        ModelEvent::ExtensionStatus {
            agent: agent.clone(),
            status: DeviceStatus::NotInuse,
        },
        ModelEvent::QueueMemberStatus {
            agent: agent.clone(),
            queue: queue.clone(),
            status: MemberStatus::Paused,
            reason: Some("lunch".into()),
        },
        ModelEvent::QueueMemberStatus {
            agent: agent.clone(),
            queue: queue.clone(),
            status: MemberStatus::LoggedOff,
            reason: None,
        },
        ModelEvent::PhoneNumber {
            agent: agent.clone(),
            number: Some("0911".into()),
            name: Some("C".into()),
            queue: Some(queue.clone()),
        },
        ModelEvent::PhoneNumber {
            agent: agent.clone(),
            number: None,
            name: None,
            queue: None,
        },
        ModelEvent::QueueCount {
            queue: queue.clone(),
            count: 2,
        },
        ModelEvent::AgentComplete {
            agent: agent.clone(),
            unique_id: "1.2".into(),
            talk_time: 3,
            hold_time: 4,
            queue: queue.clone(),
            reason: "caller".into(),
        },
        ModelEvent::OriginateFailed {
            agent: agent.clone(),
            action_id: "pbxis-1".into(),
            reason: "busy".into(),
        },
        ModelEvent::QueueSummary {
            queue: queue.clone(),
            waiting: 1,
            longest_wait: 2,
            logged_in: 3,
            available: 1,
            completed: 5,
            abandoned: 1,
            hold_time: 7,
            talk_time: 8,
            service_level: 30,
            service_level_perf: 87.5,
        },
        ModelEvent::MemberSummary {
            agent: agent.clone(),
            queue: queue.clone(),
            member_name: "Agent 147".into(),
            location: "PJSIP/147".into(),
            calls_taken: 1,
            last_call: 0,
            incall: false,
            paused: true,
        },
        ModelEvent::QueueCallers {
            queue: queue.clone(),
            callers: vec![WaitingCaller {
                unique_id: "1.1".into(),
                caller_id: "0911".into(),
                name: Some("C".into()),
                position: 1,
                joined: 1_796_466_405,
            }],
        },
        ModelEvent::Parked {
            agent: agent.clone(),
            queue: Some(queue.clone()),
            state: ParkState::Timeout,
            channel: "Local/q1@callers-00000006;2".into(),
            caller_id: "0911".into(),
            name: None,
            lot: "default".into(),
            space: "701".into(),
            timeout: 20,
        },
        ModelEvent::SpyStarted {
            agent: agent.clone(),
            supervisor: Some(AgentId::parse("148").expect("valid")),
            mode: Some(SpyMode::Barge),
        },
        ModelEvent::SpyStopped {
            agent: agent.clone(),
            supervisor: None,
            mode: None,
        },
        ModelEvent::PbxStatus { connected: true },
    ];
    for event in &events {
        match event {
            ModelEvent::AgentName { .. }
            | ModelEvent::ExtensionStatus { .. }
            | ModelEvent::QueueMemberStatus { .. }
            | ModelEvent::PhoneNumber { .. }
            | ModelEvent::QueueCount { .. }
            | ModelEvent::QueueCallers { .. }
            | ModelEvent::Parked { .. }
            | ModelEvent::SpyStarted { .. }
            | ModelEvent::SpyStopped { .. }
            | ModelEvent::AgentComplete { .. }
            | ModelEvent::OriginateFailed { .. }
            | ModelEvent::QueueSummary { .. }
            | ModelEvent::MemberSummary { .. }
            | ModelEvent::PbxStatus { .. } => {}
        }
    }
    events
}

fn assert_valid(validator: &jsonschema::Validator, event: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(event)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{event} does not validate: {errors:?}");
}

#[test]
fn the_events_written_validate_against_the_event_schemas() {
    let validator = event_validator();
    let mut types = BTreeSet::new();
    for event in one_of_each() {
        let delivery = Delivery::new(&event).expect("serializable");
        let mut value: Value = serde_json::from_str(&delivery.json()).expect("JSON");
        assert_valid(&validator, &value);
        types.insert(value["type"].as_str().expect("a type").to_owned());
        value["id"] = json!("3f2a9c01-17");
        assert_valid(&validator, &value);
        value["extra"] = json!(1);
        assert!(
            !validator.is_valid(&value),
            "a field outside the schema passes: {value}"
        );
    }
    for delivery in [Delivery::resync("history"), Delivery::closed("ended")] {
        let value: Value = serde_json::from_str(&delivery.json()).expect("JSON");
        assert_valid(&validator, &value);
        types.insert(value["type"].as_str().expect("a type").to_owned());
    }
    let heartbeat: Value = serde_json::from_str(&crate::http::sse::heartbeat_data(
        std::time::Duration::from_secs(15),
    ))
    .expect("JSON");
    let mut heartbeat = heartbeat;
    heartbeat["type"] = json!("heartbeat");
    assert_valid(&validator, &heartbeat);
    types.insert("heartbeat".into());
    let schemas: BTreeSet<String> = events::type_names().into_iter().map(String::from).collect();
    assert_eq!(types, schemas, "event types written and described differ");
    assert!(!validator.is_valid(&json!({"type": "noSuchEvent"})));
    assert!(!validator.is_valid(&json!({"type": "queueCount", "queue": "q1"})));
}
