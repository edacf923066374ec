//! Resumable streams through a broken network: clients on each transport read their ticket
//! through a chaos proxy that cuts every connection after a few hundred bytes (mid-event,
//! mid-frame, mid-response) while a burst of events runs; each reconnects with the id of the
//! last event it applied. Every client must apply exactly the events a client on a perfect
//! network applied, in the same order (no gap, no duplicate), with consecutive sequence numbers,
//! and end with the simulator's truth.

use crate::support::app as support;
use crate::support::chaos;
use crate::support::stream_client;

use chaos::ChaosProxy;
use serde_json::{json, Value};
use std::time::Duration;
use stream_client::{member_truth, End, PairStatus, StreamClient, Transport};
use support::{spawn_app, TestApp};

const AGENTS: [&str; 2] = ["147", "148"];
const QUEUES: [&str; 2] = ["q1", "q2"];
const CUT_CLIENTS: usize = 3;
const TOGGLES: usize = 60;
const PATIENCE: Duration = Duration::from_secs(60);

/// The last event of the burst: 148 leaves q2 (nothing else in the burst touches that pair).
fn is_marker(e: &Value) -> bool {
    e["type"] == "queueMemberStatus"
        && e["agent"] == "148"
        && e["queue"] == "q2"
        && e["status"] == "loggedoff"
}

/// Pauses and unpauses 147 in q1 and q2 and 148 in q1, then removes 148 from q2.
async fn burst(app: &TestApp) {
    for i in 0..TOGGLES {
        let (agent, queue) = [("147", "q1"), ("147", "q2"), ("148", "q1")][i % 3];
        let paused = (i / 3) % 2 == 0;
        let (status, body) = app
            .post_json(
                "/queue/pause",
                json!({"queue": queue, "agent": agent, "paused": paused}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = app
        .post_json("/queue/remove", json!({"queue": "q2", "agent": "148"}))
        .await;
    assert_eq!(status, 200, "{body}");
}

/// The member statuses the simulator holds for the agents and queues of the test.
async fn truth(app: &TestApp) -> Vec<PairStatus> {
    member_truth(&app.sim.truth().await, &AGENTS, &QUEUES)
}

/// What a client's view says of the same pairs.
fn believed(client: &StreamClient) -> Vec<PairStatus> {
    client.view.members(&AGENTS, &QUEUES)
}

async fn ticket(app: &TestApp) -> String {
    app.ticket(&AGENTS, &QUEUES).await
}

async fn cut_mid_burst(transport: Transport) {
    let app = spawn_app().await;
    let proxy = ChaosProxy::start(app.addr).await;
    // A long poll's answer is lost whole when cut: a connection must have room for the
    // largest answer (the snapshot and the whole burst: under 7 KB) now and then. Each client
    // receives more bytes in all than any one connection may carry, so each is cut.
    let (cuts, min_breaks) = match transport {
        Transport::LongPoll => (300..6500, 1),
        _ => (250..1200, 3),
    };
    proxy.cut_after(Some(cuts));
    // Every ticket before any traffic: all start from the same snapshot.
    let mut reference = StreamClient::new(transport, &app.base, &ticket(&app).await);
    let mut cut = Vec::new();
    for _ in 0..CUT_CLIENTS {
        cut.push(StreamClient::new(
            transport,
            &proxy.base(),
            &ticket(&app).await,
        ));
    }
    let readers: Vec<_> = cut
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                let end = client.run_until(PATIENCE, is_marker).await;
                (client, end)
            })
        })
        .collect();
    burst(&app).await;
    assert_eq!(reference.run_until(PATIENCE, is_marker).await, End::Done);
    let want = reference.events();
    assert_eq!(
        reference.seqs(),
        (1..=want.len() as u64).collect::<Vec<_>>()
    );
    assert!(want.len() > TOGGLES, "the burst's events: {}", want.len());
    let truth = truth(&app).await;
    assert_eq!(believed(&reference), truth);
    for reader in readers {
        let (client, end) = reader.await.unwrap();
        assert_eq!(end, End::Done, "{transport:?}");
        assert!(
            client.breaks >= min_breaks,
            "{transport:?}: the network was cut only {} times",
            client.breaks
        );
        assert_eq!(client.events(), want, "{transport:?}: not the same events");
        assert_eq!(client.seqs(), reference.seqs(), "{transport:?}: ids");
        assert_eq!(believed(&client), truth, "{transport:?}: not the truth");
    }
    app.stop_and_join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_cut_mid_burst_loses_nothing_and_repeats_nothing() {
    cut_mid_burst(Transport::LongPoll).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_cut_mid_burst_loses_nothing_and_repeats_nothing() {
    cut_mid_burst(Transport::Sse).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_cut_mid_burst_loses_nothing_and_repeats_nothing() {
    cut_mid_burst(Transport::WebSocket).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_open_stream_cut_at_once_then_a_burst() {
    let app = spawn_app().await;
    let proxy = ChaosProxy::start(app.addr).await;
    let mut clients = Vec::new();
    for transport in [Transport::Sse, Transport::WebSocket] {
        clients.push(StreamClient::new(
            transport,
            &proxy.base(),
            &ticket(&app).await,
        ));
    }
    let readers: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                // Read the snapshot, then stay on the stream until the cut.
                let end = client.connect_once(&is_marker).await;
                assert_eq!(end, End::Broken);
                assert_eq!(client.breaks, 1);
                let end = client.run_until(PATIENCE, is_marker).await;
                (client, end)
            })
        })
        .collect();
    app.wait_streams(2).await;
    let (status, _) = app
        .post_json(
            "/queue/pause",
            json!({"queue": "q1", "agent": "147", "paused": true}),
        )
        .await;
    assert_eq!(status, 200);
    proxy.cut_all();
    burst(&app).await;
    let truth = truth(&app).await;
    for reader in readers {
        let (client, end) = reader.await.unwrap();
        assert_eq!(end, End::Done);
        let seqs = client.seqs();
        assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
        assert_eq!(believed(&client), truth, "{:?}", client.transport);
    }
    app.stop_and_join().await;
}
