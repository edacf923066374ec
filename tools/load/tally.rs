//! What one subscriber saw: every event it received goes through [`Tally::observe`], which keeps
//! a bitmap per (agent, queue) pair of the stamps already seen (so a duplicate is caught exactly,
//! not guessed), counts out-of-order arrivals, events of pairs outside the ticket's filter,
//! other events, and the latency of each stamped event in a histogram.
//!
//! Bound: one bit per stamp the pair can carry; the sequence numbers are bounded by the run's
//! `--events`, and a larger one is counted as malformed instead of growing the bitmap.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use hdrhistogram::Histogram;
use serde::Deserialize;

use crate::stamp::Clock;

/// Highest latency the histograms hold, microseconds (longer ones are clamped to it).
pub const MAX_LATENCY_US: u64 = 600_000_000;

/// An empty latency histogram: 1 µs to [`MAX_LATENCY_US`], two significant figures (values
/// within 1%; about 20 KiB, which matters with thousands of subscribers).
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 2).expect("constant, valid bounds")
}

/// The fields of an event the tally looks at, borrowed from the text (the other fields are
/// skipped without being built).
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<&'a str>,
    #[serde(default, borrow)]
    reason: Option<&'a str>,
}

/// The same, owned: for the rare text whose `type` or `reason` holds an escape, which cannot be
/// borrowed.
#[derive(Deserialize)]
struct OwnedProbe {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

/// One subscriber's counts.
#[derive(Debug)]
pub struct Tally {
    clock: Clock,
    max_seq: u32,
    /// Pair index → (bitmap of sequence numbers seen, highest seen + 1).
    pairs: HashMap<u32, (Vec<u64>, u32)>,
    /// Stamped events received once (shared: the run watches it to know when all arrived).
    pub progress: Arc<AtomicU64>,
    /// Stamped events received once.
    pub delivered: u64,
    /// Stamped events received again.
    pub duplicates: u64,
    /// Stamped events that came after a later one of the same pair.
    pub out_of_order: u64,
    /// Stamped events of a pair this ticket did not ask for.
    pub foreign: u64,
    /// Stamps of this run that could not be used (sequence number out of range).
    pub malformed: u64,
    /// Other events (snapshot, other traffic).
    pub other: u64,
    /// Events that could not be parsed.
    pub unparsable: u64,
    /// The reason of a `closed` event received before the run ended it.
    pub closed: Option<String>,
    /// Transport errors (connection failed, bad status, broken frame).
    pub errors: Vec<String>,
    /// Latency of each stamped event, microseconds.
    pub latency: Histogram<u64>,
    /// When the last stamped event arrived.
    pub last: Option<Instant>,
}

impl Tally {
    /// A tally for a ticket that covers `pairs`, in a run of at most `max_seq` stamps per pair.
    pub fn new(clock: Clock, pairs: &[u32], max_seq: u32) -> Tally {
        Tally {
            clock,
            max_seq,
            pairs: pairs.iter().map(|p| (*p, (Vec::new(), 0))).collect(),
            progress: Arc::default(),
            delivered: 0,
            duplicates: 0,
            out_of_order: 0,
            foreign: 0,
            malformed: 0,
            other: 0,
            unparsable: 0,
            closed: None,
            errors: Vec::new(),
            latency: histogram(),
            last: None,
        }
    }

    /// The pairs this ticket covers.
    pub fn pairs(&self) -> impl Iterator<Item = u32> + '_ {
        self.pairs.keys().copied()
    }

    /// One event as a full JSON object (`type` inside), received at `at`.
    pub fn observe_json(&mut self, json: &str, at: Instant) {
        if let Ok(p) = serde_json::from_str::<Probe>(json) {
            self.observe(p.kind.unwrap_or(""), p.reason, at);
        } else if let Ok(p) = serde_json::from_str::<OwnedProbe>(json) {
            self.observe(p.kind.as_deref().unwrap_or(""), p.reason.as_deref(), at);
        } else {
            self.unparsable += 1;
        }
    }

    /// One event as a type name and its JSON object without `type` (SSE), received at `at`.
    pub fn observe_typed(&mut self, kind: &str, data: &str, at: Instant) {
        if !matches!(kind, "queueMemberStatus" | "closed" | "close") {
            // Neither stamped nor closing: no need to look inside.
            self.observe(kind, None, at);
        } else if let Ok(p) = serde_json::from_str::<Probe>(data) {
            self.observe(kind, p.reason, at);
        } else if let Ok(p) = serde_json::from_str::<OwnedProbe>(data) {
            self.observe(kind, p.reason.as_deref(), at);
        } else {
            self.unparsable += 1;
        }
    }

    /// Splits the stamps received once into those the driver confirmed (`seq < sent[pair]`) and
    /// those of actions that failed without an answer (they may or may not have been applied).
    pub fn settle(&self, sent: &[u32]) -> (u64, u64) {
        let (mut confirmed, mut unconfirmed) = (0u64, 0u64);
        for (pair, (seen, _)) in &self.pairs {
            let limit = sent.get(*pair as usize).copied().unwrap_or(0);
            for (word, bits) in seen.iter().enumerate() {
                for bit in 0..64u32 {
                    if bits & (1 << bit) != 0 {
                        if (word as u32) * 64 + bit < limit {
                            confirmed += 1;
                        } else {
                            unconfirmed += 1;
                        }
                    }
                }
            }
        }
        (confirmed, unconfirmed)
    }

