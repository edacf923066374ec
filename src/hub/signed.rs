//! Signed tickets: self-contained, so that any instance sharing the secret can serve any ticket.
//! A signed ticket carries its filter, its owner, when it was issued and how long it lives,
//! authenticated with HMAC-SHA256 under the shared secret; an instance that has never seen it
//! accepts it when the signature and the age are valid.
//!
//! Wire form: base64url (no padding) of `payload || tag`, where `payload` is
//! `version (1) | key id (4) | issued, unix seconds (4) | lifetime, seconds (4) | nonce (8) |
//! flags (1) | owner (1 + n) | agents (2 + each 1 + n) | queues (2 + each 1 + n)` and `tag` is the
//! first 16 bytes (128 bits) of HMAC-SHA256(secret, payload). An agent page's ticket (one agent,
//! two queues) is about 80 characters; a supervisor's of 50 agents and 10 queues about 400.
//!
//! Key rotation: tickets are signed with the current secret and verified with it or any of the
//! previous ones, named by a key id (the first 4 bytes of HMAC-SHA256(secret, "key id")) so
//! that only one MAC is computed per ticket. A ticket of a key no longer configured, a tampered
//! one, an expired one and garbage are all refused alike ([`Refused`]), with no detail.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::pbx::{AgentId, Filter, QueueName};

type HmacSha256 = Hmac<Sha256>;

const VERSION: u8 = 1;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + 4 + 4 + 4 + 8;
/// A ticket issued up to this far in the future (clocks of instances a little apart) is valid.
const CLOCK_SKEW_SECONDS: u64 = 60;
/// Shortest secret accepted.
pub const MIN_SECRET_LEN: usize = 32;

/// A ticket that is not valid here: forged, tampered, expired, of an unknown key, or garbage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a valid ticket")]
pub struct Refused;

/// The ticket's filter is too large for a portable ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the ticket's agents and queues exceed {max} bytes (tickets.max_filter_bytes)")]
pub struct TooLarge {
    /// The bound.
    pub max: usize,
}

/// What a signed ticket says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    /// What it subscribes to.
    pub filter: Filter,
    /// Whose it is (counts towards the owner's ticket limit).
    pub owner: Option<String>,
    /// Issued at, unix seconds.
    pub issued: u64,
    /// Valid for, seconds.
    pub lifetime: u32,
}

struct Key {
    id: [u8; 4],
    mac: HmacSha256,
}

impl Key {
    fn new(secret: &[u8]) -> Key {
        // HMAC takes keys of any length.
        let mac = HmacSha256::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
        let mut id_mac = mac.clone();
        id_mac.update(b"key id");
        let digest = id_mac.finalize().into_bytes();
        Key {
            id: [digest[0], digest[1], digest[2], digest[3]],
            mac,
        }
    }

    fn tag(&self, payload: &[u8]) -> [u8; TAG_LEN] {
        let mut mac = self.mac.clone();
        mac.update(payload);
        let digest = mac.finalize().into_bytes();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&digest[..TAG_LEN]);
        tag
    }
}

/// Signs and verifies tickets.
pub struct TicketSigner {
    current: Key,
    previous: Vec<Key>,
    lifetime: u32,
    max_filter_bytes: usize,
}

