//! A resuming subscriber, as the protocol asks of an integrator: it reads its ticket's stream,
//! applies each event to its [`Belief`] and remembers the event's id; when the connection
//! breaks it reconnects with `lastEventId` (long-poll: on every poll, which acknowledges); on
//! `resync` it throws its belief away and rebuilds it from the snapshot that follows; when its
//! ticket is gone it takes a new one. It also checks the ids: without a `resync` between them,
//! each event must be the one right after the last (a jump is a lost event, a step back a
//! repeated one). Its counters are shared, for the report lines, while it runs.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::belief::Belief;
use super::streams;
use crate::subscriber::Transport;

/// Pause before reconnecting after a break (the backoff is short: the soak wants many
/// reconnects, not polite ones).
const RECONNECT_PAUSE: Duration = Duration::from_millis(50);
/// Pause before asking a ticket again after a refusal.
const TICKET_RETRY: Duration = Duration::from_millis(250);
/// The resync reasons counted by name; any other is counted as `other`.
const REASONS: [&str; 5] = ["history", "epoch", "unknownId", "overflow", "restart"];

/// What one subscriber has seen so far, readable while it runs.
#[derive(Debug, Default)]
pub struct Counters {
    /// Events applied (snapshots included).
    pub deliveries: AtomicU64,
    /// Connections opened after the first (long-poll: after a broken one).
    pub reconnects: AtomicU64,
    /// Times it stayed away after a cut.
    pub aways: AtomicU64,
    /// Tickets taken after the first (the previous one was gone).
    pub new_tickets: AtomicU64,
    /// Events whose id jumped ahead without a `resync`: lost events.
    pub gaps: AtomicU64,
    /// Events whose id was not after the last one's: repeated events.
    pub repeats: AtomicU64,
    /// Connections that ended in an error (counted; the last one is kept).
    pub errors: AtomicU64,
    /// `resync` events by reason.
    pub resyncs: Mutex<BTreeMap<&'static str, u64>>,
    /// The last error.
    pub last_error: Mutex<Option<String>>,
    /// What it believes now.
    pub belief: Mutex<Belief>,
}

/// Where and what one subscriber reads.
#[derive(Clone, Debug)]
pub struct Setup {
    /// Its transport.
    pub transport: Transport,
    /// Where its streams connect (the service, or the chaos proxy in front of it).
    pub connect: SocketAddr,
    /// Where it takes tickets (the service itself).
    pub service: SocketAddr,
    /// The agents of its tickets.
    pub agents: Vec<String>,
    /// The queues of its tickets.
    pub queues: Vec<String>,
    /// Whether, cut off, it sometimes stays away a while.
    pub away: Option<Away>,
}

/// Staying away after a cut, as a phone that lost its network does.
#[derive(Clone, Debug)]
pub struct Away {
    /// Chance after each broken connection, 0..=1.
    pub chance: f64,
    /// Longest absence (each from 0.5 s to this).
    pub longest: Duration,
    /// Seed of the draws.
    pub seed: u64,
}

impl Away {
    /// How long to stay away now, if at all.
    fn draw(&self, rng: &mut StdRng) -> Option<Duration> {
        let shortest = Duration::from_millis(500);
        if self.longest <= shortest || !rng.gen_bool(self.chance.clamp(0.0, 1.0)) {
            return None;
        }
        let secs = rng.gen_range(shortest.as_secs_f64()..self.longest.as_secs_f64());
        Some(Duration::from_secs_f64(secs))
    }
}

/// How one connection ended.
#[derive(Debug)]
pub enum End {
    /// Broke; reconnect with the last id.
    Broken(String),
    /// The service closed the stream, with this reason.
    Closed(String),
}

/// The position in the ticket's stream and the checks of each id.
pub struct Position {
    /// The id of the last event applied (`None` before the first).
    pub last_id: Option<String>,
    last: Option<(String, u64)>,
    counters: Arc<Counters>,
}

impl Position {
    fn new(counters: Arc<Counters>) -> Self {
        Position {
            last_id: None,
            last: None,
            counters,
        }
    }

    /// Applies one event: checks its id, updates the belief and the counters.
    pub fn apply(&mut self, mut event: Value) {
        let kind = event["type"].as_str().unwrap_or("").to_owned();
        let id = match event.as_object_mut().and_then(|o| o.remove("id")) {
            Some(Value::String(id)) => Some(id),
            _ => None,
        };
        if let Some(id) = id {
            self.check(&id, kind == "resync");
            self.last_id = Some(id);
        }
        let c = &self.counters;
        if kind == "resync" {
            let reason = event["reason"].as_str().unwrap_or("");
            let name = REASONS.iter().find(|r| **r == reason).copied();
            if let Ok(mut r) = c.resyncs.lock() {
                *r.entry(name.unwrap_or("other")).or_default() += 1;
            }
        }
        if let Ok(mut b) = c.belief.lock() {
            b.apply(&event);
        }
        c.deliveries.fetch_add(1, Ordering::Relaxed);
    }

