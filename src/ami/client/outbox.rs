//! Delivery of [`ClientEvent`]s to the consumer: in wire order, on a bounded channel, without
//! ever making the actor wait (it must keep reading the socket) and without silent loss.
//!
//! The channel is bounded in places by its capacity and in bytes by the outbox: it remembers the
//! size of everything it put in the channel, in order, and learns from the channel's free
//! capacity how many of those the consumer has taken (it takes them in order), so it knows the
//! bytes still waiting. An event that would take them past the byte bound is treated as if the
//! channel were full (an event is always accepted into an empty channel, so one large event
//! cannot block the stream; link states and counts are not held to the byte bound).
//!
//! When the channel is full, events are not queued inside the actor: they are counted, and the
//! count is delivered as [`ClientEvent::Overflow`] at the place of the gap. Link-state changes
//! (`Connected`, `Disconnected`) are never dropped: they wait in a short backlog, in order with
//! the overflow counts, and every later event waits behind them (so it is counted too). The
//! backlog is bounded: past [`MAX_BACKLOG`] entries it collapses to the last link state and the
//! total count, which is all a consumer that must rebuild its state needs.

use std::collections::VecDeque;
use tokio::sync::mpsc::{self, error::TrySendError, OwnedPermit};

use super::ClientEvent;
use crate::ami::message::AmiMessage;

/// Longest backlog before it collapses.
const MAX_BACKLOG: usize = 8;

/// The actor's side of the event channel.
#[derive(Debug)]
pub(super) struct Outbox {
    tx: mpsc::Sender<ClientEvent>,
    backlog: VecDeque<ClientEvent>,
    /// The consumer dropped its receiver: nothing to deliver any more.
    gone: bool,
    /// The sizes of what was put in the channel and may not be taken yet, oldest first.
    sent: VecDeque<usize>,
    /// The sum of `sent`.
    sent_bytes: usize,
    /// The byte bound of what waits in the channel.
    max_bytes: usize,
}

impl Outbox {
    pub(super) fn new(tx: mpsc::Sender<ClientEvent>, max_bytes: usize) -> Self {
        Self {
            tx,
            backlog: VecDeque::new(),
            gone: false,
            sent: VecDeque::new(),
            sent_bytes: 0,
            max_bytes,
        }
    }

    /// The bytes still waiting in the channel for the consumer.
    pub(super) fn waiting_bytes(&mut self) -> usize {
        let waiting = self.tx.max_capacity().saturating_sub(self.tx.capacity());
        while self.sent.len() > waiting {
            if let Some(size) = self.sent.pop_front() {
                self.sent_bytes = self.sent_bytes.saturating_sub(size);
            }
        }
        self.sent_bytes
    }

    /// Delivers an AMI event, or counts it when the consumer is behind.
    pub(super) fn event(&mut self, msg: AmiMessage) {
        if self.backlog.is_empty() && self.try_deliver(ClientEvent::Event(msg)) {
            return;
        }
        self.count_lost(1);
    }

    /// Reports `n` events lost before they reached the consumer (e.g. over the size cap).
    pub(super) fn count_lost(&mut self, n: u64) {
        if self.gone {
            return;
        }
        if let Some(ClientEvent::Overflow { dropped }) = self.backlog.back_mut() {
            *dropped = dropped.saturating_add(n);
            return;
        }
        if self.backlog.is_empty() && self.try_deliver(ClientEvent::Overflow { dropped: n }) {
            return;
        }
        self.push_backlog(ClientEvent::Overflow { dropped: n });
    }

    /// Delivers a link-state change; it waits in the backlog if the channel is full.
    pub(super) fn link(&mut self, event: ClientEvent) {
        if self.backlog.is_empty() && self.try_deliver(event.clone()) {
            return;
        }
        if !self.gone {
            self.push_backlog(event);
        }
    }

    /// True when something waits for room in the channel.
    pub(super) fn has_backlog(&self) -> bool {
        !self.backlog.is_empty()
    }

