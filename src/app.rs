//! Start-up wiring: the AMI client, the model, the hub and the HTTP server. [`Application::build`]
//! binds first, so tests ask for port 0 and read [`Application::addr`]; then
//! [`Application::run_until_stopped`] serves until `POST /stop` or [`Application::stop_token`]
//! is cancelled (Ctrl-C in `main`), and shuts down gracefully: every stream gets its closing
//! event, the server drains, the model stops and AMI logs off.

use anyhow::Context as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::ami;
use crate::config::{DemoArgs, Settings};
use crate::http::auth::Auth;
use crate::http::cors::Origins;
use crate::http::server::{self, ServerConfig};
use crate::http::state::{StateParts, StreamTiming};
use crate::http::{router, AppState};
use crate::hub::{Hub, HubConfig};
use crate::pbx::names::Location;
use crate::pbx::service::{self, PbxHandle};
use crate::sim;
use crate::telemetry::Metrics;

/// How long the server may take to drain its connections after the closing events.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A built, bound, not yet running service.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    hub: Hub,
    pbx: PbxHandle,
    stop: CancellationToken,
    /// How long `/ready` says 503 on a stop before the streams close.
    drain: Duration,
}

impl Application {
    /// Checks the settings, binds the listener and starts the AMI client and the model.
    /// Refuses an open service (no API key) on a non-loopback address unless
    /// `insecure_no_auth` is set.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.validate()?;
        let auth = Auth::new(settings.auth.clone())
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .with_trusted_origins(&settings.cors_origins);
        if !settings.listen.ip().is_loopback() && auth.is_open() && !settings.insecure_no_auth {
            anyhow::bail!(
                "refusing to listen on {} without an API key: anyone who can reach it could place \
                 calls and read every agent's activity. Configure [[auth.keys]] (see the README), \
                 listen on 127.0.0.1, or pass --insecure-no-auth for a closed lab network",
                settings.listen
            );
        }
        let origins = Origins::parse(&settings.cors_origins)?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let addr = listener.local_addr()?;
        // One recorder per instance: every layer counts into it.
        let metrics = Metrics::new();
        let hub = Hub::new(HubConfig {
            metrics: metrics.clone(),
            ..hub_config(&settings)
        });
        let mut ami_config = settings.ami_config();
        ami_config.metrics = metrics.clone();
        let (ami_handle, ami_events) = ami::client::connect(ami_config);
        let mut pbx_config = settings.pbx_config()?;
        pbx_config.metrics = metrics.clone();
        let pbx = service::spawn(ami_handle, ami_events, Arc::new(hub.clone()), pbx_config);
        // Resyncs take their snapshots from the model.
        hub.set_snapshot_source(Arc::new(pbx.clone()));
        let stop = CancellationToken::new();
        let state = AppState::new(StateParts {
            pbx: pbx.clone(),
            hub: hub.clone(),
            auth,
            limits: settings.limits.clone(),
            timing: StreamTiming {
                poll_timeout: Duration::from_secs(settings.poll_timeout_seconds),
                keep_alive: Duration::from_secs(settings.keep_alive_seconds),
                ..StreamTiming::default()
            },
            origins,
            allow_stop: settings.allow_stop,
            stop: stop.clone(),
            location: Location::parse(&settings.location)
                .map_err(|e| anyhow::anyhow!("invalid configuration value `location`: {e}"))?,
            metrics,
        });
        tracing::info!(%addr, ami = %format!("{}:{}", settings.ami.host, settings.ami.port), "service bound");
        Ok(Self {
            listener,
            addr,
            state,
            hub,
            pbx,
            stop,
            drain: Duration::from_secs(settings.shutdown_drain_seconds),
        })
    }

    /// The address the service listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The model's handle (for monitoring, and for tests that inject faults).
    pub fn pbx(&self) -> PbxHandle {
        self.pbx.clone()
    }

    /// Cancelling it stops the service (as `POST /stop` does).
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Serves until stopped, then shuts down gracefully.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            listener,
            state,
            hub,
            pbx,
            stop,
            drain,
            ..
        } = self;
        let sockets = state.sockets().clone();
        let limits = state.limits();
        let server_config = ServerConfig {
            header_read_timeout: Duration::from_secs(limits.header_read_timeout_seconds),
            max_connections: limits.max_connections,
        };
        let draining = state.clone();
        let app = router(state);
        let signal = {
            let (stop, hub) = (stop.clone(), hub.clone());
            async move {
                stop.cancelled().await;
                // Out of the balancer first, still serving; then the streams move elsewhere.
                draining.set_draining();
                if !drain.is_zero() {
                    tracing::info!(
                        seconds = drain.as_secs(),
                        "stopping: /ready says 503, draining"
                    );
                    tokio::time::sleep(drain).await;
                }
                tracing::info!("stopping: closing every stream");
                hub.close_all("shutdown");
            }
        };
        let server = tokio::spawn(server::serve(listener, app, server_config, signal));
        stop.cancelled().await;
        match tokio::time::timeout(drain + DRAIN_TIMEOUT, server).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "server task failed"),
            Err(_) => tracing::warn!("connections still open after the drain timeout; stopping"),
        }
        sockets.close();
        if tokio::time::timeout(DRAIN_TIMEOUT, sockets.wait())
            .await
            .is_err()
        {
            tracing::warn!("WebSockets still open after the drain timeout; stopping");
        }
        pbx.shutdown().await;
        tracing::info!("stopped");
        Ok(())
    }
}

