//! The attack suite's harness: a simulated Asterisk on port 0, the whole service on port 0
//! connected to it with one API key per scope (plus one restricted to other agents and queues,
//! and one with every scope), and the checks every attack ends with: a JSON error with the right
//! status, and no action beyond the service's own read-only polling reaching the simulator.

use pbxis_ws::ami::AmiMessage;
use pbxis_ws::app::Application;
use pbxis_ws::config::Settings;
use pbxis_ws::http::auth::{hash_key, ApiKeyConfig, AuthConfig, Scope};
use pbxis_ws::pbx::{AgentId, QueueName};
use pbxis_ws::sim::{self, SimConfig, SimHandle};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Key with scope `events` only.
pub const EVENTS_KEY: &str = "attack-events-key-8f1c2e0d9b7a6f5e";
/// Key with scope `control` only.
pub const CONTROL_KEY: &str = "attack-control-key-3a4b5c6d7e8f9a0b";
/// Key with scope `admin` only.
pub const ADMIN_KEY: &str = "attack-admin-key-0f9e8d7c6b5a4f3e";
/// Key with scopes `events` and `control`, restricted to agent 149 and queue q2.
pub const RESTRICTED_KEY: &str = "attack-restricted-key-1b2c3d4e5f6a7b8c";
/// Key with scopes `events` and `control`, restricted to agent 149 only (any queue).
pub const AGENTS_ONLY_KEY: &str = "attack-agents-only-key-5e6f7a8b9c0d1e2f";
/// Key with every scope (to attack the input rather than the key).
pub const FULL_KEY: &str = "attack-full-key-9c8b7a6f5e4d3c2b";
/// A key that is not configured.
pub const WRONG_KEY: &str = "attack-wrong-key-0000000000000000";
/// The one origin on the CORS allow-list.
pub const ALLOWED_ORIGIN: &str = "https://app.example.com";
/// An origin not on the list.
pub const FOREIGN_ORIGIN: &str = "https://evil.example.net";
/// The body-size limit configured for the attacks.
pub const MAX_BODY: usize = 4096;
/// The agents-per-ticket limit configured for the attacks.
pub const MAX_AGENTS: usize = 10;

/// Actions the service sends on its own to build and keep its model (read-only; authority 0 or
/// reporting): ignored when checking that an attack reached nothing.
const OWN_ACTIONS: &[&str] = &[
    "Login",
    "Challenge",
    "Events",
    "Ping",
    "QueueStatus",
    "QueueSummary",
    "ExtensionState",
    "ExtensionStateList",
    "DeviceStateList",
    "CoreShowChannels",
    "Status",
];

/// A running service and its simulator.
pub struct TestApp {
    pub addr: SocketAddr,
    pub sim: SimHandle,
    pub http: reqwest::Client,
    stop: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn key(name: &str, secret: &str, scopes: &[Scope]) -> ApiKeyConfig {
    ApiKeyConfig {
        name: name.into(),
        sha256: Some(hash_key(secret)),
        key: None,
        scopes: scopes.to_vec(),
        agents: None,
        queues: None,
    }
}

fn keys() -> AuthConfig {
    let mut restricted = key(
        "restricted",
        RESTRICTED_KEY,
        &[Scope::Events, Scope::Control],
    );
    restricted.agents = Some(vec![AgentId::parse("149").unwrap()]);
    restricted.queues = Some(vec![QueueName::parse("q2").unwrap()]);
    let mut agents_only = key(
        "agents-only",
        AGENTS_ONLY_KEY,
        &[Scope::Events, Scope::Control],
    );
    agents_only.agents = Some(vec![AgentId::parse("149").unwrap()]);
    AuthConfig {
        keys: vec![
            key("events", EVENTS_KEY, &[Scope::Events]),
            key("control", CONTROL_KEY, &[Scope::Control]),
            key("admin", ADMIN_KEY, &[Scope::Admin]),
            restricted,
            agents_only,
            key(
                "full",
                FULL_KEY,
                &[Scope::Events, Scope::Control, Scope::Admin],
            ),
        ],
    }
}

/// Starts the simulator and the service (with `tweak` applied to the settings) and waits until
/// the service is connected and its model built.
pub async fn spawn_app(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with_sim(SimConfig::quiet(), tweak).await
}

/// [`spawn_app`] with a simulator of `sim_config` (its username and secret are used).
pub async fn spawn_app_with_sim(
    sim_config: SimConfig,
    tweak: impl FnOnce(&mut Settings),
) -> TestApp {
    let (username, secret) = (sim_config.username.clone(), sim_config.secret.clone());
    let sim = sim::start(sim_config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts");
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        cors_origins: vec![ALLOWED_ORIGIN.into()],
        auth: keys(),
        ..Settings::default()
    };
    settings.ami.host = "127.0.0.1".into();
    settings.ami.port = sim.addr().port();
    settings.ami.username = username;
    settings.ami.secret = secret;
    settings.limits.max_body_bytes = MAX_BODY;
    settings.limits.max_agents_per_ticket = MAX_AGENTS;
    tweak(&mut settings);
    let app = Application::build(settings).await.expect("service builds");
    let (addr, stop) = (app.addr(), app.stop_token());
    tokio::spawn(app.run_until_stopped());
    let app = TestApp {
        addr,
        sim,
        http: reqwest::Client::new(),
        stop,
    };
    app.wait_ready().await;
    app
}

impl TestApp {
    /// A request to `path` (which may carry a query string).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("http://{}{path}", self.addr))
    }

