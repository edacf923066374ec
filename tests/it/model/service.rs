//! The model task's commands and its handling of the link, against the simulated Asterisk over
//! real TCP: queue actions and originate reach AMI with the interface from the location
//! template, refusals carry Asterisk's message, an originate's failure goes to the `src` agent,
//! queue status comes in the seed's shape, summary events are refreshed. With a hand-fed event
//! stream (the AMI client's actions still go to the simulator): events during a rebuild are
//! applied after it, overflow and app_queue reloads trigger rebuilds, and the link state is told.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pbxis_ws::ami::client::connect;
use pbxis_ws::ami::{AmiConfig, AmiHandle, AmiMessage, ClientEvent};
use pbxis_ws::pbx::service::{
    try_spawn, EventSink, PbxConfig, PbxError, PbxHandle, QueueAction, QueueStatusReport,
};
use pbxis_ws::pbx::{
    AgentId, CallerId, Destination, Event, Filter, MemberStatus, PauseReason, QueueName,
};
use pbxis_ws::sim::{self, SimConfig, SimHandle};
use tokio::sync::mpsc;

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
    fn all(&self) -> Vec<Event> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
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

fn a(s: &str) -> AgentId {
    AgentId::parse(s).unwrap()
}
fn q(s: &str) -> QueueName {
    QueueName::parse(s).unwrap()
}

