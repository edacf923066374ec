//! The flags of `pbxis-load soak` and their bounds. Everything is bounded (the duration, the
//! subscribers, the agents and queues, the call rate, the intervals), so a soak always ends by
//! itself and holds a bounded amount of memory.

use std::path::PathBuf;
use std::time::Duration;

use humantime::Duration as Human;

/// Longest soak.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
/// Most subscribers of all transports together.
pub const MAX_SUBSCRIBERS: usize = 1_000;
/// Most agents, and most queues.
pub const MAX_NAMES: usize = 200;
/// Most agents × queues: every ticket asks for all of them, within the service's default
/// `limits.max_pairs_per_ticket`.
pub const MAX_PAIRS: usize = 5_000;
/// Highest call rate, callers per simulated minute.
pub const MAX_CALL_RATE: f64 = 100_000.0;
/// Highest time scale.
pub const MAX_TIME_SCALE: f64 = 1_000.0;
/// Shortest report interval.
pub const MIN_REPORT_EVERY: Duration = Duration::from_millis(500);
/// Most report lines one soak may hold (duration / report interval).
pub const MAX_SAMPLES: u128 = 100_000;
/// Shortest interval between faults.
pub const MIN_FAULT_EVERY: Duration = Duration::from_millis(500);

/// A fault the soak injects into the simulated Asterisk.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// Every AMI connection closed at once.
    Drop,
    /// The simulator stops reading and writing for a while.
    Stall,
    /// `Shutdown`, every connection closed, connections refused for a while, fresh state.
    Restart,
    /// Bytes that are not AMI written to every connection.
    Garbage,
}

impl FaultKind {
    /// Every kind.
    pub const ALL: [FaultKind; 4] = [
        FaultKind::Drop,
        FaultKind::Stall,
        FaultKind::Restart,
        FaultKind::Garbage,
    ];

    /// The name in flags and reports.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Drop => "drop",
            FaultKind::Stall => "stall",
            FaultKind::Restart => "restart",
            FaultKind::Garbage => "garbage",
        }
    }
}

/// Soak: the service (a child `pbxis-ws serve` process, so that its memory is its own) and the
/// simulated Asterisk under live call traffic and random faults for a given time, with resuming
/// subscribers on every transport, some behind a proxy that cuts their connections. Reports
/// deliveries, resyncs and the service's RSS over time, checks that the RSS stays flat and that
/// every subscriber ends with the simulator's truth. Loopback only.
#[derive(Clone, Debug, clap::Args)]
pub struct SoakArgs {
    /// How long the traffic and the faults go on (`90s`, `10m`, `1h`).
    #[arg(long, default_value = "5m")]
    pub duration: Human,
    /// Inbound calls per simulated minute.
    #[arg(long, default_value_t = 60.0)]
    pub call_rate: f64,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 10.0)]
    pub time_scale: f64,
    /// Agents (ids 1001, 1002, ...); every agent is a member of every queue.
    #[arg(long, default_value_t = 10)]
    pub agents: usize,
    /// Queues (sq1, sq2, ...).
    #[arg(long, default_value_t = 2)]
    pub queues: usize,
    /// SSE subscribers.
    #[arg(long, default_value_t = 4)]
    pub sse: usize,
    /// WebSocket subscribers.
    #[arg(long, default_value_t = 4)]
    pub websocket: usize,
    /// Long-poll subscribers.
    #[arg(long = "long-poll", default_value_t = 4)]
    pub long_poll: usize,
    /// Share of each transport's subscribers that connect through the chaos proxy, 0..=1.
    #[arg(long, default_value_t = 0.5)]
    pub chaos_share: f64,
    /// Mean life of a connection through the chaos proxy before it is cut (exponentially
    /// distributed, so some are cut at once and some live long).
    #[arg(long, default_value = "3s")]
    pub cut_every: Human,
    /// Chance that a subscriber behind the proxy, cut off, stays away before reconnecting
    /// (its ticket's events pile up meanwhile: beyond `--max-pending` the service drops them and
    /// resyncs it; beyond `--unsub-delay` its ticket is gone), 0..=1.
    #[arg(long, default_value_t = 0.1)]
    pub away_chance: f64,
    /// Longest such absence (each is drawn from 0.5 s to this).
    #[arg(long, default_value = "8s")]
    pub away_max: Human,
    /// The service's `limits.max_pending_events` (its default is 10000; lower, the absences
    /// end in overflow resyncs within a short soak).
    #[arg(long, default_value_t = 256)]
    pub max_pending: usize,
    /// The service's `unsub_delay_seconds`: the life of a ticket without a stream.
    #[arg(long, default_value_t = 5)]
    pub unsub_delay: u64,
    /// Interval between two faults injected into the simulated Asterisk.
    #[arg(long, default_value = "30s")]
    pub fault_every: Human,
    /// The faults to draw from, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "drop,stall,restart,garbage"
    )]
    pub faults: Vec<FaultKind>,
    /// Interval between two report lines (and RSS samples).
    #[arg(long, default_value = "10s")]
    pub report_every: Human,
    /// How much the service's mean RSS over the last quarter may exceed its mean over the
    /// second quarter, percent, for the RSS to count as flat.
    #[arg(long, default_value_t = 10.0)]
    pub rss_tolerance: f64,
    /// How long, once the traffic is stopped, every subscriber has to reach the truth.
    #[arg(long, default_value = "30s")]
    pub settle: Human,
    /// Seed of the simulator and of the faults' and cuts' random draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The `pbxis-ws` binary to run as the service (default: the one beside this tool).
    #[arg(long)]
    pub service_bin: Option<PathBuf>,
    /// Print the final report as JSON on stdout (the report lines go to stderr then).
    #[arg(long)]
    pub json: bool,
}

