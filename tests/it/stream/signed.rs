//! Signed tickets: instances that share a secret serve each other's tickets. A ticket issued by
//! one instance streams from another, starting with `resync` (`revived`) and a snapshot equal to
//! the truth; a client whose instance stops moves to another with its last id and converges, no
//! event applied twice; a ticket that expired on its instance is taken up again; rotated
//! secrets still verify, retired ones, tampered and foreign tickets do not (404, nothing told).

use crate::support::app as support;
use crate::support::stream_client;

use serde_json::{json, Value};
use std::time::Duration;
use stream_client::{End, StreamClient, Transport};
use support::{spawn_app_with, TestApp, PATIENCE};

const SECRET: &str = "the secret every instance of the test shares";
const NEXT: &str = "the secret that replaces it in a rotation ok";

/// An instance on `sim_of`'s simulator (or its own), signing with `secret`, verifying `previous`.
async fn instance(sim_of: Option<&TestApp>, secret: &str, previous: &[&str]) -> TestApp {
    let port = sim_of.map(|a| a.sim.addr().port());
    let (secret, previous) = (
        secret.to_owned(),
        previous.iter().map(|s| s.to_string()).collect(),
    );
    spawn_app_with(move |s| {
        if let Some(port) = port {
            s.ami.port = port;
        }
        s.tickets.secret = secret;
        s.tickets.previous_secrets = previous;
    })
    .await
}

fn snapshot_end(e: &Value) -> bool {
    e["type"] == "queueCount" && e["queue"] == "q1"
}

fn paused_147(paused: bool) -> impl Fn(&Value) -> bool {
    move |e: &Value| {
        e["type"] == "queueMemberStatus"
            && e["agent"] == "147"
            && (e["status"] == "paused") == paused
    }
}

async fn pause(app: &TestApp, paused: bool) {
    app.set_paused("147", "q1", paused).await;
}