    /// Waits (up to 20 s) until `GET /ready` says the model is built.
    pub async fn wait_ready(&self) {
        let ready = async {
            loop {
                let response = self
                    .request(Method::GET, "/ready")
                    .bearer_auth(ADMIN_KEY)
                    .send()
                    .await;
                if response.is_ok_and(|r| r.status() == StatusCode::OK) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), ready)
            .await
            .expect("the service gets ready");
    }

    /// The actions the simulator received that are not the service's own polling.
    pub fn foreign_actions(&self) -> Vec<AmiMessage> {
        self.sim
            .actions_received()
            .into_iter()
            .filter(|a| {
                !a.action_name()
                    .is_some_and(|n| OWN_ACTIONS.iter().any(|o| o.eq_ignore_ascii_case(n)))
            })
            .collect()
    }

    /// Runs `attack` and asserts it made the service send no action beyond its own polling,
    /// and that every action of its own polling sent meanwhile is clean: one `Action` header,
    /// no header given twice, no control character in any value, and a valid queue name in any
    /// `Queue` header. (`QueueStatus` is both polling and what `GET /queue/status` sends, so a
    /// value injected through that endpoint would show up there, not as a foreign action.)
    pub async fn assert_reaches_nothing<F: std::future::Future<Output = ()>>(&self, attack: F) {
        let before = self.sim.actions_received();
        attack.await;
        let after = self.sim.actions_received();
        assert!(
            after.starts_with(&before),
            "the simulator's action log wrapped during the attack; it cannot be checked"
        );
        let sent = &after[before.len()..];
        let foreign: Vec<&AmiMessage> = sent.iter().filter(|a| !is_own(a)).collect();
        assert!(
            foreign.is_empty(),
            "the attack reached Asterisk: {foreign:?}"
        );
        for action in sent {
            assert_clean(action);
        }
    }
}

fn is_own(action: &AmiMessage) -> bool {
    action
        .action_name()
        .is_some_and(|n| OWN_ACTIONS.iter().any(|o| o.eq_ignore_ascii_case(n)))
}

/// One of the service's own actions, as it sends it when nothing was injected into it.
fn assert_clean(action: &AmiMessage) {
    let mut keys: Vec<String> = action
        .fields()
        .map(|(k, _)| k.to_ascii_lowercase())
        .collect();
    keys.sort();
    let count = keys.len();
    keys.dedup();
    assert_eq!(keys.len(), count, "a header given twice: {action:?}");
    for (key, value) in action.fields() {
        assert!(
            !value.chars().any(char::is_control),
            "a control character reached Asterisk in `{key}`: {action:?}"
        );
        if key.eq_ignore_ascii_case("queue") {
            assert!(
                QueueName::parse(value).is_ok(),
                "an invalid queue reached Asterisk: {action:?}"
            );
        }
    }
}

/// Asserts a refusal: `status`, a JSON body `{"error": "<non-empty>"}`; returns the message.
pub async fn expect_error(response: reqwest::Response, status: StatusCode, what: &str) -> String {
    assert_eq!(response.status(), status, "{what}");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap_or("").to_owned());
    if status == StatusCode::UNAUTHORIZED {
        assert!(
            challenge.is_some_and(|c| c.starts_with("Bearer")),
            "{what}: 401 without WWW-Authenticate: Bearer"
        );
    }
    let body: Value = response
        .json()
        .await
        .unwrap_or_else(|e| panic!("{what}: not JSON: {e}"));
    let message = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no error message in {body}"));
    assert!(!message.is_empty(), "{what}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{what}: {body}");
    message.to_owned()
}

/// The check of the service's own actions can fail: what an injection through
/// `GET /queue/status` would look like on the simulator's side.
#[test]
fn the_clean_check_catches_what_an_injection_would_leave() {
    let clean = AmiMessage::action("QueueStatus")
        .with("ActionID", "pbxis-1")
        .with("Queue", "q1");
    assert_clean(&clean);
    let injected = [
        clean.clone().with("Action", "Originate"),
        AmiMessage::action("QueueStatus").with("Queue", "q1\u{1b}[31m"),
        AmiMessage::action("QueueStatus").with("Queue", "q1 x"),
    ];
    for action in injected {
        let caught = std::panic::catch_unwind(|| assert_clean(&action));
        assert!(caught.is_err(), "not caught: {action:?}");
    }
}
