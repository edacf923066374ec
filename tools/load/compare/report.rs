//! The comparison's results: each side's figures, and the table that puts them side by side
//! with their ratios (Pushpin's figure over pbxis-ws's: above 1, pbxis-ws needs less).

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::args::{CompareArgs, Transport};

/// The memory and broadcast phase of one side.
#[derive(Clone, Debug, Serialize)]
pub struct IdleReport {
    /// How they held their streams.
    pub transport: Transport,
    /// Subscribers held.
    pub subscribers: usize,
    /// Resident memory with them, KiB.
    pub rss_kib: u64,
    /// `(rss − baseline) / subscribers`, KiB.
    pub rss_per_subscriber_kib: f64,
    /// Each broadcast's time from sending to the last subscriber's read, ms.
    pub broadcasts_ms: Vec<f64>,
    /// Their median, ms.
    pub broadcast_ms: f64,
    /// Streams the side ended during the phase (the broadcasts count the others only).
    pub streams_ended: usize,
    /// Why the first of them ended.
    pub first_end: Option<String>,
}

impl IdleReport {
    /// From the readings.
    pub fn new(subscribers: usize, baseline: u64, rss: u64, broadcasts_ms: Vec<f64>) -> Self {
        let mut sorted = broadcasts_ms.clone();
        sorted.sort_by(f64::total_cmp);
        Self {
            transport: Transport::Sse,
            subscribers,
            rss_kib: rss,
            rss_per_subscriber_kib: rss.saturating_sub(baseline) as f64 / subscribers.max(1) as f64,
            broadcast_ms: sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN),
            broadcasts_ms,
            streams_ended: 0,
            first_end: None,
        }
    }
}

/// One rate phase of one side.
#[derive(Clone, Debug, Serialize)]
pub struct RateReport {
    /// Events per second.
    pub rate: f64,
    /// Subscribers.
    pub subscribers: usize,
    /// Events sent (accepted by the simulator or the publish API).
    pub sent: u64,
    /// Deliveries expected (`sent × subscribers`).
    pub expected: u64,
    /// Deliveries read.
    pub received: u64,
    /// Latency percentiles and maximum, ms.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Maximum.
    pub max_ms: f64,
    /// The side's CPU time during the phase, µs.
    pub cpu_us: u64,
    /// `cpu_us / received`.
    pub cpu_us_per_delivery: f64,
    /// Deliveries per second over the phase.
    pub deliveries_per_s: f64,
    /// CPU time of this tool (subscribers and event source) during the phase, µs: on the same
    /// cores, it competes with the side measured.
    pub tool_cpu_us: u64,
}

impl RateReport {
    /// From the readings.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        rate: f64,
        subscribers: usize,
        sent: u64,
        expected: u64,
        received: u64,
        latency: &Histogram<u64>,
        cpu_us: u64,
        elapsed: std::time::Duration,
    ) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            rate,
            subscribers,
            sent,
            expected,
            received,
            p50_ms: ms(latency.value_at_quantile(0.50)),
            p99_ms: ms(latency.value_at_quantile(0.99)),
            max_ms: ms(latency.max()),
            cpu_us,
            cpu_us_per_delivery: cpu_us as f64 / received.max(1) as f64,
            deliveries_per_s: received as f64 / elapsed.as_secs_f64().max(1e-9),
            tool_cpu_us: 0,
        }
    }
}

/// One side.
#[derive(Clone, Debug, Serialize)]
pub struct SideReport {
    /// `pbxis-ws` or `Pushpin`.
    pub name: &'static str,
    /// Resident memory with no subscriber, KiB.
    pub baseline_rss_kib: u64,
    /// The idle phase.
    pub idle: Option<IdleReport>,
    /// The rate phases.
    pub rates: Vec<RateReport>,
    /// What went wrong, if anything.
    pub errors: Vec<String>,
}

