//! Traffic and control: callers at a rate, reproducible from the seed; the time scale; the
//! firehose; the handle's call injection, hangup, answer delays, truth and action log; the
//! queues' strategies; bounds.
//! All on tokio's paused clock.

use crate::support::sim as sim_support;

use std::time::Duration;

use pbxis_ws::ami::message::AmiMessage;
use pbxis_ws::sim::SimConfig;
use sim_support::{start, Client};
use tokio::time::Instant;

/// What a run looks like without the values that differ by nature (ids, times).
async fn run_signature(seed: u64) -> Vec<String> {
    let mut config = SimConfig::quiet();
    config.call_rate = 6.0;
    config.seed = seed;
    let sim = start(config).await;
    let mut c = Client::logged_in(sim.addr()).await;
    c.drain_until(Instant::now() + Duration::from_secs(600))
        .await;
    sim.shutdown().await;
    c.seen
        .iter()
        .filter(|m| {
            m.event_name()
                .is_some_and(|n| n.starts_with("Queue") || n.starts_with("Agent"))
        })
        .map(|m| {
            let f = |k| m.get(k).unwrap_or("-");
            format!(
                "{} {} {} {} {} {}",
                m.event_name().unwrap_or(""),
                f("Queue"),
                f("MemberName"),
                f("CallerIDNum"),
                f("Reason"),
                f("Status")
            )
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn the_same_seed_gives_the_same_run() {
    let a = run_signature(42).await;
    let b = run_signature(42).await;
    let c = run_signature(43).await;
    assert!(
        a.iter()
            .filter(|l| l.starts_with("QueueCallerJoin"))
            .count()
            > 20,
        "{}",
        a.len()
    );
    assert!(a.iter().any(|l| l.starts_with("AgentComplete")));
    assert!(a.iter().any(|l| l.starts_with("AgentRingNoAnswer")));
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[tokio::test(start_paused = true)]
async fn time_scale_runs_simulated_seconds_faster() {
    let mut config = SimConfig::quiet();
    config.time_scale = 10.0;
    let sim = start(config).await;
    let mut c = Client::logged_in(sim.addr()).await;
    let began = Instant::now();
    let uid = sim.inbound_call("q1", "0911000001", Some("Customer")).await;
    assert!(!uid.is_empty());
    let connect = c.wait_event("AgentConnect").await;
    let real = began.elapsed();
    assert_eq!(
        connect.get("HoldTime"),
        Some("2"),
        "147 answers after 2 simulated s"
    );
    assert_eq!(connect.get("MemberName"), Some("Agent 147"));
    assert!(real < Duration::from_millis(300), "took {real:?}");
    assert!(real >= Duration::from_millis(190), "took {real:?}");
}

#[tokio::test(start_paused = true)]
async fn truth_follows_a_call_injected_and_hung_up_through_the_handle() {
    let sim = start(SimConfig::quiet()).await;
    let mut c = Client::logged_in(sim.addr()).await;
    let uid = sim.inbound_call("q1", "0911000002", None).await;
    let truth = sim.truth().await;
    let q1 = truth.queues.iter().find(|q| q.name == "q1").unwrap();
    assert_eq!(q1.waiting, vec![uid.clone()]);
    assert_eq!(truth.calls[0].state, "ringing");
    assert_eq!(
        truth
            .devices
            .iter()
            .find(|(d, _)| d == "PJSIP/147")
            .unwrap()
            .1,
        "RINGING"
    );
    c.wait_event("AgentConnect").await;
    let truth = sim.truth().await;
    assert_eq!(truth.calls[0].state, "talking");
    let m147 = &truth.queues[0]
        .members
        .iter()
        .find(|m| m.interface == "PJSIP/147")
        .unwrap();
    assert!(m147.in_call);
    assert_eq!(m147.status, 2);
    assert!(sim.hangup(&uid).await);
    let done = c.wait_event("AgentComplete").await;
    assert_eq!(done.get("Reason"), Some("caller"));
    let truth = sim.truth().await;
    assert!(truth.calls.is_empty());
    assert_eq!(truth.queues[0].completed, 1);
    assert_eq!(
        truth.queues[0]
            .members
            .iter()
            .find(|m| m.interface == "PJSIP/147")
            .unwrap()
            .calls_taken,
        1
    );
    assert!(!sim.hangup(&uid).await, "already gone");
}

#[tokio::test(start_paused = true)]
async fn an_agent_who_never_answers_gets_ring_no_answer_and_the_caller_abandons() {
    let sim = start(SimConfig::quiet()).await;
    for a in ["147", "148", "149"] {
        sim.set_answer_delay(a, None);
    }
    let mut c = Client::logged_in(sim.addr()).await;
    let uid = sim.inbound_call("q1", "0911000003", None).await;
    let rna = c.wait_event("AgentRingNoAnswer").await;
    assert_eq!(rna.get("RingTime"), Some("5000"));
    assert!(sim.hangup(&uid).await);
    let ab = c.wait_event("QueueCallerAbandon").await;
    assert_eq!(ab.get("Queue"), Some("q1"));
    c.wait_event("QueueCallerLeave").await;
    assert_eq!(sim.truth().await.queues[0].abandoned, 1);
}

#[tokio::test(start_paused = true)]
async fn rrmemory_rings_one_member_at_a_time_in_turn() {
    let sim = start(SimConfig::quiet()).await;
    for a in ["147", "148", "149"] {
        sim.set_answer_delay(a, None);
    }
    let mut c = Client::logged_in(sim.addr()).await;
    sim.inbound_call("q2", "0911000004", None).await;
    let mut rung = Vec::new();
    for _ in 0..3 {
        let called = c.wait_event("AgentCalled").await;
        rung.push(called.get("MemberName").unwrap_or("").to_owned());
        c.wait_event("AgentRingNoAnswer").await;
    }
    assert_eq!(rung, ["Agent 147", "Agent 148", "Agent 149"]);
}

#[tokio::test(start_paused = true)]
async fn firehose_emits_the_configured_rate() {
    let mut config = SimConfig::quiet();
    config.firehose = 500;
    let sim = start(config).await;
    let mut c = Client::logged_in(sim.addr()).await;
    c.seen.clear();
    c.drain_until(Instant::now() + Duration::from_secs(2)).await;
    let n = c
        .seen
        .iter()
        .filter(|m| m.is_event("QueueMemberStatus"))
        .count();
    assert!((950..=1010).contains(&n), "{n} events in 2 s");
}

#[tokio::test(start_paused = true)]
async fn action_log_is_bounded_and_clearable() {
    let mut config = SimConfig::quiet();
    config.max_logged_actions = 5;
    let sim = start(config).await;
    let mut c = Client::logged_in(sim.addr()).await;
    for i in 0..10 {
        c.action(AmiMessage::action("Ping").with("ActionID", format!("p{i}")))
            .await;
    }
    let log = sim.actions_received();
    assert_eq!(log.len(), 5);
    assert_eq!(log.last().and_then(|m| m.action_id()), Some("p9"));
    sim.clear_actions();
    assert!(sim.actions_received().is_empty());
}

#[tokio::test(start_paused = true)]
async fn calls_are_bounded() {
    let mut config = SimConfig::quiet();
    config.max_calls = 2;
    let sim = start(config).await;
    assert!(!sim.inbound_call("q1", "0911000005", None).await.is_empty());
    assert!(!sim.inbound_call("q1", "0911000006", None).await.is_empty());
    assert!(sim.inbound_call("q1", "0911000007", None).await.is_empty());
    assert!(sim
        .inbound_call("nosuchqueue", "0911000008", None)
        .await
        .is_empty());
}

#[tokio::test(start_paused = true)]
async fn redirect_moves_a_waiting_caller_and_hangup_ends_it() {
    let sim = start(SimConfig::quiet()).await;
    for a in ["147", "148", "149"] {
        sim.set_answer_delay(a, None);
    }
    let mut c = Client::logged_in(sim.addr()).await;
    sim.inbound_call("q1", "0911000009", None).await;
    let join = c.wait_event("QueueCallerJoin").await;
    let channel = join.get("Channel").unwrap().to_owned();
    assert!(channel.starts_with("PJSIP/trunk-"), "{channel}");
    let r = c
        .action(
            AmiMessage::action("Redirect")
                .with("Channel", &channel)
                .with("Context", "default")
                .with("Exten", "q2")
                .with("Priority", "1"),
        )
        .await;
    assert_eq!(r.message(), Some("Redirect successful"));
    let left = c.wait_event("QueueCallerLeave").await;
    assert_eq!(left.get("Queue"), Some("q1"));
    let joined = c
        .wait_for(|m| m.is_event("QueueCallerJoin") && m.get("Queue") == Some("q2"))
        .await;
    assert_eq!(joined.get("Channel"), Some(channel.as_str()));
    let truth = sim.truth().await;
    assert_eq!(truth.queues[1].waiting.len(), 1);
    let r = c
        .action(AmiMessage::action("Hangup").with("Channel", "PJSIP/nosuch-00000001"))
        .await;
    assert_eq!(r.message(), Some("No such channel"));
    let r = c
        .action(AmiMessage::action("Hangup").with("Channel", &channel))
        .await;
    assert!(r.is_success());
    let ab = c.wait_event("QueueCallerAbandon").await;
    assert_eq!(ab.get("Queue"), Some("q2"));
    assert!(sim.truth().await.calls.is_empty());
}

#[tokio::test(start_paused = true)]
async fn originate_to_a_busy_agent_fails_with_reason_5() {
    let sim = start(SimConfig::quiet()).await;
    let mut c = Client::logged_in(sim.addr()).await;
    sim.inbound_call("q1", "0911000010", None).await;
    c.wait_event("AgentConnect").await;
    let busy = AmiMessage::action("Originate")
        .with("Channel", "PJSIP/147")
        .with("Context", "default")
        .with("Exten", "1562830")
        .with("Priority", "1")
        .with("Async", "true")
        .with("ActionID", "busy-1");
    assert!(c.action(busy).await.is_success());
    let r = c
        .wait_for(|m| m.is_event("OriginateResponse") && m.action_id() == Some("busy-1"))
        .await;
    assert_eq!(r.get("Response"), Some("Failure"));
    assert_eq!(r.get("Reason"), Some("5"));
    let free = AmiMessage::action("Originate")
        .with("Channel", "PJSIP/148")
        .with("Context", "default")
        .with("Exten", "1562830")
        .with("Priority", "1")
        .with("Async", "true")
        .with("ActionID", "free-1");
    assert!(c.action(free).await.is_success());
    let r = c
        .wait_for(|m| m.is_event("OriginateResponse") && m.action_id() == Some("free-1"))
        .await;
    assert_eq!(r.get("Response"), Some("Success"));
    assert_eq!(r.get("Reason"), Some("4"));
}

#[tokio::test(start_paused = true)]
async fn the_call_rate_can_be_turned_off_and_on_while_running() {
    let mut config = SimConfig::quiet();
    config.call_rate = 60.0;
    let sim = start(config).await;
    let mut c = Client::logged_in(sim.addr()).await;
    let joins = |c: &Client| {
        c.seen
            .iter()
            .filter(|m| m.event_name() == Some("QueueCallerJoin"))
            .count()
    };
    c.drain_until(Instant::now() + Duration::from_secs(120))
        .await;
    let on = joins(&c);
    assert!(on > 20, "{on} callers in two minutes at 60 a minute");

    sim.set_call_rate(0.0).await;
    let off = joins(&c);
    c.drain_until(Instant::now() + Duration::from_secs(600))
        .await;
    assert_eq!(joins(&c), off, "no caller arrives at rate 0");

    sim.set_call_rate(60.0).await;
    c.drain_until(Instant::now() + Duration::from_secs(120))
        .await;
    assert!(joins(&c) > off + 20, "callers arrive again");
    sim.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_queue_named_in_strategies_rings_by_its_own() {
    // q1 would ring all (the first queue); named `rrmemory`, a caller rings one agent.
    let mut config = SimConfig::quiet();
    config
        .strategies
        .insert("q1".to_owned(), "rrmemory".to_owned());
    let sim = start(config).await;
    let truth = sim.truth().await;
    let strategies: Vec<&str> = truth.queues.iter().map(|q| q.strategy.as_str()).collect();
    assert_eq!(strategies, ["rrmemory", "rrmemory"]);
    sim.inbound_call("q1", "0911000003", None).await;
    let ringing = sim
        .truth()
        .await
        .devices
        .iter()
        .filter(|(d, s)| d.starts_with("PJSIP/") && s == "RINGING")
        .count();
    assert_eq!(ringing, 1);
    sim.shutdown().await;
    let alternate = start(SimConfig::quiet()).await;
    assert_eq!(alternate.truth().await.queues[0].strategy, "ringall");
    alternate.shutdown().await;
}
