//! CR, LF, NUL and other control characters in every parameter of every endpoint, sent in the
//! query string, in a JSON body, in a form body, and (for originate) in the path, with a key that has every
//! scope: each is refused with 400 and a JSON error naming the parameter, and nothing reaches
//! Asterisk.

use super::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};

/// Values that would inject AMI headers or actions, or smuggle control characters.
const HOSTILE: &[&str] = &[
    "147\r\nAction: Originate\r\nChannel: Local/900@default",
    "q1\r\n\r\nAction: Logoff",
    "147\n",
    "\rx",
    "147\0",
    "14\u{7}7",
    "\u{1b}[31m",
    "x\u{85}y",
    "x\u{2028}y",
    "x\u{202e}y",
    "a\tb",
];

/// An endpoint with its valid parameters; each is attacked in turn.
struct Target {
    path: &'static str,
    method: Method,
    params: Value,
}

fn targets() -> Vec<Target> {
    let t = |method, path, params| Target {
        method,
        path,
        params,
    };
    vec![
        t(Method::GET, "/queue/status", json!({"queue": "q1"})),
        t(
            Method::POST,
            "/queue/add",
            json!({"queue": "q1", "agent": "147", "memberName": "Agent 147", "paused": false}),
        ),
        t(
            Method::POST,
            "/queue/remove",
            json!({"queue": "q1", "agent": "147"}),
        ),
        t(
            Method::POST,
            "/queue/pause",
            json!({"queue": "q1", "agent": "147", "paused": true, "reason": "lunch"}),
        ),
        t(Method::POST, "/queue/reset", json!({"queue": "q1"})),
        t(
            Method::POST,
            "/originate/147/1562830",
            json!({"callerId": "7012888"}),
        ),
        t(
            Method::POST,
            "/ticket",
            json!({"agents": ["147", "148"], "queues": ["q1"], "summaryEvents": false}),
        ),
    ]
}

/// The parameters with `name` replaced by `bad` (inside the list for list parameters).
fn with_bad(params: &Value, name: &str, bad: &str) -> Map<String, Value> {
    let mut map = params.as_object().unwrap().clone();
    let value = match &map[name] {
        Value::Array(items) => {
            let mut items = items.clone();
            items.push(Value::String(bad.into()));
            Value::Array(items)
        }
        _ => Value::String(bad.into()),
    };
    map.insert(name.into(), value);
    map
}

/// The same parameters as query pairs (lists comma-separated, booleans as words).
fn as_query(map: &Map<String, Value>) -> Vec<(String, String)> {
    map.iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect()
}

async fn refused(response: reqwest::Response, name: &str, what: &str) {
    let message = expect_error(response, StatusCode::BAD_REQUEST, what).await;
    assert!(
        message.contains(name),
        "{what}: the error does not name `{name}`: {message}"
    );
    assert!(
        !message.contains(['\r', '\n', '\0', '\u{1b}']),
        "{what}: the error echoes control characters: {message:?}"
    );
}

#[tokio::test]
async fn control_characters_in_any_parameter_are_refused_and_reach_nothing() {
    let app = spawn_app(|_| {}).await;
    app.assert_reaches_nothing(async {
        let mut attacks = 0;
        for target in targets() {
            for name in target.params.as_object().unwrap().keys() {
                for bad in HOSTILE {
                    let map = with_bad(&target.params, name, bad);
                    let what = format!("{} {} {name}={bad:?}", target.method, target.path);
                    let body = app
                        .request(target.method.clone(), target.path)
                        .bearer_auth(FULL_KEY)
                        .json(&map)
                        .send()
                        .await
                        .unwrap();
                    refused(body, name, &format!("{what} (JSON body)")).await;
                    let query = app
                        .request(target.method.clone(), target.path)
                        .bearer_auth(FULL_KEY)
                        .query(&as_query(&map))
                        .send()
                        .await
                        .unwrap();
                    refused(query, name, &format!("{what} (query)")).await;
                    let form = app
                        .request(target.method.clone(), target.path)
                        .bearer_auth(FULL_KEY)
                        .form(&as_query(&map))
                        .send()
                        .await
                        .unwrap();
                    refused(form, name, &format!("{what} (form body)")).await;
                    attacks += 3;
                }
            }
        }
        assert!(attacks > 500, "{attacks} attacks");
    })
    .await;
}

/// Percent-encodes every byte, so control characters survive into the path.
fn encode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn control_characters_in_the_originate_path_are_refused() {
    let app = spawn_app(|_| {}).await;
    app.assert_reaches_nothing(async {
        for bad in HOSTILE {
            for (name, path) in [
                ("src", format!("/originate/{}/1562830", encode(bad))),
                ("dest", format!("/originate/147/{}", encode(bad))),
            ] {
                let response = app
                    .request(Method::POST, &path)
                    .bearer_auth(FULL_KEY)
                    .send()
                    .await
                    .unwrap();
                refused(response, name, &path).await;
            }
        }
        // Not control characters, but still not a plain number: another channel, a pattern,
        // a special extension.
        for dest in ["900@default", "Local%2F900", "_X.", "h", "1%26PJSIP%2F2"] {
            let response = app
                .request(Method::POST, &format!("/originate/147/{dest}"))
                .bearer_auth(FULL_KEY)
                .send()
                .await
                .unwrap();
            refused(response, "dest", dest).await;
        }
    })
    .await;
}

#[tokio::test]
async fn hostile_parameter_names_and_shapes_are_refused() {
    let app = spawn_app(|_| {}).await;
    app.assert_reaches_nothing(async {
        let cases = [
            (
                "/queue/pause",
                json!({"queue": "q1", "agent": "147", "paused": true, "rea\r\nson": "x"}),
            ),
            (
                "/queue/pause",
                json!({"queue": "q1", "agent": ["147", "148"], "paused": true}),
            ),
            (
                "/queue/pause",
                json!({"queue": "q1", "agent": {"a": "147"}, "paused": true}),
            ),
            (
                "/queue/pause",
                json!({"queue": "q1", "agent": "147", "paused": "yes\r\n"}),
            ),
            (
                "/queue/add",
                json!({"queue": "q1", "agent": "147", "Action": "Originate"}),
            ),
            ("/ticket", json!({"agents": [["147"]], "queues": []})),
        ];
        for (path, body) in cases {
            let response = app
                .request(Method::POST, path)
                .bearer_auth(FULL_KEY)
                .json(&body)
                .send()
                .await
                .unwrap();
            expect_error(response, StatusCode::BAD_REQUEST, &format!("{path} {body}")).await;
        }
        let raw = app
            .request(Method::POST, "/queue/pause")
            .bearer_auth(FULL_KEY)
            .header("content-type", "application/json")
            .body(b"{\"queue\":\"q1\",\"agent\":\"147\xff\",\"paused\":true}".to_vec())
            .send()
            .await
            .unwrap();
        expect_error(raw, StatusCode::BAD_REQUEST, "invalid UTF-8 in JSON").await;
        // A key repeated in a JSON body is refused, as a repeated query key is: no "last one
        // wins" to slip a second agent past a check of the first.
        for (path, body) in [
            (
                "/queue/pause",
                r#"{"queue":"q1","agent":"149","paused":true,"agent":"147"}"#,
            ),
            (
                "/ticket",
                r#"{"agents":["147"],"queues":["q1"],"queues":[]}"#,
            ),
        ] {
            let response = app
                .request(Method::POST, path)
                .bearer_auth(FULL_KEY)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let msg = expect_error(response, StatusCode::BAD_REQUEST, body).await;
            assert!(msg.contains("given twice"), "{body}: {msg}");
        }
    })
    .await;
}
