//! The `pbxis-ws` binary: `demo` prints its addresses and page URLs and serves; `POST /stop`
//! ends it with exit status 0, and so does Ctrl-C; `serve` refuses an open service on a public
//! address; `/stop` drains and logs off, or is disabled; with a drain delay `/ready` turns 503
//! first while everything is still served.

use crate::support::app as support;

use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const PATIENCE: Duration = Duration::from_secs(20);

/// Starts `pbxis-ws demo` on free ports; the child and the service's base URL.
async fn start_demo(extra: &[&str]) -> (tokio::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pbxis-ws"))
        .args(["demo", "--listen", "127.0.0.1:0", "--call-rate", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = next_line(&mut lines).await;
    let base = first
        .strip_prefix("pbxis-ws listening on ")
        .unwrap()
        .to_owned();
    wait_ready(&base).await;
    (child, base)
}

async fn wait_ready(base: &str) {
    let http = reqwest::Client::new();
    tokio::time::timeout(PATIENCE, async {
        loop {
            let ready = http.get(format!("{base}/ready")).send().await;
            if ready.is_ok_and(|r| r.status() == 200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the demo's service connects to its simulator");
}

#[tokio::test]
async fn ctrl_c_closes_every_stream_and_exits_0() {
    let (mut child, base) = start_demo(&["--log-json"]).await;
    let http = reqwest::Client::new();
    let ticket: String = http
        .post(format!("{base}/ticket"))
        .json(&serde_json::json!({"agents":["147"],"queues":["q1"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (status, mut sse) = support::SseReader::open(&format!("{base}/{ticket}/sse")).await;
    assert_eq!(status, 200);
    sse.until(|e| e.event == "queueCount").await;
    let pid = child.id().unwrap().to_string();
    let kill = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .unwrap();
    assert!(kill.success());
    let closed = sse.until(|e| e.event == "closed").await;
    assert_eq!(closed.last().unwrap().data["reason"], "shutdown");
    assert_eq!(sse.next().await.unwrap().event, "close");
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("exits")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

async fn next_line(lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>) -> String {
    tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("a line")
        .unwrap()
        .expect("not the end")
}

#[tokio::test]
async fn demo_prints_urls_serves_and_stops_with_status_0() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pbxis-ws"))
        .args(["demo", "--listen", "127.0.0.1:0", "--call-rate", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = next_line(&mut lines).await;
    let base = first
        .strip_prefix("pbxis-ws listening on ")
        .expect("the service's address first")
        .to_owned();
    let ami = next_line(&mut lines).await;
    assert!(
        ami.starts_with("simulated Asterisk (AMI) on 127.0.0.1:"),
        "{ami}"
    );
    let page = next_line(&mut lines).await;
    assert!(page.starts_with(&format!("{base}/client/")), "{page}");

    wait_ready(&base).await;
    let http = reqwest::Client::new();
    let ticket: String = http
        .post(format!("{base}/ticket"))
        .json(&serde_json::json!({"agents":["147"],"queues":["q1"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let snapshot: Vec<serde_json::Value> = http
        .get(format!("{base}/{ticket}/long-poll"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(snapshot.iter().any(|e| e["type"] == "queueMemberStatus"));

    let stop = http.post(format!("{base}/stop")).send().await.unwrap();
    assert_eq!(stop.status(), 202);
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("exits")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn serve_refuses_an_open_public_address() {
    let output = Command::new(env!("CARGO_BIN_EXE_pbxis-ws"))
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env_remove("PBXIS_INSECURE_NO_AUTH")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("without an API key"), "{stderr}");
    assert!(stderr.contains("--insecure-no-auth"), "{stderr}");
}

#[tokio::test]
async fn logs_to_a_pipe_carry_no_colour_codes() {
    let output = Command::new(env!("CARGO_BIN_EXE_pbxis-ws"))
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env_remove("PBXIS_INSECURE_NO_AUTH")
        .env("RUST_LOG", "info")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("INFO"), "a log line was written: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

#[tokio::test]
async fn serve_refuses_a_zero_unsub_delay_naming_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_pbxis-ws"))
        .args(["serve", "--unsub-delay-seconds", "0"])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unsub_delay_seconds"), "{stderr}");
    assert!(stderr.contains("at least 1"), "{stderr}");
}

#[tokio::test]
async fn help_lists_every_flag() {
    let output = Command::new(env!("CARGO_BIN_EXE_pbxis-ws"))
        .args(["serve", "--help"])
        .output()
        .await
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--config",
        "--listen",
        "--ami-host",
        "--ami-port",
        "--ami-user",
        "--ami-secret",
        "--location",
        "--insecure-no-auth",
        "--allow-stop",
        "--cors-origins",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[tokio::test]
async fn stop_can_be_disabled() {
    let app = support::spawn_app_with(|s| s.allow_stop = false).await;
    let (status, body) = app.post_query("/stop", &[]).await;
    assert_eq!(status, 404);
    assert!(body["error"].is_string());
    app.stop_and_join().await;
}

#[tokio::test]
async fn post_stop_stops_gracefully() {
    let app = support::spawn_app().await;
    let (status, body) = app.post_query("/stop", &[]).await;
    assert_eq!(status, 202, "{body}");
    let result = tokio::time::timeout(support::PATIENCE, app.task)
        .await
        .expect("stops");
    result.unwrap().unwrap();
    let logoffs = app
        .sim
        .actions_received()
        .iter()
        .filter(|m| {
            m.get("Action")
                .is_some_and(|a| a.eq_ignore_ascii_case("logoff"))
        })
        .count();
    assert_eq!(logoffs, 1, "AMI logged off");
    assert!(
        reqwest::get(format!("{}/health", app.base)).await.is_err(),
        "no longer listening"
    );
    app.sim.shutdown().await;
}

#[tokio::test]
async fn sigterm_stops_with_status_0() {
    let (mut child, _base) = start_demo(&[]).await;
    let pid = child.id().unwrap().to_string();
    let kill = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(kill.success());
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("exits")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn a_stop_with_a_drain_turns_ready_503_first_and_serves_until_the_streams_close() {
    let app = support::spawn_app_with(|s| s.shutdown_drain_seconds = 5).await;
    let ticket = app.ticket(&["147"], &["q1"]).await;
    let (status, mut sse) = support::SseReader::open(&app.url(&format!("/{ticket}/sse"))).await;
    assert_eq!(status, 200);
    sse.until(|e| e.event == "queueCount").await;
    let (status, _) = app.post_query("/stop", &[]).await;
    assert_eq!(status, 202);
    // Draining: out of the balancer, everything else still served, the stream still open.
    let (status, body) = app.get("/ready").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["draining"], true);
    assert_eq!(app.get("/health").await.0, 200);
    let (status, body) = app
        .post_json(
            "/queue/pause",
            serde_json::json!({"queue": "q1", "agent": "147", "paused": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let seen = sse
        .until(|e| e.event == "closed" || e.data["status"] == "paused")
        .await;
    assert_eq!(seen.last().unwrap().event, "queueMemberStatus", "{seen:?}");
    // Then the streams close, and the service stops.
    let seen = sse.until(|e| e.event == "closed").await;
    assert_eq!(seen.last().unwrap().data["reason"], "shutdown");
    tokio::time::timeout(support::PATIENCE, app.task)
        .await
        .expect("stops")
        .unwrap()
        .unwrap();
    app.sim.shutdown().await;
}
