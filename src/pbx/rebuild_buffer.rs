//! The live events that arrive while a rebuild runs, kept to be applied to the rebuilt model,
//! bounded in count ([`MAX_BUFFERED`]) and in bytes ([`MAX_BUFFERED_BYTES`], the sum of the
//! messages' [`AmiMessage::size_bytes`]).
//!
//! Policy when either bound is hit (the same for both): the buffer is dropped, every later event
//! is dropped until the rebuild ends, and the caller runs another rebuild right after, which
//! lists what the dropped events would have told.

use crate::ami::AmiMessage;

/// Most live events buffered during a rebuild.
pub const MAX_BUFFERED: usize = 100_000;
/// Most bytes of live events buffered during a rebuild (one AMI message may be megabytes).
pub const MAX_BUFFERED_BYTES: usize = 64 * 1024 * 1024;

/// What became of a pushed event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pushed {
    /// Kept.
    Kept,
    /// This event crossed a bound: the buffer was dropped with it; rebuild again.
    Overflowed,
    /// The buffer overflowed earlier in this rebuild: dropped.
    Dropped,
}

/// The bounded buffer of one rebuild.
#[derive(Debug)]
pub struct RebuildBuffer {
    messages: Vec<AmiMessage>,
    bytes: usize,
    dropping: bool,
    max_messages: usize,
    max_bytes: usize,
}

impl Default for RebuildBuffer {
    fn default() -> Self {
        Self::with_limits(MAX_BUFFERED, MAX_BUFFERED_BYTES)
    }
}

impl RebuildBuffer {
    /// A buffer with other bounds (tests).
    pub fn with_limits(max_messages: usize, max_bytes: usize) -> Self {
        Self {
            messages: Vec::new(),
            bytes: 0,
            dropping: false,
            max_messages,
            max_bytes,
        }
    }

    /// Keeps `msg`, unless a bound is hit (see the module doc).
    pub fn push(&mut self, msg: AmiMessage) -> Pushed {
        if self.dropping {
            return Pushed::Dropped;
        }
        let size = msg.size_bytes();
        let bytes = self.bytes.saturating_add(size);
        if self.messages.len() >= self.max_messages || bytes > self.max_bytes {
            self.messages = Vec::new();
            self.bytes = 0;
            self.dropping = true;
            return Pushed::Overflowed;
        }
        self.bytes = bytes;
        self.messages.push(msg);
        Pushed::Kept
    }

    /// The kept events, in order; the buffer starts over (and keeps events again).
    pub fn take(&mut self) -> Vec<AmiMessage> {
        self.dropping = false;
        self.bytes = 0;
        std::mem::take(&mut self.messages)
    }

    /// Events kept now.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Whether no event is kept.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Bytes kept now.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(value: &str) -> AmiMessage {
        AmiMessage::event("QueueMemberStatus").with("MemberName", value)
    }

    #[test]
    fn the_count_bound_drops_the_buffer_and_what_follows_until_taken() {
        let mut b = RebuildBuffer::with_limits(2, usize::MAX);
        assert_eq!(b.push(event("a")), Pushed::Kept);
        assert_eq!(b.push(event("b")), Pushed::Kept);
        assert_eq!(b.push(event("c")), Pushed::Overflowed);
        assert!(b.is_empty());
        assert_eq!(b.push(event("d")), Pushed::Dropped);
        assert!(b.take().is_empty());
        assert_eq!(
            b.push(event("e")),
            Pushed::Kept,
            "a new rebuild keeps events again"
        );
        assert_eq!(b.take().len(), 1);
    }

    #[test]
    fn the_byte_bound_holds_whatever_the_count() {
        let small = event("x").size_bytes();
        let big = event(&"x".repeat(10_000));
        let mut b = RebuildBuffer::with_limits(1000, 4 * small + 5_000);
        for _ in 0..4 {
            assert_eq!(b.push(event("x")), Pushed::Kept);
        }
        assert_eq!(b.bytes(), 4 * small);
        assert!(b.bytes() <= 4 * small + 5_000);
        assert_eq!(b.push(big.clone()), Pushed::Overflowed, "one large event");
        assert_eq!((b.len(), b.bytes()), (0, 0));
        assert_eq!(b.push(event("x")), Pushed::Dropped);
        b.take();
        assert_eq!(b.push(event("x")), Pushed::Kept);
    }

    #[test]
    fn many_medium_events_cross_the_byte_bound_before_the_count() {
        let one = event(&"y".repeat(1_000));
        let mut b = RebuildBuffer::with_limits(MAX_BUFFERED, 50 * one.size_bytes());
        let kept = (0..100)
            .take_while(|_| b.push(one.clone()) == Pushed::Kept)
            .count();
        assert_eq!(kept, 50);
        assert!(b.is_empty());
    }
}
