//! Subscribers as a page keeps them: a WebSocket or an SSE stream read in the background, every
//! event folded into a state (one value per type, agent, queue; `resync` throws the state
//! away), and the truth to compare them with: the simulator's state read over a second AMI
//! connection and rebuilt by the model's own rebuild, folded the same way, cross-checked with
//! the simulator's own snapshot ([`pbxis_ws::sim::SimHandle::truth`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use pbxis_ws::ami::client::connect;
use pbxis_ws::ami::{AmiConfig, AmiHandle, AmiMessage};
use pbxis_ws::pbx::snapshot::snapshot;
use pbxis_ws::pbx::sync::{rebuild, Lists};
use pbxis_ws::pbx::{AgentId, Filter, Location, QueueName, State};
use pbxis_ws::sim::SimHandle;
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::support::app::{TestApp, PATIENCE};

pub const AGENTS: [&str; 3] = ["147", "148", "149"];
pub const QUEUES: [&str; 2] = ["q1", "q2"];

/// What a subscriber knows, and what it was told.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// The folded state: `type/agent/queue` → the event (without `id`).
    pub state: BTreeMap<String, Value>,
    /// The last `pbxStatus`.
    pub connected: Option<bool>,
    /// Every event, in order.
    pub events: Vec<Value>,
    pub resyncs: usize,
}

impl Seen {
    /// Folds one event in.
    pub fn apply(&mut self, mut event: Value) {
        if let Some(o) = event.as_object_mut() {
            o.remove("id");
        }
        self.events.push(event.clone());
        let kind = event["type"].as_str().unwrap_or_default().to_owned();
        match kind.as_str() {
            "resync" => {
                self.state.clear();
                self.resyncs += 1;
            }
            "pbxStatus" => self.connected = event["connected"].as_bool(),
            // `joined` is wall-clock time anchored when a model is made: the truth's model is
            // made anew at another (paused, virtual) time, so only the rest is compared.
            "queueCallers" => {
                let mut e = event.clone();
                if let Some(callers) = e["callers"].as_array_mut() {
                    callers.iter_mut().for_each(|c| c["joined"] = 0.into());
                }
                self.state.insert(key(&kind, &e), e);
            }
            "agentName" | "extensionStatus" | "queueMemberStatus" | "queueCount" => {
                self.state.insert(key(&kind, &event), event);
            }
            // `queue` of a phoneNumber is a detail; no number: no call.
            "phoneNumber" if event["number"].is_string() => {
                self.state.insert(key(&kind, &event), event);
            }
            "phoneNumber" => {
                self.state.remove(&key(&kind, &event));
            }
            _ => {}
        }
    }

    /// Whether it was told `pbxStatus` down at some point.
    pub fn told_down(&self) -> bool {
        self.events
            .iter()
            .any(|e| e["type"] == "pbxStatus" && e["connected"] == false)
    }
}

fn key(kind: &str, e: &Value) -> String {
    let queue = match kind {
        "phoneNumber" => &Value::Null,
        _ => &e["queue"],
    };
    format!("{kind}/{}/{}", e["agent"], queue)
}

