//! What `GET /queue/status` asks Asterisk, shared: [`StatusCache`] lets concurrent requests share
//! one `QueueStatus` action in flight (single flight) and reuses an answer for a short interval,
//! so that a crowd of clients never floods Asterisk.
//!
//! Policy:
//! - A request for every queue, or for one, joins the flight already asking the same (or, for
//!   one queue, the flight asking for every queue); otherwise it starts one. The flight runs on
//!   a task of its own, so a client that goes away cancels nothing for the others.
//! - A successful answer is reused for `reuse` after the action was *sent* (so no answer older
//!   than `reuse` is ever served); a request for one queue is also served from a reusable answer
//!   for every queue (a queue missing from it is unknown). `reuse` zero: no reuse, single
//!   flight only.
//! - Errors are never reused: the waiters of the failed flight get the error, the next request
//!   asks again.
//! - Bounded: at most one flight and one answer per key (every queue, or one queue); answers past
//!   their interval are dropped whenever an answer is stored. Keys are queues Asterisk answered
//!   for, or flights in progress (one per distinct queue being asked at that moment).

use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;
use tokio::time::{Duration, Instant};

use super::ids::QueueName;
use super::service::PbxError;
use super::status_report::QueueStatusReport;

/// An answer shared between the waiters of one flight.
type Shared = Result<Arc<Vec<QueueStatusReport>>, Arc<PbxError>>;

/// What asks Asterisk: `None` for every queue.
pub type Fetch = Arc<
    dyn Fn(Option<QueueName>) -> BoxFuture<'static, Result<Vec<QueueStatusReport>, PbxError>>
        + Send
        + Sync,
>;

/// A key: every queue (`None`) or one.
type Key = Option<QueueName>;

enum Slot {
    /// An action in flight; its answer arrives on the channel.
    Flying(watch::Receiver<Option<Shared>>),
    /// An answer, asked at `asked`.
    Answered {
        asked: Instant,
        reports: Arc<Vec<QueueStatusReport>>,
    },
}

/// Single flight and short reuse of `QueueStatus` answers (see the module doc).
pub struct StatusCache {
    reuse: Duration,
    fetch: Fetch,
    slots: Mutex<HashMap<Key, Slot>>,
}

impl StatusCache {
    /// A cache in front of `fetch`, reusing answers for `reuse`.
    pub fn new(reuse: Duration, fetch: Fetch) -> Arc<Self> {
        Arc::new(Self {
            reuse,
            fetch,
            slots: Mutex::new(HashMap::new()),
        })
    }