impl SoakArgs {
    /// Checks the flags against the bounds.
    pub fn check(&self) -> Result<(), String> {
        let duration = Duration::from(self.duration);
        if duration.is_zero() || duration > MAX_DURATION {
            return Err("--duration: more than 0, at most 24h".into());
        }
        let subscribers = self.subscribers();
        if subscribers == 0 || subscribers > MAX_SUBSCRIBERS {
            return Err(format!("subscribers: 1..={MAX_SUBSCRIBERS} in all"));
        }
        if !(1..=MAX_NAMES).contains(&self.agents) || !(1..=MAX_NAMES).contains(&self.queues) {
            return Err(format!("--agents, --queues: 1..={MAX_NAMES}"));
        }
        if self.agents * self.queues > MAX_PAIRS {
            return Err(format!(
                "agents × queues: at most {MAX_PAIRS} (one ticket holds them all)"
            ));
        }
        if !(self.call_rate.is_finite() && (0.0..=MAX_CALL_RATE).contains(&self.call_rate)) {
            return Err(format!("--call-rate: 0..={MAX_CALL_RATE}"));
        }
        if !(self.time_scale.is_finite() && self.time_scale > 0.0)
            || self.time_scale > MAX_TIME_SCALE
        {
            return Err(format!(
                "--time-scale: more than 0, at most {MAX_TIME_SCALE}"
            ));
        }
        if !(self.chaos_share.is_finite() && (0.0..=1.0).contains(&self.chaos_share)) {
            return Err("--chaos-share: 0..=1".into());
        }
        if Duration::from(self.cut_every) < Duration::from_millis(10) {
            return Err("--cut-every: at least 10ms".into());
        }
        if !(self.away_chance.is_finite() && (0.0..=1.0).contains(&self.away_chance)) {
            return Err("--away-chance: 0..=1".into());
        }
        if Duration::from(self.away_max) > Duration::from_secs(600) {
            return Err("--away-max: at most 10m".into());
        }
        if !(1..=1_000_000).contains(&self.max_pending) || !(1..=3600).contains(&self.unsub_delay) {
            return Err("--max-pending: 1..=1000000; --unsub-delay: 1..=3600 seconds".into());
        }
        if Duration::from(self.fault_every) < MIN_FAULT_EVERY || self.faults.is_empty() {
            return Err("--fault-every: at least 500ms; --faults: at least one".into());
        }
        let report = Duration::from(self.report_every);
        if report < MIN_REPORT_EVERY || duration.as_millis() / report.as_millis() > MAX_SAMPLES {
            return Err(format!(
                "--report-every: at least 500ms, and at most {MAX_SAMPLES} reports in all"
            ));
        }
        if !(self.rss_tolerance.is_finite() && self.rss_tolerance >= 0.0) {
            return Err("--rss-tolerance: a number ≥ 0".into());
        }
        if Duration::from(self.settle) > Duration::from_secs(600) {
            return Err("--settle: at most 10m".into());
        }
        Ok(())
    }

