//! Queues: waiting callers (`QueueCallerJoin/Leave`, `QueueEntry` list items), the queue's
//! figures from `QueueParams`, and what the wallboard derives from the state (longest wait,
//! logged-in and available members). The list of waiting callers itself is kept in
//! `waiting.rs`. The figures kept from calls (abandoned, completed, hold
//! and talk time) are updated where the calls are handled (`calls.rs`).

use std::collections::HashMap;

use tokio::time::Instant;

use super::codes;
use super::event::{DeviceStatus, Event};
use super::ids::QueueName;
use super::state::{field, Caller, QueueStats, State};
use crate::ami::AmiMessage;

impl State {
    pub(super) fn set_count(&mut self, queue: &str, count: u32, out: &mut Vec<Event>) {
        if let Some((name, q)) = self.queue_mut(queue) {
            if q.count != count {
                q.count = count;
                out.push(Event::QueueCount { queue: name, count });
            }
        }
    }

    pub(super) fn caller_join(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some(queue) = field(msg, "Queue") else {
            return;
        };
        let count = codes::uint(msg.get("Count")) as u32;
        if let (Some(uid), Ok(queue)) = (field(msg, "Uniqueid"), QueueName::parse(queue)) {
            let caller = Caller {
                queue,
                waiting_since: Some(Instant::now()),
            };
            self.callers.insert(uid.to_owned(), caller);
        }
        self.set_count(queue, count, out);
        self.list_caller(msg, 0, out);
    }

    pub(super) fn caller_leave(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some(queue) = field(msg, "Queue") else {
            return;
        };
        let count = codes::uint(msg.get("Count")) as u32;
        self.set_count(queue, count, out);
        if let Some(uid) = field(msg, "Uniqueid") {
            if let Some(c) = self.callers.get_mut(uid) {
                c.waiting_since = None;
            }
            self.unlist_caller(Some(queue), uid, out);
        }
    }

    pub(super) fn queue_params(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let Some(queue) = field(msg, "Queue") else {
            return;
        };
        let count = codes::uint(msg.get("Calls")) as u32;
        if let Some((_, q)) = self.queue_mut(queue) {
            let completed = codes::uint(msg.get("Completed"));
            let perf: f64 = msg
                .get("ServicelevelPerf")
                .and_then(|v| v.trim().parse().ok())
                .filter(|p: &f64| p.is_finite() && *p >= 0.0)
                .unwrap_or(0.0);
            let in_sl = ((perf.min(100.0) * completed as f64) / 100.0).round() as u64;
            q.stats = QueueStats {
                completed,
                completed_in_sl: in_sl.min(completed),
                abandoned: codes::uint(msg.get("Abandoned")),
                hold_time: codes::uint(msg.get("Holdtime")),
                talk_time: codes::uint(msg.get("TalkTime")),
                service_level: codes::uint(msg.get("ServiceLevel")),
            };
        }
        self.set_count(queue, count, out);
    }

    /// A waiting caller in a `QueueStatus` list: it has waited `Wait` seconds.
    pub(super) fn queue_entry(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let (Some(queue), Some(uid)) = (field(msg, "Queue"), field(msg, "Uniqueid")) else {
            return;
        };
        let waited = codes::uint(msg.get("Wait"));
        if self.queue_mut(queue).is_some() {
            self.list_caller(msg, waited, out);
        }
        if let Ok(queue) = QueueName::parse(queue) {
            let wait = std::time::Duration::from_secs(waited);
            let now = Instant::now();
            let caller = Caller {
                queue,
                waiting_since: Some(now.checked_sub(wait).unwrap_or(now)),
            };
            self.callers.insert(uid.to_owned(), caller);
        }
    }

    /// The queue a channel is in, as a caller.
    pub(super) fn caller_queue(&self, uid: &str) -> Option<QueueName> {
        self.callers.get(uid).map(|c| c.queue.clone())
    }

    /// Longest current wait per queue, s.
    pub fn longest_waits(&self, now: Instant) -> HashMap<QueueName, u64> {
        let mut out: HashMap<QueueName, u64> = HashMap::new();
        for (_, c) in self.callers.iter() {
            if let Some(since) = c.waiting_since {
                let wait = now.saturating_duration_since(since).as_secs();
                let w = out.entry(c.queue.clone()).or_default();
                *w = (*w).max(wait);
            }
        }
        out
    }

    /// Logged-in and available members per queue, counted as app_queue's `QueueSummary` does:
    /// logged in unless unavailable; available when also not paused and not in use (or unknown).
    pub fn member_counts(&self) -> HashMap<QueueName, (u32, u32)> {
        let mut out: HashMap<QueueName, (u32, u32)> = HashMap::new();
        for a in self.agents.values() {
            for (queue, m) in &a.members {
                if m.status == DeviceStatus::Unavailable {
                    continue;
                }
                let (logged_in, available) = out.entry(queue.clone()).or_default();
                *logged_in += 1;
                let free = matches!(m.status, DeviceStatus::NotInuse | DeviceStatus::Unknown);
                if free && !m.paused {
                    *available += 1;
                }
            }
        }
        out
    }

    /// A queue's figures, when the queue is known.
    pub(super) fn stats_mut(&mut self, queue: &str) -> Option<&mut QueueStats> {
        let name = QueueName::parse(queue).ok()?;
        self.queues.get_mut(&name).map(|q| &mut q.stats)
    }

    /// What app_queue's `QueueReset` does to the figures of `queue` (all queues when `None`):
    /// completed, abandoned, hold and talk time back to zero, and each member's calls taken and
    /// last call; the service level threshold stays.
    pub fn reset_stats(&mut self, queue: Option<&QueueName>) {
        for (name, q) in self.queues.iter_mut() {
            if queue.is_none_or(|n| n == name) {
                q.stats = QueueStats {
                    service_level: q.stats.service_level,
                    ..QueueStats::default()
                };
            }
        }
        for a in self.agents.values_mut() {
            for (name, m) in a.members.iter_mut() {
                if queue.is_none_or(|n| n == name) {
                    m.calls_taken = 0;
                    m.last_call = 0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::names::Location;
    use super::super::state::MAX_TRACKED;
    use super::*;

    #[test]
    fn at_the_bound_the_oldest_callers_are_forgotten_and_the_newest_kept() {
        let mut s = State::new(Location::parse("PJSIP/{agent}").unwrap(), "hints");
        for i in 0..MAX_TRACKED + 2 {
            let uid = format!("1.{i}");
            s.apply(
                &AmiMessage::event("QueueCallerJoin")
                    .with("Queue", "q1")
                    .with("Uniqueid", &uid),
            );
        }
        assert_eq!(s.callers.len(), MAX_TRACKED);
        assert_eq!(s.caller_queue("1.0"), None, "the oldest is forgotten");
        assert_eq!(s.caller_queue("1.1"), None);
        let newest = format!("1.{}", MAX_TRACKED + 1);
        assert_eq!(s.caller_queue(&newest), QueueName::parse("q1").ok());
    }
}