impl std::fmt::Debug for TicketSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketSigner")
            .field("previous_keys", &self.previous.len())
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl TicketSigner {
    /// Signs with `secret`, verifies with it and `previous`; tickets live `lifetime` seconds and
    /// hold at most `max_filter_bytes` of owner, agents and queues.
    pub fn new(secret: &str, previous: &[String], lifetime: u32, max_filter_bytes: usize) -> Self {
        TicketSigner {
            current: Key::new(secret.as_bytes()),
            previous: previous.iter().map(|s| Key::new(s.as_bytes())).collect(),
            lifetime,
            max_filter_bytes,
        }
    }

    /// A signed ticket for `filter` and `owner`, issued now.
    pub fn sign(&self, filter: &Filter, owner: Option<&str>) -> Result<String, TooLarge> {
        let mut nonce = [0u8; 8];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut nonce);
        self.sign_at(filter, owner, now(), nonce)
    }

    /// [`TicketSigner::sign`] as if issued at `issued` (unix seconds) with `nonce`: for tests
    /// and tools that need a ticket of a given age.
    pub fn sign_at(
        &self,
        filter: &Filter,
        owner: Option<&str>,
        issued: u64,
        nonce: [u8; 8],
    ) -> Result<String, TooLarge> {
        let mut payload = Vec::with_capacity(64);
        payload.push(VERSION);
        payload.extend_from_slice(&self.current.id);
        payload.extend_from_slice(&u32::try_from(issued).unwrap_or(u32::MAX).to_be_bytes());
        payload.extend_from_slice(&self.lifetime.to_be_bytes());
        payload.extend_from_slice(&nonce);
        payload.push(u8::from(filter.summary));
        let too_large = TooLarge {
            max: self.max_filter_bytes,
        };
        push_text(&mut payload, owner.unwrap_or("")).map_err(|_| too_large)?;
        push_list(&mut payload, filter.agents.iter().map(AgentId::as_str))
            .map_err(|_| too_large)?;
        push_list(&mut payload, filter.queues.iter().map(QueueName::as_str))
            .map_err(|_| too_large)?;
        if payload.len() - HEADER_LEN - 1 > self.max_filter_bytes {
            return Err(too_large);
        }
        let tag = self.current.tag(&payload);
        payload.extend_from_slice(&tag);
        Ok(URL_SAFE_NO_PAD.encode(payload))
    }

    /// The claims of a valid ticket, now.
    pub fn verify(&self, ticket: &str) -> Result<Claims, Refused> {
        self.verify_at(ticket, now())
    }

    fn verify_at(&self, ticket: &str, now: u64) -> Result<Claims, Refused> {
        // Base64 of the largest valid ticket, and no more work than that for garbage.
        let max_len = (HEADER_LEN + 1 + self.max_filter_bytes + TAG_LEN) * 4 / 3 + 4;
        if ticket.len() > max_len {
            return Err(Refused);
        }
        let bytes = URL_SAFE_NO_PAD.decode(ticket).map_err(|_| Refused)?;
        if bytes.len() < HEADER_LEN + 1 + TAG_LEN || bytes[0] != VERSION {
            return Err(Refused);
        }
        let (payload, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == payload[1..5])
            .ok_or(Refused)?;
        let mut mac = key.mac.clone();
        mac.update(payload);
        mac.verify_truncated_left(tag).map_err(|_| Refused)?;
        let claims = parse(payload).ok_or(Refused)?;
        let expires = claims.issued + u64::from(claims.lifetime);
        if claims.issued > now + CLOCK_SKEW_SECONDS || now >= expires {
            return Err(Refused);
        }
        Ok(claims)
    }
}

/// The payload's claims (its tag already checked, so only a bug could make this fail).
fn parse(payload: &[u8]) -> Option<Claims> {
    let u32_at = |at: usize| {
        Some(u32::from_be_bytes(
            payload.get(at..at + 4)?.try_into().ok()?,
        ))
    };
    let issued = u64::from(u32_at(5)?);
    let lifetime = u32_at(9)?;
    let mut rest = payload.get(HEADER_LEN..)?;
    let summary = take(&mut rest, 1)?[0] & 1 == 1;
    let owner = take_text(&mut rest)?;
    let agents = take_list(&mut rest, AgentId::parse)?;
    let queues = take_list(&mut rest, QueueName::parse)?;
    if !rest.is_empty() {
        return None;
    }
    let mut filter = Filter::new(agents, queues);
    filter.summary = summary;
    Some(Claims {
        filter,
        owner: (!owner.is_empty()).then(|| owner.to_owned()),
        issued,
        lifetime,
    })
}

fn push_text(out: &mut Vec<u8>, text: &str) -> Result<(), ()> {
    out.push(u8::try_from(text.len()).map_err(|_| ())?);
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

fn push_list<'a>(
    out: &mut Vec<u8>,
    items: impl ExactSizeIterator<Item = &'a str>,
) -> Result<(), ()> {
    out.extend_from_slice(&u16::try_from(items.len()).map_err(|_| ())?.to_be_bytes());
    items.into_iter().try_for_each(|item| push_text(out, item))
}

fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, tail) = (rest.get(..n)?, rest.get(n..)?);
    *rest = tail;
    Some(head)
}

fn take_text<'a>(rest: &mut &'a [u8]) -> Option<&'a str> {
    let len = usize::from(take(rest, 1)?[0]);
    std::str::from_utf8(take(rest, len)?).ok()
}

fn take_list<T, E>(rest: &mut &[u8], parse: impl Fn(&str) -> Result<T, E>) -> Option<Vec<T>> {
    let count = u16::from_be_bytes(take(rest, 2)?.try_into().ok()?);
    (0..count).map(|_| parse(take_text(rest)?).ok()).collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
