//! Test helpers: `spawn_app()` starts the simulated Asterisk on port 0 and the service on port 0,
//! connected over TCP, and waits until the service is ready; clients for REST, SSE and WebSocket.

#![allow(dead_code)]

use futures_util::StreamExt;
use pbxis_ws::app::Application;
use pbxis_ws::config::Settings;
use pbxis_ws::pbx::service::PbxHandle;
use pbxis_ws::sim::{self, SimConfig, SimHandle};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Generous bound on waiting for a real condition over sockets.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// A running service and its simulator.
pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub sim: SimHandle,
    pub http: reqwest::Client,
    pub stop: CancellationToken,
    pub task: JoinHandle<anyhow::Result<()>>,
    /// The model's handle (fault injection: its test hooks).
    pub pbx: PbxHandle,
    /// The key used for `/ready` when keys are configured.
    pub admin_key: Option<String>,
}

/// The service with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The service with settings changed by `adjust`.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_keyed(adjust, None).await
}

/// The service with settings changed by `adjust`, with `admin_key` for `/ready`.
pub async fn spawn_app_keyed(
    adjust: impl FnOnce(&mut Settings),
    admin_key: Option<&str>,
) -> TestApp {
    spawn_app_on(SimConfig::quiet(), adjust, admin_key).await
}

/// The service on a simulator made with `sim_config`, settings changed by `adjust`.
pub async fn spawn_app_on(
    sim_config: SimConfig,
    adjust: impl FnOnce(&mut Settings),
    admin_key: Option<&str>,
) -> TestApp {
    let sim = sim::start(sim_config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("simulator starts");
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Settings::default()
    };
    settings.ami.host = "127.0.0.1".into();
    settings.ami.port = sim.addr().port();
    settings.ami.username = "pbxis".into();
    settings.ami.secret = "pbxis".into();
    adjust(&mut settings);
    let app = Application::build(settings).await.expect("service builds");
    let addr = app.addr();
    let stop = app.stop_token();
    let pbx = app.pbx();
    let task = tokio::spawn(app.run_until_stopped());
    let test_app = TestApp {
        addr,
        base: format!("http://{addr}"),
        sim,
        http: reqwest::Client::new(),
        stop,
        task,
        pbx,
        admin_key: admin_key.map(str::to_owned),
    };
    test_app.wait_ready().await;
    test_app
}

