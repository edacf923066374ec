//! The service under load. In-process (as `pbxis-ws demo` wires it): the simulated Asterisk and
//! the service on 127.0.0.1 port 0, on a runtime of their own (two worker threads, like a
//! separate process on this machine), so the load clients do not share its task queues. Or a
//! service already running, reached by its address. Either way it is ready (`GET /ready`) before
//! the run starts.

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

/// Worker threads of the in-process service's runtime.
const SERVICE_THREADS: usize = 2;
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
        let runtime = local.runtime;
        let _ = tokio::task::spawn_blocking(move || runtime.shutdown_timeout(STOP_WAIT)).await;
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

async fn start_local(plan: &Plan) -> anyhow::Result<Service> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(SERVICE_THREADS)
        .thread_name("service")
        .enable_all()
        .build()
        .context("cannot build the service's runtime")?;
    let config = sim_config(plan);
    let plan = plan.clone();
    let started = runtime
        .spawn(async move {
            let listen = SocketAddr::from(([127, 0, 0, 1], 0));
            let simulator = sim::start(config, listen)
                .await
                .context("cannot start the simulator")?;
            let app = Application::build(settings(&plan, simulator.addr())).await?;
            let (http, stop) = (app.addr(), app.stop_token());
            let server = tokio::spawn(app.run_until_stopped());
            anyhow::Ok((simulator, http, stop, server))
        })
        .await
        .context("the service's start-up task failed")??;
    let (simulator, http, stop, server) = started;
    Ok(Service {
        http,
        ami: simulator.addr(),
        local: Some(Local {
            runtime,
            stop,
            server,
            simulator,
        }),
    })
}