    /// A long-poll answer: a JSON array of full event objects, received at `at`.
    pub fn observe_array(&mut self, json: &[u8], at: Instant) {
        if let Ok(events) = serde_json::from_slice::<Vec<Probe>>(json) {
            for p in events {
                self.observe(p.kind.unwrap_or(""), p.reason, at);
            }
        } else if let Ok(events) = serde_json::from_slice::<Vec<OwnedProbe>>(json) {
            for p in events {
                self.observe(p.kind.as_deref().unwrap_or(""), p.reason.as_deref(), at);
            }
        } else {
            self.unparsable += 1;
        }
    }

    /// A closing event (`closed` / `close`).
    pub fn observe_closed(&mut self, reason: &str) {
        if self.closed.is_none() {
            self.closed = Some(reason.to_owned());
        }
    }

    fn observe(&mut self, kind: &str, reason: Option<&str>, at: Instant) {
        if kind == "closed" || kind == "close" {
            self.observe_closed(reason.unwrap_or(""));
            return;
        }
        let stamp = match reason {
            Some(r) if kind == "queueMemberStatus" => self.clock.decode(r),
            _ => None,
        };
        let Some(stamp) = stamp else {
            self.other += 1;
            return;
        };
        if stamp.seq >= self.max_seq {
            self.malformed += 1;
            return;
        }
        let Some((seen, next)) = self.pairs.get_mut(&stamp.pair) else {
            self.foreign += 1;
            return;
        };
        let (word, bit) = ((stamp.seq / 64) as usize, stamp.seq % 64);
        if seen.len() <= word {
            seen.resize(word + 1, 0);
        }
        if seen[word] & (1 << bit) != 0 {
            self.duplicates += 1;
            return;
        }
        seen[word] |= 1 << bit;
        if stamp.seq < *next {
            self.out_of_order += 1;
        }
        *next = (*next).max(stamp.seq + 1);
        self.delivered += 1;
        self.progress.store(self.delivered, Ordering::Relaxed);
        let sent = self.clock.at(stamp.sent_us);
        let us = at.saturating_duration_since(sent).as_micros();
        let us = u64::try_from(us)
            .unwrap_or(MAX_LATENCY_US)
            .clamp(1, MAX_LATENCY_US);
        // In bounds by the clamp: recording cannot fail.
        let _ = self.latency.record(us);
        self.last = Some(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(clock: &Clock, pair: u32, seq: u32) -> String {
        let reason = clock.encode(pair, seq, clock.now_us());
        format!(
            r#"{{"type":"queueMemberStatus","agent":"1","queue":"q","status":"paused","reason":"{reason}"}}"#
        )
    }

    #[test]
    fn counts_once_and_flags_duplicates_order_and_foreign_pairs() {
        let clock = Clock::new();
        let mut t = Tally::new(clock, &[0, 1], 100);
        let now = Instant::now;
        t.observe_json(&event(&clock, 0, 0), now());
        t.observe_json(&event(&clock, 0, 2), now());
        t.observe_json(&event(&clock, 0, 1), now());
        t.observe_json(&event(&clock, 0, 1), now());
        t.observe_json(&event(&clock, 1, 70), now());
        t.observe_json(&event(&clock, 2, 0), now());
        t.observe_json(&event(&clock, 1, 100), now());
        t.observe_json(r#"{"type":"queueCount","queue":"q","count":0}"#, now());
        t.observe_json("not json", now());
        assert_eq!(t.delivered, 4);
        assert_eq!(t.duplicates, 1);
        assert_eq!(t.out_of_order, 1);
        assert_eq!(t.foreign, 1);
        assert_eq!(t.malformed, 1);
        assert_eq!(t.other, 1);
        assert_eq!(t.unparsable, 1);
        assert_eq!(t.latency.len(), 4);
        assert_eq!(t.progress.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn sse_form_and_closing_events() {
        let clock = Clock::new();
        let mut t = Tally::new(clock, &[3], 10);
        let reason = clock.encode(3, 0, 0);
        t.observe_typed(
            "queueMemberStatus",
            &format!(r#"{{"agent":"1","queue":"q","status":"paused","reason":"{reason}"}}"#),
            Instant::now(),
        );
        t.observe_typed("closed", r#"{"reason":"overflow"}"#, Instant::now());
        assert_eq!(t.delivered, 1);
        assert_eq!(t.closed.as_deref(), Some("overflow"));
        // A pause reason that is not a stamp is just another event.
        t.observe_json(
            r#"{"type":"queueMemberStatus","agent":"1","queue":"q","status":"paused","reason":"lunch"}"#,
            Instant::now(),
        );
        assert_eq!(t.other, 1);
    }

    #[test]
    fn escaped_text_is_read_too() {
        let clock = Clock::new();
        let mut t = Tally::new(clock, &[0], 10);
        let reason = clock.encode(0, 0, 0);
        let json =
            format!(r#"{{"type":"queueMemberStatus","name":"A \"B\"","reason":"{reason}"}}"#);
        t.observe_json(&json, Instant::now());
        let escaped = format!(r#"{{"type":"queueMemberStatus","reason":"{reason}\u0041"}}"#);
        t.observe_json(&escaped, Instant::now());
        assert_eq!((t.delivered, t.other, t.unparsable), (1, 1, 0));
    }

    #[test]
    fn long_poll_arrays() {
        let clock = Clock::new();
        let mut t = Tally::new(clock, &[0], 10);
        let body = format!(
            "[{},{},{}]",
            event(&clock, 0, 0),
            event(&clock, 0, 1),
            r#"{"type":"closed","reason":"shutdown"}"#
        );
        t.observe_array(body.as_bytes(), Instant::now());
        assert_eq!(t.delivered, 2);
        assert_eq!(t.closed.as_deref(), Some("shutdown"));
        t.observe_array(b"[", Instant::now());
        assert_eq!(t.unparsable, 1);
    }
}