impl TestApp {
    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `GET /ready`, with the admin key if there is one.
    fn ready_request(&self) -> reqwest::RequestBuilder {
        let request = self.http.get(self.url("/ready"));
        match &self.admin_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    /// The status of `GET /ready` (0 when the request fails).
    pub async fn ready_status(&self) -> u16 {
        match self.ready_request().send().await {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        }
    }

    /// Waits until `GET /ready` answers 200.
    pub async fn wait_ready(&self) {
        tokio::time::timeout(PATIENCE, async {
            loop {
                if let Ok(r) = self.ready_request().send().await {
                    if r.status() == 200 {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("the service becomes ready");
    }

    /// Live tickets, from `GET /ready`.
    pub async fn ticket_count(&self) -> u64 {
        self.ready_figure("tickets").await
    }

    /// Open streams, from `GET /ready`.
    pub async fn stream_count(&self) -> u64 {
        self.ready_figure("streams").await
    }

    /// Waits until `GET /ready` shows `want` open streams.
    pub async fn wait_streams(&self, want: u64) {
        tokio::time::timeout(PATIENCE, async {
            while self.stream_count().await != want {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("streams attach");
    }

    async fn ready_figure(&self, key: &str) -> u64 {
        let body: Value = self
            .ready_request()
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body[key].as_u64().unwrap()
    }

    /// `POST /ticket` with a JSON body; the ticket.
    pub async fn ticket(&self, agents: &[&str], queues: &[&str]) -> String {
        let r = self
            .http
            .post(self.url("/ticket"))
            .json(&serde_json::json!({ "agents": agents, "queues": queues }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<String>().await.unwrap()
    }

    /// A POST with a query string; (status, JSON body).
    pub async fn post_query(&self, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .query(query)
            .send()
            .await
            .unwrap();
        status_json(r).await
    }

    /// A POST with a JSON body; (status, JSON body).
    pub async fn post_json(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        status_json(r).await
    }

    /// Pauses or unpauses `agent` in `queue` (`POST /queue/pause`), which must succeed.
    pub async fn set_paused(&self, agent: &str, queue: &str, paused: bool) {
        let (status, body) = self
            .post_json(
                "/queue/pause",
                serde_json::json!({"queue": queue, "agent": agent, "paused": paused}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// A GET; (status, JSON body).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        status_json(self.http.get(self.url(path)).send().await.unwrap()).await
    }

    /// One long-poll: the events.
    pub async fn long_poll(&self, ticket: &str) -> Vec<Value> {
        let (status, body) = self.get(&format!("/{ticket}/long-poll")).await;
        assert_eq!(status, 200, "{body}");
        body.as_array().unwrap().clone()
    }

    /// Long-polls until an event satisfies `want`; all events seen up to it.
    pub async fn long_poll_until(&self, ticket: &str, want: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut seen = Vec::new();
        tokio::time::timeout(PATIENCE, async {
            loop {
                let batch = self.long_poll(ticket).await;
                let found = batch.iter().any(&want);
                seen.extend(batch);
                if found {
                    return;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no matching event; seen {seen:?}"));
        seen
    }

    /// Names of the actions the simulator received, but the client's own housekeeping.
    pub fn commands_received(&self) -> Vec<String> {
        self.sim
            .actions_received()
            .iter()
            .filter_map(|m| m.get("Action").map(str::to_owned))
            .filter(|a| {
                let a = a.to_ascii_lowercase();
                a.starts_with("queue") && a != "queuestatus" && a != "queuesummary"
                    || a == "originate"
            })
            .collect()
    }

    /// Stops the service and waits for it to finish.
    pub async fn stop_and_join(self) {
        self.stop.cancel();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("the service stops")
            .unwrap()
            .unwrap();
        self.sim.shutdown().await;
    }
}

/// Status and JSON body (Null when the body is not JSON).
pub async fn status_json(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let body = r.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// One SSE event: `event` and parsed `data`.
#[derive(Clone, Debug)]
pub struct SseEvent {
    pub event: String,
    pub data: Value,
}

/// A raw SSE reader over reqwest's byte stream.
pub struct SseReader {
    stream: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
    pub comments: usize,
}

impl SseReader {
    /// Opens `url`.
    pub async fn open(url: &str) -> (u16, SseReader) {
        let r = reqwest::get(url).await.unwrap();
        let status = r.status().as_u16();
        (
            status,
            SseReader {
                stream: r.bytes_stream().boxed(),
                buffer: String::new(),
                comments: 0,
            },
        )
    }

    /// The next event, `None` at the end of the stream.
    pub async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = String::from("message");
                let mut data = String::new();
                let mut comment = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    } else if line.starts_with(':') {
                        comment = true;
                    }
                }
                if data.is_empty() && comment {
                    self.comments += 1;
                    continue;
                }
                let data = serde_json::from_str(&data).unwrap_or(Value::String(data));
                return Some(SseEvent { event, data });
            }
            let chunk = tokio::time::timeout(PATIENCE, self.stream.next())
                .await
                .expect("SSE stream stalled")?
                .ok()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// Reads events until one satisfies `want`; all events read.
    pub async fn until(&mut self, want: impl Fn(&SseEvent) -> bool) -> Vec<SseEvent> {
        let mut seen = Vec::new();
        while let Some(e) = self.next().await {
            let found = want(&e);
            seen.push(e);
            if found {
                return seen;
            }
        }
        panic!("SSE ended before the wanted event; seen {seen:?}");
    }
}

/// Whether `v` is an event of `kind` with every `(key, value)` pair.
pub fn is(v: &Value, kind: &str, pairs: &[(&str, Value)]) -> bool {
    v["type"] == kind && pairs.iter().all(|(k, want)| &v[*k] == want)
}
