//! What a soak reports: one [`Sample`] per interval (printed as one line as it is taken), the
//! service's RSS over time and the verdict on its flatness, the end state of every subscriber
//! against the simulator's truth, and the totals. Text for people, JSON (`--json`) for tests.

use std::collections::BTreeMap;

use std::time::Duration;

use serde::Serialize;

use super::args::FaultKind;
use super::child::LogTail;

/// One interval's figures (totals since the start, but for the rate).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Sample {
    /// Seconds since the traffic started.
    pub elapsed_s: f64,
    /// Events applied by all subscribers.
    pub deliveries: u64,
    /// Deliveries per second over the last interval.
    pub per_second: f64,
    /// `resync` events by reason.
    pub resyncs: BTreeMap<String, u64>,
    /// Reconnections of all subscribers.
    pub reconnects: u64,
    /// Absences of subscribers (cut off and staying away a while).
    pub aways: u64,
    /// Tickets taken again because the previous one was gone.
    pub new_tickets: u64,
    /// Connections the chaos proxy cut.
    pub cuts: u64,
    /// Faults injected into the simulator.
    pub faults: u64,
    /// The service's resident set, KiB (`None` if it could not be read).
    pub rss_kib: Option<u64>,
}

impl Sample {
    /// The report line.
    pub fn line(&self) -> String {
        let resyncs = self.line_resyncs();
        format!(
            "{:>8.1}s  deliveries {:>10} ({:>7.0}/s)  resyncs {resyncs}  reconnects {} \
             (away {})  new tickets {}  cuts {}  faults {}  service RSS {}",
            self.elapsed_s,
            self.deliveries,
            self.per_second,
            self.reconnects,
            self.aways,
            self.new_tickets,
            self.cuts,
            self.faults,
            mib(self.rss_kib),
        )
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "?".to_owned(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

/// The service's RSS over the run, and whether it stayed flat: the mean of the last quarter of
/// the run against the mean of the second quarter (the first is warm-up).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Flatness {
    /// First sample, KiB.
    pub first_kib: u64,
    /// Last sample, KiB.
    pub last_kib: u64,
    /// Largest sample, KiB.
    pub max_kib: u64,
    /// Mean over the second quarter of the run, KiB.
    pub second_quarter_mean_kib: f64,
    /// Mean over the last quarter, KiB.
    pub last_quarter_mean_kib: f64,
    /// Last-quarter mean over second-quarter mean, minus one, percent.
    pub growth_percent: f64,
    /// The growth allowed, percent.
    pub tolerance_percent: f64,
    /// Flat, not flat, or `None`: too few samples to say.
    pub flat: Option<bool>,
}

/// Judges `(elapsed seconds, RSS KiB)` samples of a run of `duration` seconds.
pub fn flatness(samples: &[(f64, u64)], duration: f64, tolerance_percent: f64) -> Flatness {
    let rss: Vec<u64> = samples.iter().map(|(_, r)| *r).collect();
    let mean = |lo: f64, hi: f64| {
        let v: Vec<f64> = samples
            .iter()
            .filter(|(t, _)| *t >= lo * duration && *t <= hi * duration)
            .map(|(_, r)| *r as f64)
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    // The second quarter ends before the half; the last quarter takes the end too.
    let second = mean(0.25, 0.5 - f64::EPSILON);
    let last = mean(0.75, 1.0 + f64::EPSILON);
    let mut f = Flatness {
        first_kib: rss.first().copied().unwrap_or(0),
        last_kib: rss.last().copied().unwrap_or(0),
        max_kib: rss.iter().copied().max().unwrap_or(0),
        tolerance_percent,
        ..Flatness::default()
    };
    if let (Some(second), Some(last)) = (second, last) {
        f.second_quarter_mean_kib = second;
        f.last_quarter_mean_kib = last;
        f.growth_percent = (last / second.max(1.0) - 1.0) * 100.0;
        f.flat = Some(f.growth_percent <= tolerance_percent);
    }
    f
}

/// One subscriber at the end.
#[derive(Clone, Debug, Serialize)]
pub struct SubscriberEnd {
    /// Its number.
    pub index: usize,
    /// Its transport.
    pub transport: &'static str,
    /// Connected through the chaos proxy.
    pub via_proxy: bool,
    /// Events applied.
    pub deliveries: u64,
    /// `resync` events by reason.
    pub resyncs: BTreeMap<String, u64>,
    /// Reconnections.
    pub reconnects: u64,
    /// Absences.
    pub aways: u64,
    /// Tickets taken again.
    pub new_tickets: u64,
    /// Lost events (an id jump without `resync`).
    pub gaps: u64,
    /// Repeated events (an id not after the last).
    pub repeats: u64,
    /// Connections that ended in an error.
    pub errors: u64,
    /// The last of them.
    pub last_error: Option<String>,
    /// Its belief equals the simulator's truth.
    pub converged: bool,
    /// How it differs, if it does (a few lines).
    pub differences: Vec<String>,
}

/// The whole soak.
#[derive(Clone, Debug, Serialize)]
pub struct SoakReport {
    /// Seconds of traffic and faults.
    pub duration_s: f64,
    /// Subscribers in all, and behind the chaos proxy.
    pub subscribers: usize,
    /// Of them, through the chaos proxy.
    pub via_proxy: usize,
    /// One sample per interval.
    pub samples: Vec<Sample>,
    /// Faults by kind.
    pub faults: BTreeMap<String, u64>,
    /// The service's RSS.
    pub rss: Flatness,
    /// Lost events of all subscribers.
    pub gaps: u64,
    /// Repeated events of all subscribers.
    pub repeats: u64,
    /// Every subscriber reached the truth once the traffic stopped.
    pub converged: bool,
    /// Seconds from the traffic's stop (calls hung up) to convergence, if reached.
    pub converged_after_s: Option<f64>,
    /// Each subscriber at the end.
    pub subscriber_ends: Vec<SubscriberEnd>,
    /// What the service logged.
    pub service_logs: LogTail,
    /// The service exited 0 after `POST /stop`.
    pub service_exit_ok: bool,
    /// Converged, no event lost or repeated, RSS not found growing, clean exit.
    pub ok: bool,
}

/// What a soak found, before it is judged.
pub struct Outcome {
    /// How long the traffic and faults went on.
    pub duration: Duration,
    /// `--rss-tolerance`.
    pub rss_tolerance: f64,
    /// The samples.
    pub samples: Vec<Sample>,
    /// Faults by kind.
    pub faults: Vec<(FaultKind, u64)>,
    /// When every subscriber reached the truth, if it did.
    pub converged_after_s: Option<f64>,
    /// Each subscriber at the end.
    pub ends: Vec<SubscriberEnd>,
    /// What the service logged.
    pub service_logs: LogTail,
    /// The service exited 0.
    pub service_exit_ok: bool,
}

impl SoakReport {
    /// Totals and verdicts of an outcome.
    pub fn build(o: Outcome) -> SoakReport {
        let duration_s = o.duration.as_secs_f64();
        let rss: Vec<(f64, u64)> = o
            .samples
            .iter()
            .filter_map(|s| Some((s.elapsed_s, s.rss_kib?)))
            .collect();
        let rss = flatness(&rss, duration_s, o.rss_tolerance);
        let gaps = o.ends.iter().map(|e| e.gaps).sum();
        let repeats = o.ends.iter().map(|e| e.repeats).sum();
        let converged = o.ends.iter().all(|e| e.converged);
        let clean = gaps == 0 && repeats == 0 && o.service_exit_ok;
        SoakReport {
            duration_s,
            subscribers: o.ends.len(),
            via_proxy: o.ends.iter().filter(|e| e.via_proxy).count(),
            samples: o.samples,
            faults: o
                .faults
                .into_iter()
                .map(|(k, n)| (k.name().to_owned(), n))
                .collect(),
            ok: converged && clean && rss.flat != Some(false),
            rss,
            gaps,
            repeats,
            converged,
            converged_after_s: o.converged_after_s.filter(|_| converged),
            subscriber_ends: o.ends,
            service_logs: o.service_logs,
            service_exit_ok: o.service_exit_ok,
        }
    }

    /// The end of the text report (the sample lines were printed as they came).
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let last = self.samples.last().cloned().unwrap_or_default();
        let faults: Vec<String> = self
            .faults
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        out.push_str(&format!(
            "summary: {:.0} s, {} subscribers ({} behind the chaos proxy), {} deliveries \
             ({:.0}/s), reconnects {} (after {} absences), new tickets {}, cuts {}, faults {} ({})\n",
            self.duration_s,
            self.subscribers,
            self.via_proxy,
            last.deliveries,
            last.deliveries as f64 / self.duration_s.max(1e-9),
            last.reconnects,
            last.aways,
            last.new_tickets,
            last.cuts,
            last.faults,
            faults.join(", "),
        ));
        out.push_str(&format!("resyncs: {}\n", last.line_resyncs()));
        let r = &self.rss;
        let verdict = match r.flat {
            Some(true) => "flat",
            Some(false) => "GROWING",
            None => "too few samples to judge",
        };
        out.push_str(&format!(
            "service RSS: first {}, last {}, max {}; mean second quarter {}, last quarter {} \
             ({:+.1}%, tolerance {}%): {verdict}\n",
            mib(Some(r.first_kib)),
            mib(Some(r.last_kib)),
            mib(Some(r.max_kib)),
            mib(Some(r.second_quarter_mean_kib as u64)),
            mib(Some(r.last_quarter_mean_kib as u64)),
            r.growth_percent,
            r.tolerance_percent,
        ));
        out.push_str(&format!(
            "ids: {} lost, {} repeated; service log: {} warnings, {} errors; service exit {}\n",
            self.gaps,
            self.repeats,
            self.service_logs.warnings,
            self.service_logs.errors,
            if self.service_exit_ok { "ok" } else { "NOT ok" },
        ));
        out.push_str(&self.convergence_text());
        out.push_str(&format!(
            "verdict: {}\n",
            if self.ok { "ok" } else { "FAILED" }
        ));
        out
    }

    fn convergence_text(&self) -> String {
        let equal = self.subscriber_ends.iter().filter(|s| s.converged).count();
        let mut out = format!(
            "convergence: {equal}/{} subscribers equal the simulator's truth",
            self.subscriber_ends.len()
        );
        match self.converged_after_s {
            Some(s) => out.push_str(&format!(" ({s:.1} s after the traffic stopped)\n")),
            None => out.push('\n'),
        }
        for s in self.subscriber_ends.iter().filter(|s| !s.converged) {
            out.push_str(&format!(
                "  subscriber {} ({}{}): {}; last error {:?}\n",
                s.index,
                s.transport,
                if s.via_proxy { ", via proxy" } else { "" },
                s.differences.join("; "),
                s.last_error,
            ));
        }
        out
    }
}

impl Sample {
    fn line_resyncs(&self) -> String {
        if self.resyncs.is_empty() {
            return "none".to_owned();
        }
        let parts: Vec<String> = self
            .resyncs
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[u64]) -> Vec<(f64, u64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| ((i + 1) as f64, *v))
            .collect()
    }

    #[test]
    fn a_level_series_is_flat_and_a_climbing_one_is_not() {
        let level = flatness(&series(&[50, 100, 101, 100, 99, 100, 101, 100]), 8.0, 10.0);
        assert_eq!(level.flat, Some(true), "{level:?}");
        assert_eq!(
            (level.first_kib, level.last_kib, level.max_kib),
            (50, 100, 101)
        );
        let climbing = flatness(
            &series(&[100, 110, 120, 130, 140, 150, 160, 170]),
            8.0,
            10.0,
        );
        assert_eq!(climbing.flat, Some(false), "{climbing:?}");
        // Quarters by time: 2 s to 3.99 s (110, 120), 6 s to 8 s (150, 160, 170).
        assert_eq!(climbing.second_quarter_mean_kib, 115.0);
        assert_eq!(climbing.last_quarter_mean_kib, 160.0);
    }

    #[test]
    fn too_few_samples_say_nothing() {
        assert_eq!(flatness(&series(&[100]), 8.0, 10.0).flat, None);
        assert_eq!(flatness(&[], 8.0, 10.0).flat, None);
    }

    #[test]
    fn a_line_says_everything() {
        let mut s = Sample {
            elapsed_s: 10.0,
            deliveries: 1234,
            per_second: 123.4,
            rss_kib: Some(2048),
            ..Sample::default()
        };
        s.resyncs.insert("restart".into(), 2);
        let line = s.line();
        assert!(line.contains("deliveries       1234 (    123/s)"), "{line}");
        assert!(line.contains("resyncs restart 2"), "{line}");
        assert!(line.contains("service RSS 2.0 MiB"), "{line}");
    }
}
