//! Where a reconnecting stream resumes: the id of the last event its client applied, checked
//! against this run's epoch and the ticket's history. Exactly the events after it are handed out
//! again, or the ticket resyncs with the reason why it could not be done.

use super::{RESYNC_EPOCH, RESYNC_HISTORY, RESYNC_UNKNOWN_ID};
use crate::hub::buffer::{Phase, TicketBuffer};
use crate::hub::event_id::{Epoch, EventId, MalformedId};

/// Where a reconnecting stream resumes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Resume<'a> {
    /// The id of the last event the client applied, as it sent it.
    pub last_event_id: Option<&'a str>,
    /// Forget the history up to that id (a long poll's acknowledgement).
    pub acknowledge: bool,
}

/// Rewinds `buffer` to just after `last`, or makes it resync. Ignored while a resync is under
/// way already (the client gets it anyway).
pub(super) fn resume_from(
    buffer: &mut TicketBuffer,
    last: Result<EventId, MalformedId>,
    epoch: Epoch,
    acknowledge: bool,
) {
    if buffer.phase() != Phase::Live || buffer.is_closed() {
        return;
    }
    let reason = match last {
        Err(_) => RESYNC_UNKNOWN_ID,
        Ok(id) if id.epoch != epoch => RESYNC_EPOCH,
        Ok(id) if id.seq >= buffer.next_seq() => RESYNC_UNKNOWN_ID,
        Ok(id) => match buffer.rewind(id.seq, acknowledge) {
            Ok(()) => return,
            Err(_) => RESYNC_HISTORY,
        },
    };
    buffer.go_stale(reason);
}
