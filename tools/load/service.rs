//! The service under load. In-process (as `pbxis-ws demo` wires it): the simulated Asterisk and
//! the service on 127.0.0.1 port 0, connected over TCP, each on a runtime of its own (the service
//! with two worker threads, like a separate process on this machine; the simulator with one), so
//! the load clients share no task queue with them and the memory of each side is counted apart
//! ([`crate::memory`]). Or a service already running, reached by its address. Either way it is
//! ready (`GET /ready`) before the run starts.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use pbxis_ws::app::Application;
use pbxis_ws::config::Settings;
use pbxis_ws::sim::{self, SimConfig, SimHandle};
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::args::{Plan, Target};
use crate::memory::{self, Side};
use crate::usage;

/// Worker threads of the in-process service's runtime.
const SERVICE_THREADS: usize = 2;
/// Worker threads of the in-process simulator's runtime (its engine is one task anyway).
const SIMULATOR_THREADS: usize = 1;
/// How long the service may take to become ready.
const READY_WAIT: Duration = Duration::from_secs(15);
/// How long the in-process service may take to stop.
const STOP_WAIT: Duration = Duration::from_secs(10);

/// The service the run loads.
pub struct Service {
    /// Its HTTP address.
    pub http: SocketAddr,
    /// The AMI address of its simulator.
    pub ami: SocketAddr,
    local: Option<Local>,
}

struct Local {
    runtime: Runtime,
    sim_runtime: Runtime,
    stop: CancellationToken,
    server: JoinHandle<anyhow::Result<()>>,
    simulator: SimHandle,
}

impl Service {
    /// Starts the in-process service or takes the running one, and waits until it is ready.
    pub async fn start(plan: &Plan) -> anyhow::Result<Service> {
        let service = match plan.target {
            Target::External { http, ami } => Service {
                http,
                ami,
                local: None,
            },
            Target::InProcess => start_local(plan).await?,
        };
        let deadline = Instant::now() + READY_WAIT;
        while !crate::http::ready(service.http, plan.args.api_key.as_deref()).await {
            if Instant::now() > deadline {
                anyhow::bail!("the service at {} is not ready (GET /ready)", service.http);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(service)
    }

    /// True when the service runs in this process (its memory is this process's).
    pub fn in_process(&self) -> bool {
        self.local.is_some()
    }

    /// Stops the in-process service (every stream closed, AMI logged off) and its simulator.
    pub async fn stop(self) {
        let Some(local) = self.local else {
            return;
        };
        local.stop.cancel();
        let _ = tokio::time::timeout(STOP_WAIT, local.server).await;
        let _ = tokio::time::timeout(STOP_WAIT, local.simulator.shutdown()).await;
        // A runtime is dropped outside of async code.
        let (runtime, sim_runtime) = (local.runtime, local.sim_runtime);
        let _ = tokio::task::spawn_blocking(move || {
            runtime.shutdown_timeout(STOP_WAIT);
            sim_runtime.shutdown_timeout(STOP_WAIT);
        })
        .await;
    }
}

fn sim_config(plan: &Plan) -> SimConfig {
    let mut config = SimConfig::quiet();
    config.agents = plan.agents.clone();
    config.queues = plan.queues.clone();
    config.location = plan.args.location.clone();
    config.device = plan.args.location.clone();
    config.answer_delays = plan
        .agents
        .iter()
        .map(|a| (a.clone(), Some(Duration::from_secs(3))))
        .collect();
    config.call_rate = plan.args.call_rate;
    config.time_scale = plan.args.time_scale;
    config.firehose = plan.args.firehose;
    config
}

fn settings(plan: &Plan, ami: SocketAddr) -> Settings {
    let mut settings = Settings {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        location: plan.args.location.clone(),
        ..Settings::default()
    };
    settings.ami.host = ami.ip().to_string();
    settings.ami.port = ami.port();
    settings.ami.username = plan.args.ami_user.clone();
    settings.ami.secret = plan.args.ami_secret.clone();
    // Every subscriber comes from 127.0.0.1: room for all of them and their tickets.
    let subscribers = plan.subscribers();
    settings.limits.max_streams_per_client = subscribers + 16;
    settings.limits.max_tickets = settings.limits.max_tickets.max(subscribers + 16);
    settings.limits.max_tickets_per_owner =
        settings.limits.max_tickets_per_owner.max(subscribers + 16);
    settings
}

fn runtime(name: &str, threads: usize, side: Side) -> anyhow::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .on_thread_start(move || memory::mark_thread(side))
        .enable_all()
        .build()
        .with_context(|| format!("cannot build the {name} runtime"))
}

async fn start_local(plan: &Plan) -> anyhow::Result<Service> {
    let sim_runtime = runtime(usage::SIMULATOR_THREAD, SIMULATOR_THREADS, Side::Simulator)?;
    let runtime = runtime(usage::SERVICE_THREAD, SERVICE_THREADS, Side::Service)?;
    let config = sim_config(plan);
    let listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let simulator = sim_runtime
        .spawn(sim::start(config, listen))
        .await
        .context("the simulator's start-up task failed")?
        .context("cannot start the simulator")?;
    let settings = settings(plan, simulator.addr());
    let started = runtime
        .spawn(async move {
            let app = Application::build(settings).await?;
            let (http, stop) = (app.addr(), app.stop_token());
            let server = tokio::spawn(app.run_until_stopped());
            anyhow::Ok((http, stop, server))
        })
        .await
        .context("the service's start-up task failed")??;
    let (http, stop, server) = started;
    Ok(Service {
        http,
        ami: simulator.addr(),
        local: Some(Local {
            runtime,
            sim_runtime,
            stop,
            server,
            simulator,
        }),
    })
}
