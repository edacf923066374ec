//! Originated calls against the simulated Asterisk over real TCP (port 0), through the real AMI
//! client: the destination shows on `phoneNumber` while the agent's own phone rings, stays
//! without a flicker when the agent answers and the destination is dialled and bridged, and is
//! cleared when the call ends, also when the agent never answers (`originateFailed`).
//!
//! Waiting is always for a real condition under a generous timeout.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pbxis_ws::ami::client::connect;
use pbxis_ws::ami::AmiConfig;
use pbxis_ws::pbx::service::{try_spawn, EventSink, PbxConfig, PbxHandle};
use pbxis_ws::pbx::{AgentId, Destination, Event, Filter, QueueName};
use pbxis_ws::sim::{self, SimConfig, SimHandle};

const PATIENCE: Duration = Duration::from_secs(20);

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
    fn seen(&self) -> Vec<Event> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
    /// The `phoneNumber` numbers published for `agent`, in order.
    fn numbers(&self, agent: &str) -> Vec<Option<String>> {
        self.seen()
            .into_iter()
            .filter_map(|e| match e {
                Event::PhoneNumber {
                    agent: a, number, ..
                } if a.as_str() == agent => Some(number),
                _ => None,
            })
            .collect()
    }
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

async fn rig() -> (SimHandle, PbxHandle, Arc<Recorder>) {
    let mut config = SimConfig::quiet();
    config.time_scale = 10.0;
    let sim = sim::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut ami = AmiConfig::new("127.0.0.1", sim.addr().port(), "pbxis", "pbxis");
    ami.backoff_min = Duration::from_millis(20);
    let (ami, events) = connect(ami);
    let recorder = Arc::new(Recorder::default());
    let pbx_config = PbxConfig {
        location: "PJSIP/{agent}".into(),
        ..PbxConfig::default()
    };
    let pbx = try_spawn(ami, events, recorder.clone(), pbx_config).unwrap();
    until("the model is ready", async || pbx.link().ready).await;
    (sim, pbx, recorder)
}

/// The state of the simulator's originated call of `agent`: `originating` while the agent's
/// phone rings, `talking` once the agent answered.
async fn call_state(sim: &SimHandle, agent: &str) -> Option<String> {
    let device = format!("PJSIP/{agent}");
    let truth = sim.truth().await;
    truth
        .calls
        .into_iter()
        .find(|c| c.agent.as_deref() == Some(device.as_str()))
        .map(|c| c.state)
}

fn dest() -> Destination {
    Destination::parse("1562830").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_originate_shows_the_destination_while_ringing_then_clears() {
    let (sim, pbx, recorder) = rig().await;
    // 149 never answers: the destination is never dialled.
    let id = pbx
        .originate(
            AgentId::parse("149").unwrap(),
            dest(),
            None,
            Default::default(),
        )
        .await;
    let id = id.expect("originate accepted");
    until("phoneNumber of 149 while its phone rings", async || {
        recorder.numbers("149") == [Some("1562830".to_owned())]
    })
    .await;
    assert_eq!(
        call_state(&sim, "149").await.as_deref(),
        Some("originating")
    );
    let filter = Filter::new([AgentId::parse("149").unwrap()], [] as [QueueName; 0]);
    let snapshot = pbx.subscribe(filter, |s| s).await.unwrap();
    assert!(
        snapshot
            .iter()
            .any(|e| matches!(e, Event::PhoneNumber { number: Some(n), .. } if n == "1562830")),
        "a new subscriber sees it too: {snapshot:?}"
    );
    until("originateFailed for 149", async || {
        recorder.seen().iter().any(
            |e| matches!(e, Event::OriginateFailed { agent, action_id, .. } if agent.as_str() == "149" && action_id == &id),
        )
    })
    .await;
    assert_eq!(
        recorder.numbers("149"),
        [Some("1562830".to_owned()), None],
        "cleared once, when the ringing ended"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_originate_keeps_the_destination_from_ringing_to_hangup() {
    let (sim, pbx, recorder) = rig().await;
    // 147 answers after 2 s; the destination answers a second later and they talk.
    pbx.originate(
        AgentId::parse("147").unwrap(),
        dest(),
        None,
        Default::default(),
    )
    .await
    .expect("originate accepted");
    // The destination answers a second after it is dialled, they talk, and the call ends by
    // itself (the talk time): the whole call passes by.
    until("the number cleared", async || {
        recorder.numbers("147").last() == Some(&None)
    })
    .await;
    assert_eq!(call_state(&sim, "147").await, None, "the call is over");
    assert_eq!(
        recorder.numbers("147"),
        [Some("1562830".to_owned()), None],
        "one number from the ringing on through the talk (no flicker), cleared at the end"
    );
    sim.shutdown().await;
}
