//! When a stream cannot be resumed exactly, it says so: `resync` and a fresh snapshot, never a
//! silent gap and never a duplicate. Each path, on each transport, over real HTTP against the
//! simulator: an id older than the ticket's history, an id of another run (another instance's
//! epoch), a malformed id and one never handed out, a client too slow to keep up (beside a fast
//! one that is unaffected), and an expired ticket (`unknownTicket`: the client takes a new one).
//! After each, what the client believes equals the simulator's truth.

use crate::support::app as support;
use crate::support::stream_client;

use serde_json::{json, Value};
use std::time::Duration;
use stream_client::{End, StreamClient, Transport};
use support::{spawn_app, spawn_app_with, TestApp, PATIENCE};

const AGENTS: [&str; 2] = ["147", "148"];
const QUEUES: [&str; 2] = ["q1", "q2"];

/// The snapshot's last event.
fn snapshot_end(e: &Value) -> bool {
    e["type"] == "queueCallers" && e["queue"] == "q2"
}

/// Pauses or unpauses 147 in q1.
async fn set_paused(app: &TestApp, paused: bool) {
    app.set_paused("147", "q1", paused).await;
}

/// Pauses and unpauses 147 in q1, `n` changes from unpaused (each an event); it ends paused iff
/// `n` is odd.
async fn toggle(app: &TestApp, n: usize) {
    for i in 0..n {
        set_paused(app, i % 2 == 0).await;
    }
}

/// True at the `n`th member status event of 147 in q1.
fn nth_147_q1(n: usize) -> impl Fn(&Value) -> bool {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let seen = AtomicUsize::new(0);
    move |e: &Value| {
        if e["type"] == "queueMemberStatus" && e["agent"] == "147" && e["queue"] == "q1" {
            seen.fetch_add(1, Ordering::Relaxed);
        }
        seen.load(Ordering::Relaxed) == n
    }
}

fn member_147_q1(paused: bool) -> impl Fn(&Value) -> bool {
    move |e: &Value| {
        e["type"] == "queueMemberStatus"
            && e["agent"] == "147"
            && e["queue"] == "q1"
            && (e["status"] == "paused") == paused
    }
}

/// The simulator's truth for the pairs of the test, as a client's view would say it.
async fn truth(app: &TestApp) -> Vec<(String, String, bool)> {
    let truth = app.sim.truth().await;
    let mut out = Vec::new();
    for queue in QUEUES {
        let q = truth.queues.iter().find(|q| q.name == queue).unwrap();
        for agent in AGENTS {
            let m = q
                .members
                .iter()
                .find(|m| m.interface == format!("PJSIP/{agent}"));
            out.push((
                agent.to_owned(),
                queue.to_owned(),
                m.is_some_and(|m| m.paused),
            ));
        }
    }
    out
}

fn believed(client: &StreamClient) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for queue in QUEUES {
        for agent in AGENTS {
            let status = client.view.member(agent, queue).expect("every pair told");
            out.push((agent.to_owned(), queue.to_owned(), status == "paused"));
        }
    }
    out
}

/// A client that has read its snapshot.
async fn reading_client(app: &TestApp, transport: Transport) -> StreamClient {
    let ticket = app.ticket(&AGENTS, &QUEUES).await;
    let mut client = StreamClient::new(transport, &app.base, &ticket);
    assert_eq!(client.run_until(PATIENCE, snapshot_end).await, End::Done);
    client
}

/// Reconnects `client` with `last_id` and checks it gets `resync` (`reason`) first, then a
/// snapshot after which it believes the truth.
async fn expect_resync(app: &TestApp, client: &mut StreamClient, last_id: &str, reason: &str) {
    client.last_id = Some(last_id.to_owned());
    let before = client.applied.len();
    assert_eq!(client.run_until(PATIENCE, snapshot_end).await, End::Done);
    let got = &client.applied[before..];
    assert_eq!(
        got[0].event,
        json!({"type": "resync", "reason": reason}),
        "{:?}",
        client.transport
    );
    assert!(
        got.iter().any(|a| a.event["type"] == "pbxStatus"),
        "a whole snapshot follows"
    );
    // Ids go on growing after a resync: never one the client saw before.
    let seqs = client.seqs();
    assert!(
        seqs[before..].windows(2).all(|w| w[1] == w[0] + 1),
        "{seqs:?}"
    );
    assert!(seqs[before] > seqs[..before].iter().copied().max().unwrap_or(0));
    converge(app, client).await;
}

