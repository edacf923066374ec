//! Tests of parameter collection and decoding: query, JSON and form alike, into typed structs.

use super::*;
use crate::http::api::requests::{PauseRequest, QueueStatusRequest, TicketRequest};
use crate::pbx::AgentId;
use axum::http::StatusCode;
use serde::Deserialize;

fn json(body: &str) -> Sources {
    let mut p = Sources::default();
    p.add_body(Some("application/json"), body.as_bytes())
        .unwrap();
    p
}

fn query(q: &str) -> Sources {
    Sources::from_query(q).unwrap()
}

/// A struct with one optional boolean, for the boolean rule alone.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Flag {
    b: Option<bool>,
}

fn flag(s: Sources) -> Result<Option<bool>, ApiError> {
    s.decode::<Flag>().map(|f| f.b)
}

fn message(e: ApiError) -> String {
    e.to_string()
}

#[test]
fn query_json_and_form_give_the_same_values() {
    let mut form = Sources::default();
    form.add_body(
        Some("application/x-www-form-urlencoded; charset=utf-8"),
        b"queue=q1&agent=147&paused=true",
    )
    .unwrap();
    for p in [
        query("queue=q1&agent=147&paused=true"),
        json(r#"{"queue":"q1","agent":147,"paused":true}"#),
        form,
    ] {
        let r: PauseRequest = p.decode().unwrap();
        assert_eq!(r.queue.as_str(), "q1");
        assert_eq!(r.agent.as_str(), "147");
        assert!(r.paused);
        assert!(r.reason.is_none());
    }
}

#[test]
fn booleans_accept_json_and_strings_only() {
    assert_eq!(flag(json(r#"{"b":"false"}"#)).unwrap(), Some(false));
    assert_eq!(flag(json(r#"{"b":false}"#)).unwrap(), Some(false));
    assert_eq!(flag(query("b=true")).unwrap(), Some(true));
    assert_eq!(flag(json(r#"{"b":null}"#)).unwrap(), None);
    for bad in [
        r#"{"b":"yes"}"#,
        r#"{"b":1}"#,
        r#"{"b":"True"}"#,
        r#"{"b":[true]}"#,
    ] {
        let err = flag(json(bad)).unwrap_err();
        assert!(
            matches!(&err, ApiError::BadParam(name, why) if name == "b" && why == "must be true or false"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn lists_from_arrays_repeats_and_commas() {
    let agents = |p: Sources| p.decode::<TicketRequest>().unwrap().agents;
    let want: Vec<AgentId> = ["147", "148"]
        .iter()
        .map(|a| AgentId::parse(a).unwrap())
        .collect();
    assert_eq!(agents(json(r#"{"agents":["147",148]}"#)), want);
    assert_eq!(agents(query("agents=147&agents=148")), want);
    assert_eq!(agents(query("agents[]=147&agents[]=148")), want);
    assert_eq!(agents(query("agents=147,148")), want);
    assert!(agents(query("agents=")).is_empty());
    assert!(agents(Sources::default()).is_empty());
    for bad in [
        r#"{"agents":[{"a":1}]}"#,
        r#"{"agents":[1.5]}"#,
        r#"{"agents":{}}"#,
    ] {
        let err = json(bad).decode::<TicketRequest>().unwrap_err();
        assert!(
            matches!(&err, ApiError::BadParam(name, _) if name == "agents"),
            "{bad}: {err}"
        );
    }
    // An element refused by its type is reported under the list's name.
    let err = query("queues=q1,q%0A2")
        .decode::<TicketRequest>()
        .unwrap_err();
    assert!(message(err).starts_with("parameter `queues`: queue"));
}

#[test]
fn errors_name_the_parameter() {
    let err = query("agent=14%0D%0A7&queue=q1&paused=true")
        .decode::<PauseRequest>()
        .unwrap_err();
    assert!(message(err).starts_with("parameter `agent`: agent"));
    let err = query("agent=147&paused=true")
        .decode::<PauseRequest>()
        .unwrap_err();
    assert_eq!(message(err), "parameter `queue`: is required");
    let err = query("queue=a&queue=b")
        .decode::<QueueStatusRequest>()
        .unwrap_err();
    assert_eq!(message(err), "parameter `queue`: given more than once");
    let err = json(r#"{"queue":true}"#)
        .decode::<QueueStatusRequest>()
        .unwrap_err();
    assert_eq!(message(err), "parameter `queue`: must be a string");
}

#[test]
fn unknown_parameters_repeats_and_conflicts_are_refused() {
    let err = query("queue=q1&callerid=1")
        .decode::<QueueStatusRequest>()
        .unwrap_err();
    assert_eq!(message(err), "unknown parameter `callerid`");
    // An unknown name is echoed without control characters, clipped.
    let err = query(&format!("x%0D%0A{}=1", "y".repeat(100)))
        .decode::<QueueStatusRequest>()
        .unwrap_err();
    let shown = message(err);
    assert!(!shown.contains(['\r', '\n']) && shown.len() < 80, "{shown}");
    let mut p = query("queue=q1");
    let err = p
        .add_body(Some("application/json"), br#"{"queue":"q2"}"#)
        .unwrap_err();
    assert_eq!(
        message(err),
        "parameter `queue` given both in the query and the body"
    );
    let mut p = query("queue=q1");
    let err = p
        .add_body(Some("application/x-www-form-urlencoded"), b"queue=q2")
        .unwrap_err();
    assert!(matches!(err, ApiError::BadRequest(_)));
    let mut p = Sources::default();
    let err = p
        .add_body(Some("application/json"), br#"{"queue":"q1","queue":"q2"}"#)
        .unwrap_err();
    assert!(message(err).contains("parameter `queue` given twice"));
}

#[test]
fn path_parameters_decode_like_the_others() {
    use crate::http::api::requests::OriginatePath;
    let path = |src: &str, dest: &str| {
        Sources::from_path(vec![
            ("src".into(), src.into()),
            ("dest".into(), dest.into()),
        ])
        .decode::<OriginatePath>()
    };
    let ok = path("147", "1562830").unwrap();
    assert_eq!((ok.src.as_str(), ok.dest.as_str()), ("147", "1562830"));
    assert!(message(path("14\n7", "1").unwrap_err()).starts_with("parameter `src`"));
    assert!(message(path("147", "_X.").unwrap_err()).starts_with("parameter `dest`"));
}

#[test]
fn malformed_bodies() {
    let mut p = Sources::default();
    let e = p
        .add_body(Some("application/json"), b"{\"queue\":")
        .unwrap_err();
    assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    let e = p.add_body(Some("application/json"), b"[1]").unwrap_err();
    assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    let e = p.add_body(Some("text/plain"), b"queue=q1").unwrap_err();
    assert_eq!(e.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // No content type: JSON is assumed; an empty body is no parameters.
    p.add_body(None, br#"{"queue":"q1"}"#).unwrap();
    p.add_body(Some("text/plain"), b"  ").unwrap();
    let r: QueueStatusRequest = p.decode().unwrap();
    assert!(r.queue.is_some());
}
