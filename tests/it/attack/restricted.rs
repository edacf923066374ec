//! A key restricted to some agents but to no queue: it sees only its agents among the members
//! of `GET /queue/status`, and may not reset every queue at once (that resets every member's
//! figures); a named queue it may reset.

use super::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn queue_status_shows_only_the_keys_agents_among_the_members() {
    let app = spawn_app(|_| {}).await;
    let locations = |status: &Value| -> Vec<String> {
        status["members"]
            .as_array()
            .expect("members")
            .iter()
            .filter_map(|m| m["location"].as_str().map(str::to_owned))
            .collect()
    };
    let get = |key: &'static str| {
        let request = app
            .request(Method::GET, "/queue/status?queue=q1")
            .bearer_auth(key)
            .send();
        async move {
            let response = request.await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };
    let full = get(FULL_KEY).await;
    assert!(locations(&full).len() > 1, "q1 has several members: {full}");
    let restricted = get(AGENTS_ONLY_KEY).await;
    assert_eq!(locations(&restricted), ["PJSIP/149"], "{restricted}");
    // The queue's own properties stay visible.
    assert_eq!(restricted["queue"], "q1");
    // The list of every queue is filtered the same way.
    let all: Value = app
        .request(Method::GET, "/queue/status")
        .bearer_auth(AGENTS_ONLY_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for queue in all.as_array().expect("an array of queues") {
        assert!(locations(queue).iter().all(|l| l == "PJSIP/149"), "{queue}");
    }
}

#[tokio::test]
async fn a_key_restricted_to_some_agents_may_not_reset_every_queue() {
    let app = spawn_app(|_| {}).await;
    app.assert_reaches_nothing(async {
        for key in [AGENTS_ONLY_KEY, RESTRICTED_KEY] {
            let response = app
                .request(Method::POST, "/queue/reset")
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            let msg = expect_error(response, StatusCode::FORBIDDEN, key).await;
            assert!(msg.contains("restricted"), "{msg}");
        }
    })
    .await;
    // A named queue it may reset, and an unrestricted key may reset them all.
    for (key, path) in [
        (AGENTS_ONLY_KEY, "/queue/reset?queue=q1"),
        (CONTROL_KEY, "/queue/reset"),
    ] {
        let response = app
            .request(Method::POST, path)
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let resets = app
        .foreign_actions()
        .iter()
        .filter(|a| a.action_name() == Some("QueueReset"))
        .count();
    assert_eq!(resets, 2);
}