    /// A future that resolves when the channel has room (await it only with a backlog).
    pub(super) fn room(
        &self,
    ) -> impl std::future::Future<
        Output = Result<OwnedPermit<ClientEvent>, mpsc::error::SendError<()>>,
    > + 'static {
        self.tx.clone().reserve_owned()
    }

    /// Uses the room obtained by [`Outbox::room`], then moves on as far as the channel allows.
    pub(super) fn flush(
        &mut self,
        room: Result<OwnedPermit<ClientEvent>, mpsc::error::SendError<()>>,
    ) {
        let Ok(permit) = room else {
            self.gone = true;
            self.backlog.clear();
            return;
        };
        if let Some(first) = self.backlog.pop_front() {
            self.waiting_bytes();
            self.record(size_of_event(&first));
            permit.send(first);
        }
        while let Some(next) = self.backlog.pop_front() {
            if !self.try_deliver(next.clone()) {
                if !self.gone {
                    self.backlog.push_front(next);
                }
                return;
            }
        }
    }

    fn try_deliver(&mut self, event: ClientEvent) -> bool {
        if self.gone {
            return true;
        }
        let size = size_of_event(&event);
        let waiting = self.waiting_bytes();
        // Only AMI events are held to the byte bound: link states and counts are small, and
        // the channel's capacity and the backlog's collapse bound how many there are.
        let is_event = matches!(event, ClientEvent::Event(_));
        if is_event && !self.sent.is_empty() && waiting.saturating_add(size) > self.max_bytes {
            return false;
        }
        match self.tx.try_send(event) {
            Ok(()) => {
                self.record(size);
                true
            }
            Err(TrySendError::Full(_)) => false,
            Err(TrySendError::Closed(_)) => {
                self.gone = true;
                self.backlog.clear();
                true
            }
        }
    }

    fn record(&mut self, size: usize) {
        self.sent.push_back(size);
        self.sent_bytes = self.sent_bytes.saturating_add(size);
    }

    fn push_backlog(&mut self, event: ClientEvent) {
        self.backlog.push_back(event);
        if self.backlog.len() > MAX_BACKLOG {
            self.collapse();
        }
    }

    /// Keeps the last link state and the total lost: `Disconnected`, `Connected` (if that is
    /// the current state), then `Overflow`.
    fn collapse(&mut self) {
        let mut lost = 0u64;
        let mut down: Option<ClientEvent> = None;
        let mut up: Option<ClientEvent> = None;
        for event in self.backlog.drain(..) {
            match event {
                ClientEvent::Overflow { dropped } => lost = lost.saturating_add(dropped),
                ClientEvent::Disconnected { .. } => {
                    down = Some(event);
                    up = None;
                }
                ClientEvent::Connected { .. } => up = Some(event),
                ClientEvent::AuthFailed { .. } => {
                    down = Some(event);
                    up = None;
                }
                ClientEvent::Event(_) => lost = lost.saturating_add(1),
            }
        }
        self.backlog.extend(down);
        self.backlog.extend(up);
        if lost > 0 {
            self.backlog
                .push_back(ClientEvent::Overflow { dropped: lost });
        }
    }
}

