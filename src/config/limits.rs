//! The `[limits]` section: every bound on what clients may ask for and hold, with its default.

use serde::{Deserialize, Serialize};

/// Bounds on what clients may ask for. When a bound is hit the request is refused with a JSON
/// error (400, 413 or 429) and nothing changes.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body (413 above).
    pub max_body_bytes: usize,
    /// Largest request head: the URI plus every header name and value (431 above).
    pub max_header_bytes: usize,
    /// Most agents one ticket may ask for (400 above).
    pub max_agents_per_ticket: usize,
    /// Most queues one ticket may ask for (400 above).
    pub max_queues_per_ticket: usize,
    /// Most agent × queue pairs one ticket may ask for (400 above): its snapshot holds one
    /// entry per pair. An agent-only or queue-only ticket counts its agents or queues.
    pub max_pairs_per_ticket: usize,
    /// Most live tickets in total (429 above).
    pub max_tickets: usize,
    /// Most live tickets per API key, or per client address when the service has no keys (429
    /// above).
    pub max_tickets_per_owner: usize,
    /// Undelivered events kept per ticket (a client that does not keep up): above it the
    /// ticket drops them and its stream resyncs (`resync`, reason `overflow`, and a fresh
    /// snapshot).
    pub max_pending_events: usize,
    /// Serialized bytes kept per ticket while undelivered, its snapshot included: a ticket
    /// whose snapshot alone is larger is refused (400); a later event over it makes the ticket
    /// resync as above.
    pub max_pending_bytes: usize,
    /// Delivered events kept per ticket, so that a client that reconnects with the id of the
    /// last event it applied gets exactly what it missed (older: `resync`).
    pub max_history_events: usize,
    /// Serialized bytes of those events per ticket.
    pub max_history_bytes: usize,
    /// Concurrent streams (long-poll, SSE, WebSocket) per client address (429 above).
    pub max_streams_per_client: usize,
    /// Open TCP connections at once. Above it the server stops accepting until one closes (new
    /// clients wait in the kernel's backlog, and may time out there).
    pub max_connections: usize,
    /// Seconds a connection may take to send a complete request head (HTTP/1); beyond it the
    /// connection is closed.
    pub header_read_timeout_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 * 1024,
            max_header_bytes: 16 * 1024,
            max_agents_per_ticket: 1000,
            max_queues_per_ticket: 200,
            max_pairs_per_ticket: 5000,
            max_tickets: 4000,
            max_tickets_per_owner: 1000,
            max_pending_events: 10_000,
            max_pending_bytes: 1024 * 1024,
            max_history_events: 512,
            max_history_bytes: 256 * 1024,
            max_streams_per_client: 64,
            max_connections: 10_000,
            header_read_timeout_seconds: 10,
        }
    }
}