    fn check(&mut self, id: &str, resync: bool) {
        let parsed = id
            .rsplit_once('-')
            .and_then(|(epoch, seq)| Some((epoch.to_owned(), seq.parse::<u64>().ok()?)));
        let Some((epoch, seq)) = parsed else {
            self.counters.gaps.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if let Some((last_epoch, last_seq)) = &self.last {
            if *last_epoch == epoch && seq <= *last_seq {
                self.counters.repeats.fetch_add(1, Ordering::Relaxed);
            } else if !resync && (*last_epoch != epoch || seq != last_seq + 1) {
                self.counters.gaps.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.last = Some((epoch, seq));
    }

    /// A new ticket: its stream starts from nothing, with a snapshot.
    fn restart(&mut self) {
        self.last_id = None;
        self.last = None;
        if let Ok(mut b) = self.counters.belief.lock() {
            *b = Belief::default();
        }
    }
}

/// Runs one subscriber until `stop` or the service's shutdown.
pub async fn run(setup: Setup, counters: Arc<Counters>, stop: CancellationToken) {
    let mut position = Position::new(counters.clone());
    let Some(mut ticket) = take_ticket(&setup, &stop).await else {
        return;
    };
    let mut connections = 0u64;
    let mut rng = StdRng::seed_from_u64(setup.away.as_ref().map_or(0, |a| a.seed));
    loop {
        if connections > 0 {
            counters.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        connections += 1;
        let end = tokio::select! {
            () = stop.cancelled() => return,
            end = streams::read(&setup, &ticket, &mut position) => end,
        };
        match end {
            End::Closed(reason) if reason == "shutdown" => return,
            End::Closed(reason) if reason == "unknownTicket" => {
                let Some(new) = take_ticket(&setup, &stop).await else {
                    return;
                };
                ticket = new;
                position.restart();
                counters.new_tickets.fetch_add(1, Ordering::Relaxed);
            }
            End::Closed(reason) => note(&counters, format!("closed: {reason}")),
            End::Broken(error) => note(&counters, error),
        }
        let mut pause = RECONNECT_PAUSE;
        if let Some(away) = setup.away.as_ref().and_then(|a| a.draw(&mut rng)) {
            counters.aways.fetch_add(1, Ordering::Relaxed);
            pause = away;
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

fn note(counters: &Counters, error: String) {
    counters.errors.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut e) = counters.last_error.lock() {
        *e = Some(error);
    }
}

/// A ticket from the service, asked again until it gives one (it refuses while it is not
/// connected to Asterisk) or `stop`.
async fn take_ticket(setup: &Setup, stop: &CancellationToken) -> Option<String> {
    loop {
        let asked = crate::http::ticket(setup.service, None, &setup.agents, &setup.queues);
        tokio::select! {
            () = stop.cancelled() => return None,
            answer = asked => if let Ok(ticket) = answer {
                return Some(ticket);
            },
        }
        tokio::select! {
            () = stop.cancelled() => return None,
            () = tokio::time::sleep(TICKET_RETRY) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn position() -> (Position, Arc<Counters>) {
        let c = Arc::new(Counters::default());
        (Position::new(c.clone()), c)
    }

    fn count(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    #[test]
    fn consecutive_ids_are_clean_and_a_jump_is_a_gap() {
        let (mut p, c) = position();
        for seq in 1..=3 {
            p.apply(
                json!({"type":"queueCount","id":format!("0000abcd-{seq}"),"queue":"q","count":seq}),
            );
        }
        assert_eq!((count(&c.gaps), count(&c.repeats)), (0, 0));
        assert_eq!(p.last_id.as_deref(), Some("0000abcd-3"));
        p.apply(json!({"type":"queueCount","id":"0000abcd-5","queue":"q","count":5}));
        assert_eq!(count(&c.gaps), 1);
        p.apply(json!({"type":"queueCount","id":"0000abcd-5","queue":"q","count":5}));
        assert_eq!(count(&c.repeats), 1);
        assert_eq!(count(&c.deliveries), 5);
    }

    #[test]
    fn a_resync_may_jump_and_empties_the_belief() {
        let (mut p, c) = position();
        p.apply(json!({"type":"queueCount","id":"0000abcd-1","queue":"q","count":1}));
        p.apply(json!({"type":"resync","id":"0000abcd-40","reason":"overflow"}));
        p.apply(json!({"type":"pbxStatus","id":"0000abcd-41","connected":true}));
        assert_eq!((count(&c.gaps), count(&c.repeats)), (0, 0));
        assert_eq!(c.resyncs.lock().unwrap()["overflow"], 1);
        let b = c.belief.lock().unwrap().clone();
        assert!(b.counts.is_empty(), "the resync dropped the old state");
        assert_eq!(b.pbx, Some(true));
        p.apply(json!({"type":"resync","id":"0000abcd-50","reason":"made-up"}));
        assert_eq!(c.resyncs.lock().unwrap()["other"], 1);
    }

    #[test]
    fn absences_are_drawn_at_their_chance_within_bounds() {
        let mut rng = StdRng::seed_from_u64(9);
        let never = Away {
            chance: 0.0,
            longest: Duration::from_secs(8),
            seed: 0,
        };
        assert!((0..100).all(|_| never.draw(&mut rng).is_none()));
        let always = Away {
            chance: 1.0,
            ..never
        };
        for _ in 0..100 {
            let d = always.draw(&mut rng).expect("always away");
            assert!(
                d >= Duration::from_millis(500) && d < Duration::from_secs(8),
                "{d:?}"
            );
        }
    }

    #[test]
    fn a_new_ticket_starts_again_from_one() {
        let (mut p, c) = position();
        p.apply(json!({"type":"pbxStatus","id":"0000abcd-7","connected":true}));
        p.restart();
        assert_eq!(p.last_id, None);
        p.apply(json!({"type":"pbxStatus","id":"0000abcd-1","connected":true}));
        assert_eq!((count(&c.gaps), count(&c.repeats)), (0, 0));
    }
}
