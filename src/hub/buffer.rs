//! The per-ticket buffer: a bounded queue of deliveries, each numbered with the ticket's own
//! sequence number. Entries already handed out stay behind a cursor as a bounded history, so a
//! client that reconnects can be given exactly what it missed ([`TicketBuffer::rewind`]), or be
//! told that the gap cannot be filled.
//!
//! Bound policy: at most `capacity` undelivered entries besides the snapshot, and at most
//! `max_bytes` of undelivered serialized events, the snapshot included ([`Delivery::size`]). A
//! snapshot beyond the byte budget is refused ([`TicketBuffer::push_snapshot`]: the hub then
//! refuses the ticket). A later push beyond either bound is refused with [`Overflow`]; the hub
//! then closes the ticket ([`TicketBuffer::overflow`]: pending entries are dropped and the
//! closing event is queued), and the client must take a new ticket, whose snapshot brings it
//! back in step. The closing event itself is always accepted, so a closed buffer holds at most
//! `capacity + 1` pending entries and `max_bytes` plus one closing event, plus the history.

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

/// A bounded, sequence-numbered queue of one ticket's deliveries.
#[derive(Debug)]
pub struct TicketBuffer {
    /// History (already handed out) followed by pending entries, in sequence order.
    entries: VecDeque<Entry>,
    /// How many entries at the front are history.
    delivered: usize,
    next_seq: u64,
    capacity: usize,
    history: usize,
    closed: bool,
    /// Snapshot entries not handed out yet (they are first in line and do not count against
    /// `capacity`).
    snapshot_pending: usize,
    /// Bytes of the pending entries ([`Delivery::size`]).
    pending_bytes: usize,
    /// Budget for `pending_bytes`.
    max_bytes: usize,
}

