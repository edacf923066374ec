//! The command line of `pbxis-load`, its bounds, and what the flags resolve to ([`Plan`]): the
//! agents and queues, the subscribers and the limits. Everything is bounded, so a run always
//! ends by itself.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

/// Most subscribers of all transports together.
pub const MAX_SUBSCRIBERS: usize = 2_000;
/// Most stamped events one run may send.
pub const MAX_EVENTS: u64 = 1_000_000;
/// Most agents or queues.
pub const MAX_NAMES: usize = 500;
/// Most (agent, queue) pairs: one driver task each.
pub const MAX_PAIRS: usize = 10_000;
/// Longest time limit, seconds.
pub const MAX_TIME_LIMIT: u64 = 3_600;
/// Most (subscriber, event) deliveries one run may expect: the bitmaps that detect duplicates
/// take one bit each.
pub const MAX_DELIVERIES: u64 = 200_000_000;

/// Load generator for pbxis-ws: subscribers on every transport, stamped events, latency,
/// throughput, losses and duplicates. Loopback only.
#[derive(Clone, Debug, Parser)]
#[command(name = "pbxis-load", version, args_conflicts_with_subcommands = true)]
pub struct LoadArgs {
    /// Another mode than the load run.
    #[command(subcommand)]
    pub command: Option<LoadCommand>,
    /// SSE subscribers.
    #[arg(long, default_value_t = 10)]
    pub sse: usize,
    /// WebSocket subscribers.
    #[arg(long, default_value_t = 10)]
    pub websocket: usize,
    /// Long-poll subscribers.
    #[arg(long = "long-poll", default_value_t = 10)]
    pub long_poll: usize,
    /// Stamped events to send (QueuePause actions, one event each).
    #[arg(long, default_value_t = 5_000)]
    pub events: u64,
    /// Events per second to aim at; 0 = as fast as the pipeline answers.
    #[arg(long, default_value_t = 1_000.0)]
    pub rate: f64,
    /// Agents: a count (in-process: ids 1001, 1002, ...) or a comma-separated list.
    #[arg(long, default_value = "10")]
    pub agents: String,
    /// Queues: a count (in-process: lq1, lq2, ...) or a comma-separated list.
    #[arg(long, default_value = "2")]
    pub queues: String,
    /// Agents per ticket (each subscriber asks for this many agents, rotating, and every
    /// queue); 0 = all.
    #[arg(long, default_value_t = 0)]
    pub ticket_agents: usize,
    /// Hard limit on the whole run, seconds: driving stops at 70% of it, waiting for the last
    /// deliveries at 100%.
    #[arg(long, default_value_t = 60)]
    pub time_limit: u64,
    /// In-process simulator: extra unchanged-state AMI events per second (they load the AMI
    /// client and the model but publish nothing).
    #[arg(long, default_value_t = 0)]
    pub firehose: u32,
    /// In-process simulator: inbound calls per simulated minute (background traffic).
    #[arg(long, default_value_t = 0.0)]
    pub call_rate: f64,
    /// In-process simulator: simulated seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// A running service to load (`http://127.0.0.1:PORT`) instead of starting one in-process.
    #[arg(long, requires = "ami")]
    pub url: Option<String>,
    /// The AMI address of the simulator the `--url` service is connected to.
    #[arg(long)]
    pub ami: Option<SocketAddr>,
    /// AMI user of the simulator.
    #[arg(long, default_value = "pbxis")]
    pub ami_user: String,
    /// AMI secret of the simulator.
    #[arg(
        long,
        default_value = "pbxis",
        env = "PBXIS_LOAD_AMI_SECRET",
        hide_env_values = true
    )]
    pub ami_secret: String,
    /// Queue interface template of the simulator's members.
    #[arg(long, default_value = "PJSIP/{agent}")]
    pub location: String,
    /// API key (scope `events`) for a `--url` service that requires one.
    #[arg(long, env = "PBXIS_LOAD_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// The modes besides the load run.
#[derive(Clone, Debug, clap::Subcommand)]
pub enum LoadCommand {
    /// Soak: traffic, faults and cut connections for a given time; RSS over time, resyncs,
    /// and every subscriber's end state against the truth (`pbxis-load soak --help`).
    Soak(crate::soak::args::SoakArgs),
    /// pbxis-ws and Pushpin side by side: memory per idle subscriber (SSE, or
    /// WebSocket on pbxis-ws alone), broadcast time, latency and CPU per delivery, and their
    /// ratios (`pbxis-load compare --help`).
    Compare(crate::compare::args::CompareArgs),
    /// Mixed realistic load: agent pages, supervisors and wallboards under live call traffic;
    /// latency per kind of page, the service's CPU and RSS (`pbxis-load mixed --help`).
    Mixed(crate::mixed::args::MixedArgs),
}

/// Where the service is.
#[derive(Clone, Debug)]
pub enum Target {
    /// Start the simulator and the service in this process.
    InProcess,
    /// A service already running, and the AMI address of its simulator.
    External {
        /// The service.
        http: SocketAddr,
        /// Its simulator.
        ami: SocketAddr,
    },
}

/// The flags, checked and resolved.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Where the service is.
    pub target: Target,
    /// Agent ids.
    pub agents: Vec<String>,
    /// Queue names.
    pub queues: Vec<String>,
    /// The flags.
    pub args: LoadArgs,
}

