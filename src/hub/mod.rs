//! The hub: tickets (a filter, a bounded buffer and a lifecycle each), fan-out of the model's
//! events to them, each event serialized once, expiry of abandoned tickets, and the bounds on all
//! of it.
//!
//! - [`ticket`]: [`TicketId`], the unguessable capability a browser holds.
//! - [`event_id`]: [`EventId`], `<epoch>-<seq>`, the position of a delivery in its stream.
//! - [`delivery`]: [`Delivery`], an event serialized once and shared by every ticket.
//! - [`buffer`]: the per-ticket bounded, sequence-numbered queue with its history.
//! - [`registry`]: the [`Hub`] itself, the [`Subscription`] a stream reads from, and resyncs.
//!
//! Lifecycle of a ticket:
//! 1. [`Hub::register`] (in the model task, where the snapshot is taken) stores the filter and
//!    reserves the first sequence numbers for the snapshot; [`Hub::complete`] serializes the
//!    snapshot outside the model task and puts it in front.
//! 2. Every published event that matches the filter is queued, whether a stream is attached or
//!    not, so a long-polling client loses nothing between polls.
//! 3. [`Hub::attach_resuming`] hands the queue to one stream, from just after the last id the
//!    client applied if it gives one (from the ticket's history), or with `resync` and a fresh
//!    snapshot when that cannot be done; a second attach replaces the first, which receives
//!    `closed` (`reason: "replaced"`) and ends.
//! 4. A ticket with no stream attached for `unsub_delay` is dropped and its memory freed.
//!
//! Bounds and what happens at them:
//! - `max_pending`: undelivered events per ticket (on top of its snapshot). When an event would
//!   exceed it, the ticket drops everything it holds and resyncs (`resync`, reason `overflow`,
//!   and a fresh snapshot when a stream reads it next). Memory per ticket is thus bounded, and a
//!   stuck client never slows the others.
//! - `max_pending_bytes`: serialized bytes of a ticket's undelivered events, its snapshot
//!   included. A snapshot over it refuses the ticket ([`HubError::SnapshotTooLarge`], HTTP 400);
//!   a later event over it makes the ticket resync as above.
//! - `history` and `history_bytes`: delivered events kept per ticket for a reconnect; a
//!   reconnect from before them resyncs (reason `history`). The snapshot leaves the history
//!   [`SNAPSHOT_KEPT`] (10 s) after a stream attached: it is most of an idle ticket's memory.
//! - `max_tickets` in total and `max_tickets_per_owner` per owner (the API key, or the client's
//!   address): [`HubError::TooManyTickets`] (HTTP 429). Expired tickets are swept before
//!   refusing.

pub mod buffer;
pub mod delivery;
pub mod event_id;
pub mod registry;
pub mod signed;
pub mod ticket;

use std::time::Duration;

pub use delivery::Delivery;
pub use event_id::{Epoch, EventId};
pub use registry::{Hub, Registered, Resume, Sent, SnapshotSource, Subscription, SNAPSHOT_KEPT};
pub use ticket::TicketId;

/// Settings of the hub.
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// A ticket with no stream attached for this long is dropped.
    pub unsub_delay: Duration,
    /// Tickets alive at once, in total.
    pub max_tickets: usize,
    /// Tickets alive at once per owner (API key).
    pub max_tickets_per_owner: usize,
    /// Undelivered events per ticket, besides its snapshot; beyond it the ticket is closed
    /// (`overflow`).
    pub max_pending: usize,
    /// Serialized bytes of undelivered events per ticket, snapshot included: a snapshot over it
    /// refuses the ticket, a later event over it closes the ticket (`overflow`).
    pub max_pending_bytes: usize,
    /// Delivered events kept per ticket, for a client that reconnects (`lastEventId`).
    pub history: usize,
    /// Bytes of the delivered events kept per ticket.
    pub history_bytes: usize,
    /// Signs tickets so that any instance sharing the secret serves them (`None`: tickets are
    /// random and known to this instance only).
    pub signer: Option<std::sync::Arc<signed::TicketSigner>>,
    /// How often the sweeper looks for expired tickets (at most every `unsub_delay / 4`). A
    /// ticket is dropped between `unsub_delay` and `unsub_delay + sweep_interval` after its
    /// stream went away; attaching to it fails from `unsub_delay` on exactly.
    pub sweep_interval: Duration,
    /// Where resyncs, slow tickets dropped and deliveries are counted.
    pub metrics: crate::telemetry::Metrics,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            unsub_delay: Duration::from_secs(15),
            max_tickets: 4000,
            max_tickets_per_owner: 1_000,
            max_pending: 1_000,
            max_pending_bytes: 1024 * 1024,
            history: 512,
            history_bytes: 256 * 1024,
            signer: None,
            sweep_interval: Duration::from_secs(1),
            metrics: crate::telemetry::Metrics::default(),
        }
    }
}

/// Errors of the hub.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    /// No such ticket: never issued, expired, or already closed (indistinguishable on purpose).
    #[error("unknown or expired ticket")]
    UnknownTicket,
    /// The total or per-owner ticket limit is reached.
    #[error("too many tickets")]
    TooManyTickets,
    /// The ticket's snapshot alone exceeds `max_pending_bytes`: ask for fewer agents or queues.
    #[error(
        "the ticket's snapshot exceeds limits.max_pending_bytes; ask for fewer agents or queues"
    )]
    SnapshotTooLarge,
    /// The hub is closed (the service is shutting down).
    #[error("the service is shutting down")]
    ShuttingDown,
    /// The ticket's agents and queues do not fit in a signed ticket.
    #[error(transparent)]
    TicketTooLarge(#[from] signed::TooLarge),
    /// The operating system's random generator failed; no ticket is issued without it.
    #[error("cannot issue a ticket right now")]
    Entropy,
}
