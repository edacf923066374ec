//! When each caller joined a queue, as Asterisk said it: an AMI connection of the tool's own to
//! the simulator, with events on, on the simulator's runtime (so it reads as soon as the
//! simulator writes), keeps the arrival time of every `QueueCallerJoin` by the caller's
//! `Uniqueid`. A page that sees a caller appear in a queue's `queueCallers` times it against
//! that arrival: AMI event to page, for pages no probe reaches (wallboards ask for no agent)
//! and for every other page alike. Bounded: the oldest joins are forgotten first.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pbxis_ws::ami::{self, AmiConfig, ClientEvent};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::stamp::Clock;

/// Joins remembered (callers are in queues for minutes at most; a run sees a few thousand).
pub const MAX_JOINS: usize = 100_000;
/// How long the connection may take to log in.
const LOGIN_WAIT: Duration = Duration::from_secs(10);

/// The arrival time of each caller's join, clock microseconds.
#[derive(Debug, Default)]
pub struct Joins {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    at: HashMap<String, u64>,
    order: VecDeque<String>,
}

impl Joins {
    /// Remembers that `uniqueid` joined at `us`, forgetting the oldest beyond [`MAX_JOINS`].
    pub fn record(&self, uniqueid: &str, us: u64) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if inner.at.insert(uniqueid.to_owned(), us).is_none() {
            inner.order.push_back(uniqueid.to_owned());
        }
        while inner.order.len() > MAX_JOINS {
            if let Some(old) = inner.order.pop_front() {
                inner.at.remove(&old);
            }
        }
    }

    /// When `uniqueid` joined, if it is remembered.
    pub fn get(&self, uniqueid: &str) -> Option<u64> {
        self.inner.lock().ok()?.at.get(uniqueid).copied()
    }
}

/// Connects to the simulator at `ami` and records every join until `stop`. Run it on the
/// simulator's runtime. Fails when the login does not come within [`LOGIN_WAIT`].
pub async fn watch(
    ami: AmiConfig,
    clock: Clock,
    joins: Arc<Joins>,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    let (handle, mut events) = ami::client::connect(ami);
    let logged_in = tokio::time::timeout(LOGIN_WAIT, async {
        while let Some(event) = events.recv().await {
            if matches!(event, ClientEvent::Connected { .. }) {
                return true;
            }
        }
        false
    })
    .await;
    if !matches!(logged_in, Ok(true)) {
        handle.shutdown().await;
        anyhow::bail!("the join watcher's AMI login did not come within {LOGIN_WAIT:?}");
    }
    tokio::spawn(async move {
        tokio::select! {
            () = stop.cancelled() => {}
            () = record(&mut events, clock, &joins) => {}
        }
        handle.shutdown().await;
    });
    Ok(())
}

async fn record(events: &mut mpsc::Receiver<ClientEvent>, clock: Clock, joins: &Joins) {
    while let Some(event) = events.recv().await {
        if let ClientEvent::Event(m) = event {
            if m.event_name() == Some("QueueCallerJoin") {
                if let Some(uid) = m.get("Uniqueid") {
                    joins.record(uid, clock.now_us());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_are_remembered_and_the_oldest_forgotten() {
        let joins = Joins::default();
        joins.record("1.1", 10);
        joins.record("1.1", 12);
        assert_eq!(joins.get("1.1"), Some(12));
        assert_eq!(joins.get("1.2"), None);
        for i in 0..MAX_JOINS {
            joins.record(&format!("2.{i}"), 20);
        }
        assert_eq!(joins.get("1.1"), None, "the oldest went first");
        assert_eq!(joins.get("2.0"), Some(20));
        let inner = joins.inner.lock().unwrap();
        assert_eq!((inner.at.len(), inner.order.len()), (MAX_JOINS, MAX_JOINS));
    }
}