/// The bytes an event holds while it waits in the channel.
fn size_of_event(event: &ClientEvent) -> usize {
    let extra = match event {
        ClientEvent::Event(m) => m.size_bytes(),
        ClientEvent::Connected { banner } => banner.len(),
        ClientEvent::Disconnected { reason } => reason.len(),
        ClientEvent::AuthFailed { message } => message.len(),
        ClientEvent::Overflow { .. } => 0,
    };
    std::mem::size_of::<ClientEvent>() + extra
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(n: usize) -> AmiMessage {
        AmiMessage::event("Test").with("N", n.to_string())
    }

    fn drain(rx: &mut mpsc::Receiver<ClientEvent>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(e) = rx.try_recv() {
            out.push(match e {
                ClientEvent::Event(m) => format!("E{}", m.get("N").unwrap_or("?")),
                ClientEvent::Overflow { dropped } => format!("O{dropped}"),
                ClientEvent::Connected { .. } => "C".into(),
                ClientEvent::Disconnected { .. } => "D".into(),
                ClientEvent::AuthFailed { .. } => "A".into(),
            });
        }
        out
    }

    async fn flush_all(outbox: &mut Outbox, rx: &mut mpsc::Receiver<ClientEvent>) -> Vec<String> {
        let mut seen = drain(rx);
        while outbox.has_backlog() {
            let room = outbox.room().await;
            outbox.flush(room);
            seen.extend(drain(rx));
        }
        seen
    }

    #[tokio::test]
    async fn a_full_channel_counts_and_reports_the_gap_in_order() {
        let (tx, mut rx) = mpsc::channel(2);
        let mut o = Outbox::new(tx, usize::MAX);
        for n in 0..5 {
            o.event(ev(n));
        }
        o.link(ClientEvent::Disconnected { reason: "x".into() });
        o.event(ev(5));
        o.link(ClientEvent::Connected { banner: "b".into() });
        assert_eq!(drain(&mut rx), vec!["E0", "E1"]);
        o.event(ev(6));
        let rest = flush_all(&mut o, &mut rx).await;
        assert_eq!(rest, vec!["O3", "D", "O1", "C", "O1"]);
        o.event(ev(7));
        assert_eq!(
            drain(&mut rx),
            vec!["E7"],
            "delivery resumes after the backlog"
        );
    }

    #[tokio::test]
    async fn the_backlog_collapses_to_the_last_link_state() {
        let (tx, mut rx) = mpsc::channel(1);
        let mut o = Outbox::new(tx, usize::MAX);
        o.event(ev(0));
        for _ in 0..10 {
            o.link(ClientEvent::Disconnected { reason: "x".into() });
            o.event(ev(1));
            o.link(ClientEvent::Connected { banner: "b".into() });
            o.event(ev(2));
        }
        assert!(o.backlog.len() <= MAX_BACKLOG);
        let seen = flush_all(&mut o, &mut rx).await;
        assert_eq!(seen.first().map(String::as_str), Some("E0"));
        let total: u64 = seen
            .iter()
            .filter_map(|s| s.strip_prefix('O'))
            .map(|n| n.parse::<u64>().unwrap())
            .sum();
        assert_eq!(total, 20, "every lost event is counted: {seen:?}");
        let links: Vec<_> = seen.iter().filter(|s| *s == "C" || *s == "D").collect();
        assert_eq!(links.last().map(|s| s.as_str()), Some("C"), "{seen:?}");
    }

    #[tokio::test]
    async fn the_channel_is_bounded_in_bytes_and_frees_as_the_consumer_reads() {
        let size = size_of_event(&ClientEvent::Event(ev(0)));
        let (tx, mut rx) = mpsc::channel(100);
        let mut o = Outbox::new(tx, 3 * size);
        for n in 0..5 {
            o.event(ev(n));
        }
        let counts = 2 * size_of_event(&ClientEvent::Overflow { dropped: 0 });
        assert_eq!(o.waiting_bytes(), 3 * size + counts);
        assert!(matches!(rx.recv().await, Some(ClientEvent::Event(_))));
        assert!(matches!(rx.recv().await, Some(ClientEvent::Event(_))));
        assert_eq!(o.waiting_bytes(), size + counts, "the consumer freed two");
        o.event(ev(5));
        assert_eq!(drain(&mut rx), vec!["E2", "O1", "O1", "E5"]);
        assert_eq!(o.waiting_bytes(), 0);
    }

    #[tokio::test]
    async fn one_event_over_the_byte_bound_still_passes_an_empty_channel() {
        let (tx, mut rx) = mpsc::channel(100);
        let mut o = Outbox::new(tx, 1);
        o.event(ev(0));
        o.event(ev(1));
        assert_eq!(drain(&mut rx), vec!["E0", "O1"]);
        o.event(ev(2));
        assert_eq!(drain(&mut rx), vec!["E2"]);
    }

    #[tokio::test]
    async fn a_gone_consumer_is_not_an_error() {
        let (tx, rx) = mpsc::channel(1);
        drop(rx);
        let mut o = Outbox::new(tx, usize::MAX);
        o.event(ev(0));
        o.link(ClientEvent::Connected { banner: "b".into() });
        assert!(!o.has_backlog());
    }
}
