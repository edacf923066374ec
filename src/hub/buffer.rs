//! The per-ticket buffer: a bounded queue of deliveries, each numbered with the ticket's own
//! sequence number, and its [`Phase`] (live, or on its way to a resync). Entries already handed
//! out stay behind a cursor as a bounded history, so a client that reconnects can be given
//! exactly what it missed ([`TicketBuffer::rewind`]), or be told that the gap cannot be filled.
//!
//! A resync replaces everything: the buffer goes [`Phase::Stale`] (all entries dropped, later
//! events ignored: the coming snapshot will reflect them), then [`Phase::Awaiting`] once the model
//! has taken a snapshot and sequence numbers are reserved for it, then live again when the
//! serialized snapshot fills the reservation ([`TicketBuffer::fill`]) in front of the events that
//! arrived meanwhile. Sequence numbers only grow, so an id from before a resync is never taken
//! for a position after it.
//!
//! Bound policy:
//! - pending: at most `capacity` undelivered entries besides the snapshot, and at most
//!   `max_bytes` of undelivered serialized events, the snapshot included ([`Delivery::size`]). A
//!   push beyond either is refused with [`Overflow`]; the hub then makes the ticket resync
//!   ([`TicketBuffer::go_stale`]), which frees everything it held.
//! - history: at most `history` entries and `history_bytes` bytes (the oldest go first). A
//!   reconnect from before the history's start is a gap: the client resyncs. The snapshot's
//!   entries leave the history earlier, when the hub says so ([`TicketBuffer::forget_snapshot`]):
//!   they are most of an idle ticket's memory.
//! - the closing event is always accepted, and nothing after it.

use std::collections::VecDeque;

use super::delivery::Delivery;

/// One buffered delivery and its per-ticket sequence number (1, 2, 3, ...).
#[derive(Clone, Debug)]
pub struct Entry {
    /// The ticket's sequence number of this delivery.
    pub seq: u64,
    /// The event.
    pub delivery: Delivery,
}

/// The push was refused: the buffer holds `capacity` undelivered entries, or the delivery would
/// take its pending bytes over the budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overflow;

/// The requested position is no longer (or not yet) in the buffer: the client must resync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap;

/// Where the buffer stands with respect to a resync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Entries flow.
    Live,
    /// Everything was dropped; a snapshot must be asked for (`reason` goes in the `resync`).
    Stale(&'static str),
    /// A snapshot was asked for and not taken yet.
    Requested(&'static str),
    /// The snapshot was taken: `count` sequence numbers from `first` are reserved for it.
    Awaiting {
        /// The first reserved sequence number.
        first: u64,
        /// How many.
        count: usize,
    },
}

/// Bounds of a [`TicketBuffer`].
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Undelivered entries besides the snapshot.
    pub capacity: usize,
    /// Bytes of undelivered entries, snapshot included.
    pub max_bytes: usize,
    /// Delivered entries kept for replay.
    pub history: usize,
    /// Bytes of the delivered entries kept for replay.
    pub history_bytes: usize,
}

/// A bounded, sequence-numbered queue of one ticket's deliveries.
#[derive(Debug)]
pub struct TicketBuffer {
    /// History (already handed out) followed by pending entries, in sequence order.
    entries: VecDeque<Entry>,
    /// How many entries at the front are history.
    delivered: usize,
    next_seq: u64,
    bounds: Bounds,
    phase: Phase,
    closed: bool,
    /// Snapshot entries not handed out yet (they are first in line and do not count against
    /// `capacity`).
    snapshot_pending: usize,
    /// Bytes of the pending entries ([`Delivery::size`]).
    pending_bytes: usize,
    /// Bytes of the history.
    history_bytes: usize,
    /// The sequence number after the last snapshot's entries.
    snapshot_end: u64,
}

impl TicketBuffer {
    /// An empty, live buffer.
    pub fn new(bounds: Bounds) -> Self {
        Self {
            entries: VecDeque::new(),
            delivered: 0,
            next_seq: 1,
            bounds,
            phase: Phase::Live,
            closed: false,
            snapshot_pending: 0,
            pending_bytes: 0,
            history_bytes: 0,
            snapshot_end: 0,
        }
    }

    /// Reserves `count` sequence numbers for a snapshot: everything held so far is dropped (it
    /// is superseded), later pushes queue behind the reservation, nothing is handed out until
    /// [`TicketBuffer::fill`]. Returns the first reserved number.
    pub fn reserve(&mut self, count: usize) -> u64 {
        self.drop_entries();
        let first = self.next_seq;
        self.next_seq += count as u64;
        self.phase = Phase::Awaiting { first, count };
        first
    }

    /// Puts the serialized snapshot into its reservation, in front of what arrived meanwhile.
    /// [`Overflow`] (and nothing changed) if it would take the pending bytes over the budget, or
    /// if it does not match the reservation.
    pub fn fill(&mut self, snapshot: Vec<Delivery>) -> Result<(), Overflow> {
        let Phase::Awaiting { first, count } = self.phase else {
            return Err(Overflow);
        };
        let bytes: usize = snapshot.iter().map(Delivery::size).sum();
        if snapshot.len() != count
            || self.pending_bytes.saturating_add(bytes) > self.bounds.max_bytes
        {
            return Err(Overflow);
        }
        for (i, delivery) in snapshot.into_iter().enumerate().rev() {
            let seq = first + i as u64;
            self.entries.push_front(Entry { seq, delivery });
        }
        self.pending_bytes += bytes;
        self.snapshot_pending += count;
        self.snapshot_end = first + count as u64;
        self.phase = Phase::Live;
        Ok(())
    }

