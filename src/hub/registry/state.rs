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

    /// Queues one delivery if the filter matches; on overflow the ticket is closed
    /// (`overflow`, built once per publish and shared). Wakes the attached stream.
    fn offer(&mut self, event: &Event, delivery: &Delivery, overflow: &mut Option<Delivery>) {
        if self.buffer.is_closed() || !self.filter.matches(event) {
            return;
        }
        if self.buffer.push(delivery.clone()).is_err() {
            let closing = overflow.get_or_insert_with(|| Delivery::closed("overflow"));
            self.buffer.overflow(closing.clone());
            tracing::warn!(ticket = %self.label, "ticket closed: too many undelivered events");
        }
        if let Some(stream) = &self.stream {
            stream.notify.notify_one();
        }
    }
}

/// Everything under the hub's lock.
#[derive(Default)]
pub(super) struct State {
    pub tickets: HashMap<TicketKey, Ticket>,
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

    /// Queues each delivery, in order, on every ticket whose filter matches its event.
    pub fn publish(&mut self, deliveries: &[(&Event, Delivery)]) {
        let mut overflow = None;
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
            if let Some(stream) = &ticket.stream {
                stream.notify.notify_one();
            }
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