impl SideReport {
    /// A side with its baseline, nothing measured yet.
    pub fn new(name: &'static str, baseline_rss_kib: u64) -> Self {
        Self {
            name,
            baseline_rss_kib,
            idle: None,
            rates: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Every delivery arrived and nothing failed.
    pub fn ok(&self) -> bool {
        self.errors.is_empty() && self.rates.iter().all(|r| r.received == r.expected)
    }
}

/// The whole comparison.
#[derive(Clone, Debug, Serialize)]
pub struct CompareReport {
    /// The sides, pbxis-ws first.
    pub sides: Vec<SideReport>,
    /// The machine: CPUs and load average at the end.
    pub machine: String,
    /// True when every side ran clean.
    pub ok: bool,
}

impl CompareReport {
    /// From the sides.
    pub fn new(_args: &CompareArgs, sides: Vec<SideReport>) -> Self {
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let load: Vec<&str> = load.split_whitespace().take(3).collect();
        Self {
            ok: sides.iter().all(SideReport::ok),
            machine: format!("{cpus} CPUs, load average {}", load.join(" ")),
            sides,
        }
    }

    /// The table, one column per side and the ratio when there are two.
    pub fn text(&self) -> String {
        let mut rows: Vec<(String, Vec<String>, Option<f64>)> = Vec::new();
        let side = |i: usize| self.sides.get(i);
        let row = |label: String, value: &dyn Fn(&SideReport) -> Option<f64>, unit: &str| {
            let values: Vec<Option<f64>> = self.sides.iter().map(value).collect();
            let shown = values
                .iter()
                .map(|v| v.map_or("-".to_owned(), |v| format!("{} {unit}", fmt(v))))
                .collect();
            let ratio = match (values.first(), values.get(1)) {
                (Some(Some(a)), Some(Some(b))) if *a > 0.0 => Some(b / a),
                _ => None,
            };
            (label, shown, ratio)
        };
        if let Some(idle) = side(0).and_then(|s| s.idle.as_ref()) {
            let n = idle.subscribers;
            let over = match idle.transport {
                Transport::Sse => "",
                Transport::Websocket => ", WebSocket",
            };
            rows.push(row(
                format!("RSS per idle subscriber ({n}{over})"),
                &|s| s.idle.as_ref().map(|i| i.rss_per_subscriber_kib),
                "KiB",
            ));
            rows.push(row(
                format!("broadcast to {n}{over} (median)"),
                &|s| s.idle.as_ref().map(|i| i.broadcast_ms),
                "ms",
            ));
        }
        let rates = side(0).map_or(0, |s| s.rates.len());
        for i in 0..rates {
            let Some(r) = side(0).map(|s| &s.rates[i]) else {
                continue;
            };
            let at = format!("{} × {}/s", r.subscribers, r.rate);
            let rate = |f: fn(&RateReport) -> f64| move |s: &SideReport| s.rates.get(i).map(f);
            rows.push(row(format!("{at} p50"), &rate(|r| r.p50_ms), "ms"));
            rows.push(row(format!("{at} p99"), &rate(|r| r.p99_ms), "ms"));
            rows.push(row(format!("{at} max"), &rate(|r| r.max_ms), "ms"));
            rows.push(row(
                format!("{at} CPU per delivery"),
                &rate(|r| r.cpu_us_per_delivery),
                "µs",
            ));
            rows.push(row(
                format!("{at} deliveries/s"),
                &rate(|r| r.deliveries_per_s),
                "",
            ));
            rows.push(row(
                format!("{at} tool CPU per delivery"),
                &rate(|r| r.tool_cpu_us as f64 / r.received.max(1) as f64),
                "µs",
            ));
        }
        let mut out = String::new();
        let names: Vec<&str> = self.sides.iter().map(|s| s.name).collect();
        let _ = write!(out, "{:<34}", "");
        for name in &names {
            let _ = write!(out, "{name:>14}");
        }
        if names.len() == 2 {
            let _ = write!(out, "{:>14}", "ratio");
        }
        out.push('\n');
        for (label, values, ratio) in rows {
            let _ = write!(out, "{label:<34}");
            for v in values {
                let _ = write!(out, "{v:>14}");
            }
            if let Some(ratio) = ratio {
                let _ = write!(out, "{:>13.1}×", ratio);
            }
            out.push('\n');
        }
        for s in &self.sides {
            if let Some(idle) = s.idle.as_ref().filter(|i| i.streams_ended > 0) {
                let _ = writeln!(
                    out,
                    "{}: {} of {} idle streams ended by the server ({})",
                    s.name,
                    idle.streams_ended,
                    idle.subscribers,
                    idle.first_end.as_deref().unwrap_or("")
                );
            }
            for r in &s.rates {
                if r.received != r.expected {
                    let _ = writeln!(
                        out,
                        "{}: {} × {}/s: {} of {} deliveries",
                        s.name, r.subscribers, r.rate, r.received, r.expected
                    );
                }
            }
            for e in &s.errors {
                let _ = writeln!(out, "{}: error: {e}", s.name);
            }
        }
        let _ = writeln!(out, "machine: {}", self.machine);
        out
    }
}

/// Three significant figures, no more decimals than that.
fn fmt(v: f64) -> String {
    match v.abs() {
        a if a >= 100.0 => format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        _ => format!("{v:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_pushpin_over_pbxis() {
        let idle = |rss| IdleReport::new(100, 1000, rss, vec![3.0, 1.0, 2.0]);
        let mut a = SideReport::new("pbxis-ws", 1000);
        a.idle = Some(idle(2000));
        let mut b = SideReport::new("Pushpin", 1000);
        b.idle = Some(idle(5000));
        assert_eq!(a.idle.as_ref().unwrap().broadcast_ms, 2.0);
        let report = CompareReport {
            sides: vec![a, b],
            machine: "m".into(),
            ok: true,
        };
        let text = report.text();
        let line = text
            .lines()
            .find(|l| l.starts_with("RSS per idle"))
            .unwrap();
        assert!(
            line.contains("10.0 KiB") && line.contains("40.0 KiB"),
            "{line}"
        );
        assert!(line.trim_end().ends_with("4.0×"), "{line}");
    }
}
