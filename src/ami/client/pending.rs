//! ActionID correlation: who waits for which answer, list collection up to `*Complete`, and the
//! action deadlines. Pure bookkeeping, no I/O.
//!
//! Every action has the same timeout and is registered when it is written, so deadlines grow in
//! registration order and a queue replaces a timer per action.

use std::collections::{HashMap, VecDeque};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::{AmiError, AmiList, MAX_IN_FLIGHT, MAX_LIST_ITEMS};
use crate::ami::message::{AmiMessage, MessageKind};

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
    },
    /// A list that grew over [`MAX_LIST_ITEMS`]: its caller got [`AmiError::ListTooLong`]; the
    /// rest of its items are discarded up to its `*Complete` event.
    Discarding,
}

/// What became of a message offered to [`Pending::offer`].
#[derive(Debug)]
pub(super) enum Routed {
    /// It answered (or belonged to) one of our actions.
    Taken,
    /// It is an event for the consumer.
    Event(AmiMessage),
    /// A response nobody waits for (late, after a timeout): dropped, nothing to deliver.
    Stray(AmiMessage),
}

/// The table of actions waiting for an answer.
#[derive(Debug)]
pub(super) struct Pending {
    waiters: HashMap<String, Waiter>,
    deadlines: VecDeque<(Instant, String)>,
    list_limit: usize,
}

impl Default for Pending {
    fn default() -> Self {
        Self::with_list_limit(MAX_LIST_ITEMS)
    }
}

