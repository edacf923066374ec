//! `GET /queue/status` over real HTTP against the simulated Asterisk: all queues, one, unknown
//! and malformed ones; concurrent requests share one `QueueStatus` action, its answer is reused
//! for the configured interval, and the values are typed as the original service had them.

use crate::support::app as support;
use support::{spawn_app, spawn_app_with};

#[tokio::test]
async fn queue_status_all_one_and_unknown() {
    let app = spawn_app().await;
    let (status, all) = app.get("/queue/status").await;
    assert_eq!(status, 200, "{all}");
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["queue"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"q1") && names.contains(&"q2"), "{names:?}");
    let (status, q1) = app.get("/queue/status?queue=q1").await;
    assert_eq!(status, 200);
    assert_eq!(q1["queue"], "q1");
    let locations: Vec<&str> = q1["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["location"].as_str().unwrap())
        .collect();
    assert!(locations.contains(&"PJSIP/147"), "{q1}");
    let (status, body) = app.get("/queue/status?queue=nope").await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"].as_str().unwrap().contains("nope"));
    let (status, body) = app.get("/queue/status?queue=q%0D%0A1").await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("`queue`"),
        "{body}"
    );
    let (status, body) = app.get("/queue/status?queue=q1&verbose=1").await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("verbose"));
    app.stop_and_join().await;
}

/// The `QueueStatus` actions the simulator received so far.
fn queue_status_actions(app: &support::TestApp) -> usize {
    app.sim
        .actions_received()
        .iter()
        .filter(|a| {
            a.action_name()
                .is_some_and(|n| n.eq_ignore_ascii_case("QueueStatus"))
        })
        .count()
}

#[tokio::test]
async fn concurrent_queue_status_requests_share_one_action_and_reuse_its_answer() {
    let app = spawn_app_with(|s| s.queue_status_cache_ms = 60_000).await;
    let before = queue_status_actions(&app);
    let answers = futures_util::future::join_all((0..20).map(|_| app.get("/queue/status"))).await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body.as_array().map(Vec::len), Some(2), "{body}");
    }
    assert_eq!(
        queue_status_actions(&app),
        before + 1,
        "one action for 20 requests"
    );
    // Within the interval: the answer is reused, for every queue and for one.
    let (status, _) = app.get("/queue/status").await;
    assert_eq!(status, 200);
    let (status, q1) = app.get("/queue/status?queue=q1").await;
    assert_eq!((status, q1["queue"].as_str()), (200, Some("q1")));
    let (status, _) = app.get("/queue/status?queue=nope").await;
    assert_eq!(status, 404);
    assert_eq!(queue_status_actions(&app), before + 1, "nothing more asked");
    app.stop_and_join().await;
}

#[tokio::test]
async fn after_the_interval_queue_status_asks_again() {
    let reuse = std::time::Duration::from_millis(50);
    let app = spawn_app_with(|s| s.queue_status_cache_ms = 50).await;
    let before = queue_status_actions(&app);
    assert_eq!(app.get("/queue/status").await.0, 200);
    // The answer was asked before it came back: past this point it is stale for sure.
    let stale = tokio::time::Instant::now() + reuse;
    assert_eq!(queue_status_actions(&app), before + 1);
    tokio::time::sleep_until(stale).await;
    assert_eq!(app.get("/queue/status").await.0, 200);
    assert_eq!(queue_status_actions(&app), before + 2);
    app.stop_and_join().await;
}

#[tokio::test]
async fn without_reuse_every_request_in_turn_asks() {
    let app = spawn_app_with(|s| s.queue_status_cache_ms = 0).await;
    let before = queue_status_actions(&app);
    for n in 1..=3 {
        assert_eq!(app.get("/queue/status?queue=q1").await.0, 200);
        assert_eq!(queue_status_actions(&app), before + n);
    }
    app.stop_and_join().await;
}

#[tokio::test]
async fn queue_status_values_are_typed_as_the_original_service_had_them() {
    let app = spawn_app().await;
    let (status, q1) = app.get("/queue/status?queue=q1").await;
    assert_eq!(status, 200, "{q1}");
    for key in [
        "calls",
        "completed",
        "abandoned",
        "holdTime",
        "talkTime",
        "max",
        "weight",
    ] {
        assert!(q1[key].is_i64(), "{key} is a number: {q1}");
    }
    assert!(q1["serviceLevelPerf"].is_f64(), "{q1}");
    assert_eq!(q1["strategy"], "ringall");
    let member = q1["members"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["location"] == "PJSIP/147"))
        .unwrap_or_else(|| panic!("147 in q1: {q1}"));
    assert_eq!(member["paused"], false);
    for key in ["status", "penalty", "callsTaken", "lastCall", "incall"] {
        assert!(member[key].is_i64(), "{key} is a number: {member}");
    }
    assert!(member["name"].is_string() && member["membership"].is_string());
    app.stop_and_join().await;
}
