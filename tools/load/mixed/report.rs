//! The figures of a mixed run: the call traffic the service received (AMI events per second),
//! per kind of page the events read per second, the probes' deliveries and latency and the
//! callers' joins' latency, every probe delivery's and every join's latency together, the service's CPU (cores) and RSS, the machine's load
//! average, and the verdicts: the run is `ok` when every probe reached every page it should,
//! once, nothing foreign, no stream failed or resynced; the goals (p99, CPU) are told apart.

use serde::Serialize;

use super::args::Strategy;
use super::pages::Kind;
use crate::report::Percentiles;

/// The goal's p99 latency, milliseconds.
pub const GOAL_P99_MS: f64 = 20.0;
/// The goal's service CPU, cores.
pub const GOAL_CORES: f64 = 1.0;

/// One kind of page.
#[derive(Clone, Debug, Serialize)]
pub struct KindReport {
    /// `agent`, `supervisor` or `wallboard`.
    pub kind: &'static str,
    /// Pages of this kind.
    pub pages: usize,
    /// Events read by them all during the window.
    pub events: u64,
    /// The same, per second.
    pub events_per_s: f64,
    /// `resync` events read (from the start).
    pub resyncs: u64,
    /// Probe deliveries they should get.
    pub probes_expected: u64,
    /// Probe deliveries they got (each probe once per page).
    pub probes_received: u64,
    /// Expected and not received.
    pub lost: u64,
    /// Stamps read again by a page that had them (the model restating a member).
    pub repeats: u64,
    /// Stamps a page of this kind should not get.
    pub foreign: u64,
    /// Probe latency, send to read.
    pub latency: Percentiles,
    /// Callers of the window timed from their join (AMI event) to the page.
    pub joins: u64,
    /// Their latency.
    pub join_latency: Percentiles,
}

/// What the service cost.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ServiceUse {
    /// CPU time of every thread of the service during the window, seconds.
    pub cpu_s: f64,
    /// CPU time per wall time: cores used.
    pub cores: f64,
    /// Resident memory when the window began, KiB.
    pub rss_kib_start: u64,
    /// Resident memory when it ended, KiB.
    pub rss_kib_end: u64,
}

/// The whole run.
#[derive(Clone, Debug, Serialize)]
pub struct MixedReport {
    /// Agents (one agent page each).
    pub agents: usize,
    /// Queues.
    pub queues: usize,
    /// Queues per agent.
    pub queues_per_agent: usize,
    /// How the queues ring.
    pub strategy: Strategy,
    /// Callers per simulated minute.
    pub call_rate: f64,
    /// Simulated seconds per real second.
    pub time_scale: f64,
    /// Calls live in the simulator when the window began and when it ended.
    pub calls_live: (usize, usize),
    /// The window, seconds (from its start to the last probe's answer).
    pub window_s: f64,
    /// AMI events the service received during the window.
    pub ami_events: u64,
    /// The same, per second.
    pub ami_events_per_s: f64,
    /// Probes sent (answered by the simulator).
    pub probes_sent: u64,
    /// A probe's round trip: sent to the simulator, answered (the simulator's part of the
    /// latency, and the tool's).
    pub probe_round_trip: Percentiles,
    /// Probes the simulator refused or did not answer.
    pub probe_errors: Vec<String>,
    /// Per kind of page.
    pub kinds: Vec<KindReport>,
    /// Every probe delivery's latency, every kind together.
    pub latency: Percentiles,
    /// Every timed join's latency, every kind together.
    pub join_latency: Percentiles,
    /// The service's CPU and memory.
    pub service: ServiceUse,
    /// The machine's load average (1, 5, 15 minutes) when the window began and ended.
    pub load_average: ([f64; 3], [f64; 3]),
    /// Streams that failed.
    pub streams_failed: usize,
    /// The first failure.
    pub first_error: Option<String>,
    /// The service exited cleanly on `POST /stop`.
    pub service_exit_ok: bool,
    /// p99 of the probes and of the joins under [`GOAL_P99_MS`].
    pub goal_p99: bool,
    /// Service CPU under [`GOAL_CORES`].
    pub goal_cpu: bool,
    /// Every probe delivered exactly where it should, no failure, no resync.
    pub ok: bool,
}

