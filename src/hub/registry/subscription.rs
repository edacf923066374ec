//! [`Subscription`]: one stream attached to a ticket. SSE and WebSocket read it with
//! [`Subscription::recv`], long-poll with [`Subscription::poll`]. Both are cancellation safe:
//! an event leaves the ticket's pending queue only when it is returned (and stays in the
//! history for a reconnect), so a request dropped while waiting loses nothing; a resync, once
//! asked for, runs in a task of its own. Dropping the subscription detaches it (the `unsub_delay`
//! countdown starts).

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{resync, Shared};
use crate::hub::delivery::Delivery;
use crate::hub::event_id::EventId;
use crate::hub::ticket::TicketKey;

/// One event handed to a stream, with its id (none for a closing event: nothing can be resumed
/// after it).
#[derive(Clone, Debug)]
pub struct Sent {
    /// The event's position in the ticket's stream.
    pub id: Option<EventId>,
    /// The event.
    pub delivery: Delivery,
}

/// What a stream has to return now.
enum Readiness {
    /// Nothing yet.
    Nothing,
    /// Events, and more may follow.
    Events,
    /// The closing event (after whatever is pending): nothing more will follow.
    Ending,
}

/// A stream attached to a ticket.
pub struct Subscription {
    shared: Arc<Shared>,
    key: TicketKey,
    gen: u64,
    notify: Arc<Notify>,
    ended: bool,
    /// Counts the events handed out (none by default).
    delivered: metrics::Counter,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    pub(super) fn new(shared: Arc<Shared>, key: TicketKey, gen: u64, notify: Arc<Notify>) -> Self {
        Self {
            shared,
            key,
            gen,
            notify,
            ended: false,
            delivered: metrics::Counter::noop(),
        }
    }

    /// Counts every event handed out from now on in `counter` (a transport's).
    pub fn count_into(&mut self, counter: metrics::Counter) {
        self.delivered = counter;
    }

    /// The next event, waiting for it; the closing event comes last, then `None`.
    pub async fn recv(&mut self) -> Option<Sent> {
        loop {
            if self.ended {
                return None;
            }
            if let Some(sent) = self.take() {
                return Some(sent);
            }
            self.notify.notified().await;
        }
    }

    /// The events ready now, at most `max`, appended to `out` (taken under one lock), waiting
    /// until there is at least one; the closing event comes last. Returns false, with nothing
    /// appended, once the stream has ended.
    pub async fn recv_many(&mut self, max: usize, out: &mut Vec<Sent>) -> bool {
        let before = out.len();
        loop {
            if self.ended {
                return false;
            }
            self.take_many(max.max(1), out);
            if out.len() > before {
                return true;
            }
            if self.ended {
                return false;
            }
            self.notify.notified().await;
        }
    }

    /// Long-poll: everything pending at once if there is anything; else waits up to `timeout`
    /// for the first event, then `gather` longer for a burst to accumulate (not when the stream
    /// is ending: nothing more can come), and returns all of it; else `[]` after `timeout`.
    /// After the closing event it returns `[]` at once.
    pub async fn poll(&mut self, timeout: Duration, gather: Duration) -> Vec<Sent> {
        let ready = self.drain();
        if !ready.is_empty() || self.ended {
            return ready;
        }
        // A timeout too large for the clock means "no timeout".
        let deadline = Instant::now()
            .checked_add(timeout)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365));
        let ending = loop {
            match self.readiness() {
                Readiness::Nothing => {}
                Readiness::Events => break false,
                Readiness::Ending => break true,
            }
            if tokio::time::timeout_at(deadline, self.notify.notified())
                .await
                .is_err()
            {
                return self.drain();
            }
        };
        if !ending {
            tokio::time::sleep(gather).await;
        }
        self.drain()
    }

    /// True once the closing event has been returned: nothing more will come.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Everything available now, closing event included.
    fn drain(&mut self) -> Vec<Sent> {
        let mut all = Vec::new();
        self.take_many(usize::MAX, &mut all);
        all
    }

    /// What there is to return now, decided under the hub's lock (a stale ticket's resync is
    /// asked for here).
    fn readiness(&self) -> Readiness {
        let mut state = self.shared.lock();
        match state.tickets.get_mut(&self.key) {
            Some(t) if t.stream.as_ref().is_some_and(|s| s.gen == self.gen) => {
                if t.buffer.is_closed() {
                    Readiness::Ending
                } else if t.buffer.pending() > 0 {
                    Readiness::Events
                } else {
                    if let Some(reason) = t.buffer.request_resync() {
                        resync::spawn(Arc::clone(&self.shared), self.key, t.filter.clone(), reason);
                    }
                    Readiness::Nothing
                }
            }
            // Replaced by another stream: the closing event is ready.
            _ => Readiness::Ending,
        }
    }

    /// The next event if one is ready, without waiting.
    fn take(&mut self) -> Option<Sent> {
        let mut one = Vec::with_capacity(1);
        self.take_many(1, &mut one);
        one.pop()
    }

    /// Up to `max` events that are ready, appended to `out` under one lock, without waiting. A
    /// stale ticket's resync is asked for here; its events come when it is done (the stream is
    /// woken). Stops after the closing event.
    fn take_many(&mut self, max: usize, out: &mut Vec<Sent>) {
        if self.ended {
            return;
        }
        let mut state = self.shared.lock();
        let mine = state
            .tickets
            .get_mut(&self.key)
            .filter(|t| t.stream.as_ref().is_some_and(|s| s.gen == self.gen));
        let Some(ticket) = mine else {
            // Another stream took the ticket over.
            self.ended = true;
            out.push(Sent {
                id: None,
                delivery: Delivery::closed("replaced"),
            });
            return;
        };
        if let Some(reason) = ticket.buffer.request_resync() {
            let filter = ticket.filter.clone();
            drop(state);
            resync::spawn(Arc::clone(&self.shared), self.key, filter, reason);
            return;
        }
        let epoch = self.shared.epoch;
        let mut taken = 0;
        while taken < max {
            let Some(entry) = ticket.buffer.pop() else {
                break;
            };
            taken += 1;
            if entry.delivery.is_closed() {
                // The stream's last event: the ticket ends with it, and nothing can be resumed
                // after it (no id).
                let label = ticket.label.clone();
                state.remove(&self.key);
                drop(state);
                tracing::debug!(ticket = %label, reason = entry.delivery.data_json(), "ticket closed");
                self.ended = true;
                out.push(Sent {
                    id: None,
                    delivery: entry.delivery,
                });
                break;
            }
            out.push(Sent {
                id: Some(EventId {
                    epoch,
                    seq: entry.seq,
                }),
                delivery: entry.delivery,
            });
        }
        // Once per batch: the counter is shared by every stream.
        self.delivered.increment(taken as u64);
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        if let Some(ticket) = state.tickets.get_mut(&self.key) {
            if ticket.stream.as_ref().is_some_and(|s| s.gen == self.gen) {
                ticket.stream = None;
                ticket.detached_since = Instant::now();
            }
        }
    }
}
