//! The hub's mutable state: live tickets, per-owner counts, and the operations on them that run
//! under the hub's lock (all synchronous, none of them awaits).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::index::{Candidates, ScopeIndex};
use crate::hub::buffer::TicketBuffer;
use crate::hub::delivery::Delivery;
use crate::hub::ticket::TicketKey;
use crate::hub::HubConfig;
use crate::pbx::{Event, Filter};

/// The stream currently attached to a ticket.
pub(super) struct Attached {
    /// Which attach this is (a replaced stream sees a different one and ends).
    pub gen: u64,
    /// Wakes the attached stream when something is queued or it is replaced.
    pub notify: Arc<Notify>,
    /// When it attached.
    pub since: Instant,
}

/// One live ticket.
pub(super) struct Ticket {
    /// The redacted ticket, for logs.
    pub label: String,
    pub filter: Filter,
    pub owner: Option<Arc<str>>,
    pub buffer: TicketBuffer,
    pub stream: Option<Attached>,
    /// When the last stream went away (or the ticket was created).
    pub detached_since: Instant,
}

impl Ticket {
    /// No stream for `unsub_delay`.
    pub fn is_expired(&self, now: Instant, unsub_delay: Duration) -> bool {
        self.stream.is_none() && now.saturating_duration_since(self.detached_since) >= unsub_delay
    }

    /// Queues one delivery if the filter matches; on overflow the ticket drops what it holds
    /// and will resync (`overflow`), counted in `overflowed`. Wakes the attached stream.
    fn offer(&mut self, event: &Event, delivery: &Delivery, overflowed: &mut usize) {
        if self.buffer.is_closed() || !self.filter.matches(event) {
            return;
        }
        if self.buffer.push(delivery.clone()).is_err() {
            self.buffer.go_stale(RESYNC_OVERFLOW);
            *overflowed += 1;
        }
        self.wake();
    }

    /// Wakes the attached stream, if any.
    pub fn wake(&self) {
        if let Some(stream) = &self.stream {
            stream.notify.notify_one();
        }
    }
}

/// The `resync` reason of a ticket whose client did not keep up.
pub const RESYNC_OVERFLOW: &str = "overflow";

/// Everything under the hub's lock.
#[derive(Default)]
pub(super) struct State {
    /// Hashed with foldhash, as the index's sets are (see [`Tickets`](super::index::Tickets)).
    pub tickets: HashMap<TicketKey, Ticket, foldhash::fast::RandomState>,
    index: ScopeIndex,
    owners: HashMap<Arc<str>, usize>,
    gen: u64,
    pub shutting_down: bool,
}

impl State {
    /// A fresh attach generation.
    pub fn next_gen(&mut self) -> u64 {
        self.gen += 1;
        self.gen
    }

    /// Room for one more ticket, in total and for `owner`.
    pub fn has_room(&self, config: &HubConfig, owner: Option<&str>) -> bool {
        self.tickets.len() < config.max_tickets
            && owner.is_none_or(|o| {
                self.owners.get(o).copied().unwrap_or(0) < config.max_tickets_per_owner
            })
    }

    pub fn insert(&mut self, key: TicketKey, ticket: Ticket) {
        if let Some(owner) = &ticket.owner {
            *self.owners.entry(Arc::clone(owner)).or_insert(0) += 1;
        }
        self.index.insert(key, &ticket.filter);
        self.tickets.insert(key, ticket);
    }

    /// Removes a ticket and its share of its owner's count.
    pub fn remove(&mut self, key: &TicketKey) -> Option<Ticket> {
        let ticket = self.tickets.remove(key)?;
        self.index.remove(key, &ticket.filter);
        if let Some(owner) = &ticket.owner {
            if let Some(n) = self.owners.get_mut(owner) {
                *n -= 1;
                if *n == 0 {
                    self.owners.remove(owner);
                }
            }
        }
        Some(ticket)
    }

    /// Queues each delivery, in order, on every ticket whose filter matches its event; returns
    /// how many tickets overflowed (and will resync).
    pub fn publish(&mut self, deliveries: &[(&Event, Delivery)]) -> usize {
        let mut overflow = 0;
        for (event, delivery) in deliveries {
            match self.index.candidates(event) {
                Candidates::All => {
                    for ticket in self.tickets.values_mut() {
                        ticket.offer(event, delivery, &mut overflow);
                    }
                }
                Candidates::Some(keys) => {
                    for key in keys.into_iter().flatten() {
                        if let Some(ticket) = self.tickets.get_mut(key) {
                            ticket.offer(event, delivery, &mut overflow);
                        }
                    }
                }
            }
        }
        overflow
    }

    /// Makes every ticket resync with `reason` and wakes its stream.
    pub fn resync_all(&mut self, reason: &'static str) {
        for ticket in self.tickets.values_mut() {
            ticket.buffer.go_stale(reason);
            ticket.wake();
        }
    }

    /// Drops every expired ticket; returns how many.
    pub fn sweep(&mut self, now: Instant, unsub_delay: Duration) -> usize {
        let expired: Vec<TicketKey> = self
            .tickets
            .iter()
            .filter(|(_, t)| t.is_expired(now, unsub_delay))
            .map(|(k, _)| *k)
            .collect();
        for key in &expired {
            self.remove(key);
        }
        self.shrink();
        expired.len()
    }

    /// Drops the snapshot from the history of every ticket whose stream has been attached for
    /// `after` (see [`SNAPSHOT_KEPT`](super::SNAPSHOT_KEPT)).
    pub fn forget_snapshots(&mut self, now: Instant, after: Duration) {
        for ticket in self.tickets.values_mut() {
            let settled = ticket
                .stream
                .as_ref()
                .is_some_and(|s| now.saturating_duration_since(s.since) >= after);
            if settled {
                ticket.buffer.forget_snapshot();
            }
        }
    }

    /// Closes attached tickets with `closing` and drops the others.
    pub fn close_all(&mut self, closing: &Delivery) {
        let detached: Vec<TicketKey> = self
            .tickets
            .iter()
            .filter(|(_, t)| t.stream.is_none())
            .map(|(k, _)| *k)
            .collect();
        for key in &detached {
            self.remove(key);
        }
        for ticket in self.tickets.values_mut() {
            ticket.buffer.close(closing.clone());
            ticket.wake();
        }
        self.shrink();
    }

    /// Gives memory back after a burst of tickets is gone.
    fn shrink(&mut self) {
        if self.tickets.capacity() > 64 && self.tickets.len() < self.tickets.capacity() / 4 {
            self.tickets.shrink_to_fit();
            self.owners.shrink_to_fit();
            self.index.shrink();
        }
    }
}
