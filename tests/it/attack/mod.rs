//! The attack suite: the whole service (HTTP, model, AMI client) against the simulated Asterisk,
//! both on port 0, attacked the way a stranger, a client with the wrong key, or a hostile web page
//! would. Every attack must get the right refusal (status and JSON error) and must not make the
//! service send Asterisk anything beyond its own read-only polling.
//!
//! - [`helpers`]: the harness (simulator, service, keys, checks).
//! - [`keys`]: every endpoint without a key, with a wrong key, a key of the wrong scope, and a key
//!   restricted to other agents and queues.
//! - [`injection`]: CR, LF, NUL and other control characters in every parameter of every endpoint,
//!   in the query string, the JSON body and the path.
//! - [`limits`]: oversized bodies, too many agents, ticket guessing and expiry.
//! - [`browser`]: CORS preflights and WebSocket upgrades from allowed and foreign origins.
//! - [`open`]: the service without keys: loopback only, no DNS rebinding, no cross-site requests.
//! - [`paths`]: undecodable path parameters and WebSocket routes without an upgrade.
//! - [`tickets`]: forged, tampered, expired and rotated-out signed tickets.
//! - [`restricted`]: a key restricted to some agents only: members it sees, resets it may do.
//! - [`leaks`]: no key, ticket or AMI secret in logs, `Debug` output or responses; oversized
//!   headers.

mod browser;
mod helpers;
mod injection;
mod keys;
mod leaks;
mod limits;
mod open;
mod paths;
mod restricted;
mod tickets;