/// A stream read in the background.
pub struct Subscriber {
    pub name: &'static str,
    seen: Arc<Mutex<Seen>>,
    reader: JoinHandle<()>,
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Subscriber {
    /// A WebSocket on a new ticket for every agent and queue.
    pub async fn websocket(app: &TestApp) -> Subscriber {
        let ticket = app.ticket(&AGENTS, &QUEUES).await;
        let url = format!("ws://{}/{ticket}/websocket", app.addr);
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let sink = Arc::clone(&seen);
        let reader = tokio::spawn(async move {
            let (_, mut rx) = ws.split();
            while let Some(Ok(msg)) = rx.next().await {
                if let Ok(text) = msg.to_text() {
                    if let Ok(v) = serde_json::from_str::<Value>(text) {
                        sink.lock().unwrap().apply(v);
                    }
                }
            }
        });
        Subscriber::started("websocket", seen, reader).await
    }

    /// An SSE stream on a new ticket for every agent and queue.
    pub async fn sse(app: &TestApp) -> Subscriber {
        let ticket = app.ticket(&AGENTS, &QUEUES).await;
        let r = reqwest::get(app.url(&format!("/{ticket}/sse")))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let seen = Arc::new(Mutex::new(Seen::default()));
        let sink = Arc::clone(&seen);
        let reader = tokio::spawn(async move {
            let mut body = r.bytes_stream();
            let mut buffer = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let block: String = buffer.drain(..end + 2).collect();
                    let field = |name: &str| -> String {
                        block
                            .lines()
                            .filter_map(|l| l.strip_prefix(name))
                            .map(str::trim_start)
                            .collect()
                    };
                    // `event:` names the type, `data:` is the object without it.
                    let kind = field("event:");
                    if let Ok(Value::Object(mut v)) = serde_json::from_str(&field("data:")) {
                        v.entry("type").or_insert(Value::String(kind));
                        sink.lock().unwrap().apply(Value::Object(v));
                    }
                }
            }
        });
        Subscriber::started("sse", seen, reader).await
    }

    /// Waits for the snapshot (it starts with `pbxStatus`) that `reader` folds into `seen`.
    pub async fn started(
        name: &'static str,
        seen: Arc<Mutex<Seen>>,
        reader: JoinHandle<()>,
    ) -> Subscriber {
        let s = Subscriber { name, seen, reader };
        s.wait("the snapshot", |seen| seen.connected.is_some())
            .await;
        s
    }

    /// What it knows now.
    pub fn seen(&self) -> Seen {
        self.seen.lock().unwrap().clone()
    }

    /// Waits (bounded) until `cond` holds of what it knows.
    pub async fn wait(&self, what: &str, cond: impl Fn(&Seen) -> bool) {
        let ok = tokio::time::timeout(PATIENCE, async {
            while !cond(&self.seen.lock().unwrap()) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        assert!(ok.is_ok(), "{}: timed out waiting for {what}", self.name);
    }
}

/// A second AMI connection to the simulator, to read its state with the list actions.
pub struct Checker {
    ami: AmiHandle,
    sim: SimHandle,
    _events: JoinHandle<()>,
}

impl Checker {
    pub fn new(sim: &SimHandle) -> Checker {
        let mut config = AmiConfig::new("127.0.0.1", sim.addr().port(), "pbxis", "pbxis");
        config.backoff_min = Duration::from_millis(20);
        config.backoff_max = Duration::from_millis(200);
        let (ami, mut events) = connect(config);
        // Its events are not needed, only read (so that none waits).
        let drain = tokio::spawn(async move { while events.recv().await.is_some() {} });
        Checker {
            ami,
            sim: sim.clone(),
            _events: drain,
        }
    }

    /// Pauses or unpauses `agent` in `queue` behind the service's back.
    pub async fn set_paused(&self, agent: &str, queue: &str, paused: bool) {
        let action = AmiMessage::action("QueuePause")
            .with("Interface", format!("PJSIP/{agent}"))
            .with("Queue", queue)
            .with("Paused", if paused { "true" } else { "false" });
        let answer = tokio::time::timeout(PATIENCE, async {
            loop {
                match self.ami.send(action.clone()).await {
                    Ok(r) => return r,
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        })
        .await
        .expect("the checker's QueuePause is answered");
        assert!(answer.is_success(), "{answer:?}");
    }

    async fn lists(&self) -> Result<Lists, pbxis_ws::ami::AmiError> {
        let list = |name: &str| self.ami.send_list(AmiMessage::action(name));
        Ok(Lists {
            queue_status: list("QueueStatus").await?.items,
            extensions: list("ExtensionStateList").await?.items,
            channels: list("CoreShowChannels").await?.items,
        })
    }

    /// The truth as a subscriber of every agent and queue would hold it; `None` while the
    /// checker's own link is down.
    pub async fn truth(&self) -> Option<BTreeMap<String, Value>> {
        let lists = self.lists().await.ok()?;
        let base = State::new(Location::parse("PJSIP/{agent}").unwrap(), "default");
        let filter = Filter::new(
            AGENTS.map(|a| AgentId::parse(a).unwrap()),
            QUEUES.map(|q| QueueName::parse(q).unwrap()),
        );
        let mut seen = Seen::default();
        for e in snapshot(&rebuild(&base, &lists), &filter, true) {
            seen.apply(serde_json::to_value(&e).unwrap());
        }
        Some(seen.state)
    }

    /// Waits (bounded) until every subscriber holds the truth and was last told the link is
    /// up; fails with the difference. Then cross-checks the truth with the simulator's own.
    pub async fn assert_converge(&self, subscribers: &[&Subscriber]) {
        let mut last = None;
        let agreed = tokio::time::timeout(PATIENCE, async {
            loop {
                if let Some(truth) = self.truth().await {
                    let lagging = subscribers.iter().find(|s| {
                        let seen = s.seen();
                        seen.state != truth || seen.connected != Some(true)
                    });
                    match lagging {
                        None => return truth,
                        Some(s) => last = Some((s.name, s.seen(), truth)),
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        let truth = match agreed {
            Ok(truth) => truth,
            Err(_) => {
                let (name, seen, truth) = last.expect("the checker never read the truth");
                assert_eq!(seen.connected, Some(true), "{name}: told the link is up");
                let differ: Vec<&String> = seen
                    .state
                    .keys()
                    .chain(truth.keys())
                    .filter(|k| seen.state.get(*k) != truth.get(*k))
                    .collect();
                assert_eq!(
                    seen.state, truth,
                    "{name} (left) vs the truth (right) differ at {differ:?}"
                );
                unreachable!("{name} agreed after all");
            }
        };
        self.cross_check(&truth).await;
    }

    /// The facts of the truth the simulator states itself: who is paused, how many wait, whose
    /// calls are shown.
    async fn cross_check(&self, truth: &BTreeMap<String, Value>) {
        let sim = self.sim.truth().await;
        for q in &sim.queues {
            let count = &truth[&format!("queueCount/null/\"{}\"", q.name)]["count"];
            assert_eq!(count, q.waiting.len(), "{}: callers waiting", q.name);
            let listed = &truth[&format!("queueCallers/null/\"{}\"", q.name)]["callers"];
            assert_eq!(
                listed.as_array().map(Vec::len),
                Some(q.waiting.len()),
                "{}: callers listed",
                q.name
            );
            for m in &q.members {
                let agent = m.interface.trim_start_matches("PJSIP/");
                let k = format!("queueMemberStatus/\"{agent}\"/\"{}\"", q.name);
                let shown = &truth[&k];
                assert_eq!(shown["status"] == "paused", m.paused, "{k}: {shown}");
            }
        }
        for (k, e) in truth.iter().filter(|(k, _)| k.starts_with("phoneNumber/")) {
            assert!(
                sim.calls
                    .iter()
                    .any(|c| e["number"] == c.caller_number.as_str()),
                "{k}: {e} is a call of the simulator's: {:?}",
                sim.calls
            );
        }
    }
}
