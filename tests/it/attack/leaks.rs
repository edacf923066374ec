//! No secret leaks: with every log level on, a session that uses every key, a ticket on every
//! transport, refusals and an originate leaves no API key, key digest, ticket or AMI secret in
//! the logs, in `Debug` output of the settings, or in any response; oversized headers are
//! refused without taking the service down.

use super::helpers::*;
use futures_util::StreamExt;
use pbxis_ws::config::Settings;
use pbxis_ws::http::auth::hash_key;
use pbxis_ws::sim::SimConfig;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const AMI_SECRET: &str = "ami-secret-5b0c7f3e9d2a";

/// A log sink shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test binary, at every level, from now on. Global (not per thread),
/// so that no task's logs escape; the other attacks' logs must not leak either.
fn capture_logs() -> Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
        logs
    })
    .clone()
}

fn assert_hides(text: &str, secrets: &[String], what: &str) {
    for secret in secrets {
        assert!(!text.contains(secret.as_str()), "{what} shows {secret:?}");
    }
}

async fn session(app: &TestApp) -> (String, String) {
    let mut bodies = String::new();
    for key in [
        EVENTS_KEY,
        CONTROL_KEY,
        ADMIN_KEY,
        WRONG_KEY,
        RESTRICTED_KEY,
    ] {
        let r = app
            .request(Method::POST, "/ticket")
            .bearer_auth(key)
            .json(&json!({"agents": ["147"], "queues": ["q1"]}))
            .send()
            .await
            .unwrap();
        bodies.push_str(&format!("{:?}", r.headers()));
        bodies.push_str(&r.text().await.unwrap());
    }
    let ticket: String = app
        .request(Method::POST, "/ticket")
        .bearer_auth(FULL_KEY)
        .json(&json!({"agents": ["147"], "queues": ["q1"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let originate = app
        .request(Method::POST, "/originate/147/1562830?callerId=7012888")
        .bearer_auth(CONTROL_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(originate.status(), StatusCode::OK);
    let sse = app
        .request(Method::GET, &format!("/{ticket}/sse"))
        .send()
        .await
        .unwrap();
    let mut events = sse.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(10), events.next()).await;
    assert!(matches!(first, Ok(Some(Ok(_)))));
    drop(events);
    let url = format!("ws://{}/{ticket}/websocket", app.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), ws.next()).await;
    assert!(matches!(first, Ok(Some(Ok(_)))));
    (ticket, bodies)
}

#[tokio::test]
async fn keys_tickets_and_the_ami_secret_never_reach_logs_or_responses() {
    let logs = capture_logs();
    let mut sim = SimConfig::quiet();
    sim.secret = AMI_SECRET.into();
    let app = spawn_app_with_sim(sim, |_| {}).await;
    let (ticket, bodies) = session(&app).await;
    let mut secrets: Vec<String> = [EVENTS_KEY, CONTROL_KEY, ADMIN_KEY, RESTRICTED_KEY, FULL_KEY]
        .iter()
        .flat_map(|k| [k.to_string(), hash_key(k)])
        .collect();
    secrets.push(WRONG_KEY.into());
    secrets.push(AMI_SECRET.into());
    secrets.push(ticket.clone());
    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        logs.len() > 1000,
        "the logs were captured: {} bytes",
        logs.len()
    );
    assert!(logs.contains("DEBUG"), "every level is on");
    assert!(logs.contains("/ticket"), "the requests were logged");
    assert_hides(&logs, &secrets, "the log");
    assert_hides(&bodies, &secrets, "a response");
    let mut settings = Settings::default();
    settings.ami.secret = AMI_SECRET.into();
    settings.auth.keys.push(pbxis_ws::http::auth::ApiKeyConfig {
        name: "plain".into(),
        sha256: None,
        key: Some(FULL_KEY.into()),
        scopes: vec![pbxis_ws::http::auth::Scope::Admin],
        agents: None,
        queues: None,
    });
    assert_hides(
        &format!("{settings:?} {settings:#?}"),
        &secrets,
        "Settings' Debug",
    );
    assert_hides(
        &format!("{:?}", settings.ami_config()),
        &secrets,
        "AmiConfig's Debug",
    );
}

#[tokio::test]
async fn oversized_headers_are_refused_and_the_service_stays_up() {
    let app = spawn_app(|_| {}).await;
    app.assert_reaches_nothing(async {
        let response = app
            .request(Method::POST, "/ticket")
            .bearer_auth(EVENTS_KEY)
            .header("x-padding", "a".repeat(1024 * 1024))
            .json(&json!({"agents": ["147"]}))
            .send()
            .await;
        match response {
            Ok(r) => assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
            Err(e) => assert!(e.is_request() || e.is_connect() || e.is_body(), "{e}"),
        }
        // Over the configured bound but within what the HTTP server reads: a JSON 431.
        let response = app
            .request(Method::POST, "/ticket")
            .bearer_auth(EVENTS_KEY)
            .header("x-padding", "a".repeat(64 * 1024))
            .json(&json!({"agents": ["147"]}))
            .send()
            .await
            .unwrap();
        expect_error(
            response,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "64 KiB header",
        )
        .await;
        let many = (0..200).fold(app.request(Method::POST, "/ticket"), |r, i| {
            r.header(format!("x-h{i}"), "v")
        });
        let response = many
            .bearer_auth(EVENTS_KEY)
            .json(&json!({"agents": ["147"]}))
            .send()
            .await;
        if let Ok(r) = response {
            assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        }
    })
    .await;
    app.wait_ready().await;
}
