//! ActionID correlation: who waits for which answer, list collection up to `*Complete`, and the
//! action deadlines. Pure bookkeeping, no I/O.
//!
//! Every action has the same timeout and is registered when it is written, so deadlines grow in
//! registration order and a queue replaces a timer per action. Each registration gets a sequence
//! number, kept with its deadline: an entry whose action was answered (or whose ActionID now
//! belongs to a newer action) is stale and ignored, so a reused ActionID never inherits an older
//! deadline. The queue is compacted when it grows past twice [`MAX_IN_FLIGHT`], so answered
//! actions queued behind a slow one do not pile up.
//!
//! # Bounds
//! - A list stops collecting at [`MAX_LIST_ITEMS`] items or [`MAX_LIST_BYTES`] bytes, and all
//!   lists being collected together at [`MAX_LISTS_BYTES`]: the list that crosses a bound fails
//!   ([`AmiError::ListTooLong`] / [`AmiError::ListTooLarge`]), its items are freed and the rest
//!   of it is discarded up to its `*Complete` event.
//! - The items of a list action that timed out are discarded up to its `*Complete` (they are
//!   not events). The last [`MAX_EXPIRED_LISTS`] such ActionIDs are remembered; an older one's
//!   late items would reach the consumer as events (a list that late is rare, and the consumer
//!   ignores items it does not model).

use std::collections::{HashMap, VecDeque};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::{AmiError, AmiList, MAX_IN_FLIGHT, MAX_LISTS_BYTES, MAX_LIST_BYTES, MAX_LIST_ITEMS};
use crate::ami::message::{AmiMessage, MessageKind};

/// How many timed-out list ActionIDs are remembered, to discard their late items.
pub(super) const MAX_EXPIRED_LISTS: usize = 64;
/// The deadline queue is compacted when it grows past this.
const COMPACT_AT: usize = 2 * MAX_IN_FLIGHT;

/// Who waits for an answer.
#[derive(Debug)]
pub(super) enum Waiter {
    /// A plain action: the response.
    Single(oneshot::Sender<Result<AmiMessage, AmiError>>),
    /// A list action: the response, then the items up to the `*Complete` event.
    List {
        reply: oneshot::Sender<Result<AmiList, AmiError>>,
        response: Option<AmiMessage>,
        items: Vec<AmiMessage>,
        /// The bytes of `items` ([`AmiMessage::size_bytes`]).
        bytes: usize,
    },
    /// A list that crossed a bound: its caller got the error; the rest of its items are
    /// discarded up to its `*Complete` event.
    Discarding,
}

impl Waiter {
    /// A list action waiting for its response.
    pub(super) fn list(reply: oneshot::Sender<Result<AmiList, AmiError>>) -> Self {
        Self::List {
            reply,
            response: None,
            items: Vec::new(),
            bytes: 0,
        }
    }
}

/// What became of a message offered to [`Pending::offer`].
#[derive(Debug)]
pub(super) enum Routed {
    /// It answered (or belonged to) one of our actions.
    Taken,
    /// It is an event for the consumer.
    Event(AmiMessage),
    /// A response nobody waits for (late, after a timeout whose caller was told): dropped.
    Stray(AmiMessage),
    /// Neither a response nor an event: nothing we can route.
    Unroutable(AmiMessage),
}

/// The bounds of list collection.
#[derive(Clone, Copy, Debug)]
struct Limits {
    items: usize,
    list_bytes: usize,
    total_bytes: usize,
}

#[derive(Debug)]
struct Entry {
    seq: u64,
    waiter: Waiter,
}

/// The table of actions waiting for an answer.
#[derive(Debug)]
pub(super) struct Pending {
    waiters: HashMap<String, Entry>,
    deadlines: VecDeque<(Instant, u64, String)>,
    next_seq: u64,
    limits: Limits,
    /// Bytes held by all lists being collected.
    list_bytes: usize,
    /// List actions that timed out, whose late items are discarded.
    expired_lists: VecDeque<String>,
}

impl Default for Pending {
    fn default() -> Self {
        Self::with_limits(MAX_LIST_ITEMS, MAX_LIST_BYTES, MAX_LISTS_BYTES)
    }
}