async fn sim() -> SimHandle {
    let mut c = SimConfig::quiet();
    c.time_scale = 10.0;
    sim::start(c, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

fn ami_config(sim: &SimHandle) -> AmiConfig {
    let mut c = AmiConfig::new("127.0.0.1", sim.addr().port(), "pbxis", "pbxis");
    c.backoff_min = Duration::from_millis(20);
    c.backoff_max = Duration::from_millis(200);
    c
}

fn config(summary: Option<Duration>) -> PbxConfig {
    PbxConfig {
        location: "PJSIP/{agent}".into(),
        summary_refresh: summary,
        ..PbxConfig::default()
    }
}

/// The whole chain: simulator, AMI client, model.
async fn real(summary: Option<Duration>) -> (SimHandle, PbxHandle, Arc<Recorder>) {
    let sim = sim().await;
    let (ami, events) = connect(ami_config(&sim));
    let rec = Arc::new(Recorder::default());
    let pbx = try_spawn(ami, events, rec.clone(), config(summary)).unwrap();
    until("ready", async || pbx.link().ready).await;
    (sim, pbx, rec)
}

/// The model on a hand-fed event stream; its actions still go to the simulator.
async fn hand_fed() -> (
    SimHandle,
    AmiHandle,
    PbxHandle,
    Arc<Recorder>,
    mpsc::Sender<ClientEvent>,
) {
    let sim = sim().await;
    let (ami, mut real_events) = connect(ami_config(&sim));
    tokio::spawn(async move { while real_events.recv().await.is_some() {} });
    until("the client is connected", async || ami.is_connected()).await;
    let (tx, rx) = mpsc::channel(64);
    let rec = Arc::new(Recorder::default());
    let pbx = try_spawn(ami.clone(), rx, rec.clone(), config(None)).unwrap();
    (sim, ami, pbx, rec, tx)
}

fn sent(sim: &SimHandle, action: &str) -> Vec<AmiMessage> {
    sim.actions_received()
        .into_iter()
        .filter(|m| {
            m.action_name()
                .is_some_and(|n| n.eq_ignore_ascii_case(action))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_actions_use_the_template_and_pass_refusals_back() {
    let (sim, pbx, _) = real(None).await;
    let pause = QueueAction::Pause {
        queue: q("q1"),
        agent: a("148"),
        paused: true,
        reason: Some(PauseReason::parse("lunch").unwrap()),
    };
    let msg = pbx.queue_action(pause).await.unwrap();
    assert_eq!(msg, "Interface paused successfully");
    let action = sent(&sim, "QueuePause").pop().unwrap();
    assert_eq!(action.get("Interface"), Some("PJSIP/148"));
    assert_eq!(action.get("Queue"), Some("q1"));
    assert_eq!(action.get("Reason"), Some("lunch"));

    let remove = QueueAction::Remove {
        queue: q("q2"),
        agent: a("147"),
    };
    pbx.queue_action(remove.clone()).await.unwrap();
    match pbx.queue_action(remove).await {
        Err(PbxError::Refused(m)) => assert!(m.contains("Not there"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }

    let before = sim.actions_received().len();
    let unknown = QueueAction::Add {
        queue: q("nosuch"),
        agent: a("147"),
        member_name: None,
        paused: None,
    };
    assert!(matches!(
        pbx.queue_action(unknown).await,
        Err(PbxError::UnknownQueue(_))
    ));
    assert_eq!(
        sim.actions_received().len(),
        before,
        "nothing sent for an unknown queue"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn originate_is_async_and_its_failure_goes_to_the_src_agent() {
    let (sim, pbx, rec) = real(None).await;
    let dest = Destination::parse("1562830").unwrap();
    let cid = CallerId::parse("7012888").unwrap();
    let id = pbx
        .originate(a("149"), dest, Some(cid), Default::default())
        .await
        .unwrap();
    let action = sent(&sim, "Originate").pop().unwrap();
    for (k, v) in [
        ("Channel", "PJSIP/149"),
        ("Exten", "1562830"),
        ("Context", "default"),
        ("Priority", "1"),
        ("Async", "true"),
        ("CallerID", "7012888"),
        ("ActionID", id.as_str()),
    ] {
        assert_eq!(action.get(k), Some(v), "{k}");
    }
    let failed = Event::OriginateFailed {
        agent: a("149"),
        action_id: id,
        reason: "no answer".into(),
    };
    until("originateFailed for 149", async || {
        rec.all().contains(&failed)
    })
    .await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_status_in_the_seed_shape() {
    let (sim, pbx, _) = real(None).await;
    let all = pbx.queue_status(None).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.queue.as_str()).collect::<Vec<_>>(),
        ["q1", "q2"]
    );
    let q1 = &all[0];
    assert!(
        q1.properties.contains_key("strategy"),
        "{:?}",
        q1.properties
    );
    assert!(!q1.properties.contains_key("queue"));
    let locations: Vec<&str> = q1
        .members
        .iter()
        .filter_map(|m| QueueStatusReport::member_text(m, "location"))
        .collect();
    assert_eq!(locations.len(), 3);
    assert!(locations.contains(&"PJSIP/147"));
    let one = pbx.queue_status(Some(q("q2"))).await.unwrap();
    assert_eq!(one.len(), 1);
    assert!(matches!(
        pbx.queue_status(Some(q("nosuch"))).await,
        Err(PbxError::UnknownQueue(_))
    ));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_events_are_refreshed() {
    let (sim, _pbx, rec) = real(Some(Duration::from_millis(200))).await;
    until("queue and member summaries", async || {
        let all = rec.all();
        let queues = all
            .iter()
            .filter(|e| matches!(e, Event::QueueSummary { .. }))
            .count();
        let members = all
            .iter()
            .filter(|e| matches!(e, Event::MemberSummary { .. }))
            .count();
        queues >= 4 && members >= 12
    })
    .await;
    sim.shutdown().await;
}

fn member_pause(agent: &str, queue: &str, paused: bool) -> ClientEvent {
    ClientEvent::Event(
        AmiMessage::event("QueueMemberPause")
            .with("Queue", queue)
            .with("MemberName", format!("Agent {agent}"))
            .with("Interface", format!("PJSIP/{agent}"))
            .with("Status", "1")
            .with("Paused", if paused { "1" } else { "0" })
            .with("PausedReason", if paused { "late" } else { "" }),
    )
}

fn connected() -> ClientEvent {
    ClientEvent::Connected {
        banner: "Asterisk Call Manager/11.0.0".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_during_a_rebuild_are_applied_after_it() {
    let (sim, _ami, pbx, rec, tx) = hand_fed().await;
    // The rebuild starts at `Connected`; the pause arrives while its lists are collected. The
    // simulator's lists say 148 is not paused: only an event applied after them says it is.
    tx.send(connected()).await.unwrap();
    tx.send(member_pause("148", "q1", true)).await.unwrap();
    until("ready", async || pbx.link().ready).await;
    let snapshot = pbx
        .subscribe(Filter::new([a("148")], [q("q1")]), |s| s)
        .await
        .unwrap();
    let paused = Event::QueueMemberStatus {
        agent: a("148"),
        queue: q("q1"),
        status: MemberStatus::Paused,
        reason: Some("late".into()),
    };
    assert!(snapshot.contains(&paused), "{snapshot:?}");
    // Published after the rebuild's corrections (whether it was buffered during the rebuild, or
    // taken just after it because the rebuild's end is served first): the last word on 148 in
    // q1 is the pause.
    let all = rec.all();
    let last_148 = all.iter().rev().find(|e| {
        matches!(e, Event::QueueMemberStatus { agent, queue, .. }
            if agent == &a("148") && queue == &q("q1"))
    });
    assert_eq!(last_148, Some(&paused), "{all:?}");
    assert!(all.contains(&Event::PbxStatus { connected: true }));
    sim.shutdown().await;
}

/// Waits until at least `n` rebuilds have finished and none runs or is pending; then exactly
/// `n` must have run (a pending rebuild starts before `running` is cleared, so none can hide).
async fn settled(pbx: &PbxHandle, n: u64, what: &str) {
    until(what, async || {
        let r = pbx.rebuilds();
        r.finished >= n && !r.running
    })
    .await;
    assert_eq!(pbx.rebuilds().finished, n, "{what}: exactly {n} rebuilds");
}

fn reload_app_queue() -> ClientEvent {
    let reload = AmiMessage::event("Reload")
        .with("Module", "app_queue.so")
        .with("Status", "0");
    ClientEvent::Event(reload)
}

fn fully_booted() -> ClientEvent {
    ClientEvent::Event(AmiMessage::event("FullyBooted").with("Status", "Fully Booted"))
}

/// Every trigger gives one rebuild, whether it arrives while the previous rebuild still runs
/// (then it is coalesced into one more right after) or after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overflow_booted_and_queue_reload_rebuild_the_model() {
    let (sim, _ami, pbx, _rec, tx) = hand_fed().await;
    tx.send(connected()).await.unwrap();
    settled(&pbx, 1, "the first rebuild").await;
    tx.send(ClientEvent::Overflow { dropped: 7 }).await.unwrap();
    settled(&pbx, 2, "a rebuild after the overflow").await;
    tx.send(reload_app_queue()).await.unwrap();
    settled(&pbx, 3, "a rebuild after the app_queue reload").await;
    tx.send(fully_booted()).await.unwrap();
    settled(&pbx, 4, "a rebuild after FullyBooted").await;
    for action in ["QueueStatus", "ExtensionStateList", "CoreShowChannels"] {
        assert_eq!(sent(&sim, action).len(), 4, "{action} in every rebuild");
    }
    sim.shutdown().await;
}

/// Triggers that arrive while a rebuild is held up (the simulator stalls) mark the model dirty:
/// exactly one more rebuild follows, however many triggers came.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggers_during_a_rebuild_give_exactly_one_more() {
    let (sim, _ami, pbx, _rec, tx) = hand_fed().await;
    tx.send(connected()).await.unwrap();
    settled(&pbx, 1, "the first rebuild").await;
    sim.stall(Duration::from_millis(1500)).await;
    tx.send(ClientEvent::Overflow { dropped: 1 }).await.unwrap();
    until("the second rebuild runs", async || pbx.rebuilds().running).await;
    for _ in 0..3 {
        tx.send(fully_booted()).await.unwrap();
    }
    // Three: had the triggers come after the stalled rebuild, the first would have started a
    // rebuild and the others one more (four); had they been ignored, two.
    settled(&pbx, 3, "the stalled rebuild and one more").await;
    assert_eq!(sent(&sim, "CoreShowChannels").len(), 3);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_down_and_back_is_told_to_subscribers() {
    let (sim, _ami, pbx, rec, tx) = hand_fed().await;
    let filter = Filter::new([a("147")], [q("q1")]);
    let first = pbx.subscribe(filter.clone(), |s| s).await.unwrap();
    assert_eq!(
        first[0],
        Event::PbxStatus { connected: false },
        "not built yet"
    );
    tx.send(connected()).await.unwrap();
    until("ready", async || pbx.link().ready).await;
    tx.send(ClientEvent::Disconnected {
        reason: "test".into(),
    })
    .await
    .unwrap();
    until("told down", async || {
        rec.all().last() == Some(&Event::PbxStatus { connected: false })
    })
    .await;
    assert!(!pbx.link().connected && !pbx.link().ready);
    let down = pbx.subscribe(filter.clone(), |s| s).await.unwrap();
    assert_eq!(down[0], Event::PbxStatus { connected: false });
    tx.send(connected()).await.unwrap();
    until("told up", async || {
        rec.all().last() == Some(&Event::PbxStatus { connected: true })
    })
    .await;
    let up = pbx.subscribe(filter, |s| s).await.unwrap();
    assert_eq!(up[0], Event::PbxStatus { connected: true });
    let statuses: Vec<Event> = rec
        .all()
        .into_iter()
        .filter(|e| matches!(e, Event::PbxStatus { .. }))
        .collect();
    let told = |connected| Event::PbxStatus { connected };
    assert_eq!(statuses, [told(true), told(false), told(true)]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_logs_off_and_stops_the_model() {
    let (sim, pbx, _) = real(None).await;
    pbx.shutdown().await;
    until("the logoff reached Asterisk", async || {
        !sent(&sim, "Logoff").is_empty()
    })
    .await;
    let after = pbx.subscribe(Filter::default(), |s| s).await;
    assert!(matches!(after, Err(PbxError::Closed)), "{after:?}");
    sim.shutdown().await;
}