impl MixedReport {
    /// Settles the verdicts from the figures.
    pub fn judge(&mut self) {
        self.goal_p99 = self.latency.p99_ms < GOAL_P99_MS && self.join_latency.p99_ms < GOAL_P99_MS;
        self.goal_cpu = self.service.cores < GOAL_CORES;
        self.ok = self.streams_failed == 0
            && self.probe_errors.is_empty()
            && self.probes_sent > 0
            && self.service_exit_ok
            && self
                .kinds
                .iter()
                .all(|k| k.lost == 0 && k.foreign == 0 && k.resyncs == 0);
    }

    /// The table.
    pub fn text(&self) -> String {
        let pages = |kind: Kind| {
            self.kinds
                .iter()
                .find(|k| k.kind == kind.name())
                .map_or(0, |k| k.pages)
        };
        let mut out = format!(
            "mixed load: {} agent pages, {} supervisors, {} wallboards (SSE); {} agents in {} \
             queues ({} each, {})\n",
            pages(Kind::Agent),
            pages(Kind::Supervisor),
            pages(Kind::Wallboard),
            self.agents,
            self.queues,
            self.queues_per_agent,
            self.strategy.name()
        );
        out += &format!(
            "call traffic: {} calls per simulated minute, time scale {}; {} → {} calls live\n",
            self.call_rate, self.time_scale, self.calls_live.0, self.calls_live.1
        );
        out += &format!(
            "AMI events received by the service: {} in {:.1} s = {:.0}/s\n",
            self.ami_events, self.window_s, self.ami_events_per_s
        );
        let rt = &self.probe_round_trip;
        out += &format!(
            "probes: {} sent; answered by the simulator in p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms\n\n",
            self.probes_sent, rt.p50_ms, rt.p99_ms, rt.max_ms
        );
        out += &format!(
            "{:<11} {:>6} {:>10} {:>8} {:>8} {:>5} {:>7} {:>7} {:>7} {:>7}\n",
            "page",
            "pages",
            "events/s",
            "probes",
            "expected",
            "lost",
            "repeats",
            "p50 ms",
            "p99 ms",
            "max ms"
        );
        for k in &self.kinds {
            out += &format!(
                "{:<11} {:>6} {:>10.0} {:>8} {:>8} {:>5} {:>7} {:>7.2} {:>7.2} {:>7.2}\n",
                k.kind,
                k.pages,
                k.events_per_s,
                k.probes_received,
                k.probes_expected,
                k.lost,
                k.repeats,
                k.latency.p50_ms,
                k.latency.p99_ms,
                k.latency.max_ms
            );
        }
        let total: f64 = self.kinds.iter().map(|k| k.events_per_s).sum();
        out += &format!(
            "{:<11} {:>6} {:>10.0} {:>8} {:>8} {:>5} {:>7} {:>7.2} {:>7.2} {:>7.2}\n\n",
            "all",
            self.kinds.iter().map(|k| k.pages).sum::<usize>(),
            total,
            self.kinds.iter().map(|k| k.probes_received).sum::<u64>(),
            self.kinds.iter().map(|k| k.probes_expected).sum::<u64>(),
            self.kinds.iter().map(|k| k.lost).sum::<u64>(),
            self.kinds.iter().map(|k| k.repeats).sum::<u64>(),
            self.latency.p50_ms,
            self.latency.p99_ms,
            self.latency.max_ms
        );
        out += "caller joins, AMI event to page:\n";
        out += &format!(
            "{:<11} {:>8} {:>7} {:>7} {:>7}\n",
            "page", "timed", "p50 ms", "p99 ms", "max ms"
        );
        let rows = self
            .kinds
            .iter()
            .map(|k| (k.kind, k.joins, &k.join_latency));
        let total = self.kinds.iter().map(|k| k.joins).sum();
        for (kind, timed, l) in rows.chain([("all", total, &self.join_latency)]) {
            out += &format!(
                "{kind:<11} {timed:>8} {:>7.2} {:>7.2} {:>7.2}\n",
                l.p50_ms, l.p99_ms, l.max_ms
            );
        }
        out += "\n";
        let s = &self.service;
        out += &format!(
            "service: CPU {:.2} s in {:.1} s = {:.2} cores; RSS {:.1} → {:.1} MiB\n",
            s.cpu_s,
            self.window_s,
            s.cores,
            s.rss_kib_start as f64 / 1024.0,
            s.rss_kib_end as f64 / 1024.0
        );
        let (a, b) = self.load_average;
        out += &format!(
            "load average: {:.2} {:.2} {:.2} at the start, {:.2} {:.2} {:.2} at the end\n",
            a[0], a[1], a[2], b[0], b[1], b[2]
        );
        let yes = |b: bool| if b { "met" } else { "NOT met" };
        out += &format!(
            "goals: p99 under {GOAL_P99_MS} ms {} (probes {:.2} ms, joins {:.2} ms); service CPU \
             under {GOAL_CORES} core {} ({:.2})\n",
            yes(self.goal_p99),
            self.latency.p99_ms,
            self.join_latency.p99_ms,
            yes(self.goal_cpu),
            s.cores
        );
        if self.streams_failed > 0 {
            out += &format!(
                "{} streams failed; the first: {}\n",
                self.streams_failed,
                self.first_error.as_deref().unwrap_or("")
            );
        }
        for e in &self.probe_errors {
            out += &format!("probe error: {e}\n");
        }
        out += &format!(
            "verdict: {}\n",
            if self.ok {
                "ok: every probe reached every page it should, once"
            } else {
                "FAILED"
            }
        );
        out
    }
}

