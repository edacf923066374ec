//! The model task's loop is fair: under a sustained flood of AMI events, commands (subscribe,
//! REST) are still served. One runtime thread, so the event producer and the model task take
//! turns, and the producer refills the event channel to the brim at each of its turns, so it
//! never runs dry: a loop that always served events first would never reach a command.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pbxis_ws::ami::client::connect;
use pbxis_ws::ami::{AmiConfig, AmiMessage, ClientEvent};
use pbxis_ws::pbx::service::{try_spawn, EventSink, PbxConfig};
use pbxis_ws::pbx::{Event, Filter};
use pbxis_ws::sim::{self, SimConfig};
use tokio::sync::mpsc;

struct Discard;

impl EventSink for Discard {
    fn publish(&self, _: &[Event]) {}
}

fn pause(paused: bool) -> ClientEvent {
    ClientEvent::Event(
        AmiMessage::event("QueueMemberPause")
            .with("Queue", "q1")
            .with("Interface", "PJSIP/147")
            .with("Status", "1")
            .with("Paused", if paused { "1" } else { "0" }),
    )
}

#[tokio::test(flavor = "current_thread")]
async fn commands_are_served_under_a_flood_of_events() {
    let sim = sim::start(SimConfig::quiet(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let config = AmiConfig::new("127.0.0.1", sim.addr().port(), "pbxis", "pbxis");
    let (ami, mut real_events) = connect(config);
    tokio::spawn(async move { while real_events.recv().await.is_some() {} });
    let (tx, rx) = mpsc::channel(1024);
    let pbx = try_spawn(ami, rx, Arc::new(Discard), PbxConfig::default()).unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let flood = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut sent = 0u64;
            while !stop.load(Ordering::Relaxed) && !tx.is_closed() {
                // Refill the channel to the brim, then let the others run.
                while tx.try_send(pause(sent.is_multiple_of(2))).is_ok() {
                    sent += 1;
                }
                tokio::task::yield_now().await;
            }
            sent
        })
    };
    // Let the flood fill the channel before asking.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    let served = tokio::time::timeout(
        Duration::from_secs(20),
        pbx.subscribe(Filter::default(), |s| s.len()),
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let sent = flood.await.unwrap();
    assert!(matches!(served, Ok(Ok(_))), "subscribe starved: {served:?}");
    assert!(sent > 1024, "the events were flooding ({sent} sent)");
    sim.shutdown().await;
}
