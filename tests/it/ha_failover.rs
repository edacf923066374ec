//! No single point of failure: three `pbxis-ws serve` processes, each with its own AMI session
//! to the simulated Asterisk, behind a real HAProxy running `deploy/haproxy.cfg`. Clients of
//! every transport, one of each placed on each instance (by the balancer's cookie), read their
//! streams through HAProxy while an instance is killed (`kill -9`) mid-burst, or while every
//! instance in turn is stopped (SIGTERM) and started again under steady traffic.
//!
//! Each time, every client must end believing the simulator's truth, with every gap announced
//! (`resync`, or a new ticket when its ticket was unknown where it reconnected) and no event
//! applied twice (ids strictly increasing within a ticket and epoch; see
//! `support/stream_view.rs`); no REST request through HAProxy may fail, except one in flight on
//! a killed process.

use crate::support::ha;
use crate::support::stream_client;

use ha::{Balancer, Cluster, COOKIE, INSTANCES};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stream_client::{member_truth, GapKind, PairStatus, StreamClient, Transport, View};
use tokio::task::JoinHandle;

const AGENTS: [&str; 2] = ["147", "148"];
const QUEUES: [&str; 2] = ["q1", "q2"];
/// The pause toggles of the kill test's burst.
const TOGGLES: usize = 60;
/// Bound on a client reading to the end of a test.
const READING: Duration = Duration::from_secs(45);

/// A client and the instance it was placed on.
struct Placed {
    home: String,
    client: StreamClient,
}

/// Every pair's member status told (a snapshot that far, at least).
fn complete(view: &View) -> bool {
    AGENTS
        .iter()
        .all(|a| QUEUES.iter().all(|q| view.member(a, q).is_some()))
}

/// The end of a test: 148 has left q2 (nothing else touches that pair), in a complete view.
fn marker_seen(view: &View) -> bool {
    complete(view) && view.member("148", "q2") == Some("loggedoff")
}

/// One client of each transport on each instance, each having read its snapshot.
async fn placed_clients(cluster: &Cluster) -> Vec<Placed> {
    let mut placed = Vec::new();
    for instance in &cluster.instances {
        for transport in Transport::ALL {
            let mut client = StreamClient::through_balancer(
                transport,
                &cluster.balancer.base,
                json!({"agents": AGENTS, "queues": QUEUES}),
                Some((COOKIE, &instance.name)),
                ha::PATIENCE,
            )
            .await;
            client
                .run_until_view(ha::PATIENCE, |view, _| complete(view))
                .await;
            assert_eq!(
                client.cookies.0[COOKIE], instance.name,
                "placed by the cookie"
            );
            placed.push(Placed {
                home: instance.name.clone(),
                client,
            });
        }
    }
    placed
}

/// Each client reads on its own until it has seen the marker.
fn read_until_marker(placed: Vec<Placed>) -> Vec<JoinHandle<Placed>> {
    placed
        .into_iter()
        .map(|mut p| {
            tokio::spawn(async move {
                p.client
                    .run_until_view(READING, |view, _| marker_seen(view))
                    .await;
                p
            })
        })
        .collect()
}

/// The `i`th toggle of the burst: pauses and unpauses 147 in q1 and q2 and 148 in q1.
fn toggle(i: usize) -> Value {
    let (agent, queue) = [("147", "q1"), ("147", "q2"), ("148", "q1")][i % 3];
    json!({"queue": queue, "agent": agent, "paused": (i / 3).is_multiple_of(2)})
}

/// One REST call that must succeed; what went wrong otherwise.
async fn call(balancer: &Balancer, path: &str, body: &Value) -> Result<(), String> {
    match balancer.post_json(path, body).await {
        Ok((200, _)) => Ok(()),
        Ok((status, body)) => Err(format!("{path} {body}: {status}")),
        Err(e) => Err(format!("{path}: {e:?}")),
    }
}

/// The marker: 148 leaves q2.
async fn end_marker(balancer: &Balancer) {
    let body = json!({"queue": "q2", "agent": "148"});
    call(balancer, "/queue/remove", &body)
        .await
        .expect("the marker");
}

/// The member statuses the simulator holds for the pairs of the test.
async fn truth(cluster: &Cluster) -> Vec<PairStatus> {
    member_truth(&cluster.sim.truth().await, &AGENTS, &QUEUES)
}

