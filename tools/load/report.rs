//! The run's report: per transport the deliveries (expected, delivered, lost, duplicated, out of
//! order), throughput and latency percentiles; ratios between transports; the driver's figures;
//! memory; and the verdict. Printed as a table or as JSON (`--json`), with one row per
//! subscriber in the JSON for exact checks.

use std::collections::BTreeMap;
use std::time::Instant;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::args::Plan;
use crate::driver::Driven;
use crate::memory::Memory;
use crate::subscriber::{Subscriber, Transport};
use crate::tally::histogram;
use crate::usage::Usage;

/// Memory samples of the run.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Memories {
    /// Before the service started.
    pub start: Memory,
    /// Service ready, no subscriber.
    pub ready: Memory,
    /// Every subscriber attached.
    pub subscribed: Memory,
    /// After the last delivery, every subscriber still attached.
    pub after: Memory,
}

/// Latency percentiles, milliseconds.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
    /// Mean.
    pub mean_ms: f64,
}

impl Percentiles {
    pub(crate) fn of(h: &Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Percentiles {
            p50_ms: ms(h.value_at_quantile(0.50)),
            p90_ms: ms(h.value_at_quantile(0.90)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            max_ms: ms(h.max()),
            mean_ms: h.mean() / 1000.0,
        }
    }
}

/// One subscriber's counts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Counts {
    /// Stamps it should have received (confirmed sends of its pairs).
    pub expected: u64,
    /// Of those, received (once).
    pub delivered: u64,
    /// Expected but not received.
    pub lost: u64,
    /// Received more than once.
    pub duplicates: u64,
    /// Received after a later stamp of the same pair.
    pub out_of_order: u64,
    /// Stamps of pairs outside the ticket's filter.
    pub foreign: u64,
    /// Stamps of actions that failed without an answer.
    pub unconfirmed: u64,
    /// Events that could not be parsed, or stamps out of range.
    pub unparsable: u64,
    /// Other events (snapshot, background traffic).
    pub other: u64,
    /// Streams that ended with a `closed` event during the run.
    pub closed_early: u64,
    /// Transport errors.
    pub transport_errors: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.expected += o.expected;
        self.delivered += o.delivered;
        self.lost += o.lost;
        self.duplicates += o.duplicates;
        self.out_of_order += o.out_of_order;
        self.foreign += o.foreign;
        self.unconfirmed += o.unconfirmed;
        self.unparsable += o.unparsable;
        self.other += o.other;
        self.closed_early += o.closed_early;
        self.transport_errors += o.transport_errors;
    }

    fn clean(&self) -> bool {
        self.lost == 0
            && self.duplicates == 0
            && self.out_of_order == 0
            && self.foreign == 0
            && self.unparsable == 0
            && self.closed_early == 0
            && self.transport_errors == 0
    }
}

/// One subscriber's row.
#[derive(Clone, Debug, Serialize)]
pub struct SubscriberRow {
    /// Its transport.
    pub transport: Transport,
    /// Its counts.
    #[serde(flatten)]
    pub counts: Counts,
    /// The `closed` reason, if its stream was closed.
    pub closed: Option<String>,
    /// Its errors.
    pub errors: Vec<String>,
}

/// One transport's figures.
#[derive(Clone, Debug, Serialize)]
pub struct TransportRow {
    /// The transport.
    pub transport: Transport,
    /// Its subscribers.
    pub subscribers: usize,
    /// Their counts together.
    #[serde(flatten)]
    pub counts: Counts,
    /// Stamped events delivered per second, from the first send to the last delivery.
    pub events_per_s: f64,
    /// Latency, from the driver's send to the subscriber's read.
    pub latency: Percentiles,
}

/// The driver's figures.
#[derive(Clone, Debug, Serialize)]
pub struct DriverRow {
    /// Actions answered with success (= stamped events emitted).
    pub sent: u64,
    /// Seconds from the first action to the last answer.
    pub seconds: f64,
    /// Actions per second.
    pub per_s: f64,
    /// AMI round trip of one action.
    pub round_trip: Percentiles,
    /// True when the time limit stopped the driving.
    pub cut: bool,
    /// Failed actions.
    pub errors: Vec<String>,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Service, simulator and clients in this process.
    pub in_process: bool,
    /// Agents.
    pub agents: usize,
    /// Queues.
    pub queues: usize,
    /// (agent, queue) pairs.
    pub pairs: usize,
    /// Agents per ticket.
    pub ticket_agents: usize,
    /// Asked rate (0 = unpaced).
    pub rate: f64,
    /// Asked events.
    pub events: u64,
    /// Simulator firehose, events/s.
    pub firehose: u32,
    /// Simulator call rate, calls per simulated minute.
    pub call_rate: f64,
    /// The driver.
    pub driver: DriverRow,
    /// Per transport.
    pub transports: Vec<TransportRow>,
    /// Per subscriber.
    pub subscribers: Vec<SubscriberRow>,
    /// Memory.
    pub memory: Memories,
    /// CPU time and write calls from the first action to the last delivery.
    pub usage: Usage,
    /// Every subscriber got everything before the time limit.
    pub complete: bool,
    /// Everything delivered exactly once, in order, with no error.
    pub ok: bool,
}

