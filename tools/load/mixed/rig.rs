//! The call center under a mixed run: the simulated Asterisk in this process (on a runtime of
//! its own, live call traffic from the start), its agents static members of their queues; the
//! service as a child process, `pbxis-ws serve` (its CPU and memory are its own), with limits
//! that let a supervisor's ticket hold every agent and every queue and with queue summaries
//! for the wallboards; the probe driver's AMI connection and the join watcher's; the tickets
//! of every page; and the service's count of AMI events received (`/metrics`).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hyper::{Method, StatusCode};
use pbxis_ws::ami::AmiConfig;
use pbxis_ws::sim::{self, SimConfig, SimHandle};
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

use super::args::MixedArgs;
use super::joins::Joins;
use super::pages::{Kind, Page};
use crate::driver::{Pair, Source};
use crate::http::Connection;
use crate::soak::child::{ServiceChild, Wanted, AMI_SECRET};
use crate::stamp::Clock;

/// Members' interfaces and devices in the simulator and the service.
const LOCATION: &str = "PJSIP/{agent}";
/// How long the driver may take to log in.
const LOGIN_WAIT: Duration = Duration::from_secs(10);
/// Undelivered bytes a ticket may hold: a supervisor's snapshot restates every agent and
/// every membership (the default, 1 MiB, holds about a thousand agents).
const MAX_PENDING_BYTES: i64 = 16 * 1024 * 1024;

/// The running simulator, service and driver.
pub struct Rig {
    /// The service's HTTP address.
    pub http: SocketAddr,
    /// The service's process id.
    pub pid: u32,
    /// The probe driver.
    pub source: Source,
    service: ServiceChild,
    sim: SimHandle,
    sim_runtime: Runtime,
    watching: CancellationToken,
}

impl Rig {
    /// Starts the simulator (traffic on), the service and the driver.
    pub async fn start(args: &MixedArgs, bin: &Path) -> anyhow::Result<Rig> {
        let sim_runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(crate::usage::SIMULATOR_THREAD)
            .enable_all()
            .build()
            .context("cannot build the simulator's runtime")?;
        let sim = sim_runtime
            .spawn(sim::start(
                sim_config(args),
                SocketAddr::from(([127, 0, 0, 1], 0)),
            ))
            .await
            .context("the simulator's start-up task failed")?
            .context("cannot start the simulator")?;
        let wanted = Wanted {
            location: LOCATION.to_owned(),
            subscribers: args.pages(),
            max_pending: 10_000,
            unsub_delay: 60,
        };
        let service = ServiceChild::start_with(bin, sim.addr(), &wanted, service_extra(args)?)
            .await
            .context("the service")?;
        let ami = sim.addr();
        let ami = AmiConfig::new(ami.ip().to_string(), ami.port(), "pbxis", AMI_SECRET);
        let source = Source::connect(ami, LOGIN_WAIT)
            .await
            .context("the driver's AMI connection")?;
        Ok(Rig {
            http: service.http,
            pid: service.pid,
            source,
            service,
            sim,
            sim_runtime,
            watching: CancellationToken::new(),
        })
    }

    /// Starts recording every caller's join (see `joins`), on the simulator's runtime.
    pub async fn watch_joins(&self, clock: Clock, joins: Arc<Joins>) -> anyhow::Result<()> {
        let ami = self.sim.addr();
        let ami = AmiConfig::new(ami.ip().to_string(), ami.port(), "pbxis", AMI_SECRET);
        self.sim_runtime
            .spawn(super::joins::watch(
                ami,
                clock,
                joins,
                self.watching.clone(),
            ))
            .await
            .context("the join watcher's start-up task failed")?
    }

    /// Calls live in the simulator now.
    pub async fn calls(&self) -> usize {
        self.sim.truth().await.calls.len()
    }

    /// AMI events the service has received so far (`pbxis_ami_events_total`, every type).
    pub async fn ami_events(&self) -> anyhow::Result<u64> {
        let mut conn = Connection::open(self.http, None).await?;
        let body = conn
            .call(Method::GET, "/metrics", None, StatusCode::OK)
            .await
            .context("GET /metrics")?;
        Ok(ami_events_in(&String::from_utf8_lossy(&body)))
    }

    /// A ticket for every page, in order: agent pages, supervisors, wallboards.
    pub async fn pages(&self, args: &MixedArgs) -> anyhow::Result<Vec<Page>> {
        let (agents, queues) = (args.agent_ids(), args.queue_names());
        let mut conn = Connection::open(self.http, None).await?;
        let mut pages = Vec::with_capacity(args.pages());
        let mut ask = async |kind: Kind, agent: Option<usize>, body: serde_json::Value| {
            let bytes = conn
                .call(
                    Method::POST,
                    "/ticket",
                    Some(body.to_string()),
                    StatusCode::OK,
                )
                .await
                .with_context(|| format!("POST /ticket for a {} page", kind.name()))?;
            let ticket: String = serde_json::from_slice(&bytes)?;
            pages.push(Page {
                kind,
                agent,
                path: format!("/{ticket}/sse"),
            });
            anyhow::Ok(())
        };
        for (i, agent) in agents.iter().enumerate() {
            let mine: Vec<&String> = args.queues_of(i).into_iter().map(|q| &queues[q]).collect();
            let body = serde_json::json!({ "agents": [agent], "queues": mine });
            ask(Kind::Agent, Some(i), body).await?;
        }
        let all = serde_json::json!({ "agents": agents, "queues": queues });
        for _ in 0..args.supervisors {
            ask(Kind::Supervisor, None, all.clone()).await?;
        }
        let board = serde_json::json!({ "agents": [], "queues": queues, "summaryEvents": true });
        for _ in 0..args.wallboards {
            ask(Kind::Wallboard, None, board.clone()).await?;
        }
        Ok(pages)
    }

