//! The callers waiting in each queue, in line order, for `queueCallers`: a caller is listed from
//! `QueueCallerJoin` (or a `QueueEntry` of a rebuild) until `QueueCallerLeave`,
//! `QueueCallerAbandon` or the `Hangup` of its channel. Positions are renumbered as app_queue
//! does when someone ahead leaves. One `queueCallers` event goes out per change of the list:
//! an abandon followed by its leave is one event (the leave changes nothing more).
//!
//! Bound: at most [`MAX_WAITING`] callers listed per queue; a caller joining a full list is not
//! listed (`queueCount` stays exact). The list keeps the callers ahead, who are served first.

use std::time::{SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use super::codes;
use super::event::{Event, WaitingCaller};
use super::ids::QueueName;
use super::state::{field, State};
use crate::ami::AmiMessage;

/// Most callers listed per queue.
pub const MAX_WAITING: usize = 500;

/// Wall-clock time as the model tells it: the epoch time when the model was made, advanced by
/// the model's own (tokio) clock, so that `joined` agrees with the waits measured on that clock
/// (`QueueEntry`'s `Wait`, the wallboard's longest wait).
#[derive(Clone, Copy, Debug)]
pub struct WallClock {
    base: Instant,
    base_epoch_ms: u64,
}

impl WallClock {
    /// A clock anchored now.
    pub fn new() -> Self {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self {
            base: Instant::now(),
            base_epoch_ms: ms,
        }
    }

    /// Epoch seconds (rounded) of the moment `waited` seconds ago.
    pub fn epoch_secs_ago(&self, waited: u64) -> u64 {
        let elapsed = Instant::now()
            .saturating_duration_since(self.base)
            .as_millis();
        let now_ms = self
            .base_epoch_ms
            .saturating_add(u64::try_from(elapsed).unwrap_or(u64::MAX));
        now_ms
            .saturating_sub(waited.saturating_mul(1000))
            .saturating_add(500)
            / 1000
    }
}

impl Default for WallClock {
    fn default() -> Self {
        Self::new()
    }
}

/// One waiting caller as the model keeps it (its position is its index in the list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// The caller's channel uniqueid.
    pub uid: String,
    /// Caller id number.
    pub number: String,
    /// Caller id name.
    pub name: Option<String>,
    /// When it joined, epoch seconds.
    pub joined: u64,
}

/// The `queueCallers` event of a list.
pub(super) fn callers_event(queue: &QueueName, list: &[Waiting]) -> Event {
    let callers = list
        .iter()
        .enumerate()
        .map(|(i, w)| WaitingCaller {
            unique_id: w.uid.clone(),
            caller_id: w.number.clone(),
            name: w.name.clone(),
            position: u32::try_from(i + 1).unwrap_or(u32::MAX),
            joined: w.joined,
        })
        .collect();
    Event::QueueCallers {
        queue: queue.clone(),
        callers,
    }
}

impl State {
    /// A caller joins `queue` at `Position` (1 = first), having waited `waited` seconds.
    pub(super) fn list_caller(&mut self, msg: &AmiMessage, waited: u64, out: &mut Vec<Event>) {
        let (Some(queue), Some(uid)) = (field(msg, "Queue"), field(msg, "Uniqueid")) else {
            return;
        };
        let Ok(name) = QueueName::parse(queue) else {
            return;
        };
        let clock = self.clock;
        let Some(q) = self.queues.get_mut(&name) else {
            return;
        };
        let before = q.waiting.clone();
        q.waiting.retain(|w| w.uid != uid);
        let joined = before
            .iter()
            .find(|w| w.uid == uid)
            .map_or_else(|| clock.epoch_secs_ago(waited), |w| w.joined);
        let position = usize::try_from(codes::uint(msg.get("Position")).max(1)).unwrap_or(1);
        let at = (position - 1).min(q.waiting.len());
        if q.waiting.len() < MAX_WAITING {
            let w = Waiting {
                uid: uid.to_owned(),
                number: codes::number(msg.get("CallerIDNum")),
                name: codes::name(msg.get("CallerIDName")),
                joined,
            };
            q.waiting.insert(at, w);
        }
        if q.waiting != before {
            out.push(callers_event(&name, &q.waiting));
        }
    }

    /// The caller `uid` is no longer waiting in `queue` (every queue when `None`).
    pub(super) fn unlist_caller(&mut self, queue: Option<&str>, uid: &str, out: &mut Vec<Event>) {
        let only = queue.and_then(|q| QueueName::parse(q).ok());
        let queue = only.or_else(|| self.callers.get(uid).map(|c| c.queue.clone()));
        let Some(name) = queue else {
            return;
        };
        let Some(q) = self.queues.get_mut(&name) else {
            return;
        };
        let before = q.waiting.len();
        q.waiting.retain(|w| w.uid != uid);
        if q.waiting.len() != before {
            out.push(callers_event(&name, &q.waiting));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::names::Location;
    use super::*;

    fn join(uid: &str, position: usize) -> AmiMessage {
        AmiMessage::event("QueueCallerJoin")
            .with("Queue", "q1")
            .with("Uniqueid", uid)
            .with("Position", position.to_string())
            .with("Count", position.to_string())
    }

    #[test]
    fn at_the_bound_later_callers_are_not_listed_and_the_count_stays_exact() {
        let mut s = State::new(Location::parse("PJSIP/{agent}").unwrap(), "hints");
        for i in 1..=MAX_WAITING + 3 {
            s.apply(&join(&format!("1.{i}"), i));
        }
        let q1 = QueueName::parse("q1").unwrap();
        let q = &s.queues()[&q1];
        assert_eq!(q.waiting.len(), MAX_WAITING);
        assert_eq!(q.count as usize, MAX_WAITING + 3);
        assert_eq!(q.waiting[0].uid, "1.1", "the callers ahead are kept");
        // One ahead leaves: the list has room for the next who joins.
        let mut out = Vec::new();
        s.unlist_caller(Some("q1"), "1.1", &mut out);
        assert_eq!(out.len(), 1);
        s.apply(&join("9.9", MAX_WAITING + 3));
        assert_eq!(s.queues()[&q1].waiting.len(), MAX_WAITING);
        assert_eq!(s.queues()[&q1].waiting.last().unwrap().uid, "9.9");
    }
}
