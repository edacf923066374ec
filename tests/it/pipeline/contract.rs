//! The model supervisor's contract with the hub, checked without the hub: a stand-in sink does
//! on `resync_all` what the hub promises (the subscriber's state is thrown away and replaced by
//! a snapshot taken inside the new model task, atomically with what is published after it).
//! With that, a subscriber that held a call the dead model never saw end converges to the
//! truth; and `resync_all` comes once per crash, after `pbxStatus` down.

use std::sync::{Arc, Mutex, OnceLock};

use pbxis_ws::ami::client::connect;
use pbxis_ws::ami::AmiConfig;
use pbxis_ws::pbx::service::{try_spawn, EventSink, PbxConfig, PbxHandle};
use pbxis_ws::pbx::{AgentId, Event, Filter, QueueName};
use serde_json::{json, Value};

use super::stable_sim;
use super::subscriber::{Checker, Seen, Subscriber, AGENTS, QUEUES};
use crate::support::app::PATIENCE;

fn filter() -> Filter {
    Filter::new(
        AGENTS.map(|a| AgentId::parse(a).unwrap()),
        QUEUES.map(|q| QueueName::parse(q).unwrap()),
    )
}

/// One subscriber of every agent and queue, kept the way the hub keeps a ticket.
#[derive(Default)]
struct StandInHub {
    pbx: OnceLock<PbxHandle>,
    seen: Arc<Mutex<Seen>>,
    /// `down` for each `pbxStatus` down published, `resync` for each `resync_all`.
    log: Mutex<Vec<&'static str>>,
}

impl EventSink for StandInHub {
    fn publish(&self, events: &[Event]) {
        let mut seen = self.seen.lock().unwrap();
        for e in events {
            if *e == (Event::PbxStatus { connected: false }) {
                self.log.lock().unwrap().push("down");
            }
            seen.apply(serde_json::to_value(e).unwrap());
        }
    }

    fn resync_all(&self) {
        self.log.lock().unwrap().push("resync");
        let (pbx, seen) = (self.pbx.get().cloned(), Arc::clone(&self.seen));
        tokio::spawn(async move {
            let pbx = pbx.expect("the handle is set");
            let snapshot = move |events: Vec<Event>| {
                let mut seen = seen.lock().unwrap();
                seen.apply(json!({"type": "resync"}));
                for e in events {
                    seen.apply(serde_json::to_value(&e).unwrap());
                }
            };
            pbx.subscribe(filter(), snapshot).await.unwrap();
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_all_after_pbx_status_down_lets_a_subscriber_converge() {
    let sim = pbxis_ws::sim::start(stable_sim(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut ami_config = AmiConfig::new("127.0.0.1", sim.addr().port(), "pbxis", "pbxis");
    ami_config.backoff_min = std::time::Duration::from_millis(20);
    let (ami, events) = connect(ami_config);
    let hub = Arc::new(StandInHub::default());
    let pbx = try_spawn(ami, events, hub.clone(), PbxConfig::default()).unwrap();
    hub.pbx.set(pbx.clone()).ok();
    let seen = Arc::clone(&hub.seen);
    pbx.subscribe(filter(), move |events| {
        let mut seen = seen.lock().unwrap();
        for e in events {
            seen.apply(serde_json::to_value(&e).unwrap());
        }
    })
    .await
    .unwrap();
    let idle = tokio::spawn(std::future::pending::<()>());
    let subscriber = Subscriber::started("stand-in", Arc::clone(&hub.seen), idle).await;
    let checker = Checker::new(&sim);

    let call = sim.inbound_call("q2", "0911000001", Some("Talking")).await;
    subscriber
        .wait("147 on the call", |s: &Seen| {
            s.state.contains_key("phoneNumber/\"147\"/null")
        })
        .await;
    checker.assert_converge(&[&subscriber]).await;

    pbx.crash_model_for_tests().await;
    subscriber.wait("pbxStatus down", Seen::told_down).await;
    assert!(sim.hangup(&call).await);
    checker.set_paused("148", "q1", true).await;
    tokio::time::timeout(PATIENCE, async {
        while !pbx.link().ready {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the model is rebuilt");
    checker.assert_converge(&[&subscriber]).await;
    assert_eq!(*hub.log.lock().unwrap(), vec!["down", "resync"]);
    let state: Vec<Value> = subscriber.seen().state.into_values().collect();
    assert!(
        state.iter().all(|e| e["type"] != "phoneNumber"),
        "{state:?}"
    );
    sim.shutdown().await;
}
