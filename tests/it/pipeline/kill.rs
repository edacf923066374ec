//! The model task and the AMI client task killed through their test hooks: `/ready` turns 503
//! before the restart, subscribers are told `pbxStatus` down, the task comes back (with a
//! fresh model that rebuilds from Asterisk), the handles keep working, and every subscriber
//! ends equal to the truth, including what changed while the model was dead. Restarts in a row
//! are paced, and a shutdown during the wait is served.

use std::time::Duration;

use tokio::time::Instant;

use super::subscriber::{Checker, Seen, Subscriber};
use super::{pause, spawn, ReadyWatch};
use crate::support::app::PATIENCE;

/// Agent 147 on a q2 call, 148 paused in q1, a caller waiting in q1: what subscribers hold
/// before the fault.
async fn busy_center(app: &crate::support::app::TestApp) -> String {
    pause(app, "148", "q1", "lunch").await;
    let call = app
        .sim
        .inbound_call("q2", "0911000001", Some("Talking"))
        .await;
    assert!(!call.is_empty(), "the call is placed");
    app.sim
        .inbound_call("q1", "0911000002", Some("Waiting"))
        .await;
    call
}

/// Asterisk stops answering for a second, so that the restarted task's rebuild (or login) waits
/// for it and `/ready`'s 503 lasts long enough for the poller to see it on any machine.
const HOLD: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_task_killed_turns_unready_restarts_and_every_subscriber_converges() {
    let app = spawn(|_| {}).await;
    let checker = Checker::new(&app.sim);
    let ws = Subscriber::websocket(&app).await;
    let sse = Subscriber::sse(&app).await;
    let call = busy_center(&app).await;
    ws.wait("147 on the call", |s| {
        s.state.contains_key("phoneNumber/\"147\"/null")
    })
    .await;
    checker.assert_converge(&[&ws, &sse]).await;

    // Killed: unready, subscribers told, back with a rebuilt model.
    let ready = ReadyWatch::start(&app).await;
    app.sim.stall(HOLD).await;
    app.pbx.crash_model_for_tests().await;
    for s in [&ws, &sse] {
        s.wait("pbxStatus down", Seen::told_down).await;
    }
    ready.wait_through(&[200, 503, 200]).await;
    checker.assert_converge(&[&ws, &sse]).await;

    // Killed again, and while it is dead the call ends and 148 is unpaused behind its back:
    // the new model learns it from Asterisk, and each subscriber drops what it was told of
    // the call (the resync: no event of the new model could withdraw it).
    app.pbx.crash_model_for_tests().await;
    ws.wait("pbxStatus down again", |seen| down_count(seen) >= 2)
        .await;
    assert!(app.sim.hangup(&call).await, "the call is hung up");
    checker.set_paused("148", "q1", false).await;
    app.wait_ready().await;
    checker.assert_converge(&[&ws, &sse]).await;
    for s in [&ws, &sse] {
        let seen = s.seen();
        assert!(seen.resyncs >= 2, "{}: told to resync each time", s.name);
        assert!(
            !seen.state.contains_key("phoneNumber/\"147\"/null"),
            "{}: 147's call is over: {:?}",
            s.name,
            seen.state
        );
    }

    // The handles work on: a command reaches Asterisk and its events every subscriber.
    pause(&app, "149", "q2", "training").await;
    checker.assert_converge(&[&ws, &sse]).await;
    app.stop_and_join().await;
}

fn down_count(seen: &Seen) -> usize {
    seen.events
        .iter()
        .filter(|e| e["type"] == "pbxStatus" && e["connected"] == false)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ami_task_killed_drops_the_link_reconnects_and_every_subscriber_converges() {
    let app = spawn(|_| {}).await;
    let checker = Checker::new(&app.sim);
    let ws = Subscriber::websocket(&app).await;
    let sse = Subscriber::sse(&app).await;
    busy_center(&app).await;
    checker.assert_converge(&[&ws, &sse]).await;
    let ready = ReadyWatch::start(&app).await;
    let rebuilds = app.pbx.rebuilds().finished;

    app.sim.stall(HOLD).await;
    app.pbx.crash_ami_for_tests().await;
    for s in [&ws, &sse] {
        s.wait("pbxStatus down", Seen::told_down).await;
    }
    checker.set_paused("148", "q1", false).await;
    ready.wait_through(&[200, 503, 200]).await;
    assert!(app.pbx.rebuilds().finished > rebuilds, "the model rebuilt");
    checker.assert_converge(&[&ws, &sse]).await;

    // The AMI handle works on: a command goes through the restarted client.
    pause(&app, "149", "q2", "training").await;
    checker.assert_converge(&[&ws, &sse]).await;
    app.stop_and_join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_in_a_row_wait_longer_each_time_and_a_stop_during_the_wait_is_served() {
    let app = spawn(|_| {}).await;
    // The first restart waits 100 ms, each one after it twice as long (none of these runs is
    // long enough to count as healthy).
    let mut wait = Duration::from_millis(100);
    for _ in 0..4 {
        let rebuilds = app.pbx.rebuilds().finished;
        let crashed = Instant::now();
        app.pbx.crash_model_for_tests().await;
        tokio::time::timeout(PATIENCE, async {
            while app.pbx.rebuilds().finished == rebuilds || app.ready_status().await != 200 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the model task restarts and rebuilds");
        let took = crashed.elapsed();
        assert!(took >= wait, "restarted after {took:?}, before {wait:?}");
        wait *= 2;
    }
    // The fifth restart would wait 1.6 s: a stop in the meantime ends the service.
    app.pbx.crash_model_for_tests().await;
    let body = serde_json::json!({"queue": "q1", "agent": "147", "paused": true});
    let (status, body) = app.post_json("/queue/pause", body).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "the model is restarting after a failure");
    app.stop_and_join().await;
}
