//! What the pages of a mixed run count (their streams are in `streams`). Per kind of page (agent page, supervisor, wallboard) they count every event read, the
//! `resync`s, and the stamped probes of the measured window: each probe's first delivery to a
//! page is timed (send to read) into the kind's histogram; a later delivery of the same stamp
//! (the model restating a member whose pause reason it still is) is a *repeat*, not timed; a
//! stamp a page should not get (another agent's, or any on a wallboard) is *foreign*.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use hdrhistogram::Histogram;

use crate::compare::wire::reason;
use crate::stamp::Clock;
use crate::tally::{histogram, MAX_LATENCY_US};

/// Histogram shards per kind (pages record into `index % SHARDS`).
pub(super) const SHARDS: usize = 8;

/// A kind of page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One agent, its queues.
    Agent,
    /// Every agent, every queue.
    Supervisor,
    /// Every queue, no agent, summary events.
    Wallboard,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 3] = [Kind::Agent, Kind::Supervisor, Kind::Wallboard];

    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Agent => "agent",
            Kind::Supervisor => "supervisor",
            Kind::Wallboard => "wallboard",
        }
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }
}

/// One page to open: its kind, its agent (agent pages) and its stream path.
#[derive(Clone, Debug)]
pub struct Page {
    /// Its kind.
    pub kind: Kind,
    /// The index of its agent, for an agent page.
    pub agent: Option<usize>,
    /// `/<ticket>/sse`.
    pub path: String,
}

/// The counts of one kind of page.
pub struct KindStats {
    /// Events read (every `data:` line), snapshots included.
    pub events: AtomicU64,
    /// `resync` events read.
    pub resyncs: AtomicU64,
    /// First deliveries of the window's probes.
    pub probes: AtomicU64,
    /// Later deliveries of a stamp already read by the same page.
    pub repeats: AtomicU64,
    /// Stamps of the window a page of this kind should not have got.
    pub foreign: AtomicU64,
    latency: Vec<Mutex<Histogram<u64>>>,
}

impl KindStats {
    fn new() -> KindStats {
        KindStats {
            events: AtomicU64::new(0),
            resyncs: AtomicU64::new(0),
            probes: AtomicU64::new(0),
            repeats: AtomicU64::new(0),
            foreign: AtomicU64::new(0),
            latency: (0..SHARDS).map(|_| Mutex::new(histogram())).collect(),
        }
    }

    /// The probes' latencies (microseconds), every shard merged.
    pub fn latency(&self) -> Histogram<u64> {
        let mut all = histogram();
        for shard in &self.latency {
            if let Ok(h) = shard.lock() {
                let _ = all.add(&*h);
            }
        }
        all
    }
}

/// What the pages share.
pub struct Shared {
    clock: Clock,
    /// The agent index of each probe pair (the stamp's `pair`).
    pair_agent: Vec<usize>,
    /// Streams whose response head said 200.
    pub opened: AtomicUsize,
    /// Streams that failed (connect, status, malformed, ended).
    pub failed: AtomicUsize,
    first_error: Mutex<Option<String>>,
    /// Stamps sent from this clock reading on (microseconds) are the window's.
    window_start: AtomicU64,
    kinds: [KindStats; 3],
}

impl Shared {
    /// Nothing counted yet, no window begun; `pair_agent` names the agent of each probe pair.
    pub fn new(clock: Clock, pair_agent: Vec<usize>) -> Shared {
        Shared {
            clock,
            pair_agent,
            opened: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            first_error: Mutex::new(None),
            window_start: AtomicU64::new(u64::MAX),
            kinds: [KindStats::new(), KindStats::new(), KindStats::new()],
        }
    }

    /// The counts of `kind`.
    pub fn kind(&self, kind: Kind) -> &KindStats {
        &self.kinds[kind.index()]
    }

    /// Starts the window now: stamps sent from now on are timed.
    pub fn begin_window(&self) {
        self.window_start
            .store(self.clock.now_us().max(1), Ordering::SeqCst);
    }

    /// The first error any page met.
    pub fn first_error(&self) -> Option<String> {
        self.first_error.lock().ok().and_then(|e| e.clone())
    }

