//! Placeholder of the hub's public API (the real hub replaces it); it holds no tickets.

use std::time::Duration;

use crate::pbx::service::EventSink;
use crate::pbx::{Event, Filter};

/// Hub settings.
#[derive(Clone, Debug, Default)]
pub struct HubConfig {
    /// Ticket lifetime without a stream.
    pub unsub_delay: Duration,
    /// Tickets in total.
    pub max_tickets: usize,
    /// Tickets per owner.
    pub max_tickets_per_owner: usize,
    /// Events pending per ticket.
    pub max_pending: usize,
    /// Sweeper period.
    pub sweep_interval: Duration,
}

/// Tickets and fan-out.
#[derive(Clone, Debug)]
pub struct Hub;

/// A ticket.
#[derive(Clone, Debug)]
pub struct TicketId(String);

impl std::fmt::Display for TicketId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TicketId {
    /// The full ticket.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Hub errors.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// Unknown ticket.
    #[error("unknown or expired ticket")]
    UnknownTicket,
    /// Too many tickets.
    #[error("too many tickets")]
    TooManyTickets,
    /// Shutting down.
    #[error("the service is shutting down")]
    ShuttingDown,
    /// No randomness.
    #[error("cannot issue a ticket right now")]
    Entropy,
}

/// One serialized event.
#[derive(Clone, Debug)]
pub struct Delivery;

impl Delivery {
    /// Type.
    pub fn type_name(&self) -> &str {
        "closed"
    }
    /// Full object.
    pub fn json(&self) -> &str {
        "{}"
    }
    /// Object without type.
    pub fn data_json(&self) -> &str {
        "{}"
    }
    /// Closing event.
    pub fn is_closed(&self) -> bool {
        true
    }
}

/// An attached stream.
#[derive(Debug)]
pub struct Subscription;

impl Subscription {
    /// Next delivery.
    pub async fn recv(&mut self) -> Option<Delivery> {
        None
    }
    /// Long-poll.
    pub async fn poll(&mut self, _timeout: Duration, _gather: Duration) -> Vec<Delivery> {
        Vec::new()
    }
}

impl Hub {
    /// New hub.
    pub fn new(_config: HubConfig) -> Hub {
        Hub
    }
    /// New ticket.
    pub fn create_ticket(
        &self,
        _filter: Filter,
        _snapshot: Vec<Event>,
        _owner: Option<&str>,
    ) -> Result<TicketId, HubError> {
        Err(HubError::TooManyTickets)
    }
    /// Attach a stream.
    pub fn attach(&self, _ticket: &str) -> Result<Subscription, HubError> {
        Err(HubError::UnknownTicket)
    }
    /// Close everything.
    pub fn close_all(&self, _reason: &str) {}
    /// Live tickets.
    pub fn ticket_count(&self) -> usize {
        0
    }
}

impl EventSink for Hub {
    fn publish(&self, _events: &[Event]) {}
}
