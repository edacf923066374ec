//! Waiters for the `ParkedCall` of a channel we asked Asterisk to park: `Park` answers only
//! "Park successful"; where the call waits comes in the event that follows. A waiter is
//! registered before the action is sent (so the event cannot be missed), answered by the first
//! `ParkedCall` of its channel, and dropped when its asker gave up. Bound: [`MAX_WAITERS`]; a
//! waiter beyond it is dropped at once (its asker answers without the space).

use tokio::sync::oneshot;

use super::codes;
use crate::ami::AmiMessage;

/// Most waiters at once.
pub const MAX_WAITERS: usize = 1_000;

/// Where a parked call waits.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ParkedAt {
    /// The parking lot.
    pub lot: String,
    /// The parking space (the extension that picks the call up).
    pub space: String,
    /// Seconds before the call returns.
    pub timeout: u64,
}

/// The waiters, by parked channel name.
#[derive(Debug, Default)]
pub struct ParkWaiters(Vec<(String, oneshot::Sender<ParkedAt>)>);

impl ParkWaiters {
    /// Waits for the `ParkedCall` of `channel`.
    pub fn add(&mut self, channel: String, tx: oneshot::Sender<ParkedAt>) {
        self.0.retain(|(_, t)| !t.is_closed());
        if self.0.len() < MAX_WAITERS {
            self.0.push((channel, tx));
        }
    }

    /// Answers the waiters of a `ParkedCall`.
    pub fn on_event(&mut self, msg: &AmiMessage) {
        if self.0.is_empty() || !msg.is_event("ParkedCall") {
            return;
        }
        let Some(channel) = msg.get("ParkeeChannel") else {
            return;
        };
        let at = ParkedAt {
            lot: msg.get("Parkinglot").unwrap_or_default().to_owned(),
            space: msg.get("ParkingSpace").unwrap_or_default().to_owned(),
            timeout: codes::uint(msg.get("ParkingTimeout")),
        };
        let (hit, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.0)
            .into_iter()
            .partition(|(c, _)| c == channel);
        self.0 = rest;
        for (_, tx) in hit {
            let _ = tx.send(at.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parked_call_of_the_channel_answers_its_waiter_only() {
        let mut w = ParkWaiters::default();
        let (tx1, mut rx1) = oneshot::channel();
        let (tx2, mut rx2) = oneshot::channel();
        w.add("PJSIP/trunk-01".into(), tx1);
        w.add("PJSIP/trunk-02".into(), tx2);
        let parked = AmiMessage::event("ParkedCall")
            .with("ParkeeChannel", "PJSIP/trunk-01")
            .with("Parkinglot", "default")
            .with("ParkingSpace", "701")
            .with("ParkingTimeout", "45");
        w.on_event(&parked);
        let want = ParkedAt {
            lot: "default".into(),
            space: "701".into(),
            timeout: 45,
        };
        assert_eq!(rx1.try_recv(), Ok(want));
        assert!(rx2.try_recv().is_err());
        assert_eq!(w.0.len(), 1);
    }

    #[test]
    fn waiters_given_up_are_dropped_and_the_count_is_bounded() {
        let mut w = ParkWaiters::default();
        for i in 0..MAX_WAITERS + 5 {
            let (tx, rx) = oneshot::channel();
            std::mem::forget(rx);
            w.add(format!("PJSIP/x-{i}"), tx);
        }
        assert_eq!(w.0.len(), MAX_WAITERS);
        let mut w = ParkWaiters::default();
        for i in 0..10 {
            let (tx, _rx) = oneshot::channel();
            w.add(format!("PJSIP/x-{i}"), tx);
        }
        assert!(w.0.len() <= 1, "the ones given up are gone");
    }
}