impl Pending {
    fn with_list_limit(list_limit: usize) -> Self {
        Self {
            waiters: HashMap::new(),
            deadlines: VecDeque::new(),
            list_limit,
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
        self.deadlines.push_back((deadline, id.clone()));
        self.waiters.insert(id, waiter);
    }

    /// Routes one decoded message: a response or list item of ours is taken, anything else is
    /// handed back.
    pub(super) fn offer(&mut self, msg: AmiMessage) -> Routed {
        match msg.kind() {
            MessageKind::Response => self.on_response(msg),
            MessageKind::Event => self.on_event(msg),
            _ => Routed::Stray(msg),
        }
    }

    fn on_response(&mut self, msg: AmiMessage) -> Routed {
        let Some(id) = msg.action_id() else {
            return Routed::Stray(msg);
        };
        let Some(waiter) = self.waiters.remove(id) else {
            return Routed::Stray(msg);
        };
        let refused = msg
            .response_status()
            .is_some_and(|s| s.eq_ignore_ascii_case("Error"));
        let refusal = || AmiError::Refused(msg.message().unwrap_or("(no message)").to_owned());
        match waiter {
            Waiter::Single(reply) => {
                let _ = reply.send(if refused { Err(refusal()) } else { Ok(msg) });
            }
            Waiter::List { reply, .. } if refused => {
                let _ = reply.send(Err(refusal()));
            }
            Waiter::Discarding => {}
            Waiter::List { reply, items, .. } => {
                let id = id.to_owned();
                let response = Some(msg);
                self.waiters.insert(
                    id,
                    Waiter::List {
                        reply,
                        response,
                        items,
                    },
                );
            }
        }
        Routed::Taken
    }

    fn on_event(&mut self, msg: AmiMessage) -> Routed {
        let Some(id) = msg.action_id() else {
            return Routed::Event(msg);
        };
        let complete = msg.event_name().is_some_and(is_complete_name);
        match self.waiters.get_mut(id) {
            Some(Waiter::List { items, .. }) if !complete => {
                if items.len() < self.list_limit {
                    items.push(msg);
                } else if let Some(Waiter::List { reply, .. }) =
                    self.waiters.insert(id.to_owned(), Waiter::Discarding)
                {
                    let _ = reply.send(Err(AmiError::ListTooLong {
                        limit: self.list_limit,
                    }));
                }
                Routed::Taken
            }
            Some(Waiter::Discarding) if !complete => Routed::Taken,
            Some(Waiter::List { .. } | Waiter::Discarding) => {
                let id = id.to_owned();
                if let Some(Waiter::List {
                    reply,
                    response,
                    items,
                }) = self.waiters.remove(&id)
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
                Routed::Taken
            }
            // Not a list of ours: e.g. `OriginateResponse` carrying the Originate's ActionID.
            Some(Waiter::Single(_)) | None => Routed::Event(msg),
        }
    }

    /// The earliest deadline still pending (stale entries are dropped on the way).
    pub(super) fn next_deadline(&mut self) -> Option<Instant> {
        while let Some((deadline, id)) = self.deadlines.front() {
            if self.waiters.contains_key(id) {
                return Some(*deadline);
            }
            self.deadlines.pop_front();
        }
        None
    }

    /// Fails with [`AmiError::Timeout`] every action whose deadline is at or before `now`.
    pub(super) fn expire(&mut self, now: Instant) {
        while let Some((deadline, _)) = self.deadlines.front() {
            if *deadline > now {
                return;
            }
            if let Some((_, id)) = self.deadlines.pop_front() {
                if let Some(waiter) = self.waiters.remove(&id) {
                    fail(waiter, AmiError::Timeout);
                }
            }
        }
    }

    /// Fails every waiting action (the link was lost, or the client shuts down).
    pub(super) fn fail_all(&mut self, error: impl Fn() -> AmiError) {
        self.deadlines.clear();
        for (_, waiter) in self.waiters.drain() {
            fail(waiter, error());
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
mod tests {
    use super::*;
    use std::time::Duration;

    fn list(p: &mut Pending, id: &str) -> oneshot::Receiver<Result<AmiList, AmiError>> {
        let (reply, rx) = oneshot::channel();
        let waiter = Waiter::List {
            reply,
            response: None,
            items: Vec::new(),
        };
        p.insert(id.into(), waiter, Instant::now() + Duration::from_secs(10));
        rx
    }

    fn single(
        p: &mut Pending,
        id: &str,
        deadline: Instant,
    ) -> oneshot::Receiver<Result<AmiMessage, AmiError>> {
        let (reply, rx) = oneshot::channel();
        p.insert(id.into(), Waiter::Single(reply), deadline);
        rx
    }

    fn item(id: &str, name: &str) -> AmiMessage {
        AmiMessage::event(name).with("ActionID", id)
    }

    #[test]
    fn a_list_over_the_limit_fails_and_its_rest_is_discarded() {
        let mut p = Pending::with_list_limit(2);
        let mut rx = list(&mut p, "l");
        assert!(matches!(
            p.offer(AmiMessage::response("Success").with("ActionID", "l")),
            Routed::Taken
        ));
        for _ in 0..5 {
            assert!(matches!(p.offer(item("l", "QueueMember")), Routed::Taken));
        }
        assert!(matches!(
            rx.try_recv(),
            Ok(Err(AmiError::ListTooLong { limit: 2 }))
        ));
        assert!(matches!(
            p.offer(item("l", "QueueStatusComplete")),
            Routed::Taken
        ));
        assert!(!p.contains("l"));
        assert!(matches!(
            p.offer(item("l", "QueueMember")),
            Routed::Event(_)
        ));
    }

    #[test]
    fn a_refused_list_fails_at_its_response() {
        let mut p = Pending::default();
        let mut rx = list(&mut p, "l");
        p.offer(
            AmiMessage::response("Error")
                .with("ActionID", "l")
                .with("Message", "Permission denied"),
        );
        assert!(matches!(rx.try_recv(), Ok(Err(AmiError::Refused(m))) if m == "Permission denied"));
        assert!(!p.contains("l"));
    }

    #[test]
    fn events_of_single_actions_and_stray_responses_are_not_taken() {
        let mut p = Pending::default();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut rx = single(&mut p, "o", deadline);
        assert!(matches!(
            p.offer(AmiMessage::response("Success").with("ActionID", "o")),
            Routed::Taken
        ));
        assert!(rx.try_recv().unwrap().is_ok());
        assert!(matches!(
            p.offer(item("o", "OriginateResponse")),
            Routed::Event(_)
        ));
        assert!(matches!(
            p.offer(AmiMessage::response("Success").with("ActionID", "o")),
            Routed::Stray(_)
        ));
        assert!(matches!(
            p.offer(AmiMessage::response("Success")),
            Routed::Stray(_)
        ));
    }

    #[test]
    fn expiry_follows_the_deadlines_and_skips_answered_actions() {
        let mut p = Pending::default();
        let t0 = Instant::now();
        let mut a = single(&mut p, "a", t0 + Duration::from_secs(1));
        let mut b = single(&mut p, "b", t0 + Duration::from_secs(2));
        let mut c = single(&mut p, "c", t0 + Duration::from_secs(3));
        p.offer(AmiMessage::response("Success").with("ActionID", "a"));
        assert_eq!(p.next_deadline(), Some(t0 + Duration::from_secs(2)));
        p.expire(t0 + Duration::from_secs(2));
        assert!(a.try_recv().unwrap().is_ok());
        assert!(matches!(b.try_recv(), Ok(Err(AmiError::Timeout))));
        assert!(c.try_recv().is_err(), "not yet");
        assert_eq!(p.next_deadline(), Some(t0 + Duration::from_secs(3)));
        p.fail_all(|| AmiError::Disconnected);
        assert!(matches!(c.try_recv(), Ok(Err(AmiError::Disconnected))));
        assert_eq!(p.next_deadline(), None);
    }
}
