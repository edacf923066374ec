//! Shared rig of the model's TCP tests: the simulated Asterisk over real TCP (port 0), the
//! model on the real AMI client, a recorder of what it publishes, and a second ("checker") AMI
//! connection that rebuilds the truth from the list actions, to compare the model with.
//!
//! Waiting is always for a real condition under a generous timeout, never a fixed sleep as an
//! assertion.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pbxis_ws::ami::client::connect;
use pbxis_ws::ami::{AmiConfig, AmiHandle, AmiMessage, ClientEvent};
use pbxis_ws::pbx::service::{try_spawn, EventSink, PbxConfig, PbxHandle, QueueAction};
use pbxis_ws::pbx::snapshot::snapshot;
use pbxis_ws::pbx::sync::{rebuild, Lists};
use pbxis_ws::pbx::{
    AgentId, Event, Filter, Location, MemberStatus, PauseReason, QueueName, State,
};
use pbxis_ws::sim::{self, SimConfig, SimHandle};
use tokio::sync::watch;

pub const PATIENCE: Duration = Duration::from_secs(20);
pub const AGENTS: [&str; 3] = ["147", "148", "149"];
pub const QUEUES: [&str; 2] = ["q1", "q2"];

/// Records what the model publishes.
#[derive(Default)]
pub struct Recorder(Mutex<Vec<Event>>);

impl EventSink for Recorder {
    fn publish(&self, events: &[Event]) {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(events);
        }
    }
}

