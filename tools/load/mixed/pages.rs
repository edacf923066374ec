//! What the pages of a mixed run count (their streams are in `streams`). Per kind of page (agent
//! page, supervisor, wallboard) they count every event read, the `resync`s, and the stamped
//! probes of the measured window: each probe's first delivery to a page is timed (send to read)
//! into the kind's histogram; a later delivery of the same stamp (the model restating a member
//! whose pause reason it still is) is a *repeat*, not timed; a stamp a page should not get
//! (another agent's, or any on a wallboard) is *foreign*. A caller new in a queue's
//! `queueCallers` is timed from its `QueueCallerJoin` (see `joins`) into a second histogram.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use hdrhistogram::Histogram;
use serde::Deserialize;

use super::joins::Joins;

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
    /// Callers of the window seen new in a `queueCallers`, timed from their join.
    pub joins: AtomicU64,
    latency: Vec<Mutex<Histogram<u64>>>,
    join_latency: Vec<Mutex<Histogram<u64>>>,
}

impl KindStats {
    fn new() -> KindStats {
        KindStats {
            events: AtomicU64::new(0),
            resyncs: AtomicU64::new(0),
            probes: AtomicU64::new(0),
            repeats: AtomicU64::new(0),
            foreign: AtomicU64::new(0),
            joins: AtomicU64::new(0),
            latency: (0..SHARDS).map(|_| Mutex::new(histogram())).collect(),
            join_latency: (0..SHARDS).map(|_| Mutex::new(histogram())).collect(),
        }
    }

    /// The probes' latencies (microseconds), every shard merged.
    pub fn latency(&self) -> Histogram<u64> {
        merged(&self.latency)
    }

    /// The joins' latencies (microseconds), every shard merged.
    pub fn join_latency(&self) -> Histogram<u64> {
        merged(&self.join_latency)
    }
}

fn merged(shards: &[Mutex<Histogram<u64>>]) -> Histogram<u64> {
    let mut all = histogram();
    for shard in shards {
        if let Ok(h) = shard.lock() {
            let _ = all.add(&*h);
        }
    }
    all
}

fn record(shard: &Mutex<Histogram<u64>>, latency_us: u64) {
    if let Ok(mut h) = shard.lock() {
        let _ = h.record(latency_us.clamp(1, MAX_LATENCY_US));
    }
}

/// What one page remembers: the last sequence number read per probe pair, and each queue's
/// callers in its latest `queueCallers` (bounded by the pairs, the queues and the service's
/// 500 callers a queue).
#[derive(Debug, Default)]
pub struct PageState {
    seen: HashMap<u32, u32>,
    callers: HashMap<String, Vec<String>>,
}

/// The fields of a `queueCallers` the pages look at.
#[derive(Deserialize)]
struct Callers {
    queue: String,
    callers: Vec<Caller>,
}

#[derive(Deserialize)]
struct Caller {
    #[serde(rename = "uniqueId")]
    unique_id: String,
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
    /// Stamps sent, and callers joined, from this clock reading on (microseconds) are the
    /// window's.
    window_start: AtomicU64,
    joins: Arc<Joins>,
    kinds: [KindStats; 3],
}

