//! The supervised pipeline and the PBX faults, end to end over real TCP: the simulated Asterisk,
//! the service, and subscribers on WebSocket and SSE.
//!
//! - `kill`: the model task and the AMI client task killed (their test hooks): `/ready` 503 at
//!   once, `pbxStatus` down, restart, paced restarts, convergence.
//! - `contract`: what the model's supervisor promises the hub (`resync_all` after
//!   `pbxStatus` down), with a stand-in for the hub.
//! - `faults`: Asterisk restart, AMI cut, AMI stalled, garbage on the socket, login refused
//!   after a restart: `/ready` and `pbxStatus` follow, every subscriber converges to the truth.
//!
//! Every wait is for a real condition, bounded.

use crate::support::app as support;

mod contract;
mod faults;
mod kill;
mod subscriber;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pbxis_ws::config::Settings;
use pbxis_ws::sim::SimConfig;
use serde_json::json;
use support::{spawn_app_on, TestApp, PATIENCE};
use tokio::task::JoinHandle;

/// A call center where nothing ends by itself: 147 answers (after 0.2 s), 148 and 149 never;
/// calls last, callers wait, ringing goes on.
pub fn stable_sim() -> SimConfig {
    let mut c = SimConfig::quiet();
    c.time_scale = 10.0;
    c.talk_time = (Duration::from_secs(100_000), Duration::from_secs(100_000));
    c.patience = (Duration::from_secs(100_000), Duration::from_secs(100_000));
    c.ring_timeout = Duration::from_secs(100_000);
    c
}

/// The service on [`stable_sim`], settings changed by `adjust`.
pub async fn spawn(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(stable_sim(), adjust, None).await
}

/// Pauses `agent` in `queue` with a reason through the REST API.
pub async fn pause(app: &TestApp, agent: &str, queue: &str, reason: &str) {
    let body = json!({"queue": queue, "agent": agent, "paused": true, "reason": reason});
    let (status, body) = app.post_json("/queue/pause", body).await;
    assert_eq!(status, 200, "{body}");
}

/// `GET /ready` polled in the background from the start; the statuses it went through.
pub struct ReadyWatch {
    seen: Arc<Mutex<Vec<u16>>>,
    poller: JoinHandle<()>,
}

impl Drop for ReadyWatch {
    fn drop(&mut self) {
        self.poller.abort();
    }
}

impl ReadyWatch {
    /// Starts polling; returns once the first answer (200: ready) is in.
    pub async fn start(app: &TestApp) -> ReadyWatch {
        let (http, url) = (app.http.clone(), app.url("/ready"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let poller = tokio::spawn(async move {
            loop {
                let status = match http.get(&url).send().await {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                };
                {
                    let mut seen = record.lock().unwrap();
                    if seen.last() != Some(&status) {
                        seen.push(status);
                    }
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        });
        let watch = ReadyWatch { seen, poller };
        watch.wait_through(&[200]).await;
        watch
    }

    /// The distinct statuses in order (a repeat is recorded once).
    pub fn statuses(&self) -> Vec<u16> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits (bounded) until the statuses went through `want`, in order (others may be between).
    pub async fn wait_through(&self, want: &[u16]) {
        let ok = tokio::time::timeout(PATIENCE, async {
            while !has_in_order(&self.statuses(), want) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(
            ok.is_ok(),
            "/ready went through {:?}, not {want:?}",
            self.statuses()
        );
    }
}

fn has_in_order(seen: &[u16], want: &[u16]) -> bool {
    let mut it = seen.iter();
    want.iter().all(|w| it.any(|s| s == w))
}