fn row(sub: &Subscriber, sent: &[u32]) -> SubscriberRow {
    let t = &sub.tally;
    let expected: u64 = t.pairs().map(|p| u64::from(sent[p as usize])).sum();
    let (confirmed, unconfirmed) = t.settle(sent);
    SubscriberRow {
        transport: sub.transport,
        counts: Counts {
            expected,
            delivered: confirmed,
            lost: expected.saturating_sub(confirmed),
            duplicates: t.duplicates,
            out_of_order: t.out_of_order,
            foreign: t.foreign,
            unconfirmed,
            unparsable: t.unparsable + t.malformed,
            other: t.other,
            closed_early: u64::from(t.closed.is_some()),
            transport_errors: t.errors.len() as u64,
        },
        closed: t.closed.clone(),
        errors: t.errors.clone(),
    }
}

/// What a run produced, for [`Report::build`].
pub struct Outcome<'a> {
    /// Service, simulator and clients in this process.
    pub in_process: bool,
    /// (agent, queue) pairs.
    pub pairs: usize,
    /// What the driver did.
    pub driven: &'a Driven,
    /// When the driving started.
    pub drive_start: Instant,
    /// The subscribers, stopped.
    pub subs: &'a [Subscriber],
    /// Every subscriber got everything before the time limit.
    pub complete: bool,
    /// Memory samples.
    pub memory: Memories,
    /// CPU time from the first action to the last delivery.
    pub usage: Usage,
}

fn rate(n: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        n as f64 / seconds
    } else {
        0.0
    }
}

/// Per transport: subscribers, counts, merged latency, throughput.
fn transports(o: &Outcome<'_>, rows: &[SubscriberRow]) -> Vec<TransportRow> {
    let mut groups: BTreeMap<Transport, (usize, Counts, Histogram<u64>, Option<Instant>)> =
        BTreeMap::new();
    for (sub, r) in o.subs.iter().zip(rows) {
        let g = groups
            .entry(sub.transport)
            .or_insert_with(|| (0, Counts::default(), histogram(), None));
        g.0 += 1;
        g.1.add(&r.counts);
        // Same bounds on both sides: adding cannot fail.
        let _ = g.2.add(&sub.tally.latency);
        g.3 = g.3.max(sub.tally.last);
    }
    groups
        .into_iter()
        .map(|(transport, (n, counts, latency, last))| {
            let seconds = last.map_or(0.0, |l| (l - o.drive_start).as_secs_f64());
            TransportRow {
                transport,
                subscribers: n,
                events_per_s: rate(counts.delivered, seconds),
                counts,
                latency: Percentiles::of(&latency),
            }
        })
        .collect()
}

fn driver(driven: &Driven) -> DriverRow {
    let sent: u64 = driven.sent.iter().map(|n| u64::from(*n)).sum();
    let seconds = driven.elapsed.as_secs_f64();
    DriverRow {
        sent,
        seconds,
        per_s: rate(sent, seconds),
        round_trip: Percentiles::of(&driven.round_trip),
        cut: driven.cut,
        errors: driven.errors.clone(),
    }
}

impl Report {
    /// Gathers the figures.
    pub fn build(plan: &Plan, o: Outcome<'_>) -> Report {
        let subscribers: Vec<SubscriberRow> =
            o.subs.iter().map(|s| row(s, &o.driven.sent)).collect();
        let transports = transports(&o, &subscribers);
        let driver = driver(o.driven);
        let ok = o.complete
            && !driver.cut
            && driver.errors.is_empty()
            && driver.sent > 0
            && subscribers.iter().all(|s| s.counts.clean());
        Report {
            in_process: o.in_process,
            agents: plan.agents.len(),
            queues: plan.queues.len(),
            pairs: o.pairs,
            ticket_agents: plan.ticket_agents(0).len(),
            rate: plan.args.rate,
            events: plan.args.events,
            firehose: plan.args.firehose,
            call_rate: plan.args.call_rate,
            driver,
            transports,
            subscribers,
            memory: o.memory,
            usage: o.usage,
            complete: o.complete,
            ok,
        }
    }
}