    /// The status of `queue` (every queue when `None`): a reusable answer, the answer of the
    /// flight in progress, or that of a new flight. An unknown queue is
    /// [`PbxError::UnknownQueue`].
    pub async fn get(
        self: &Arc<Self>,
        queue: Option<QueueName>,
    ) -> Result<Vec<QueueStatusReport>, PbxError> {
        let (mut rx, from_all) = {
            let mut slots = self.lock();
            if let Some(answer) = self.reusable(&slots, &queue) {
                return answer;
            }
            match self.flying(&slots, &queue) {
                Some(joined) => joined,
                None => (self.start(&mut slots, queue.clone()), queue.is_none()),
            }
        };
        let shared = match rx.wait_for(Option::is_some).await {
            Ok(answer) => answer
                .clone()
                .unwrap_or_else(|| Err(Arc::new(PbxError::Closed))),
            Err(_) => Err(Arc::new(PbxError::Closed)),
        };
        match shared {
            Ok(reports) if from_all => select(&reports, queue),
            Ok(reports) => Ok(reports.as_ref().clone()),
            Err(e) => Err(duplicate(&e)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Slot>> {
        self.slots
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn fresh(&self, asked: Instant) -> bool {
        asked.elapsed() < self.reuse
    }

    /// A reusable answer for `queue`: its own, or one for every queue.
    fn reusable(
        &self,
        slots: &HashMap<Key, Slot>,
        queue: &Key,
    ) -> Option<Result<Vec<QueueStatusReport>, PbxError>> {
        let answered = |key: &Key| match slots.get(key) {
            Some(Slot::Answered { asked, reports }) if self.fresh(*asked) => Some(reports.clone()),
            _ => None,
        };
        if let Some(reports) = answered(queue) {
            return Some(Ok(reports.as_ref().clone()));
        }
        let all = queue.as_ref().and_then(|_| answered(&None))?;
        Some(select(&all, queue.clone()))
    }

    /// The flight to join for `queue`, and whether it asks for every queue.
    fn flying(
        &self,
        slots: &HashMap<Key, Slot>,
        queue: &Key,
    ) -> Option<(watch::Receiver<Option<Shared>>, bool)> {
        // A flight whose task died without answering (its sender is gone) is not joined.
        let flying = |key: &Key| match slots.get(key) {
            Some(Slot::Flying(rx)) if rx.has_changed().is_ok() => Some(rx.clone()),
            _ => None,
        };
        flying(queue)
            .map(|rx| (rx, queue.is_none()))
            .or_else(|| flying(&None).map(|rx| (rx, true)))
    }

    /// Starts a flight for `queue` on a task of its own.
    fn start(
        self: &Arc<Self>,
        slots: &mut HashMap<Key, Slot>,
        queue: Key,
    ) -> watch::Receiver<Option<Shared>> {
        let (tx, rx) = watch::channel(None);
        slots.insert(queue.clone(), Slot::Flying(rx.clone()));
        let cache = self.clone();
        tokio::spawn(async move {
            let asked = Instant::now();
            let answer = (cache.fetch)(queue.clone()).await;
            let shared = answer.map(Arc::new).map_err(Arc::new);
            cache.land(queue, asked, &shared);
            let _ = tx.send(Some(shared));
        });
        rx
    }

    /// Replaces the flight of `queue` by its answer (when it may be reused), or removes it.
    fn land(&self, queue: Key, asked: Instant, shared: &Shared) {
        let mut slots = self.lock();
        slots.remove(&queue);
        if let Ok(reports) = shared {
            if !self.reuse.is_zero() {
                slots.retain(|_, slot| match slot {
                    Slot::Answered { asked, .. } => self.fresh(*asked),
                    Slot::Flying(_) => true,
                });
                let reports = reports.clone();
                slots.insert(queue, Slot::Answered { asked, reports });
            }
        }
    }

    /// Keys held now (flights and answers), for tests of the bound.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One queue's report out of an answer for every queue (Asterisk matches queue names without
/// regard to case); `None` gives them all.
fn select(
    all: &[QueueStatusReport],
    queue: Option<QueueName>,
) -> Result<Vec<QueueStatusReport>, PbxError> {
    let Some(queue) = queue else {
        return Ok(all.to_vec());
    };
    all.iter()
        .find(|r| r.queue.eq_ignore_ascii_case(queue.as_str()))
        .map(|r| vec![r.clone()])
        .ok_or_else(|| PbxError::UnknownQueue(queue.to_string()))
}

/// The error of a flight, for one of its waiters. An AMI codec error holds an `io::Error`,
/// which cannot be cloned: it is passed on as its message.
fn duplicate(e: &PbxError) -> PbxError {
    use crate::ami::AmiError as A;
    match e {
        PbxError::NotConnected => PbxError::NotConnected,
        PbxError::Refused(m) => PbxError::Refused(m.clone()),
        PbxError::UnknownQueue(q) => PbxError::UnknownQueue(q.clone()),
        PbxError::Closed => PbxError::Closed,
        PbxError::Restarting => PbxError::Restarting,
        PbxError::NoCall(a) => PbxError::NoCall(a.clone()),
        PbxError::SeveralCalls(c) => PbxError::SeveralCalls(c.clone()),
        PbxError::UnknownChannel(c) => PbxError::UnknownChannel(c.clone()),
        PbxError::Ami(a) => PbxError::Ami(match a {
            A::NotConnected => A::NotConnected,
            A::Disconnected => A::Disconnected,
            A::Timeout => A::Timeout,
            A::Refused(m) => A::Refused(m.clone()),
            A::AuthFailed(m) => A::AuthFailed(m.clone()),
            A::Closed => A::Closed,
            A::NotSent(m) => A::NotSent(m.clone()),
            A::ListTooLong { limit } => A::ListTooLong { limit: *limit },
            A::ListTooLarge { limit } => A::ListTooLarge { limit: *limit },
            A::Codec(c) => A::NotSent(c.to_string()),
        }),
    }
}

#[cfg(test)]
mod tests;