    /// Subscribers in all.
    pub fn subscribers(&self) -> usize {
        self.sse + self.websocket + self.long_poll
    }

    /// The agent ids.
    pub fn agent_ids(&self) -> Vec<String> {
        (0..self.agents).map(|i| format!("{}", 1001 + i)).collect()
    }

    /// The queue names.
    pub fn queue_names(&self) -> Vec<String> {
        (0..self.queues).map(|i| format!("sq{}", i + 1)).collect()
    }

    /// The whole run's hard limit: the soak, the settling, and a minute for start and stop.
    pub fn time_limit(&self) -> Duration {
        Duration::from(self.duration) + Duration::from(self.settle) + Duration::from_secs(60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        soak: SoakArgs,
    }

    fn parse(extra: &[&str]) -> Result<SoakArgs, String> {
        let mut argv = vec!["soak"];
        argv.extend_from_slice(extra);
        let args = Cli::try_parse_from(argv).map_err(|e| e.to_string())?.soak;
        args.check().map(|()| args)
    }

    #[test]
    fn defaults_are_valid() {
        let a = parse(&[]).unwrap();
        assert_eq!(Duration::from(a.duration), Duration::from_secs(300));
        assert_eq!(a.faults, FaultKind::ALL);
        assert_eq!(a.agent_ids()[0], "1001");
        assert_eq!(a.queue_names(), ["sq1", "sq2"]);
    }

    #[test]
    fn durations_read_as_people_write_them() {
        let a = parse(&["--duration", "10m", "--fault-every", "1500ms"]).unwrap();
        assert_eq!(Duration::from(a.duration), Duration::from_secs(600));
        assert_eq!(Duration::from(a.fault_every), Duration::from_millis(1500));
        assert!(parse(&["--duration", "ten"]).is_err());
    }

    #[test]
    fn bounds_are_enforced() {
        assert!(parse(&["--duration", "0s"]).is_err());
        assert!(parse(&["--duration", "25h"]).is_err());
        assert!(parse(&["--sse", "0", "--websocket", "0", "--long-poll", "0"]).is_err());
        assert!(parse(&["--sse", "1001"]).is_err());
        assert!(parse(&["--agents", "0"]).is_err());
        assert!(parse(&["--agents", "100", "--queues", "51"]).is_err());
        assert!(parse(&["--call-rate", "-1"]).is_err());
        assert!(parse(&["--time-scale", "0"]).is_err());
        assert!(parse(&["--chaos-share", "1.5"]).is_err());
        assert!(parse(&["--away-chance", "2"]).is_err());
        assert!(parse(&["--max-pending", "0"]).is_err());
        assert!(parse(&["--unsub-delay", "0"]).is_err());
        assert!(parse(&["--fault-every", "10ms"]).is_err());
        assert!(parse(&["--faults", "meteor"]).is_err());
        assert!(parse(&["--report-every", "100ms"]).is_err());
        assert!(parse(&["--duration", "24h", "--report-every", "500ms"]).is_err());
    }
}
