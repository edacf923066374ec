//! Taking up a signed ticket this instance does not hold (another instance issued it, or it
//! expired here): verified outside the hub's lock, then registered stale, so that its stream
//! starts with `resync` (`revived`) and a fresh snapshot.

use std::sync::Arc;
use tokio::time::Instant;

use super::state::{State, Ticket};
use super::{bounds, Hub, RESYNC_REVIVED};
use crate::hub::buffer::TicketBuffer;
use crate::hub::ticket::TicketKey;
use crate::hub::HubError;

impl Hub {
    /// A ticket this instance does not hold (issued by another, or expired here): if it is
    /// signed and valid, a new ticket of its filter and owner, to start with `resync` and a
    /// fresh snapshot.
    pub(super) fn revive(&self, ticket: &str) -> Result<Ticket, HubError> {
        let signer = self.shared.config.signer.as_ref();
        let claims = signer
            .and_then(|s| s.verify(ticket).ok())
            .ok_or(HubError::UnknownTicket)?;
        let mut buffer = TicketBuffer::new(bounds(&self.shared.config));
        buffer.go_stale(RESYNC_REVIVED);
        Ok(Ticket {
            label: crate::hub::ticket::redact(ticket),
            filter: claims.filter,
            owner: claims.owner.map(Arc::from),
            buffer,
            stream: None,
            detached_since: Instant::now(),
        })
    }

    /// Puts a revived ticket in place of an expired one, within the limits.
    pub(super) fn insert_revived(
        &self,
        state: &mut State,
        key: TicketKey,
        ticket: Ticket,
    ) -> Result<(), HubError> {
        let config = &self.shared.config;
        if state.shutting_down {
            return Err(HubError::ShuttingDown);
        }
        state.remove(&key);
        if !state.has_room(config, ticket.owner.as_deref()) {
            state.sweep(Instant::now(), config.unsub_delay);
            if !state.has_room(config, ticket.owner.as_deref()) {
                return Err(HubError::TooManyTickets);
            }
        }
        tracing::debug!(ticket = %ticket.label, "signed ticket taken up");
        state.insert(key, ticket);
        Ok(())
    }
}