/// What a client's view says of the same pairs.
fn believed(view: &View) -> Vec<PairStatus> {
    view.members(&AGENTS, &QUEUES)
}

/// Waits for every reader and checks the guarantees common to both tests: the truth, no
/// duplicate, no unannounced gap. Returns the clients, after printing what each went through.
async fn finished(cluster: &Cluster, readers: Vec<JoinHandle<Placed>>) -> Vec<Placed> {
    let truth = truth(cluster).await;
    let mut done = Vec::new();
    for reader in readers {
        let p = reader.await.expect("a reader");
        let c = &p.client;
        let name = format!("{:?} client of {}", c.transport, p.home);
        println!(
            "{name}: {} events, {} connections, gaps {:?}",
            c.applied.len(),
            c.connects,
            c.gaps.iter().map(|g| &g.kind).collect::<Vec<_>>()
        );
        assert_eq!(c.problems(), Vec::<String>::new(), "{name}");
        assert_eq!(believed(&c.view), truth, "{name}: not the truth");
        done.push(p);
    }
    done
}

/// One REST request of a burst: when it was sent, when it ended, and what went wrong if it
/// failed.
struct Sent {
    start: Instant,
    end: Instant,
    failure: Option<String>,
}

/// The burst, one request at a time, counting the requests sent in `sent`.
fn burst(balancer: Balancer, sent: Arc<AtomicUsize>) -> JoinHandle<Vec<Sent>> {
    tokio::spawn(async move {
        let mut log = Vec::new();
        for i in 0..TOGGLES {
            let start = Instant::now();
            let result = call(&balancer, "/queue/pause", &toggle(i)).await;
            log.push(Sent {
                start,
                end: Instant::now(),
                failure: result.err().map(|e| format!("#{i}: {e}")),
            });
            sent.fetch_add(1, Ordering::SeqCst);
        }
        log
    })
}

/// How the clients of a lost instance are to be told: with signed tickets another instance
/// takes the ticket up (`resync`, reason `revived`); without, the ticket is unknown there and the
/// client takes a new one.
fn announced(signed: bool) -> GapKind {
    if signed {
        GapKind::Resync("revived".into())
    } else {
        GapKind::NewTicket
    }
}

