//! The stamp every measured event carries: the driver writes it as the pause reason of a
//! `QueuePause` action, the simulator puts it in `PausedReason`, the model publishes it as the
//! `reason` of `queueMemberStatus`, and the subscriber reads it back. It names the run, the
//! (agent, queue) pair, the pair's sequence number and the send time, so each delivery is
//! checked (exactly once, in order) and timed without any shared table.
//!
//! Form: `L<run, 8 hex>.<pair>.<seq>.<microseconds since the run's clock started>`.

use std::time::{Duration, Instant};

/// One stamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Index of the (agent, queue) pair.
    pub pair: u32,
    /// The pair's sequence number, from 0.
    pub seq: u32,
    /// Send time, microseconds since [`Clock::start`].
    pub sent_us: u64,
}

/// The run's identity and its monotonic clock (shared by the driver and the subscribers, which
/// live in one process).
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    run: u32,
    start: Instant,
}

impl Clock {
    /// A clock for a new run, with a random run id so that stamps of an earlier run (still in a
    /// long-running service's snapshot) are not taken for this run's.
    pub fn new() -> Clock {
        Clock {
            run: rand::random(),
            start: Instant::now(),
        }
    }

    /// Microseconds since the clock started.
    pub fn now_us(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// The instant `us` microseconds after the start.
    pub fn at(&self, us: u64) -> Instant {
        self.start + Duration::from_micros(us)
    }

    /// The text of a stamp sent now.
    pub fn encode(&self, pair: u32, seq: u32, sent_us: u64) -> String {
        format!("L{:08x}.{pair}.{seq}.{sent_us}", self.run)
    }

    /// The stamp in `reason`, if it is one of this run's; `None` for anything else.
    pub fn decode(&self, reason: &str) -> Option<Stamp> {
        let rest = reason.strip_prefix('L')?;
        let (run, rest) = rest.split_once('.')?;
        if u32::from_str_radix(run, 16).ok()? != self.run || run.len() != 8 {
            return None;
        }
        let mut parts = rest.split('.');
        let stamp = Stamp {
            pair: parts.next()?.parse().ok()?,
            seq: parts.next()?.parse().ok()?,
            sent_us: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(stamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let c = Clock::new();
        let text = c.encode(7, 42, 123_456);
        assert_eq!(
            c.decode(&text),
            Some(Stamp {
                pair: 7,
                seq: 42,
                sent_us: 123_456
            })
        );
    }

    #[test]
    fn other_runs_and_garbage_are_not_stamps() {
        let a = Clock::new();
        let mut b = Clock::new();
        b.run = a.run.wrapping_add(1);
        assert_eq!(b.decode(&a.encode(1, 2, 3)), None);
        for junk in [
            "",
            "L",
            "lunch",
            "Lzz.1.2.3",
            &a.encode(1, 2, 3).replace(".3", ".3.4"),
        ] {
            assert_eq!(a.decode(junk), None, "{junk}");
        }
    }
}