impl Pending {
    fn with_limits(items: usize, list_bytes: usize, total_bytes: usize) -> Self {
        Self {
            waiters: HashMap::new(),
            deadlines: VecDeque::new(),
            next_seq: 0,
            limits: Limits {
                items,
                list_bytes,
                total_bytes,
            },
            list_bytes: 0,
            expired_lists: VecDeque::new(),
        }
    }

    /// True when `id` waits for an answer.
    pub(super) fn contains(&self, id: &str) -> bool {
        self.waiters.contains_key(id)
    }

    /// Checks that an action with `id` may be registered; nothing changes.
    pub(super) fn admit(&self, id: &str) -> Result<(), AmiError> {
        if self.waiters.len() >= MAX_IN_FLIGHT {
            return Err(AmiError::NotSent(format!(
                "{MAX_IN_FLIGHT} actions already wait for an answer"
            )));
        }
        if self.contains(id) {
            return Err(AmiError::NotSent(format!(
                "an action with ActionID {id:?} already waits for its answer"
            )));
        }
        Ok(())
    }

    /// Registers a written action (after [`Pending::admit`]).
    pub(super) fn insert(&mut self, id: String, waiter: Waiter, deadline: Instant) {
        self.next_seq += 1;
        let seq = self.next_seq;
        self.expired_lists.retain(|old| *old != id);
        self.deadlines.push_back((deadline, seq, id.clone()));
        self.waiters.insert(id, Entry { seq, waiter });
        if self.deadlines.len() > COMPACT_AT {
            let waiters = &self.waiters;
            self.deadlines
                .retain(|(_, seq, id)| waiters.get(id).is_some_and(|e| e.seq == *seq));
        }
    }

    /// Routes one decoded message: a response or list item of ours is taken, anything else is
    /// handed back.
    pub(super) fn offer(&mut self, msg: AmiMessage) -> Routed {
        match msg.kind() {
            MessageKind::Response => self.on_response(msg),
            MessageKind::Event => self.on_event(msg),
            _ => Routed::Unroutable(msg),
        }
    }

    fn on_response(&mut self, msg: AmiMessage) -> Routed {
        let Some(id) = msg.action_id() else {
            return Routed::Stray(msg);
        };
        let refused = msg
            .response_status()
            .is_some_and(|s| s.eq_ignore_ascii_case("Error"));
        match self.waiters.get_mut(id).map(|e| &mut e.waiter) {
            None => return Routed::Stray(msg),
            Some(Waiter::List { response, .. }) if !refused => {
                *response = Some(msg);
                return Routed::Taken;
            }
            Some(_) => {}
        }
        let id = id.to_owned();
        let refusal = || AmiError::Refused(msg.message().unwrap_or("(no message)").to_owned());
        match self.take(&id) {
            Some(Waiter::Single(reply)) => {
                let _ = reply.send(if refused { Err(refusal()) } else { Ok(msg) });
            }
            Some(Waiter::List { reply, .. }) => {
                let _ = reply.send(Err(refusal()));
            }
            Some(Waiter::Discarding) | None => {}
        }
        Routed::Taken
    }

    fn on_event(&mut self, msg: AmiMessage) -> Routed {
        let Some(id) = msg.action_id() else {
            return Routed::Event(msg);
        };
        let complete = msg.event_name().is_some_and(is_complete_name);
        let limits = self.limits;
        let size = msg.size_bytes();
        match self.waiters.get_mut(id).map(|e| &mut e.waiter) {
            Some(Waiter::List { items, bytes, .. }) if !complete => {
                let over = if items.len() >= limits.items {
                    Some(AmiError::ListTooLong {
                        limit: limits.items,
                    })
                } else if bytes.saturating_add(size) > limits.list_bytes {
                    Some(AmiError::ListTooLarge {
                        limit: limits.list_bytes,
                    })
                } else if self.list_bytes.saturating_add(size) > limits.total_bytes {
                    Some(AmiError::ListTooLarge {
                        limit: limits.total_bytes,
                    })
                } else {
                    None
                };
                match over {
                    None => {
                        items.push(msg);
                        *bytes += size;
                        self.list_bytes += size;
                    }
                    Some(error) => {
                        let id = id.to_owned();
                        self.discard(&id, error);
                    }
                }
                Routed::Taken
            }
            Some(Waiter::Discarding) if !complete => Routed::Taken,
            Some(Waiter::List { .. } | Waiter::Discarding) => {
                let id = id.to_owned();
                self.complete(&id, msg);
                Routed::Taken
            }
            // Not a list of ours: e.g. `OriginateResponse` carrying the Originate's ActionID.
            Some(Waiter::Single(_)) => Routed::Event(msg),
            None => match self.expired_lists.iter().position(|old| old == id) {
                Some(at) => {
                    if complete {
                        self.expired_lists.remove(at);
                    }
                    Routed::Taken
                }
                None => Routed::Event(msg),
            },
        }
    }