impl Plan {
    /// Checks the flags against the bounds.
    pub fn from_args(args: LoadArgs) -> Result<Plan, String> {
        let subscribers = args.sse + args.websocket + args.long_poll;
        if subscribers == 0 || subscribers > MAX_SUBSCRIBERS {
            return Err(format!("subscribers: 1..={MAX_SUBSCRIBERS} in all"));
        }
        if args.events == 0 || args.events > MAX_EVENTS {
            return Err(format!("--events: 1..={MAX_EVENTS}"));
        }
        if subscribers as u64 * args.events > MAX_DELIVERIES {
            return Err(format!("subscribers × events: at most {MAX_DELIVERIES}"));
        }
        if !(args.rate.is_finite() && args.rate >= 0.0) {
            return Err("--rate: a number ≥ 0".into());
        }
        if args.time_limit == 0 || args.time_limit > MAX_TIME_LIMIT {
            return Err(format!("--time-limit: 1..={MAX_TIME_LIMIT} seconds"));
        }
        if !(args.time_scale.is_finite() && args.time_scale > 0.0) {
            return Err("--time-scale: a number > 0".into());
        }
        if !(args.call_rate.is_finite() && args.call_rate >= 0.0) {
            return Err("--call-rate: a number ≥ 0".into());
        }
        if !args.location.contains("{agent}") {
            return Err("--location must contain {agent}".into());
        }
        let target = target(&args)?;
        let agents = names(&args.agents, "agents", |i| format!("{}", 1001 + i))?;
        let queues = names(&args.queues, "queues", |i| format!("lq{}", i + 1))?;
        if agents.len() * queues.len() > MAX_PAIRS {
            return Err(format!("agents × queues: at most {MAX_PAIRS}"));
        }
        Ok(Plan {
            target,
            agents,
            queues,
            args,
        })
    }

    /// The hard limit of the run.
    pub fn time_limit(&self) -> Duration {
        Duration::from_secs(self.args.time_limit)
    }

    /// Subscribers in all.
    pub fn subscribers(&self) -> usize {
        self.args.sse + self.args.websocket + self.args.long_poll
    }

    /// The agents of subscriber `index`'s ticket.
    pub fn ticket_agents(&self, index: usize) -> Vec<String> {
        let n = self.agents.len();
        let k = match self.args.ticket_agents {
            0 => n,
            k => k.min(n),
        };
        (0..k)
            .map(|j| self.agents[(index * k + j) % n].clone())
            .collect()
    }
}

fn target(args: &LoadArgs) -> Result<Target, String> {
    let Some(url) = &args.url else {
        return Ok(Target::InProcess);
    };
    let http: SocketAddr = url
        .strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
        .and_then(|host| host.parse().ok())
        .ok_or("--url: http://IP:PORT (an address, not a name)")?;
    let ami = args.ami.ok_or("--url needs --ami")?;
    if !http.ip().is_loopback() || !ami.ip().is_loopback() {
        return Err("pbxis-load only loads services on the loopback interface".into());
    }
    Ok(Target::External { http, ami })
}

/// A count (`make(i)` for each) or a comma-separated list.
fn names(spec: &str, what: &str, make: impl Fn(usize) -> String) -> Result<Vec<String>, String> {
    let spec = spec.trim();
    let list: Vec<String> = match spec.parse::<usize>() {
        Ok(n) => (0..n).map(make).collect(),
        Err(_) => spec
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    };
    if list.is_empty() || list.len() > MAX_NAMES {
        return Err(format!("--{what}: 1..={MAX_NAMES}"));
    }
    let valid = |s: &String| {
        s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    };
    if let Some(bad) = list.iter().find(|s| !valid(s)) {
        return Err(format!("--{what}: invalid name {bad:?}"));
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(extra: &[&str]) -> Result<Plan, String> {
        let mut argv = vec!["pbxis-load"];
        argv.extend_from_slice(extra);
        Plan::from_args(LoadArgs::try_parse_from(argv).map_err(|e| e.to_string())?)
    }

    #[test]
    fn counts_and_lists() {
        let p = plan(&["--agents", "3", "--queues", "a,b"]).unwrap();
        assert_eq!(p.agents, ["1001", "1002", "1003"]);
        assert_eq!(p.queues, ["a", "b"]);
        assert!(matches!(p.target, Target::InProcess));
    }

    #[test]
    fn ticket_agents_rotate() {
        let p = plan(&["--agents", "3", "--ticket-agents", "2"]).unwrap();
        assert_eq!(p.ticket_agents(0), ["1001", "1002"]);
        assert_eq!(p.ticket_agents(1), ["1003", "1001"]);
        let all = plan(&["--agents", "3"]).unwrap();
        assert_eq!(all.ticket_agents(5).len(), 3);
    }

    #[test]
    fn bounds_are_enforced() {
        assert!(plan(&["--sse", "0", "--websocket", "0", "--long-poll", "0"]).is_err());
        assert!(plan(&["--events", "0"]).is_err());
        assert!(plan(&["--rate", "-1"]).is_err());
        assert!(plan(&["--time-limit", "0"]).is_err());
        assert!(plan(&["--agents", "a b"]).is_err());
        assert!(plan(&["--sse", "2000", "--events", "1000000"]).is_err());
        assert!(plan(&["--agents", "500", "--queues", "500"]).is_err());
    }

    #[test]
    fn loopback_only() {
        let ok = plan(&["--url", "http://127.0.0.1:8080", "--ami", "127.0.0.1:5038"]).unwrap();
        assert!(matches!(ok.target, Target::External { .. }));
        assert!(plan(&["--url", "http://10.0.0.1:8080", "--ami", "127.0.0.1:5038"]).is_err());
        assert!(plan(&["--url", "http://127.0.0.1:8080", "--ami", "10.0.0.1:5038"]).is_err());
        assert!(plan(&["--url", "http://localhost:8080", "--ami", "127.0.0.1:5038"]).is_err());
    }
}