/// The machine's load average now (zeros when `/proc/loadavg` cannot be read).
pub fn load_average() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    parse_load_average(&text)
}

fn parse_load_average(text: &str) -> [f64; 3] {
    let mut out = [0.0; 3];
    for (slot, field) in out.iter_mut().zip(text.split_whitespace()) {
        *slot = field.parse().unwrap_or(0.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &'static str, lost: u64, resyncs: u64) -> KindReport {
        KindReport {
            kind: name,
            pages: 2,
            events: 10,
            events_per_s: 5.0,
            resyncs,
            probes_expected: 4,
            probes_received: 4 - lost,
            lost,
            repeats: 0,
            foreign: 0,
            latency: Percentiles::default(),
            joins: 3,
            join_latency: Percentiles::default(),
        }
    }

    fn report() -> MixedReport {
        MixedReport {
            agents: 2,
            queues: 1,
            queues_per_agent: 1,
            strategy: Strategy::Rrmemory,
            call_rate: 60.0,
            time_scale: 1.0,
            calls_live: (1, 2),
            window_s: 2.0,
            ami_events: 100,
            ami_events_per_s: 50.0,
            probes_sent: 4,
            probe_round_trip: Percentiles::default(),
            probe_errors: Vec::new(),
            kinds: vec![kind("agent", 0, 0), kind("supervisor", 0, 0)],
            latency: Percentiles::default(),
            join_latency: Percentiles::default(),
            service: ServiceUse::default(),
            load_average: ([1.0; 3], [2.0; 3]),
            streams_failed: 0,
            first_error: None,
            service_exit_ok: true,
            goal_p99: false,
            goal_cpu: false,
            ok: false,
        }
    }

    #[test]
    fn the_verdict_needs_every_probe_and_no_resync() {
        let mut r = report();
        r.judge();
        assert!(r.ok && r.goal_p99 && r.goal_cpu);
        assert!(r.text().contains("verdict: ok"), "{}", r.text());
        let mut lost = report();
        lost.kinds[1] = kind("supervisor", 1, 0);
        lost.judge();
        assert!(!lost.ok);
        let mut resynced = report();
        resynced.kinds[0] = kind("agent", 0, 1);
        resynced.judge();
        assert!(!resynced.ok);
        let mut slow = report();
        slow.latency.p99_ms = 25.0;
        slow.service.cores = 1.5;
        slow.judge();
        assert!(slow.ok && !slow.goal_p99 && !slow.goal_cpu);
        assert!(slow.text().contains("NOT met"));
        let mut slow_joins = report();
        slow_joins.join_latency.p99_ms = 21.0;
        slow_joins.judge();
        assert!(slow_joins.ok && !slow_joins.goal_p99 && slow_joins.goal_cpu);
    }

    #[test]
    fn load_averages_read_from_proc() {
        assert_eq!(
            parse_load_average("2.65 1.63 1.87 3/512 4242\n"),
            [2.65, 1.63, 1.87]
        );
        assert_eq!(parse_load_average(""), [0.0; 3]);
    }
}
