//! PBX faults with subscribers attached: Asterisk restarts, the AMI connection is cut, stalls
//! (no bytes, no answer to `Ping`: the keep-alive notices), carries garbage, and logins are
//! refused after a restart. Each time `/ready` and `pbxStatus` follow the link, and every
//! subscriber ends equal to the truth.

use std::time::Duration;

use super::subscriber::{Checker, Subscriber};
use super::{pause, spawn, ReadyWatch};
use crate::support::app::{TestApp, PATIENCE};

/// A service with 148 paused in q1 and a caller in q1, two subscribers holding the truth.
async fn loaded(
    adjust: impl FnOnce(&mut pbxis_ws::config::Settings),
) -> (TestApp, Checker, Subscriber, Subscriber) {
    let app = spawn(adjust).await;
    let checker = Checker::new(&app.sim);
    let ws = Subscriber::websocket(&app).await;
    let sse = Subscriber::sse(&app).await;
    pause(&app, "148", "q1", "lunch").await;
    app.sim
        .inbound_call("q1", "0911000002", Some("Waiting"))
        .await;
    checker.assert_converge(&[&ws, &sse]).await;
    (app, checker, ws, sse)
}

async fn told_down(subscribers: [&Subscriber; 2]) {
    for s in subscribers {
        s.wait("pbxStatus down", |seen| seen.told_down()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asterisk_restart_is_followed_and_subscribers_get_the_fresh_state() {
    let (app, checker, ws, sse) = loaded(|_| {}).await;
    let ready = ReadyWatch::start(&app).await;
    app.sim.restart(Duration::from_millis(300)).await;
    told_down([&ws, &sse]).await;
    ready.wait_through(&[200, 503, 200]).await;
    checker.assert_converge(&[&ws, &sse]).await;
    let seen = ws.seen();
    assert!(
        seen.state.values().all(|e| e["status"] != "paused"),
        "nothing paused after the restart: {:?}",
        seen.state
    );
    app.stop_and_join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ami_cut_is_followed_and_what_happened_meanwhile_reaches_subscribers() {
    let (app, checker, ws, sse) = loaded(|_| {}).await;
    let ready = ReadyWatch::start(&app).await;
    app.sim.drop_connections().await;
    told_down([&ws, &sse]).await;
    // While the link is down (the client waits before it reconnects): another caller.
    app.sim
        .inbound_call("q1", "0911000003", Some("Later"))
        .await;
    ready.wait_through(&[200, 503, 200]).await;
    checker.assert_converge(&[&ws, &sse]).await;
    app.stop_and_join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ami_stall_is_noticed_by_the_keep_alive_and_followed() {
    let (app, checker, ws, sse) = loaded(|s| {
        s.ami.keepalive_seconds = 1;
        s.ami.keepalive_timeout_seconds = 1;
    })
    .await;
    let ready = ReadyWatch::start(&app).await;
    // Longer than a keep-alive period and its timeout: the client gives the link up.
    app.sim.stall(Duration::from_secs(4)).await;
    told_down([&ws, &sse]).await;
    ready.wait_through(&[200, 503, 200]).await;
    checker.assert_converge(&[&ws, &sse]).await;
    app.stop_and_join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_ami_socket_costs_a_rebuild_not_the_link() {
    let (app, checker, ws, sse) = loaded(|_| {}).await;
    let rebuilds = app.pbx.rebuilds().finished;
    app.sim
        .send_garbage(b"\x00\xffnot ami at all\r\n\r\nEvent\r\n: :\r\n\r\n")
        .await;
    app.sim
        .inbound_call("q1", "0911000003", Some("After"))
        .await;
    tokio::time::timeout(PATIENCE, async {
        while app.pbx.rebuilds().finished == rebuilds {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("what could not be read is counted as lost: the model rebuilds");
    checker.assert_converge(&[&ws, &sse]).await;
    assert_eq!(app.ready_status().await, 200);
    for s in [&ws, &sse] {
        assert!(
            !s.seen().told_down(),
            "{}: the link never went down",
            s.name
        );
    }
    app.stop_and_join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_refused_after_a_restart_keeps_the_service_unready_until_allowed() {
    let (app, checker, ws, sse) = loaded(|s| s.ami.reconnect_max_seconds = 1).await;
    let ready = ReadyWatch::start(&app).await;
    app.sim.refuse_logins(true);
    app.sim.clear_actions();
    app.sim.restart(Duration::from_millis(300)).await;
    told_down([&ws, &sse]).await;
    ready.wait_through(&[200, 503]).await;
    // The service tried to log in again and was refused; it stays unready and says so.
    tokio::time::timeout(PATIENCE, async {
        while !app
            .sim
            .actions_received()
            .iter()
            .any(|m| m.action_name() == Some("Login"))
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("a login after the restart");
    let (status, body) = app.get("/ready").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["connected"], false);
    assert_eq!(ws.seen().connected, Some(false));
    app.sim.refuse_logins(false);
    ready.wait_through(&[200, 503, 200]).await;
    checker.assert_converge(&[&ws, &sse]).await;
    app.stop_and_join().await;
}
