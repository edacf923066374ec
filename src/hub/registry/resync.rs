//! Resync of one ticket: the model takes a snapshot of the ticket's filter *inside its task*
//! (atomically with publishing, so the snapshot and the events after it have no gap and no
//! overlap) and reserves the ticket's sequence numbers for it there; the snapshot is then
//! serialized here, outside the model task and outside the hub's lock, and fills the reservation.
//! Runs as a task of its own, so a stream that goes away meanwhile (a long poll that ends)
//! cancels nothing half-way.
//!
//! The [`SnapshotSource`] is the model ([`PbxHandle`]); a hub without one (tests of the hub
//! alone) resyncs with an empty snapshot. When the model cannot be asked (its task is being
//! restarted), the ticket is asked for again after [`RETRY`].

use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

use super::Shared;
use crate::hub::delivery::Delivery;
use crate::hub::ticket::TicketKey;
use crate::pbx::service::PbxHandle;
use crate::pbx::{Event, Filter};

/// Delay before a snapshot that could not be had is asked for again.
const RETRY: Duration = Duration::from_millis(500);

/// Whatever takes snapshots atomically with publishing (the model).
pub trait SnapshotSource: Send + Sync + 'static {
    /// Runs `run` on the current snapshot for `filter`, in step with the events published (no
    /// event published after the snapshot is reflected in it, and every one before is). False if
    /// `run` will never run.
    fn snapshot(
        &self,
        filter: Filter,
        run: Box<dyn FnOnce(Vec<Event>) + Send>,
    ) -> BoxFuture<'static, bool>;
}

impl SnapshotSource for PbxHandle {
    fn snapshot(
        &self,
        filter: Filter,
        run: Box<dyn FnOnce(Vec<Event>) + Send>,
    ) -> BoxFuture<'static, bool> {
        let pbx = self.clone();
        Box::pin(async move { pbx.subscribe(filter, run).await.is_ok() })
    }
}

/// Starts the resync of the ticket `key` (its buffer is in `Requested`).
pub(super) fn spawn(shared: Arc<Shared>, key: TicketKey, filter: Filter, reason: &'static str) {
    tokio::spawn(run(shared, key, filter, reason));
}

async fn run(shared: Arc<Shared>, key: TicketKey, filter: Filter, reason: &'static str) {
    let (tx, rx) = oneshot::channel();
    let reserve = {
        let shared = Arc::clone(&shared);
        move |snapshot: Vec<Event>| {
            // Inside the model task: the reservation is in step with the events published.
            let first = reserve(&shared, &key, snapshot.len() + 1);
            let _ = tx.send((first, snapshot));
        }
    };
    let source = shared.source.get().cloned();
    match source {
        // Whether it ran is told by the channel: a dropped `reserve` closes it.
        Some(source) => drop(source.snapshot(filter, Box::new(reserve)).await),
        None => reserve(Vec::new()),
    }
    match rx.await {
        Ok((Some(first), snapshot)) => fill(&shared, &key, first, reason, &snapshot),
        Ok((None, _)) => {} // the ticket is gone, closed, or due for another resync
        Err(_) => {
            tokio::time::sleep(RETRY).await;
            let mut state = shared.lock();
            if let Some(ticket) = state.tickets.get_mut(&key) {
                ticket.buffer.resync_failed();
                ticket.wake();
            }
        }
    }
}

/// Reserves `count` numbers if the ticket still waits for this snapshot.
fn reserve(shared: &Shared, key: &TicketKey, count: usize) -> Option<u64> {
    let mut state = shared.lock();
    let ticket = state.tickets.get_mut(key)?;
    match ticket.buffer.phase() {
        crate::hub::buffer::Phase::Requested(_) => Some(ticket.buffer.reserve(count)),
        _ => None,
    }
}

/// Serializes `resync` and the snapshot, and fills the reservation from `first`. A snapshot
/// over the ticket's byte budget closes the ticket (`overflow`): a new ticket for the same
/// filter would be refused as too large.
fn fill(shared: &Shared, key: &TicketKey, first: u64, reason: &'static str, snapshot: &[Event]) {
    let mut deliveries = Vec::with_capacity(snapshot.len() + 1);
    deliveries.push(Delivery::resync(reason));
    deliveries.extend(snapshot.iter().filter_map(Delivery::new));
    let mut state = shared.lock();
    let Some(ticket) = state.tickets.get_mut(key) else {
        return;
    };
    let reserved = crate::hub::buffer::Phase::Awaiting {
        first,
        count: snapshot.len() + 1,
    };
    if ticket.buffer.phase() != reserved {
        return;
    }
    if ticket.buffer.fill(deliveries).is_err() {
        tracing::warn!(ticket = %ticket.label, "ticket closed: its snapshot exceeds limits.max_pending_bytes");
        ticket.buffer.close(Delivery::closed("overflow"));
    } else {
        tracing::debug!(ticket = %ticket.label, reason, "ticket resynced");
        shared.config.metrics.resync(reason);
    }
    ticket.wake();
}