async fn kill_mid_burst(signed: bool) {
    let mut cluster = Cluster::start(signed).await;
    let readers = read_until_marker(placed_clients(&cluster).await);
    let sent = Arc::new(AtomicUsize::new(0));
    let burst = burst(cluster.balancer.clone(), sent.clone());
    tokio::time::timeout(ha::PATIENCE, async {
        while sent.load(Ordering::SeqCst) < TOGGLES / 3 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .expect("the burst runs");
    let killed = cluster.instances[0].name.clone();
    let kill_start = Instant::now();
    cluster.kill(0).await;
    let gone = Instant::now();
    let log = burst.await.unwrap();
    let failures: Vec<&Sent> = log.iter().filter(|s| s.failure.is_some()).collect();
    for f in &failures {
        println!(
            "failed: {} (sent {:?} after the kill, failed after {:?})",
            f.failure.as_deref().unwrap_or(""),
            f.start.saturating_duration_since(kill_start),
            f.end.saturating_duration_since(kill_start)
        );
        // Only a request that reached the instance before it was gone may fail (HAProxy
        // passes it on once; it may have reached Asterisk).
        assert!(
            f.start < gone,
            "sent after the killed process was gone, yet failed"
        );
    }
    println!("{} of {TOGGLES} requests failed", failures.len());
    end_marker(&cluster.balancer).await;
    for p in finished(&cluster, readers).await {
        let name = format!("{:?} client of {}", p.client.transport, p.home);
        if p.home == killed {
            assert!(!p.client.gaps.is_empty(), "{name}: moved without a gap");
            assert!(
                p.client.gaps.iter().all(|g| g.kind == announced(signed)),
                "{name}: {:?}",
                p.client.gaps
            );
        } else {
            assert!(
                p.client.gaps.is_empty(),
                "{name}: untouched, yet {:?}",
                p.client.gaps
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_killed_mid_burst_its_clients_resync_elsewhere_on_their_tickets() {
    kill_mid_burst(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_ticket_secret_the_clients_of_a_killed_instance_take_new_tickets() {
    kill_mid_burst(false).await;
}

/// Pause toggles through HAProxy, one every 20 ms, until `stop`; the failures.
fn steady_traffic(
    balancer: Balancer,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
) -> JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let mut failures = Vec::new();
        let mut pace = tokio::time::interval(Duration::from_millis(20));
        let mut i = 0;
        while !stop.load(Ordering::SeqCst) {
            pace.tick().await;
            if let Err(e) = call(&balancer, "/queue/pause", &toggle(i)).await {
                failures.push(e);
            }
            i += 1;
            sent.fetch_add(1, Ordering::SeqCst);
        }
        failures
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_under_traffic_fails_no_request_and_hides_no_gap() {
    let mut cluster = Cluster::start(true).await;
    let readers = read_until_marker(placed_clients(&cluster).await);
    let (stop, sent) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let traffic = steady_traffic(cluster.balancer.clone(), stop.clone(), sent.clone());
    for i in 0..INSTANCES {
        let name = cluster.instances[i].name.clone();
        let started = Instant::now();
        let before = sent.load(Ordering::SeqCst);
        cluster.terminate(i);
        cluster.wait_seen(i, "DOWN").await;
        let down = started.elapsed();
        // The drain: out of the balancer while it still serves, and only then gone.
        assert!(cluster.running(i), "{name} left before HAProxy took it out");
        let status = cluster.wait_exit(i).await;
        assert!(status.success(), "{name}: {status}");
        let exited = started.elapsed();
        cluster.start_instance(i).await;
        cluster.wait_seen(i, "UP").await;
        let during = sent.load(Ordering::SeqCst) - before;
        println!(
            "{name}: down in haproxy after {down:?}, exited after {exited:?}, up again after {:?}; {during} requests meanwhile",
            started.elapsed()
        );
        assert!(during > 0, "traffic went on");
    }
    stop.store(true, Ordering::SeqCst);
    let failures = traffic.await.unwrap();
    println!(
        "{} requests, failures: {failures:?}",
        sent.load(Ordering::SeqCst)
    );
    assert_eq!(failures, Vec::<String>::new(), "no process was killed");
    end_marker(&cluster.balancer).await;
    for p in finished(&cluster, readers).await {
        // Every instance went away once: every client moved, and was told.
        let name = format!("{:?} client of {}", p.client.transport, p.home);
        assert!(!p.client.gaps.is_empty(), "{name}: moved without a gap");
        assert!(
            p.client.gaps.iter().all(|g| g.kind == announced(true)),
            "{name}: {:?}",
            p.client.gaps
        );
    }
}

#[test]
fn the_log_check_finds_duplicates_and_unannounced_gaps() {
    use stream_client::{problems, Applied, Gap};
    let applied = |ticket: &str, id: &str, kind: &str| Applied {
        id: Some(id.to_owned()),
        event: json!({ "type": kind }),
        ticket: ticket.to_owned(),
    };
    let good = vec![
        applied("t1", "e1-1", "pbxStatus"),
        applied("t1", "e1-2", "queueCount"),
        applied("t1", "e1-9", "resync"),
        applied("t1", "e2-40", "resync"),
        applied("t2", "e2-1", "pbxStatus"),
    ];
    let new_ticket = [Gap {
        at: 4,
        kind: GapKind::NewTicket,
    }];
    assert!(problems(&good, &new_ticket).is_empty());
    assert_eq!(problems(&good, &[]).len(), 1, "the new ticket, unannounced");
    let twice = [
        applied("t1", "e1-1", "pbxStatus"),
        applied("t1", "e1-1", "pbxStatus"),
    ];
    assert_eq!(problems(&twice, &[]).len(), 1);
    let skipped = [
        applied("t1", "e1-1", "pbxStatus"),
        applied("t1", "e1-3", "queueCount"),
        applied("t1", "e2-4", "queueCount"),
    ];
    assert_eq!(
        problems(&skipped, &[]).len(),
        2,
        "a jump, an epoch without resync"
    );
    let late_start = [applied("t1", "e1-5", "pbxStatus")];
    assert_eq!(problems(&late_start, &[]).len(), 1);
}
