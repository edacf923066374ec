//! Ticket identifiers: capabilities of 128 random bits from the operating system's CSPRNG,
//! written as 32 lowercase hex characters (URL-safe), or signed tickets
//! ([`crate::hub::signed`]) when instances share a secret, known in the hub's map by the first
//! 128 bits of their SHA-256. `Debug` and `Display` show only a short
//! prefix, so a ticket never lands in a log in full; [`TicketId::as_str`] and `Serialize` give the
//! whole value, for the one response that hands it to its client.

use rand::rngs::OsRng;
use rand::RngCore;
use serde::Serialize;
use std::fmt;

/// Random bytes in a ticket (128 bits).
pub const TICKET_BYTES: usize = 16;

/// Characters of a ticket as text (hex).
pub const TICKET_LEN: usize = TICKET_BYTES * 2;

/// Hex characters shown by `Debug` and `Display`: enough to tell tickets apart in a log, far too
/// few to use one (16 of 128 bits).
const SHOWN: usize = 4;

/// The map key of a ticket: its raw random bytes.
pub(crate) type TicketKey = [u8; TICKET_BYTES];

/// A ticket: the capability a browser holds to read one subscription's events.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TicketId {
    text: String,
}

impl TicketId {
    /// A fresh ticket from the OS CSPRNG; `None` if the generator failed (no fallback to a
    /// weaker source).
    pub(crate) fn generate() -> Option<(TicketId, TicketKey)> {
        let mut key = [0u8; TICKET_BYTES];
        OsRng.try_fill_bytes(&mut key).ok()?;
        Some((Self::from_key(&key), key))
    }

    fn from_key(key: &TicketKey) -> TicketId {
        TicketId {
            text: hex::encode(key),
        }
    }

    /// A signed ticket and its map key.
    pub(crate) fn signed(token: String) -> (TicketId, TicketKey) {
        let key = digest_key(&token);
        (TicketId { text: token }, key)
    }

    /// The map key of a ticket as a client presents it, `None` if it is not a well-formed ticket.
    /// A random ticket is lowercase hex only, so each has exactly one spelling; anything else of
    /// a signed ticket's alphabet is looked up by digest (and verified before it is trusted).
    pub(crate) fn key_of(text: &str) -> Option<TicketKey> {
        let hex = |b: u8| matches!(b, b'0'..=b'9' | b'a'..=b'f');
        if text.len() == TICKET_LEN && text.bytes().all(hex) {
            let mut key = [0u8; TICKET_BYTES];
            hex::decode_to_slice(text, &mut key).ok()?;
            return Some(key);
        }
        let alphabet = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        if text.len() <= TICKET_LEN || text.len() > MAX_SIGNED_LEN || !text.bytes().all(alphabet) {
            return None;
        }
        Some(digest_key(text))
    }

    /// The whole ticket. It is a secret: hand it to its client, never log it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The redacted form used by `Debug` and `Display`: a short prefix and an ellipsis.
    pub fn redacted(&self) -> String {
        redact(&self.text)
    }
}

/// The redacted form of any ticket-like string (for logging what a client presented): a short
/// prefix of a random ticket; of a signed one (whose first characters are the same for every
/// ticket of a key) a short prefix of its digest.
pub fn redact(text: &str) -> String {
    if text.len() > TICKET_LEN {
        let digest = hex::encode(&digest_key(text)[..SHOWN / 2]);
        return format!("s{digest}…");
    }
    let prefix: String = text.chars().take(SHOWN).collect();
    format!("{prefix}…")
}

/// Longest signed ticket looked up (longer ones are refused before any work).
const MAX_SIGNED_LEN: usize = 8192;

fn digest_key(text: &str) -> TicketKey {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let mut key = [0u8; TICKET_BYTES];
    key.copy_from_slice(&digest[..TICKET_BYTES]);
    key
}

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TicketId({})", self.redacted())
    }
}

impl Serialize for TicketId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tickets_are_32_lowercase_hex_and_distinct() {
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            let (id, key) = TicketId::generate().unwrap();
            assert_eq!(id.as_str().len(), TICKET_LEN);
            assert!(id
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            assert_eq!(TicketId::key_of(id.as_str()), Some(key));
            assert!(seen.insert(key), "a repeated ticket");
        }
    }

    #[test]
    fn every_bit_position_varies() {
        // 256 tickets: each of the 128 bits is set in some and clear in others (a stuck bit
        // would show; the chance of a false failure is 128 * 2^-255).
        let keys: Vec<TicketKey> = (0..256).map(|_| TicketId::generate().unwrap().1).collect();
        for bit in 0..TICKET_BYTES * 8 {
            let ones = keys
                .iter()
                .filter(|k| k[bit / 8] & (1 << (bit % 8)) != 0)
                .count();
            assert!(ones > 0 && ones < keys.len(), "bit {bit} never changes");
        }
    }

    #[test]
    fn debug_and_display_show_a_prefix_only() {
        let (id, _) = TicketId::generate().unwrap();
        let shown = [format!("{id}"), format!("{id:?}")];
        for s in shown {
            assert!(!s.contains(id.as_str()));
            assert!(s.contains(&id.as_str()[..SHOWN]));
            assert!(!s.contains(&id.as_str()[..SHOWN + 1]));
        }
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            format!("\"{}\"", id.as_str())
        );
    }

    #[test]
    fn malformed_tickets_have_no_key() {
        let (id, key) = TicketId::generate().unwrap();
        // Longer: a signed ticket's form, looked up by digest, never as the random one.
        let longer = format!("{}0", id.as_str());
        assert_ne!(TicketId::key_of(&longer), Some(key));
        assert_eq!(TicketId::key_of(&"A".repeat(MAX_SIGNED_LEN + 1)), None);
        assert_eq!(TicketId::key_of(&format!("{longer}.")), None);
        for bad in [
            "",
            &id.as_str()[1..],
            &id.as_str().to_uppercase(),
            "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
            "ééééééééééééééee",
        ] {
            if bad != id.as_str() {
                assert_eq!(TicketId::key_of(bad), None, "{bad:?}");
            }
        }
    }
}