async fn simulator_says_paused(sim: &pbxis_ws::sim::SimHandle) -> bool {
    let truth = sim.truth().await;
    let q1 = truth.queues.iter().find(|q| q.name == "q1").unwrap();
    q1.members
        .iter()
        .any(|m| m.interface == "PJSIP/147" && m.paused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_of_one_instance_streams_from_another_and_a_client_moves_on_when_it_stops() {
    let a = instance(None, SECRET, &[]).await;
    let b = instance(Some(&a), SECRET, &[]).await;
    for transport in Transport::ALL {
        let ticket = a.ticket(&["147"], &["q1"]).await;
        assert!(
            ticket.len() < 120,
            "an agent page's ticket is short: {ticket}"
        );
        // Issued by A, read from B: B takes it up with `resync` and a snapshot.
        let mut on_b = StreamClient::new(transport, &b.base, &ticket);
        assert_eq!(on_b.run_until(PATIENCE, snapshot_end).await, End::Done);
        assert_eq!(
            on_b.applied[0].event,
            json!({"type": "resync", "reason": "revived"})
        );
        // Read from A too (its own): a plain snapshot, no resync.
        let mut on_a = StreamClient::new(transport, &a.base, &ticket);
        on_a.run_until(PATIENCE, snapshot_end).await;
        assert_ne!(on_a.applied[0].event["type"], "resync");
        pause(&a, true).await;
        on_a.run_until(PATIENCE, paused_147(true)).await;
        on_b.run_until(PATIENCE, paused_147(true)).await;
        pause(&a, false).await;
        on_a.run_until(PATIENCE, paused_147(false)).await;
        on_b.run_until(PATIENCE, paused_147(false)).await;
    }
    // A stops; its clients move to B with their last ids.
    let mut clients = Vec::new();
    for transport in Transport::ALL {
        let ticket = a.ticket(&["147"], &["q1"]).await;
        let mut client = StreamClient::new(transport, &a.base, &ticket);
        client.run_until(PATIENCE, snapshot_end).await;
        clients.push(client);
    }
    pause(&a, true).await;
    // Both instances are on A's simulator.
    let sim = a.sim.clone();
    a.stop.cancel();
    tokio::time::timeout(PATIENCE, a.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    for client in &mut clients {
        let before = client.applied.len();
        client.base = b.base.clone();
        client.run_until(PATIENCE, snapshot_end).await;
        let moved = &client.applied[before..];
        // Whatever A delivered before it stopped, B starts over, announced.
        let resync = moved
            .iter()
            .position(|e| e.event["type"] == "resync")
            .expect("a resync on B");
        assert_eq!(moved[resync].event["reason"], "revived");
        assert!(moved[..resync].iter().all(|e| e.event["type"] != "resync"));
        // The truth: paused. (B's snapshot may predate the event on B's own AMI session.)
        assert!(simulator_says_paused(&sim).await);
        if client.view.member("147", "q1") != Some("paused") {
            client.run_until(PATIENCE, paused_147(true)).await;
        }
        // Ids of B's epoch, strictly increasing: nothing applied twice.
        let epochs: std::collections::BTreeSet<&str> = client
            .applied
            .iter()
            .filter_map(|e| e.id.as_deref())
            .map(|id| id.split_once('-').unwrap().0)
            .collect();
        assert_eq!(epochs.len(), 2, "A's and B's");
    }
    b.stop_and_join().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_ticket_that_expired_here_is_taken_up_again() {
    let app = spawn_app_with(|s| {
        s.tickets.secret = SECRET.into();
        s.unsub_delay_seconds = 1;
    })
    .await;
    let ticket = app.ticket(&["147"], &["q1"]).await;
    let mut client = StreamClient::new(Transport::LongPoll, &app.base, &ticket);
    client.run_until(PATIENCE, snapshot_end).await;
    tokio::time::timeout(PATIENCE, async {
        while app.ticket_count().await > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the ticket expires here");
    pause(&app, true).await;
    let before = client.applied.len();
    client.run_until(PATIENCE, snapshot_end).await;
    assert_eq!(
        client.applied[before].event,
        json!({"type": "resync", "reason": "revived"})
    );
    assert_eq!(client.view.member("147", "q1"), Some("paused"));
    app.stop_and_join().await;
}

/// The long-poll answer to `ticket` on `app`: (status, body).
async fn long_poll(app: &TestApp, ticket: &str) -> (u16, Value) {
    app.get(&format!("/{ticket}/long-poll?lastEventId=0")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_secrets_verify_retired_tampered_and_foreign_tickets_do_not() {
    let old = instance(None, SECRET, &[]).await;
    let rotated = instance(Some(&old), NEXT, &[SECRET]).await;
    let retired = instance(Some(&old), NEXT, &[]).await;
    let ticket = old.ticket(&["147"], &["q1"]).await;
    let (status, body) = long_poll(&rotated, &ticket).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["type"], "resync");
    let unknown = long_poll(&retired, "00000000000000000000000000000000").await;
    assert_eq!(unknown.0, 404);
    assert_eq!(long_poll(&retired, &ticket).await, unknown, "retired key");
    // One character changed anywhere: refused alike.
    for i in [0, 3, ticket.len() / 2, ticket.len() - 1] {
        let mut bytes = ticket.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(long_poll(&rotated, &tampered).await, unknown, "char {i}");
    }
    // A ticket of a service without the secret is random, and unknown to the others.
    let lone = spawn_app_with(|_| {}).await;
    let random = lone.ticket(&["147"], &["q1"]).await;
    assert_eq!(random.len(), 32);
    assert_eq!(long_poll(&rotated, &random).await, unknown);
    for app in [lone, retired, rotated, old] {
        app.stop.cancel();
        let _ = tokio::time::timeout(PATIENCE, app.task).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_too_large_for_a_signed_ticket_is_refused_naming_the_limit() {
    let app = spawn_app_with(|s| {
        s.tickets.secret = SECRET.into();
        s.tickets.max_filter_bytes = 256;
    })
    .await;
    let agents: Vec<String> = (1000..1100).map(|n| n.to_string()).collect();
    let (status, body) = app
        .post_json("/ticket", json!({"agents": agents, "queues": ["q1"]}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("tickets.max_filter_bytes"),
        "{body}"
    );
    assert_eq!(app.ticket_count().await, 0, "nothing kept");
    app.stop_and_join().await;
}
