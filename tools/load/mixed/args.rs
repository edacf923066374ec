//! The flags of `pbxis-load mixed`, their bounds, and the call center they describe: agent ids,
//! queue names, and which queues each agent is a member of. Everything is bounded, so a run
//! always ends by itself and holds a bounded amount of memory.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// Most agents (one agent page each).
pub const MAX_AGENTS: usize = 2_000;
/// Most queues.
pub const MAX_QUEUES: usize = 200;
/// Most supervisor pages, and most wallboards.
pub const MAX_BOARDS: usize = 500;
/// Highest call rate, callers per simulated minute.
pub const MAX_CALL_RATE: f64 = 100_000.0;
/// Highest time scale.
pub const MAX_TIME_SCALE: f64 = 1_000.0;
/// Most probes per second.
pub const MAX_PROBE_RATE: f64 = 1_000.0;
/// Longest measured window, and longest warm-up, seconds.
pub const MAX_SECONDS: u64 = 3_600;
/// Longest interval of the service's queue summaries, seconds.
pub const MAX_SUMMARY_REFRESH: u64 = 3_600;

/// How the simulated queues ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// One free member at a time, in turn.
    Rrmemory,
    /// Every free member at once.
    Ringall,
    /// The first queue ringall, the second rrmemory, and so on.
    Alternate,
}

impl Strategy {
    /// The name in flags and reports.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Rrmemory => "rrmemory",
            Strategy::Ringall => "ringall",
            Strategy::Alternate => "alternate",
        }
    }

    /// The strategy of the `index`th queue.
    pub fn of(self, index: usize) -> &'static str {
        match self {
            Strategy::Rrmemory => "rrmemory",
            Strategy::Ringall => "ringall",
            Strategy::Alternate if index.is_multiple_of(2) => "ringall",
            Strategy::Alternate => "rrmemory",
        }
    }
}

/// Mixed realistic load: one agent page per agent (its queues), supervisor pages (every agent,
/// every queue) and wallboards (every queue, no agent, summary events), all on SSE, while the
/// simulated Asterisk runs live call traffic; stamped probes on top measure the latency per
/// kind of page. Reports the AMI events per second the service received, the deliveries per
/// second per kind of page, latency percentiles, and the service's CPU (cores) and RSS.
/// Loopback only.
#[derive(Clone, Debug, Args)]
pub struct MixedArgs {
    /// Agents (ids 1001, 1002, ...): one agent page each.
    #[arg(long, default_value_t = 1_000)]
    pub agents: usize,
    /// Queues (mq1, mq2, ...).
    #[arg(long, default_value_t = 20)]
    pub queues: usize,
    /// How the queues ring their free members.
    #[arg(long, value_enum, default_value = "rrmemory")]
    pub strategy: Strategy,
    /// Queues each agent is a member of (agent i: queues i·k to i·k+k−1, modulo --queues).
    #[arg(long, default_value_t = 2)]
    pub queues_per_agent: usize,
    /// Supervisor pages: every agent, every queue.
    #[arg(long, default_value_t = 50)]
    pub supervisors: usize,
    /// Wallboards: every queue, no agent, with summary events.
    #[arg(long, default_value_t = 20)]
    pub wallboards: usize,
    /// Inbound calls per simulated minute, spread over the queues (the default brings the
    /// service about 500 AMI events a second once the calls are at their steady state).
    #[arg(long, default_value_t = 500.0)]
    pub call_rate: f64,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// Stamped probes per second (`QueuePause` with the stamp as reason), rotating over the
    /// agents, each in its first queue.
    #[arg(long, default_value_t = 10.0)]
    pub probe_rate: f64,
    /// Length of the measured window, seconds.
    #[arg(long, default_value_t = 30)]
    pub seconds: u64,
    /// Call traffic before the window, seconds (calls pile up to their steady state: talk
    /// lasts up to a simulated minute).
    #[arg(long, default_value_t = 45)]
    pub warmup: u64,
    /// The service's `summary_refresh_seconds` (the wallboards' figures); 0 = none.
    #[arg(long, default_value_t = 10)]
    pub summary_refresh: u64,
    /// Seed of the simulator's random draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The `pbxis-ws` binary to run as the service (default: the one beside this tool).
    #[arg(long)]
    pub service_bin: Option<PathBuf>,
    /// Print the report as JSON on stdout (progress goes to stderr either way).
    #[arg(long)]
    pub json: bool,
}