/// Reads on until the client believes the simulator's truth: a snapshot may predate an event
/// that Asterisk sends right after answering an action.
async fn converge(app: &TestApp, client: &mut StreamClient) {
    let truth = truth(app).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while believed(client) != truth {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        assert!(
            !left.is_zero(),
            "{:?}: believes {:?}, truth {truth:?}",
            client.transport,
            believed(client)
        );
        client.run_until(left, |_| true).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_older_than_the_history_gets_resync_and_the_truth() {
    let app = spawn_app_with(|s| s.limits.max_history_events = 4).await;
    for transport in Transport::ALL {
        let mut client = reading_client(&app, transport).await;
        let old = client.applied[1].id.clone().unwrap();
        toggle(&app, 9).await;
        client.run_until(PATIENCE, nth_147_q1(9)).await;
        // Its connection died after event 2 was applied (the rest went into the void).
        expect_resync(&app, &mut client, &old, "history").await;
        // Within the history, it resumes exactly. (147 is paused now: one more toggle
        // unpauses it.)
        let last = client.last_id.clone().unwrap();
        set_paused(&app, false).await;
        client.last_id = Some(last);
        let before = client.applied.len();
        client.run_until(PATIENCE, member_147_q1(false)).await;
        assert_eq!(client.applied.len(), before + 1, "exactly the one event");
    }
    app.stop_and_join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_of_another_instance_or_a_made_up_one_gets_resync_and_the_truth() {
    let app = spawn_app().await;
    let other = spawn_app().await;
    for transport in Transport::ALL {
        let elsewhere = reading_client(&other, transport).await;
        let foreign = elsewhere.last_id.clone().unwrap();
        let mut client = reading_client(&app, transport).await;
        toggle(&app, 3).await;
        expect_resync(&app, &mut client, &foreign, "epoch").await;
        let mine = client.last_id.clone().unwrap();
        let (epoch, _) = mine.split_once('-').unwrap();
        expect_resync(&app, &mut client, &format!("{epoch}-999999"), "unknownId").await;
        expect_resync(&app, &mut client, "not-an-id", "unknownId").await;
    }
    other.stop_and_join().await;
    app.stop_and_join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_too_slow_is_told_resync_and_a_fast_one_is_unaffected() {
    let app = spawn_app_with(|s| s.limits.max_pending_events = 10).await;
    for transport in Transport::ALL {
        set_paused(&app, false).await;
        let mut slow = reading_client(&app, transport).await;
        let mut fast = reading_client(&app, Transport::Sse).await;
        // The fast one stays on its stream; the slow one is away, and its ticket keeps at most
        // 10 of the events it misses.
        let fast = tokio::spawn(async move {
            fast.run_until(PATIENCE, nth_147_q1(25)).await;
            fast
        });
        app.wait_streams(1).await;
        toggle(&app, 25).await;
        let fast = fast.await.unwrap();
        let n = fast.applied.len();
        assert!(fast.events()[n - 25..]
            .iter()
            .all(|e| e["type"] == "queueMemberStatus"));
        let seqs = fast.seqs();
        assert_eq!(
            seqs,
            (1..=seqs.len() as u64).collect::<Vec<_>>(),
            "no gap, no resync"
        );
        let last = slow.last_id.clone().unwrap();
        expect_resync(&app, &mut slow, &last, "overflow").await;
    }
    app.stop_and_join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_ticket_is_unknown_and_a_new_ticket_brings_the_truth() {
    let app = spawn_app_with(|s| s.unsub_delay_seconds = 1).await;
    for transport in Transport::ALL {
        let mut client = reading_client(&app, transport).await;
        assert_eq!(app.ticket_count().await, 1);
        toggle(&app, 1).await;
        // Away for longer than the unsub delay: the ticket is dropped.
        tokio::time::timeout(PATIENCE, async {
            while app.ticket_count().await > 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("the ticket expires");
        let end = client.run_until(PATIENCE, |_| false).await;
        assert_eq!(end, End::Closed("unknownTicket".into()), "{transport:?}");
        // What a client does then: a new ticket, whose snapshot replaces its state.
        let ticket = app.ticket(&AGENTS, &QUEUES).await;
        let mut fresh = StreamClient::new(transport, &app.base, &ticket);
        fresh.run_until(PATIENCE, snapshot_end).await;
        converge(&app, &mut fresh).await;
        assert!(believed(&fresh)[0].2, "147 is paused in q1");
        set_paused(&app, false).await;
        drop(fresh);
        drop(client);
        tokio::time::timeout(PATIENCE, async {
            while app.ticket_count().await > 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("the ticket expires");
    }
    app.stop_and_join().await;
}