    /// The `*Complete` event of list `id`: its caller gets the list.
    fn complete(&mut self, id: &str, msg: AmiMessage) {
        if let Some(Waiter::List {
            reply,
            response,
            items,
            ..
        }) = self.take(id)
        {
            let _ = reply.send(match response {
                Some(response) => Ok(AmiList {
                    response,
                    items,
                    complete: msg,
                }),
                None => Err(AmiError::Refused(
                    "Asterisk ended the list before answering the action".into(),
                )),
            });
        }
    }

    /// List `id` crossed a bound: its caller gets `error`, its items are freed, the rest of it
    /// will be discarded.
    fn discard(&mut self, id: &str, error: AmiError) {
        let Some(entry) = self.waiters.get_mut(id) else {
            return;
        };
        if let Waiter::List { reply, bytes, .. } =
            std::mem::replace(&mut entry.waiter, Waiter::Discarding)
        {
            self.list_bytes = self.list_bytes.saturating_sub(bytes);
            let _ = reply.send(Err(error));
        }
    }

    /// Removes `id`, releasing the bytes its list held.
    fn take(&mut self, id: &str) -> Option<Waiter> {
        let waiter = self.waiters.remove(id)?.waiter;
        if let Waiter::List { bytes, .. } = &waiter {
            self.list_bytes = self.list_bytes.saturating_sub(*bytes);
        }
        Some(waiter)
    }

    fn is_current(&self, id: &str, seq: u64) -> bool {
        self.waiters.get(id).is_some_and(|e| e.seq == seq)
    }

    /// The earliest deadline still pending (stale entries are dropped on the way).
    pub(super) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some((deadline, seq, id)) = self.deadlines.front() {
            if self.is_current(id, *seq) {
                return Some(*deadline);
            }
            self.deadlines.pop_front();
        }
        None
    }

    /// Fails with [`AmiError::Timeout`] every action whose deadline is at or before `now`.
    pub(super) fn expire(&mut self, now: Instant) {
        while self.deadlines.front().is_some_and(|(d, _, _)| *d <= now) {
            let Some((_, seq, id)) = self.deadlines.pop_front() else {
                return;
            };
            if !self.is_current(&id, seq) {
                continue;
            }
            if let Some(waiter) = self.take(&id) {
                if matches!(waiter, Waiter::List { .. } | Waiter::Discarding) {
                    if self.expired_lists.len() >= MAX_EXPIRED_LISTS {
                        self.expired_lists.pop_front();
                    }
                    self.expired_lists.push_back(id);
                }
                fail(waiter, AmiError::Timeout);
            }
        }
    }

    /// Fails every waiting action (the link was lost, or the client shuts down).
    pub(super) fn fail_all(&mut self, error: impl Fn() -> AmiError) {
        self.deadlines.clear();
        self.expired_lists.clear();
        self.list_bytes = 0;
        for (_, entry) in self.waiters.drain() {
            fail(entry.waiter, error());
        }
    }
}

pub(super) fn fail(waiter: Waiter, error: AmiError) {
    match waiter {
        Waiter::Single(reply) => {
            let _ = reply.send(Err(error));
        }
        Waiter::List { reply, .. } => {
            let _ = reply.send(Err(error));
        }
        Waiter::Discarding => {}
    }
}

/// True for `...Complete` (case-insensitive), the end of every list.
fn is_complete_name(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 8 && b[b.len() - 8..].eq_ignore_ascii_case(b"Complete")
}

#[cfg(test)]
mod tests;