impl MixedArgs {
    /// Checks the flags against the bounds.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_AGENTS).contains(&self.agents) {
            return Err(format!("--agents: 1..={MAX_AGENTS}"));
        }
        if !(1..=MAX_QUEUES).contains(&self.queues) {
            return Err(format!("--queues: 1..={MAX_QUEUES}"));
        }
        if !(1..=self.queues).contains(&self.queues_per_agent) {
            return Err("--queues-per-agent: 1..=--queues".into());
        }
        if self.supervisors > MAX_BOARDS || self.wallboards > MAX_BOARDS {
            return Err(format!("--supervisors, --wallboards: 0..={MAX_BOARDS}"));
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
        if !(self.probe_rate.is_finite() && self.probe_rate > 0.0)
            || self.probe_rate > MAX_PROBE_RATE
        {
            return Err(format!(
                "--probe-rate: more than 0, at most {MAX_PROBE_RATE}"
            ));
        }
        if !(1..=MAX_SECONDS).contains(&self.seconds) || self.warmup > MAX_SECONDS {
            return Err(format!(
                "--seconds: 1..={MAX_SECONDS}; --warmup: 0..={MAX_SECONDS}"
            ));
        }
        if self.summary_refresh > MAX_SUMMARY_REFRESH {
            return Err(format!("--summary-refresh: 0..={MAX_SUMMARY_REFRESH}"));
        }
        Ok(())
    }

    /// Pages of every kind together.
    pub fn pages(&self) -> usize {
        self.agents + self.supervisors + self.wallboards
    }

    /// Probes the window sends.
    pub fn probes(&self) -> u64 {
        (self.probe_rate * self.seconds as f64).round().max(1.0) as u64
    }

    /// The agent ids.
    pub fn agent_ids(&self) -> Vec<String> {
        (0..self.agents).map(|i| format!("{}", 1001 + i)).collect()
    }

    /// The queue names.
    pub fn queue_names(&self) -> Vec<String> {
        (0..self.queues).map(|i| format!("mq{}", i + 1)).collect()
    }

    /// The indices of agent `agent`'s queues, its first queue first.
    pub fn queues_of(&self, agent: usize) -> Vec<usize> {
        let k = self.queues_per_agent;
        (0..k).map(|j| (agent * k + j) % self.queues).collect()
    }

    /// The whole run's hard limit: warm-up, window, and three minutes to start, open the
    /// pages, drain and stop.
    pub fn time_limit(&self) -> Duration {
        Duration::from_secs(self.warmup + self.seconds + 180)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        mixed: MixedArgs,
    }

    fn parse(extra: &[&str]) -> Result<MixedArgs, String> {
        let mut argv = vec!["mixed"];
        argv.extend_from_slice(extra);
        let args = Cli::try_parse_from(argv).map_err(|e| e.to_string())?.mixed;
        args.check().map(|()| args)
    }

    #[test]
    fn defaults_are_the_goal_of_the_mixed_load() {
        let a = parse(&[]).unwrap();
        assert_eq!((a.agents, a.supervisors, a.wallboards), (1000, 50, 20));
        assert_eq!(a.pages(), 1070);
        assert_eq!(a.seconds, 30);
        assert_eq!(a.probes(), 300);
        assert_eq!(a.agent_ids()[0], "1001");
        assert_eq!(a.queue_names()[19], "mq20");
        assert_eq!(a.strategy, Strategy::Rrmemory);
    }

    #[test]
    fn strategies_per_queue() {
        let a = parse(&["--strategy", "alternate"]).unwrap();
        assert_eq!(
            [a.strategy.of(0), a.strategy.of(1)],
            ["ringall", "rrmemory"]
        );
        assert_eq!(Strategy::Ringall.of(1), "ringall");
        assert!(parse(&["--strategy", "random"]).is_err());
    }

    #[test]
    fn memberships_spread_evenly_over_the_queues() {
        let a = parse(&["--agents", "10", "--queues", "5", "--queues-per-agent", "2"]).unwrap();
        assert_eq!(a.queues_of(0), [0, 1]);
        assert_eq!(a.queues_of(2), [4, 0]);
        let mut per_queue = [0; 5];
        for agent in 0..a.agents {
            let queues = a.queues_of(agent);
            assert_eq!(queues.len(), 2);
            assert_ne!(queues[0], queues[1]);
            for q in queues {
                per_queue[q] += 1;
            }
        }
        assert_eq!(per_queue, [4; 5]);
        let one = parse(&["--queues", "1", "--queues-per-agent", "1"]).unwrap();
        assert_eq!(one.queues_of(999), [0]);
    }

    #[test]
    fn bounds_are_enforced() {
        for bad in [
            &["--agents", "0"][..],
            &["--agents", "2001"],
            &["--queues", "0"],
            &["--queues", "3", "--queues-per-agent", "4"],
            &["--queues-per-agent", "0"],
            &["--supervisors", "501"],
            &["--wallboards", "501"],
            &["--call-rate", "-1"],
            &["--call-rate", "NaN"],
            &["--time-scale", "0"],
            &["--time-scale", "1001"],
            &["--probe-rate", "0"],
            &["--probe-rate", "1001"],
            &["--seconds", "0"],
            &["--warmup", "3601"],
            &["--summary-refresh", "3601"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(parse(&["--supervisors", "0", "--wallboards", "0", "--warmup", "0"]).is_ok());
    }
}