impl Shared {
    /// Nothing counted yet, no window begun; `pair_agent` names the agent of each probe pair.
    pub fn new(clock: Clock, pair_agent: Vec<usize>, joins: Arc<Joins>) -> Shared {
        Shared {
            clock,
            pair_agent,
            opened: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            first_error: Mutex::new(None),
            window_start: AtomicU64::new(u64::MAX),
            joins,
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

    /// One event (the `data:` of an SSE event) read by a page.
    pub(super) fn observe(&self, data: &[u8], page: &PageRef, state: &mut PageState) {
        let stats = &self.kinds[page.kind.index()];
        stats.events.fetch_add(1, Ordering::Relaxed);
        // The service's own events (`resync`, `closed`) are a reason alone.
        if data.starts_with(br#"{"reason":""#) {
            stats.resyncs.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if memchr::memmem::find(data, br#""callers":["#).is_some() {
            self.callers(data, page, state);
            return;
        }
        let seen = &mut state.seen;
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
        let latency = self.clock.now_us().saturating_sub(stamp.sent_us);
        stats.probes.fetch_add(1, Ordering::Relaxed);
        record(&stats.latency[page.shard], latency);
    }

    /// A `queueCallers`: each caller not in the queue's previous list, and joined within the
    /// window, is timed from its join.
    fn callers(&self, data: &[u8], page: &PageRef, state: &mut PageState) {
        let Ok(list) = serde_json::from_slice::<Callers>(data) else {
            return;
        };
        let now = self.clock.now_us();
        let start = self.window_start.load(Ordering::Relaxed);
        let stats = &self.kinds[page.kind.index()];
        let before = state.callers.entry(list.queue).or_default();
        for caller in &list.callers {
            if before.contains(&caller.unique_id) {
                continue;
            }
            if let Some(joined) = self.joins.get(&caller.unique_id).filter(|&t| t >= start) {
                stats.joins.fetch_add(1, Ordering::Relaxed);
                record(&stats.join_latency[page.shard], now.saturating_sub(joined));
            }
        }
        *before = list.callers.into_iter().map(|c| c.unique_id).collect();
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
        let s = Shared::new(clock, vec![0, 1], Arc::new(Joins::default()));
        s.begin_window();
        s
    }

    fn event(clock: &Clock, pair: u32, seq: u32, sent_us: u64) -> Vec<u8> {
        let reason = clock.encode(pair, seq, sent_us);
        // As SSE carries it: the type is in the `event:` line, not in the data.
        format!(r#"{{"agent":"1001","queue":"mq1","status":"paused","reason":"{reason}"}}"#)
            .into_bytes()
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
        let mut seen = PageState::default();
        let me = page(Kind::Agent, Some(0));
        s.observe(&event(&clock, 0, 0, now), &me, &mut seen);
        s.observe(&event(&clock, 0, 0, now), &me, &mut seen);
        s.observe(&event(&clock, 0, 1, now), &me, &mut seen);
        s.observe(br#"{"queue":"mq1","count":1}"#, &me, &mut seen);
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
        let mut seen = PageState::default();
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
        let mut seen = PageState::default();
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
            br#"{"reason":"overflow"}"#,
            &page(Kind::Wallboard, None),
            &mut seen,
        );
        assert_eq!(s.kind(Kind::Wallboard).resyncs.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_caller_is_timed_from_its_join_once_per_page() {
        let clock = Clock::new();
        let joins = Arc::new(Joins::default());
        joins.record("1.1", 0);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let s = Shared::new(clock, vec![0], joins.clone());
        s.begin_window();
        joins.record("1.2", clock.now_us());
        let me = page(Kind::Wallboard, None);
        let mut state = PageState::default();
        let list = |ids: &[&str]| {
            let callers: Vec<String> = ids
                .iter()
                .map(|id| format!(r#"{{"uniqueId":"{id}","callerId":"0911","position":1}}"#))
                .collect();
            format!(r#"{{"queue":"mq1","callers":[{}]}}"#, callers.join(",")).into_bytes()
        };
        // 1.1 joined before the window: not timed; 1.2 is, once; 1.3 is unknown.
        s.observe(&list(&["1.1"]), &me, &mut state);
        s.observe(&list(&["1.1", "1.2"]), &me, &mut state);
        s.observe(&list(&["1.2", "1.3"]), &me, &mut state);
        s.observe(br#"{"queue":"mq1","callers":[]}"#, &me, &mut state);
        let k = s.kind(Kind::Wallboard);
        assert_eq!(k.events.load(Ordering::Relaxed), 4);
        assert_eq!(k.joins.load(Ordering::Relaxed), 1);
        assert_eq!(k.join_latency().len(), 1);
        assert_eq!(k.foreign.load(Ordering::Relaxed), 0);
    }
}