    pub(super) fn fail(&self, error: String) {
        self.failed.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert(error);
        }
    }

    /// One event read by a page; `seen` is the page's last sequence number read per pair.
    pub(super) fn observe(&self, data: &[u8], page: &PageRef, seen: &mut HashMap<u32, u32>) {
        let stats = &self.kinds[page.kind.index()];
        stats.events.fetch_add(1, Ordering::Relaxed);
        if memchr::memmem::find(data, br#""type":"resync""#).is_some() {
            stats.resyncs.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let Some(stamp) = reason(data).and_then(|r| self.clock.decode(r)) else {
            return;
        };
        if stamp.sent_us < self.window_start.load(Ordering::Relaxed) {
            return;
        }
        let owner = self.pair_agent.get(stamp.pair as usize).copied();
        let mine = match page.kind {
            Kind::Agent => owner.is_some() && owner == page.agent,
            Kind::Supervisor => owner.is_some(),
            Kind::Wallboard => false,
        };
        if !mine {
            stats.foreign.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // A pair's stamps are sent in sequence order: one not above the last read is a repeat.
        match seen.get(&stamp.pair) {
            Some(&last) if stamp.seq <= last => {
                stats.repeats.fetch_add(1, Ordering::Relaxed);
                return;
            }
            _ => {
                seen.insert(stamp.pair, stamp.seq);
            }
        }
        let latency = self
            .clock
            .now_us()
            .saturating_sub(stamp.sent_us)
            .clamp(1, MAX_LATENCY_US);
        stats.probes.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut h) = stats.latency[page.shard].lock() {
            let _ = h.record(latency);
        }
    }
}

/// What a page's task knows of itself.
pub(super) struct PageRef {
    pub kind: Kind,
    pub agent: Option<usize>,
    pub shard: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(clock: Clock) -> Shared {
        let s = Shared::new(clock, vec![0, 1]);
        s.begin_window();
        s
    }

    fn event(clock: &Clock, pair: u32, seq: u32, sent_us: u64) -> Vec<u8> {
        let reason = clock.encode(pair, seq, sent_us);
        format!(r#"{{"type":"queueMemberStatus","agent":"1001","reason":"{reason}"}}"#).into_bytes()
    }

    fn page(kind: Kind, agent: Option<usize>) -> PageRef {
        PageRef {
            kind,
            agent,
            shard: 0,
        }
    }

    #[test]
    fn a_probe_is_timed_once_per_page_and_repeats_are_counted_apart() {
        let clock = Clock::new();
        let s = shared(clock);
        let now = clock.now_us();
        let mut seen = HashMap::new();
        let me = page(Kind::Agent, Some(0));
        s.observe(&event(&clock, 0, 0, now), &me, &mut seen);
        s.observe(&event(&clock, 0, 0, now), &me, &mut seen);
        s.observe(&event(&clock, 0, 1, now), &me, &mut seen);
        s.observe(
            br#"{"type":"queueCount","queue":"mq1","count":1}"#,
            &me,
            &mut seen,
        );
        let k = s.kind(Kind::Agent);
        assert_eq!(k.events.load(Ordering::Relaxed), 4);
        assert_eq!(k.probes.load(Ordering::Relaxed), 2);
        assert_eq!(k.repeats.load(Ordering::Relaxed), 1);
        assert_eq!(k.latency().len(), 2);
    }

    #[test]
    fn stamps_before_the_window_count_as_events_only() {
        let clock = Clock::new();
        let early = event(&clock, 0, 0, 0);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let s = shared(clock);
        let mut seen = HashMap::new();
        s.observe(&early, &page(Kind::Supervisor, None), &mut seen);
        let k = s.kind(Kind::Supervisor);
        assert_eq!(k.events.load(Ordering::Relaxed), 1);
        assert_eq!(k.probes.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn stamps_out_of_a_pages_scope_are_foreign() {
        let clock = Clock::new();
        let s = shared(clock);
        let now = clock.now_us();
        let mut seen = HashMap::new();
        s.observe(
            &event(&clock, 1, 0, now),
            &page(Kind::Agent, Some(0)),
            &mut seen,
        );
        s.observe(
            &event(&clock, 0, 0, now),
            &page(Kind::Wallboard, None),
            &mut seen,
        );
        s.observe(
            &event(&clock, 9, 0, now),
            &page(Kind::Supervisor, None),
            &mut seen,
        );
        s.observe(
            &event(&clock, 1, 0, now),
            &page(Kind::Supervisor, None),
            &mut seen,
        );
        for (kind, foreign, probes) in [
            (Kind::Agent, 1, 0),
            (Kind::Wallboard, 1, 0),
            (Kind::Supervisor, 1, 1),
        ] {
            let k = s.kind(kind);
            assert_eq!(k.foreign.load(Ordering::Relaxed), foreign, "{kind:?}");
            assert_eq!(k.probes.load(Ordering::Relaxed), probes, "{kind:?}");
        }
        s.observe(
            br#"{"type":"resync","reason":"overflow"}"#,
            &page(Kind::Wallboard, None),
            &mut seen,
        );
        assert_eq!(s.kind(Kind::Wallboard).resyncs.load(Ordering::Relaxed), 1);
    }
}
