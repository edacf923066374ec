//! Event ids: the position of a delivery in its ticket's stream, `<epoch>-<seq>` (`3f2a9c01-1042`).
//! The [`Epoch`] is random and new at every start of the service (every [`crate::hub::Hub`]), so
//! an id from another run, or from another instance behind the same load balancer, is never taken
//! for a local position; `seq` is the ticket's own sequence number (1, 2, 3, ...), never reused.
//!
//! A client presents the last id it applied when it reconnects (SSE `Last-Event-ID`,
//! `?lastEventId=`); [`EventId::parse`] accepts exactly the form [`EventId`]'s `Display` writes.

use rand::rngs::OsRng;
use rand::RngCore;
use std::fmt;

/// Hex digits of an epoch.
const EPOCH_LEN: usize = 8;
/// Most decimal digits of a sequence number (`u64::MAX` has 20).
const MAX_SEQ_DIGITS: usize = 20;

/// One run of the service: ids of another epoch are not positions in this run's streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Epoch(u32);

impl Epoch {
    /// A fresh random epoch (from the OS generator; a failing generator still gives a value from
    /// the thread generator: an epoch is not a secret, only unlikely to repeat).
    pub fn generate() -> Epoch {
        let mut bytes = [0u8; 4];
        if OsRng.try_fill_bytes(&mut bytes).is_err() {
            bytes = rand::random();
        }
        Epoch(u32::from_be_bytes(bytes))
    }

    /// A given epoch (tests).
    pub fn from_raw(raw: u32) -> Epoch {
        Epoch(raw)
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// The position of one delivery: its ticket's sequence number in one epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventId {
    /// The run that numbered it.
    pub epoch: Epoch,
    /// The ticket's sequence number.
    pub seq: u64,
}

/// An id that is not of the form `<8 hex digits>-<decimal>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("an event id is <8 lowercase hex digits>-<sequence number>")]
pub struct MalformedId;

impl EventId {
    /// Parses `3f2a9c01-1042`. Only lowercase hex and plain decimal digits, so every id has one
    /// spelling.
    pub fn parse(text: &str) -> Result<EventId, MalformedId> {
        let (epoch, seq) = text.split_once('-').ok_or(MalformedId)?;
        let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        if epoch.len() != EPOCH_LEN || !epoch.bytes().all(hex) {
            return Err(MalformedId);
        }
        if seq.is_empty() || seq.len() > MAX_SEQ_DIGITS || !seq.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(MalformedId);
        }
        Ok(EventId {
            epoch: Epoch(u32::from_str_radix(epoch, 16).map_err(|_| MalformedId)?),
            seq: seq.parse().map_err(|_| MalformedId)?,
        })
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.epoch, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let id = EventId {
            epoch: Epoch::from_raw(0x3f2a_9c01),
            seq: 1042,
        };
        assert_eq!(id.to_string(), "3f2a9c01-1042");
        assert_eq!(EventId::parse("3f2a9c01-1042"), Ok(id));
        let max = EventId {
            epoch: Epoch::from_raw(0),
            seq: u64::MAX,
        };
        assert_eq!(EventId::parse(&max.to_string()), Ok(max));
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "",
            "-",
            "3f2a9c01",
            "3f2a9c01-",
            "3F2A9C01-1",
            "3f2a9c0-1",
            "3f2a9c011-1",
            "3f2a9c01--1",
            "3f2a9c01-+1",
            "3f2a9c01-1x",
            "3f2a9c01-99999999999999999999",
            "3f2a9c01-184467440737095516150",
            "zzzzzzzz-1",
            "3f2a9c01-1\r\n",
        ] {
            assert_eq!(EventId::parse(bad), Err(MalformedId), "{bad:?}");
        }
    }

    #[test]
    fn epochs_differ() {
        let epochs: std::collections::HashSet<Epoch> = (0..64).map(|_| Epoch::generate()).collect();
        assert!(epochs.len() > 60);
    }
}