    /// Stops the service (`POST /stop`), the driver and the simulator. True when the service
    /// exited cleanly.
    pub async fn stop(self) -> bool {
        self.watching.cancel();
        let exit = self.service.stop().await;
        self.source.close().await;
        self.sim.shutdown().await;
        let runtime = self.sim_runtime;
        let _ = tokio::task::spawn_blocking(move || {
            runtime.shutdown_timeout(Duration::from_secs(5));
        })
        .await;
        exit.is_some_and(|s| s.success())
    }
}

/// The probe pairs: every agent in its first queue, in agent order (pair `i` is agent `i`).
pub fn probe_pairs(args: &MixedArgs) -> Vec<Pair> {
    let queues = args.queue_names();
    args.agent_ids()
        .into_iter()
        .enumerate()
        .map(|(i, agent)| Pair {
            interface: LOCATION.replace("{agent}", &agent),
            queue: queues[args.queues_of(i)[0]].clone(),
            agent,
        })
        .collect()
}

/// The simulated call center: queues ringing by `--strategy`, agents as static members of
/// their queues, each answering after 2 to 6 seconds, live traffic at `--call-rate`.
fn sim_config(args: &MixedArgs) -> SimConfig {
    let mut config = SimConfig::quiet();
    config.agents = args.agent_ids();
    config.queues = args.queue_names();
    config.location = LOCATION.to_owned();
    config.device = LOCATION.to_owned();
    config.strategies = config
        .queues
        .iter()
        .enumerate()
        .map(|(i, q)| (q.clone(), args.strategy.of(i).to_owned()))
        .collect();
    config.initial_members = false;
    config.static_members = (0..args.agents)
        .flat_map(|i| {
            args.queues_of(i)
                .into_iter()
                .map(move |q| (format!("mq{}", q + 1), format!("{}", 1001 + i)))
        })
        .collect();
    config.answer_delays = config
        .agents
        .iter()
        .enumerate()
        .map(|(i, a)| (a.clone(), Some(Duration::from_secs(2 + (i % 5) as u64))))
        .collect();
    config.call_rate = args.call_rate;
    config.time_scale = args.time_scale;
    config.seed = args.seed;
    config.max_calls = args.agents.max(500) * 2;
    config
}

/// The service's settings beyond the soak's: room in a ticket for every agent and queue, and
/// the wallboards' summaries.
fn service_extra(args: &MixedArgs) -> anyhow::Result<toml::Table> {
    let mut limits = toml::Table::new();
    let int = |n: usize| i64::try_from(n).map(toml::Value::Integer);
    limits.insert("max_agents_per_ticket".into(), int(args.agents.max(1000))?);
    limits.insert("max_queues_per_ticket".into(), int(args.queues.max(200))?);
    let pairs = (args.agents * args.queues).max(5000);
    limits.insert("max_pairs_per_ticket".into(), int(pairs)?);
    // A supervisor's ticket request names every agent.
    limits.insert("max_body_bytes".into(), int(64 * 1024 + args.agents * 16)?);
    limits.insert("max_pending_bytes".into(), MAX_PENDING_BYTES.into());
    let mut extra = toml::Table::new();
    extra.insert("limits".into(), limits.into());
    let refresh = i64::try_from(args.summary_refresh)?;
    extra.insert("summary_refresh_seconds".into(), refresh.into());
    Ok(extra)
}

/// The sum of every `pbxis_ami_events_total` series in a Prometheus text.
fn ami_events_in(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| {
            l.starts_with("pbxis_ami_events_total{") || l.starts_with("pbxis_ami_events_total ")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|n| n as u64)
        .sum()
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

    fn args(extra: &[&str]) -> MixedArgs {
        let mut argv = vec!["mixed"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).unwrap().mixed
    }

    #[test]
    fn ami_events_add_up_over_types() {
        let text = "# TYPE pbxis_ami_events_total counter\n\
                    pbxis_ami_events_total{event=\"Newchannel\"} 40\n\
                    pbxis_ami_events_total{event=\"other\"} 2\n\
                    pbxis_ami_events_totally_else 9\n\
                    pbxis_ami_actions_total{action=\"Login\",result=\"ok\"} 1\n";
        assert_eq!(ami_events_in(text), 42);
        assert_eq!(ami_events_in(""), 0);
    }

    #[test]
    fn members_probes_and_settings_match_the_flags() {
        let a = args(&["--agents", "4", "--queues", "3", "--queues-per-agent", "2"]);
        let config = sim_config(&a);
        assert!(!config.initial_members);
        assert_eq!(config.static_members.len(), 8);
        assert!(config
            .static_members
            .contains(&("mq3".into(), "1002".into())));
        assert!(config.answer_delay("1004").is_some());
        assert_eq!(config.strategies["mq2"], "rrmemory");
        let pairs = probe_pairs(&a);
        assert_eq!(pairs.len(), 4);
        assert_eq!(
            (pairs[1].agent.as_str(), pairs[1].queue.as_str()),
            ("1002", "mq3")
        );
        assert_eq!(pairs[1].interface, "PJSIP/1002");
        let extra = service_extra(&args(&["--agents", "2000", "--queues", "50"])).unwrap();
        assert_eq!(
            extra["limits"]["max_pairs_per_ticket"].as_integer(),
            Some(100_000)
        );
        assert_eq!(extra["summary_refresh_seconds"].as_integer(), Some(10));
    }
}
