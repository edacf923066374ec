//! Tests of parameter collection: query, JSON and form alike.

use super::*;
use crate::pbx::{AgentId, QueueName};

fn json(body: &str) -> Params {
    let mut p = Params::default();
    p.add_body(Some("application/json"), body.as_bytes())
        .unwrap();
    p
}

#[test]
fn query_json_and_form_give_the_same_values() {
    let mut q = Params::from_query("queue=q1&agent=147&paused=true").unwrap();
    let mut j = json(r#"{"queue":"q1","agent":147,"paused":true}"#);
    let mut f = Params::default();
    f.add_body(
        Some("application/x-www-form-urlencoded; charset=utf-8"),
        b"queue=q1&agent=147&paused=true",
    )
    .unwrap();
    for p in [&mut q, &mut j, &mut f] {
        assert_eq!(
            p.required("queue", QueueName::parse).unwrap().as_str(),
            "q1"
        );
        assert_eq!(p.required("agent", AgentId::parse).unwrap().as_str(), "147");
        assert!(p.required_bool("paused").unwrap());
        p.clone().finish().unwrap();
    }
}

#[test]
fn booleans_accept_json_and_strings_only() {
    assert_eq!(
        json(r#"{"b":"false"}"#).optional_bool("b").unwrap(),
        Some(false)
    );
    assert_eq!(
        json(r#"{"b":false}"#).optional_bool("b").unwrap(),
        Some(false)
    );
    assert_eq!(json(r#"{"b":null}"#).optional_bool("b").unwrap(), None);
    for bad in [
        r#"{"b":"yes"}"#,
        r#"{"b":1}"#,
        r#"{"b":"True"}"#,
        r#"{"b":[true]}"#,
    ] {
        let err = json(bad).optional_bool("b").unwrap_err();
        assert!(matches!(err, ApiError::BadParam("b", _)), "{bad}");
    }
}

#[test]
fn lists_from_arrays_repeats_and_commas() {
    let parse = |mut p: Params| p.list("agents", 10, AgentId::parse).unwrap();
    let want: Vec<AgentId> = ["147", "148"]
        .iter()
        .map(|a| AgentId::parse(a).unwrap())
        .collect();
    assert_eq!(parse(json(r#"{"agents":["147",148]}"#)), want);
    assert_eq!(
        parse(Params::from_query("agents=147&agents=148").unwrap()),
        want
    );
    assert_eq!(
        parse(Params::from_query("agents[]=147&agents[]=148").unwrap()),
        want
    );
    assert_eq!(parse(Params::from_query("agents=147,148").unwrap()), want);
    assert!(parse(Params::default()).is_empty());
    let mut p = json(r#"{"agents":["1","2","3"]}"#);
    assert!(matches!(
        p.list("agents", 2, AgentId::parse),
        Err(ApiError::BadParam("agents", _))
    ));
    let mut p = json(r#"{"agents":[{"a":1}]}"#);
    assert!(matches!(
        p.list("agents", 2, AgentId::parse),
        Err(ApiError::BadParam("agents", _))
    ));
}

#[test]
fn errors_name_the_parameter() {
    let mut p = Params::from_query("agent=14%0D%0A7").unwrap();
    let err = p.required("agent", AgentId::parse).unwrap_err();
    assert!(err.to_string().starts_with("parameter `agent`"), "{err}");
    let err = Params::default()
        .required("queue", QueueName::parse)
        .unwrap_err();
    assert_eq!(err.to_string(), "parameter `queue`: is required");
    let err = Params::from_query("queue=a&queue=b")
        .unwrap()
        .required("queue", QueueName::parse)
        .unwrap_err();
    assert!(matches!(err, ApiError::BadParam("queue", _)));
}

#[test]
fn leftovers_and_conflicts_are_refused() {
    let err = Params::from_query("queue=q1&callerid=1")
        .unwrap()
        .finish()
        .unwrap_err();
    assert!(err.to_string().contains("callerid"), "{err}");
    let mut p = Params::from_query("queue=q1").unwrap();
    assert!(matches!(
        p.add_body(Some("application/json"), br#"{"queue":"q2"}"#),
        Err(ApiError::BadRequest(_))
    ));
}

#[test]
fn malformed_bodies() {
    let mut p = Params::default();
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
    assert!(p.optional("queue", QueueName::parse).unwrap().is_some());
}