    /// Queues a delivery; refused when full. Ignored once closed, and while stale (the coming
    /// snapshot reflects it).
    pub fn push(&mut self, delivery: Delivery) -> Result<(), Overflow> {
        if self.closed || matches!(self.phase, Phase::Stale(_) | Phase::Requested(_)) {
            return Ok(());
        }
        let pending = self.pending_count() - self.snapshot_pending;
        let fits = self.pending_bytes.saturating_add(delivery.size()) <= self.bounds.max_bytes;
        if pending >= self.bounds.capacity || !fits {
            return Err(Overflow);
        }
        self.append(delivery);
        Ok(())
    }

    /// Drops everything and asks for a resync with `reason` (unless closed: the closing event
    /// stays).
    pub fn go_stale(&mut self, reason: &'static str) {
        if self.closed {
            return;
        }
        self.drop_entries();
        self.phase = Phase::Stale(reason);
    }

    /// If stale, marks the snapshot as asked for and returns the resync's reason.
    pub fn request_resync(&mut self) -> Option<&'static str> {
        match self.phase {
            Phase::Stale(reason) => {
                self.phase = Phase::Requested(reason);
                Some(reason)
            }
            _ => None,
        }
    }

    /// A snapshot that was asked for could not be had: stale again, to be asked for again.
    pub fn resync_failed(&mut self) {
        if let Phase::Requested(reason) = self.phase {
            self.phase = Phase::Stale(reason);
        }
    }

    /// Queues the closing event after whatever is pending (dropping any resync in progress);
    /// nothing is accepted after it.
    pub fn close(&mut self, closing: Delivery) {
        if self.closed {
            return;
        }
        if self.phase != Phase::Live {
            self.drop_entries();
            self.phase = Phase::Live;
        }
        self.append(closing);
        self.closed = true;
    }

    /// The next undelivered entry, if live; it moves into the history.
    pub fn pop(&mut self) -> Option<Entry> {
        if self.phase != Phase::Live {
            return None;
        }
        let entry = self.entries.get(self.delivered)?.clone();
        let size = entry.delivery.size();
        self.delivered += 1;
        self.pending_bytes = self.pending_bytes.saturating_sub(size);
        self.history_bytes += size;
        self.snapshot_pending = self.snapshot_pending.saturating_sub(1);
        self.trim_history();
        Some(entry)
    }

    /// Drops the snapshot's entries that were handed out from the history; returns how many. A
    /// reconnect from inside the snapshot then resyncs (`history`), one from after it resumes
    /// as before.
    pub fn forget_snapshot(&mut self) -> usize {
        let mut dropped = 0;
        while self.delivered > 0
            && self
                .entries
                .front()
                .is_some_and(|e| e.seq < self.snapshot_end)
        {
            let Some(old) = self.entries.pop_front() else {
                break;
            };
            self.history_bytes -= old.delivery.size();
            self.delivered -= 1;
            dropped += 1;
        }
        if dropped > 0 {
            // Its room too: an idle ticket keeps little more than what is left.
            self.entries.shrink_to(self.entries.len().max(2));
        }
        dropped
    }

    /// Makes every entry after `seq` pending again (a client that saw up to `seq` reconnects).
    /// With `forget`, the history up to `seq` is dropped as confirmed (a long poll acknowledges).
    /// [`Gap`] if some of them are gone from the history, `seq` was never handed out, or the
    /// buffer is not live.
    pub fn rewind(&mut self, seq: u64, forget: bool) -> Result<(), Gap> {
        if self.phase != Phase::Live {
            return Err(Gap);
        }
        let oldest = self.entries.front().map_or(self.next_seq, |e| e.seq);
        if seq.saturating_add(1) < oldest || seq >= self.next_seq {
            return Err(Gap);
        }
        let keep = usize::try_from(seq + 1 - oldest).map_err(|_| Gap)?;
        if keep <= self.delivered {
            let replayed: usize = self
                .entries
                .range(keep..self.delivered)
                .map(|e| e.delivery.size())
                .sum();
            self.pending_bytes += replayed;
            self.history_bytes -= replayed;
            self.delivered = keep;
        }
        if forget {
            let confirmed = keep.min(self.delivered);
            for entry in self.entries.drain(..confirmed) {
                self.history_bytes -= entry.delivery.size();
            }
            self.delivered -= confirmed;
        }
        Ok(())
    }

    /// Entries ready to hand out now.
    pub fn pending(&self) -> usize {
        if self.phase == Phase::Live {
            self.pending_count()
        } else {
            0
        }
    }

    /// Bytes of the entries not handed out yet.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Bytes of the history.
    pub fn history_bytes(&self) -> usize {
        self.history_bytes
    }

    /// Entries held, history and pending.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Where the buffer stands.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// True once the closing event is queued (delivered or not).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The sequence number the next queued entry will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    fn pending_count(&self) -> usize {
        self.entries.len() - self.delivered
    }

    fn drop_entries(&mut self) {
        self.entries = VecDeque::new();
        self.delivered = 0;
        self.snapshot_pending = 0;
        self.pending_bytes = 0;
        self.history_bytes = 0;
    }

    fn trim_history(&mut self) {
        while self.delivered > self.bounds.history
            || (self.delivered > 0 && self.history_bytes > self.bounds.history_bytes)
        {
            let Some(old) = self.entries.pop_front() else {
                break;
            };
            self.history_bytes -= old.delivery.size();
            self.delivered -= 1;
        }
    }

    fn append(&mut self, delivery: Delivery) {
        self.pending_bytes = self.pending_bytes.saturating_add(delivery.size());
        self.entries.push_back(Entry {
            seq: self.next_seq,
            delivery,
        });
        self.next_seq += 1;
    }
}

#[cfg(test)]
mod tests;
