//! [`AppState`]: what every handler shares (the model's handle, the hub, auth, limits, the stop
//! signal), cheap to clone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::auth::Auth;
use super::cors::Origins;
use super::streams::StreamLimiter;
use crate::config::Limits;
use crate::hub::Hub;
use crate::pbx::names::Location;
use crate::pbx::service::PbxHandle;
use crate::telemetry::Metrics;

/// Timing of the streams.
#[derive(Clone, Copy, Debug)]
pub struct StreamTiming {
    /// A long-poll answers `[]` after this.
    pub poll_timeout: Duration,
    /// After the first event, a long-poll waits this long to gather a burst.
    pub gather: Duration,
    /// SSE comment keep-alive and WebSocket ping interval.
    pub keep_alive: Duration,
}

impl Default for StreamTiming {
    fn default() -> Self {
        Self {
            poll_timeout: Duration::from_secs(30),
            gather: Duration::from_millis(100),
            keep_alive: Duration::from_secs(15),
        }
    }
}

/// The shared state of the HTTP layer.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    pbx: PbxHandle,
    hub: Hub,
    auth: Auth,
    limits: Limits,
    timing: StreamTiming,
    origins: Origins,
    allow_stop: bool,
    stop: CancellationToken,
    streams: StreamLimiter,
    sockets: TaskTracker,
    draining: AtomicBool,
    location: Location,
    metrics: Metrics,
}

/// Everything [`AppState::new`] needs.
pub struct StateParts {
    /// The model.
    pub pbx: PbxHandle,
    /// The tickets.
    pub hub: Hub,
    /// API keys.
    pub auth: Auth,
    /// Bounds.
    pub limits: Limits,
    /// Stream timing.
    pub timing: StreamTiming,
    /// CORS and WebSocket origins.
    pub origins: Origins,
    /// Whether `POST /stop` exists.
    pub allow_stop: bool,
    /// Cancelled by `POST /stop`.
    pub stop: CancellationToken,
    /// The agent ↔ queue interface template (to tell whose a queue member is).
    pub location: Location,
    /// The instance's metrics.
    pub metrics: Metrics,
}

impl AppState {
    /// Builds the state.
    pub fn new(parts: StateParts) -> Self {
        let streams = StreamLimiter::new(parts.limits.max_streams_per_client);
        Self {
            inner: Arc::new(Inner {
                pbx: parts.pbx,
                hub: parts.hub,
                auth: parts.auth,
                limits: parts.limits,
                timing: parts.timing,
                origins: parts.origins,
                allow_stop: parts.allow_stop,
                stop: parts.stop,
                streams,
                sockets: TaskTracker::new(),
                draining: AtomicBool::new(false),
                location: parts.location,
                metrics: parts.metrics,
            }),
        }
    }

    /// The model.
    pub fn pbx(&self) -> &PbxHandle {
        &self.inner.pbx
    }
    /// The hub.
    pub fn hub(&self) -> &Hub {
        &self.inner.hub
    }
    /// API keys.
    pub fn auth(&self) -> &Auth {
        &self.inner.auth
    }
    /// Bounds.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }
    /// Stream timing.
    pub fn timing(&self) -> StreamTiming {
        self.inner.timing
    }
    /// Allowed origins.
    pub fn origins(&self) -> &Origins {
        &self.inner.origins
    }
    /// Whether `POST /stop` is enabled.
    pub fn allow_stop(&self) -> bool {
        self.inner.allow_stop
    }
    /// The stop signal.
    pub fn stop_token(&self) -> &CancellationToken {
        &self.inner.stop
    }
    /// The WebSocket tasks (they outlive their HTTP connection; shutdown waits for them).
    pub fn sockets(&self) -> &TaskTracker {
        &self.inner.sockets
    }
    /// The agent ↔ queue interface template.
    pub fn location(&self) -> &Location {
        &self.inner.location
    }
    /// The service is stopping: `/ready` answers 503 from now on.
    pub fn set_draining(&self) {
        self.inner.draining.store(true, Ordering::Release);
    }
    /// True once the service is stopping.
    pub fn is_draining(&self) -> bool {
        self.inner.draining.load(Ordering::Acquire)
    }
    /// The instance's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }
    /// The per-address stream counter.
    pub fn streams(&self) -> &StreamLimiter {
        &self.inner.streams
    }
}

#[cfg(test)]
impl AppState {
    /// A state on `hub` whose model talks to no Asterisk (for tests of the transports).
    pub(crate) fn for_tests(hub: Hub, timing: StreamTiming) -> AppState {
        Self::for_tests_with(hub, timing, Auth::open())
    }

    /// The same with `auth` (API keys).
    pub(crate) fn for_tests_with(hub: Hub, timing: StreamTiming, auth: Auth) -> AppState {
        use crate::ami::{client, AmiConfig};
        use crate::pbx::service::{self, PbxConfig};
        let (ami, events) = client::connect(AmiConfig::new("127.0.0.1", 1, "test", "test"));
        let pbx = service::spawn(ami, events, Arc::new(hub.clone()), PbxConfig::default());
        hub.set_snapshot_source(Arc::new(pbx.clone()));
        AppState::new(StateParts {
            pbx,
            hub,
            auth,
            limits: Limits::default(),
            timing,
            origins: Origins::default(),
            allow_stop: true,
            stop: CancellationToken::new(),
            location: Location::parse("PJSIP/{agent}").expect("a valid template"),
            metrics: Metrics::default(),
        })
    }
}
