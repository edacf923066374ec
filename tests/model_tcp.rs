//! The model against the simulated Asterisk over real TCP (port 0), through the real AMI client:
//!
//! - property: after random call-center activity, the model's subscriber view equals the view
//!   rebuilt from scratch by the list actions on a second connection;
//! - restart: the simulator restarts mid-call with agents paused and callers waiting; after the
//!   reconnect the model equals the simulator's truth and subscribers received exactly the
//!   corrections, between `pbxStatus` false and true.
//!
//! Waiting is always for a real condition under a generous timeout, never a fixed sleep as an
//! assertion.

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
use proptest::prelude::*;
use tokio::sync::watch;

const PATIENCE: Duration = Duration::from_secs(20);
const AGENTS: [&str; 3] = ["147", "148", "149"];
const QUEUES: [&str; 2] = ["q1", "q2"];

/// Records what the model publishes.
#[derive(Default)]
struct Recorder(Mutex<Vec<Event>>);

impl EventSink for Recorder {
    fn publish(&self, events: &[Event]) {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(events);
        }
    }
}

impl Recorder {
    fn take(&self) -> Vec<Event> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
    fn snapshot(&self) -> Vec<Event> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// A simulator where nothing ends by itself: long talks, patient callers, endless ringing.
fn stable_sim() -> SimConfig {
    let mut c = SimConfig::quiet();
    c.time_scale = 10.0;
    c.talk_time = (Duration::from_secs(100_000), Duration::from_secs(100_000));
    c.patience = (Duration::from_secs(100_000), Duration::from_secs(100_000));
    c.ring_timeout = Duration::from_secs(100_000);
    c
}

fn ami_config(sim: &SimHandle) -> AmiConfig {
    let mut c = AmiConfig::new("127.0.0.1", sim.addr().port(), "pbxis", "pbxis");
    c.backoff_min = Duration::from_millis(20);
    c.backoff_max = Duration::from_millis(200);
    c
}

fn filter() -> Filter {
    Filter::new(
        AGENTS.map(|a| AgentId::parse(a).unwrap()),
        QUEUES.map(|q| QueueName::parse(q).unwrap()),
    )
}

/// An event's identity: type, agent, queue.
fn key(e: &Event) -> String {
    let s = e.scope();
    format!("{}/{:?}/{:?}", e.type_name(), s.agent, s.queue)
}

fn keyed(events: Vec<Event>) -> BTreeMap<String, Event> {
    events
        .into_iter()
        .filter(|e| !matches!(e, Event::PbxStatus { .. }))
        .map(|e| (key(&e), e))
        .collect()
}

struct Rig {
    sim: SimHandle,
    pbx: PbxHandle,
    recorder: Arc<Recorder>,
    checker: AmiHandle,
    /// How many sessions the checker connection has started (its `Connected` events).
    checker_sessions: watch::Receiver<u64>,
}

async fn until(what: &str, mut cond: impl AsyncFnMut() -> bool) {
    let ok = tokio::time::timeout(PATIENCE, async {
        while !cond().await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(ok.is_ok(), "timed out waiting for {what}");
}

async fn rig(config: SimConfig) -> Rig {
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
    async fn model_view(&self) -> BTreeMap<String, Event> {
        keyed(self.pbx.subscribe(filter(), |s| s).await.unwrap())
    }

    /// The model's view without the names of agents that are members of no queue: the model
    /// keeps a name once known, a rebuild from nothing cannot know it.
    async fn comparable_model_view(&self) -> BTreeMap<String, Event> {
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
    fn checker_sessions(&self) -> u64 {
        *self.checker_sessions.borrow()
    }

    /// Waits until the checker connection has started a session after the first `seen` ones
    /// (its `Connected` event: logged in, booted, accepting actions).
    async fn checker_session_after(&self, seen: u64) {
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
    async fn rebuilt_view(&self) -> BTreeMap<String, Event> {
        let lists = tokio::time::timeout(PATIENCE, self.lists())
            .await
            .expect("the checker answers the list actions in time")
            .expect("the checker answers the list actions");
        let base = State::new(Location::parse("PJSIP/{agent}").unwrap(), "default");
        keyed(snapshot(&rebuild(&base, &lists), &filter(), true))
    }

    async fn lists(&self) -> Result<Lists, pbxis_ws::ami::AmiError> {
        let list = |name: &str| self.checker.send_list(AmiMessage::action(name));
        Ok(Lists {
            queue_status: list("QueueStatus").await?.items,
            extensions: list("ExtensionStateList").await?.items,
            channels: list("CoreShowChannels").await?.items,
        })
    }

    /// Waits until the model's view and a fresh rebuild agree (events may be in flight), and
    /// fails with the difference if they never do.
    async fn assert_converges(&self) {
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

#[derive(Clone, Debug)]
enum Op {
    Call(usize, u32),
    Pause(usize, usize, bool),
    Remove(usize, usize),
    Add(usize, usize),
    Hangup(usize),
    AnswerDelay(usize, Option<u64>),
    Originate(usize, u32),
    Wait(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..2usize, 0..1000u32).prop_map(|(q, n)| Op::Call(q, n)),
        2 => (0..3usize, 0..2usize, any::<bool>()).prop_map(|(a, q, p)| Op::Pause(a, q, p)),
        1 => (0..3usize, 0..2usize).prop_map(|(a, q)| Op::Remove(a, q)),
        1 => (0..3usize, 0..2usize).prop_map(|(a, q)| Op::Add(a, q)),
        2 => (0..8usize).prop_map(Op::Hangup),
        1 => (0..3usize, proptest::option::of(1..4u64)).prop_map(|(a, d)| Op::AnswerDelay(a, d)),
        1 => (0..3usize, 0..1000u32).prop_map(|(a, n)| Op::Originate(a, n)),
        2 => (1..400u64).prop_map(Op::Wait),
    ]
}

async fn run_op(r: &Rig, op: &Op) {
    let agent = |i: usize| AgentId::parse(AGENTS[i]).unwrap();
    let queue = |i: usize| QueueName::parse(QUEUES[i]).unwrap();
    match op {
        Op::Call(q, n) => {
            r.sim
                .inbound_call(QUEUES[*q], &format!("0911{n:06}"), Some("Caller"))
                .await;
        }
        Op::Pause(a, q, paused) => {
            let reason = paused.then(|| PauseReason::parse("lunch").unwrap());
            let action = QueueAction::Pause {
                queue: queue(*q),
                agent: agent(*a),
                paused: *paused,
                reason,
            };
            let _ = r.pbx.queue_action(action).await;
        }
        Op::Remove(a, q) => {
            let _ = r
                .pbx
                .queue_action(QueueAction::Remove {
                    queue: queue(*q),
                    agent: agent(*a),
                })
                .await;
        }
        Op::Add(a, q) => {
            let action = QueueAction::Add {
                queue: queue(*q),
                agent: agent(*a),
                member_name: None,
                paused: None,
            };
            let _ = r.pbx.queue_action(action).await;
        }
        Op::Hangup(i) => {
            let calls = r.sim.truth().await.calls;
            if let Some(c) = calls.get(*i % calls.len().max(1)) {
                r.sim.hangup(&c.uniqueid).await;
            }
        }
        Op::AnswerDelay(a, d) => r
            .sim
            .set_answer_delay(AGENTS[*a], d.map(Duration::from_secs)),
        Op::Originate(a, n) => {
            let dest = pbxis_ws::pbx::Destination::parse(&format!("1562{n:03}")).unwrap();
            let _ = r.pbx.originate(agent(*a), dest, None).await;
        }
        Op::Wait(ms) => tokio::time::sleep(Duration::from_millis(*ms)).await,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, max_shrink_iters: 8, ..ProptestConfig::default() })]

    #[test]
    fn random_activity_then_model_equals_rebuild(ops in proptest::collection::vec(op(), 1..25)) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let r = rig(stable_sim()).await;
            for op in &ops {
                run_op(&r, op).await;
            }
            r.assert_converges().await;
            r.sim.shutdown().await;
        });
    }
}

/// Pauses `agent` in `queue` with a reason through the model, as a client would.
async fn pause(r: &Rig, agent: &str, queue: &str, reason: &str) {
    let action = QueueAction::Pause {
        queue: QueueName::parse(queue).unwrap(),
        agent: AgentId::parse(agent).unwrap(),
        paused: true,
        reason: Some(PauseReason::parse(reason).unwrap()),
    };
    r.pbx.queue_action(action).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_call_converges_with_exactly_the_corrections() {
    let r = rig(stable_sim()).await;
    // 148 and 149 paused in q1, 147 answers a q2 call, two callers wait in q1.
    pause(&r, "148", "q1", "lunch").await;
    pause(&r, "149", "q1", "training").await;
    pause(&r, "147", "q1", "meeting").await;
    r.sim
        .inbound_call("q2", "0911000001", Some("Talking"))
        .await;
    r.sim
        .inbound_call("q1", "0911000002", Some("Waiting A"))
        .await;
    r.sim
        .inbound_call("q1", "0911000003", Some("Waiting B"))
        .await;
    until("147 talks and two callers wait in q1", async || {
        let v = r.model_view().await;
        let talking = v.get("phoneNumber/Some(\"147\")/None").is_some_and(
            |e| matches!(e, Event::PhoneNumber { number: Some(n), .. } if n == "0911000001"),
        );
        let waiting = v.get("queueCount/None/Some(\"q1\")")
            == Some(&Event::QueueCount {
                queue: QueueName::parse("q1").unwrap(),
                count: 2,
            });
        talking && waiting
    })
    .await;
    r.assert_converges().await;
    let before = r.model_view().await;
    r.recorder.take();
    let checker_sessions = r.checker_sessions();

    r.sim.restart(Duration::from_millis(300)).await;
    until("the link went down and the model is rebuilt", async || {
        let seen = r.recorder.snapshot();
        let down = seen.contains(&Event::PbxStatus { connected: false });
        down && seen.last() == Some(&Event::PbxStatus { connected: true })
    })
    .await;
    let published = r.recorder.take();

    // The truth after the restart: fresh state, nothing paused, no calls, read on the checker
    // connection once it is back (it reconnects on its own schedule, not the model's).
    r.checker_session_after(checker_sessions).await;
    let after = r.rebuilt_view().await;
    assert_eq!(
        r.model_view().await,
        after,
        "the model equals the rebuilt truth"
    );
    let truth = r.sim.truth().await;
    assert!(truth.calls.is_empty());
    assert!(truth
        .queues
        .iter()
        .all(|q| q.members.iter().all(|m| !m.paused)));

    // Exactly the corrections: pbxStatus false first, true last, and in between one event per
    // key that changed, each one a real change, leading from `before` to `after`.
    assert_eq!(
        published.first(),
        Some(&Event::PbxStatus { connected: false })
    );
    assert_eq!(
        published.last(),
        Some(&Event::PbxStatus { connected: true })
    );
    let corrections = &published[1..published.len() - 1];
    let mut view = before.clone();
    let mut touched = std::collections::BTreeSet::new();
    for e in corrections {
        assert!(touched.insert(key(e)), "one correction per key: {e:?}");
        assert_ne!(
            view.get(&key(e)),
            Some(e),
            "a correction changes something: {e:?}"
        );
        view.insert(key(e), e.clone());
    }
    for (k, e) in &after {
        assert_eq!(view.get(k), Some(e), "{k} after the corrections");
    }
    let gone: Vec<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    for k in &gone {
        assert_ne!(view.get(*k), before.get(*k), "{k} withdrawn");
    }
    let changed = after
        .iter()
        .filter(|(k, e)| before.get(*k) != Some(e))
        .count();
    let expected = changed + gone.len();
    assert_eq!(
        corrections.len(),
        expected,
        "no more than the corrections: {corrections:?}"
    );
    r.sim.shutdown().await;
}
