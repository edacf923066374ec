//! pbxis-ws as one side: the simulated Asterisk in this process (on a runtime of its own) and
//! the service as a child process, `pbxis-ws serve` (its memory and CPU are its own), with room
//! for every subscriber. Its subscribers hold tickets for one agent and the run's queues; its
//! events are stamped `QueuePause` actions sent to the simulator (the load run's driver), one
//! `queueMemberStatus` each, which every ticket receives.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use hyper::{Method, StatusCode};
use pbxis_ws::ami::AmiConfig;
use pbxis_ws::sim::{self, SimConfig, SimHandle};
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

use super::args::Transport;
use crate::driver::{Pair, Source};
use crate::http::Connection;
use crate::soak::child::{ServiceChild, Wanted, AMI_SECRET};
use crate::stamp::Clock;

/// The simulator's queue interface template.
const LOCATION: &str = "PJSIP/{agent}";
/// The one agent every ticket asks for.
const AGENT: &str = "1001";
/// How long the driver may take to log in.
const LOGIN_WAIT: Duration = Duration::from_secs(10);

/// A running simulator and service.
pub struct Pbxis {
    /// The service's HTTP address.
    pub http: SocketAddr,
    /// The service's process id.
    pub pid: u32,
    service: ServiceChild,
    sim: SimHandle,
    sim_runtime: Runtime,
    source: Source,
    queues: Vec<String>,
}

impl Pbxis {
    /// Starts the simulator (one agent, `queues` queues) and `bin serve` with room for
    /// `subscribers`, and the driver's AMI connection.
    pub async fn start(bin: &Path, queues: usize, subscribers: usize) -> anyhow::Result<Pbxis> {
        let queues: Vec<String> = (1..=queues).map(|i| format!("lq{i}")).collect();
        let sim_runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(crate::usage::SIMULATOR_THREAD)
            .enable_all()
            .build()
            .context("cannot build the simulator's runtime")?;
        let mut config = SimConfig::quiet();
        config.agents = vec![AGENT.to_owned()];
        config.queues = queues.clone();
        config.location = LOCATION.to_owned();
        config.device = LOCATION.to_owned();
        config.call_rate = 0.0;
        let sim = sim_runtime
            .spawn(sim::start(config, SocketAddr::from(([127, 0, 0, 1], 0))))
            .await
            .context("the simulator's start-up task failed")?
            .context("cannot start the simulator")?;
        let wanted = Wanted {
            location: LOCATION.to_owned(),
            subscribers,
            max_pending: 10_000,
            unsub_delay: 60,
        };
        let service = ServiceChild::start(bin, sim.addr(), &wanted).await?;
        let ami = sim.addr();
        let ami = AmiConfig::new(ami.ip().to_string(), ami.port(), "pbxis", AMI_SECRET);
        let source = Source::connect(ami, LOGIN_WAIT)
            .await
            .context("the driver's AMI connection")?;
        Ok(Pbxis {
            http: service.http,
            pid: service.pid,
            service,
            sim,
            sim_runtime,
            source,
            queues,
        })
    }

    /// `n` tickets (one agent, every queue), as stream paths: `/<ticket>/sse` or
    /// `/<ticket>/websocket`.
    pub async fn paths(&self, n: usize, transport: Transport) -> anyhow::Result<Vec<String>> {
        let suffix = match transport {
            Transport::Sse => "sse",
            Transport::Websocket => "websocket",
        };
        let body = serde_json::json!({ "agents": [AGENT], "queues": self.queues }).to_string();
        let mut conn = Connection::open(self.http, None).await?;
        let mut paths = Vec::with_capacity(n);
        for _ in 0..n {
            let bytes = conn
                .call(Method::POST, "/ticket", Some(body.clone()), StatusCode::OK)
                .await
                .context("POST /ticket")?;
            let ticket: String = serde_json::from_slice(&bytes)?;
            paths.push(format!("/{ticket}/{suffix}"));
        }
        Ok(paths)
    }

    /// Sends `events` stamped events, one (agent, queue) pair per queue side by side, at `rate`
    /// per second (0: unpaced). Returns how many the simulator accepted.
    pub async fn publish(&self, clock: Clock, events: u64, rate: f64) -> u64 {
        let pairs: Vec<Pair> = self
            .queues
            .iter()
            .map(|queue| Pair {
                agent: AGENT.to_owned(),
                queue: queue.clone(),
                interface: LOCATION.replace("{agent}", AGENT),
            })
            .collect();
        let driven = self
            .source
            .drive(clock, &pairs, events, rate, CancellationToken::new())
            .await;
        driven.sent.iter().map(|&n| u64::from(n)).sum()
    }

    /// Stops the service (`POST /stop`), the driver and the simulator.
    pub async fn stop(self) {
        let _ = self.service.stop().await;
        self.source.close().await;
        self.sim.shutdown().await;
        let runtime = self.sim_runtime;
        let _ = tokio::task::spawn_blocking(move || {
            runtime.shutdown_timeout(Duration::from_secs(5));
        })
        .await;
    }
}