impl TicketBuffer {
    /// An empty buffer for at most `capacity` pending entries, keeping the last `history`
    /// delivered ones for replay.
    pub fn new(capacity: usize, history: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            delivered: 0,
            next_seq: 1,
            capacity,
            history,
            closed: false,
            snapshot_pending: 0,
            pending_bytes: 0,
            max_bytes: usize::MAX,
        }
    }

    /// Sets the budget of pending bytes (unlimited unless set).
    pub fn with_byte_budget(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Queues a snapshot entry, outside the count bound but inside the byte budget: refused
    /// with [`Overflow`] (and nothing queued) when it would exceed it. Only before any
    /// [`TicketBuffer::push`].
    pub fn push_snapshot(&mut self, delivery: Delivery) -> Result<(), Overflow> {
        if self.closed {
            return Ok(());
        }
        if !self.fits(&delivery) {
            return Err(Overflow);
        }
        self.append(delivery);
        self.snapshot_pending += 1;
        Ok(())
    }

    /// Queues a delivery; refused when full. Ignored once the buffer is closed.
    pub fn push(&mut self, delivery: Delivery) -> Result<(), Overflow> {
        if self.closed {
            return Ok(());
        }
        if self.pending() - self.snapshot_pending >= self.capacity || !self.fits(&delivery) {
            return Err(Overflow);
        }
        self.append(delivery);
        Ok(())
    }

    /// Queues the closing event after whatever is pending; nothing is accepted after it.
    pub fn close(&mut self, closing: Delivery) {
        if !self.closed {
            self.append(closing);
            self.closed = true;
        }
    }

    /// Drops everything (the client lost events anyway and must resync) and queues the closing
    /// event.
    pub fn overflow(&mut self, closing: Delivery) {
        self.entries.clear();
        self.delivered = 0;
        self.snapshot_pending = 0;
        self.pending_bytes = 0;
        self.close(closing);
    }

    /// The next undelivered entry; it moves into the history.
    pub fn pop(&mut self) -> Option<Entry> {
        let entry = self.entries.get(self.delivered)?.clone();
        self.delivered += 1;
        self.pending_bytes = self.pending_bytes.saturating_sub(entry.delivery.size());
        self.snapshot_pending = self.snapshot_pending.saturating_sub(1);
        while self.delivered > self.history {
            self.entries.pop_front();
            self.delivered -= 1;
        }
        Some(entry)
    }

    /// Makes every entry after `seq` pending again (a client that saw up to `seq` reconnects).
    /// [`Gap`] if some of them are gone from the history, or `seq` was never handed out.
    pub fn rewind(&mut self, seq: u64) -> Result<(), Gap> {
        let oldest = self.entries.front().map_or(self.next_seq, |e| e.seq);
        if seq + 1 < oldest || seq >= self.next_seq {
            return Err(Gap);
        }
        let keep = usize::try_from(seq + 1 - oldest).map_err(|_| Gap)?;
        if keep > self.delivered {
            // Entries after `seq` that were never handed out are pending already.
            return Ok(());
        }
        let replayed: usize = self
            .entries
            .range(keep..self.delivered)
            .map(|e| e.delivery.size())
            .sum();
        self.pending_bytes += replayed;
        self.delivered = keep;
        Ok(())
    }

    /// Entries not handed out yet.
    pub fn pending(&self) -> usize {
        self.entries.len() - self.delivered
    }

    /// Bytes of the entries not handed out yet.
    pub fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// True once the closing event is queued (delivered or not).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The sequence number the next queued entry will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    fn fits(&self, delivery: &Delivery) -> bool {
        self.pending_bytes.saturating_add(delivery.size()) <= self.max_bytes
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
mod tests {
    use super::*;

    fn d(n: u32) -> Delivery {
        Delivery::closed(&n.to_string())
    }

    fn reason(e: &Entry) -> String {
        e.delivery.data_json().to_owned()
    }

    #[test]
    fn fifo_with_sequence_numbers() {
        let mut b = TicketBuffer::new(3, 0);
        for n in 0..3 {
            b.push(d(n)).unwrap();
        }
        assert_eq!(b.push(d(9)), Err(Overflow));
        assert_eq!(b.pending(), 3);
        let seqs: Vec<u64> = std::iter::from_fn(|| b.pop()).map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(b.pending(), 0);
        b.push(d(4)).unwrap();
        assert_eq!(b.pop().unwrap().seq, 4);
    }

    #[test]
    fn close_goes_after_pending_and_overflow_drops_pending() {
        let mut b = TicketBuffer::new(2, 0);
        b.push(d(1)).unwrap();
        b.push(d(2)).unwrap();
        b.close(Delivery::closed("shutdown"));
        b.push(d(3)).unwrap();
        assert_eq!(b.pending(), 3);
        assert!(b.is_closed());
        let mut b = TicketBuffer::new(2, 0);
        b.push(d(1)).unwrap();
        b.overflow(Delivery::closed("overflow"));
        assert_eq!(b.pending(), 1);
        assert_eq!(reason(&b.pop().unwrap()), r#"{"reason":"overflow"}"#);
    }

    #[test]
    fn rewind_replays_from_history_or_reports_a_gap() {
        let mut b = TicketBuffer::new(10, 2);
        for n in 1..=5 {
            b.push(d(n)).unwrap();
        }
        for _ in 0..4 {
            b.pop();
        }
        // Delivered 1..=4, history keeps 3 and 4; 5 is pending.
        assert_eq!(b.rewind(1), Err(Gap));
        assert_eq!(b.rewind(9), Err(Gap));
        b.rewind(2).unwrap();
        let seqs: Vec<u64> = std::iter::from_fn(|| b.pop()).map(|e| e.seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
        b.rewind(5).unwrap();
        assert_eq!(b.pending(), 0);
    }

    #[test]
    fn the_snapshot_is_outside_the_bound() {
        let mut b = TicketBuffer::new(2, 0);
        for n in 0..5 {
            b.push_snapshot(d(n)).unwrap();
        }
        b.push(d(5)).unwrap();
        b.push(d(6)).unwrap();
        assert_eq!(b.push(d(7)), Err(Overflow));
        for _ in 0..7 {
            b.pop().unwrap();
        }
        b.push(d(7)).unwrap();
        b.push(d(8)).unwrap();
        assert_eq!(b.push(d(9)), Err(Overflow));
    }

    #[test]
    fn the_byte_budget_covers_the_snapshot_and_later_events() {
        let size = d(1).size();
        let mut b = TicketBuffer::new(100, 1).with_byte_budget(3 * size);
        b.push_snapshot(d(1)).unwrap();
        b.push_snapshot(d(2)).unwrap();
        b.push(d(3)).unwrap();
        assert_eq!(b.push_snapshot(d(4)), Err(Overflow));
        assert_eq!(b.push(d(4)), Err(Overflow));
        assert_eq!(b.pending_bytes(), 3 * size);
        b.pop().unwrap();
        assert_eq!(b.pending_bytes(), 2 * size);
        b.push(d(4)).unwrap();
        assert_eq!(b.push(d(5)), Err(Overflow));
        // A rewind makes the replayed entry count again.
        b.pop().unwrap();
        b.rewind(1).unwrap();
        assert_eq!(b.pending_bytes(), 3 * size);
        b.overflow(Delivery::closed("overflow"));
        assert_eq!(b.pending_bytes(), Delivery::closed("overflow").size());
    }

    #[test]
    fn history_is_bounded() {
        let mut b = TicketBuffer::new(1, 3);
        for n in 0..100 {
            b.push(d(n)).unwrap();
            b.pop();
        }
        assert!(b.entries.len() <= 3);
        assert_eq!(b.next_seq(), 101);
    }
}