impl Recorder {
    pub fn take(&self) -> Vec<Event> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
    pub fn snapshot(&self) -> Vec<Event> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// A simulator where nothing ends by itself: long talks, patient callers, endless ringing.
pub fn stable_sim() -> SimConfig {
    let mut c = SimConfig::quiet();
    c.time_scale = 10.0;
    c.talk_time = (Duration::from_secs(100_000), Duration::from_secs(100_000));
    c.patience = (Duration::from_secs(100_000), Duration::from_secs(100_000));
    c.ring_timeout = Duration::from_secs(100_000);
    c
}

pub fn ami_config(sim: &SimHandle) -> AmiConfig {
    let mut c = AmiConfig::new("127.0.0.1", sim.addr().port(), "pbxis", "pbxis");
    c.backoff_min = Duration::from_millis(20);
    c.backoff_max = Duration::from_millis(200);
    c
}

pub fn filter() -> Filter {
    Filter::new(
        AGENTS.map(|a| AgentId::parse(a).unwrap()),
        QUEUES.map(|q| QueueName::parse(q).unwrap()),
    )
}

/// An event's identity: type, agent, queue.
pub fn key(e: &Event) -> String {
    let s = e.scope();
    format!("{}/{:?}/{:?}", e.type_name(), s.agent, s.queue)
}

/// The events by key, `joined` of waiting callers written as 0: it is wall-clock time anchored
/// when each model is made, and under the paused test clock two models made at different
/// virtual times disagree on it (its agreement across a rebuild of one model is tested in
/// `model::waiting`).
pub fn keyed(events: Vec<Event>) -> BTreeMap<String, Event> {
    events
        .into_iter()
        .filter(|e| !matches!(e, Event::PbxStatus { .. }))
        .map(|mut e| {
            if let Event::QueueCallers { callers, .. } = &mut e {
                callers.iter_mut().for_each(|c| c.joined = 0);
            }
            (key(&e), e)
        })
        .collect()
}

pub struct Rig {
    pub sim: SimHandle,
    pub pbx: PbxHandle,
    pub recorder: Arc<Recorder>,
    pub checker: AmiHandle,
    /// How many sessions the checker connection has started (its `Connected` events).
    pub checker_sessions: watch::Receiver<u64>,
}

pub async fn until(what: &str, mut cond: impl AsyncFnMut() -> bool) {
    let ok = tokio::time::timeout(PATIENCE, async {
        while !cond().await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(ok.is_ok(), "timed out waiting for {what}");
}

pub async fn rig(config: SimConfig) -> Rig {
    let sim = sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let (ami, events) = connect(ami_config(&sim));
    let recorder = Arc::new(Recorder::default());
    let pbx_config = PbxConfig {
        location: "PJSIP/{agent}".into(),
        ..PbxConfig::default()
    };
    let pbx = try_spawn(ami, events, recorder.clone(), pbx_config).unwrap();
    let (checker, mut checker_events) = connect(ami_config(&sim));
    let (sessions_tx, checker_sessions) = watch::channel(0u64);
    tokio::spawn(async move {
        while let Some(event) = checker_events.recv().await {
            if matches!(event, ClientEvent::Connected { .. }) {
                sessions_tx.send_modify(|n| *n += 1);
            }
        }
    });
    let r = Rig {
        sim,
        pbx,
        recorder,
        checker,
        checker_sessions,
    };
    until("the model is ready", async || r.pbx.link().ready).await;
    r.checker_session_after(0).await;
    r
}

impl Rig {
    pub async fn model_view(&self) -> BTreeMap<String, Event> {
        keyed(self.pbx.subscribe(filter(), |s| s).await.unwrap())
    }

    /// The model's view without the names of agents that are members of no queue: the model
    /// keeps a name once known, a rebuild from nothing cannot know it.
    pub async fn comparable_model_view(&self) -> BTreeMap<String, Event> {
        let mut v = self.model_view().await;
        let member_of_some = |agent: &AgentId| {
            v.values().any(|e| {
                matches!(e, Event::QueueMemberStatus { agent: a, status, .. }
                if a == agent && *status != MemberStatus::LoggedOff)
            })
        };
        let orphans: Vec<String> = v
            .iter()
            .filter_map(|(k, e)| match e {
                Event::AgentName { agent, .. } if !member_of_some(agent) => Some(k.clone()),
                _ => None,
            })
            .collect();
        for k in orphans {
            v.remove(&k);
        }
        v
    }

    /// How many sessions the checker connection has started so far.
    pub fn checker_sessions(&self) -> u64 {
        *self.checker_sessions.borrow()
    }

    /// Waits until the checker connection has started a session after the first `seen` ones
    /// (its `Connected` event: logged in, booted, accepting actions).
    pub async fn checker_session_after(&self, seen: u64) {
        let mut sessions = self.checker_sessions.clone();
        let started = tokio::time::timeout(PATIENCE, sessions.wait_for(|n| *n > seen)).await;
        assert!(
            matches!(started, Ok(Ok(_))),
            "the checker connection did not (re)connect"
        );
        assert!(self.checker.is_connected(), "the checker is connected");
    }

    /// The view rebuilt from scratch by the list actions on the checker connection (which must
    /// be connected: after a restart, wait for [`Rig::checker_session_after`] first).
    pub async fn rebuilt_view(&self) -> BTreeMap<String, Event> {
        let lists = tokio::time::timeout(PATIENCE, self.lists())
            .await
            .expect("the checker answers the list actions in time")
            .expect("the checker answers the list actions");
        let base = State::new(Location::parse("PJSIP/{agent}").unwrap(), "default");
        keyed(snapshot(&rebuild(&base, &lists), &filter(), true))
    }

    pub async fn lists(&self) -> Result<Lists, pbxis_ws::ami::AmiError> {
        let list = |name: &str| self.checker.send_list(AmiMessage::action(name));
        Ok(Lists {
            queue_status: list("QueueStatus").await?.items,
            extensions: list("ExtensionStateList").await?.items,
            channels: list("CoreShowChannels").await?.items,
        })
    }

    /// Waits until the model's view and a fresh rebuild agree (events may be in flight), and
    /// fails with the difference if they never do.
    pub async fn assert_converges(&self) {
        let mut last = (BTreeMap::new(), BTreeMap::new());
        let agreed = tokio::time::timeout(PATIENCE, async {
            loop {
                let m = self.comparable_model_view().await;
                let r = self.rebuilt_view().await;
                if m == r {
                    return;
                }
                last = (m, r);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        if agreed.is_err() {
            assert_eq!(last.0, last.1, "model (left) vs rebuilt from lists (right)");
        }
    }
}

/// Pauses `agent` in `queue` with a reason through the model, as a client would.
pub async fn pause(r: &Rig, agent: &str, queue: &str, reason: &str) {
    let action = QueueAction::Pause {
        queue: QueueName::parse(queue).unwrap(),
        agent: AgentId::parse(agent).unwrap(),
        paused: true,
        reason: Some(PauseReason::parse(reason).unwrap()),
    };
    r.pbx.queue_action(action).await.unwrap();
}