fn hub_config(settings: &Settings) -> HubConfig {
    HubConfig {
        unsub_delay: Duration::from_secs(settings.unsub_delay_seconds),
        max_tickets: settings.limits.max_tickets,
        max_tickets_per_owner: settings.limits.max_tickets_per_owner,
        max_pending: settings.limits.max_pending_events,
        max_pending_bytes: settings.limits.max_pending_bytes,
        signer: settings.tickets.signer(),
        history: settings.limits.max_history_events,
        history_bytes: settings.limits.max_history_bytes,
        ..HubConfig::default()
    }
}

/// Stops `token` on Ctrl-C (SIGINT) or, on Unix, SIGTERM (what service managers send).
fn stop_on_ctrl_c(token: CancellationToken) {
    tokio::spawn(async move {
        tokio::select! {
            result = tokio::signal::ctrl_c() => {
                if result.is_err() {
                    return;
                }
                tracing::info!("Ctrl-C");
            }
            () = terminate() => tracing::info!("SIGTERM"),
        }
        token.cancel();
    });
}

#[cfg(unix)]
async fn terminate() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            term.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending().await
}

/// Runs `pbxis-ws serve` (its settings loaded) until stopped.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    tracing::info!(?settings, "starting");
    let app = Application::build(settings).await?;
    stop_on_ctrl_c(app.stop_token());
    app.run_until_stopped().await
}

/// Runs `pbxis-ws demo`: the simulator and the service connected to it over TCP; prints the
/// addresses and the page URLs, one per line.
pub async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    let mut sim_config = sim::SimConfig::quiet();
    sim_config.call_rate = args.call_rate;
    let simulator = sim::start(sim_config, args.ami_listen)
        .await
        .with_context(|| format!("cannot start the simulator on {}", args.ami_listen))?;
    let mut settings = Settings {
        listen: args.listen,
        ..Settings::default()
    };
    settings.ami.host = simulator.addr().ip().to_string();
    settings.ami.port = simulator.addr().port();
    settings.ami.username = "pbxis".into();
    settings.ami.secret = "pbxis".into();
    settings.keep_alive_seconds = args.keep_alive_seconds;
    // The wallboard's figures come from summary events.
    settings.summary_refresh_seconds = 5;
    let app = Application::build(settings).await?;
    let addr = app.addr();
    println!("pbxis-ws listening on http://{addr}");
    println!("simulated Asterisk (AMI) on {}", simulator.addr());
    for tech in ["websocket", "sse", "long-poll"] {
        println!("http://{addr}/client/{tech}/147,148,149/q1,q2");
    }
    println!("http://{addr}/wallboard/sse/q1,q2?agents=147,148,149");
    println!("http://{addr}/agent/sse/147/q1,q2");
    stop_on_ctrl_c(app.stop_token());
    let result = app.run_until_stopped().await;
    simulator.shutdown().await;
    result
}
