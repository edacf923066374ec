//! Settings: a TOML file, then `PBXIS_*` environment variables, then command-line flags (a flag
//! beats its environment variable, which beats the file). Secrets (the AMI secret, API keys) are
//! redacted in `Debug`.
//!
//! Every key of the file, with its default:
//!
//! ```toml
//! listen = "127.0.0.1:58615"
//! location = "PJSIP/{agent}"          # agent id -> queue interface
//! hint_context = "default"            # where the agents' hints live
//! originate_context = "default"       # where originated calls are placed
//! poll_timeout_seconds = 30           # long-poll answers [] after this
//! unsub_delay_seconds = 15            # a ticket without a stream is dropped after this
//! summary_refresh_seconds = 0         # wallboard refresh, 0 = off
//! queue_status_cache_ms = 1000        # GET /queue/status reuses an answer this long, 0 = never
//! allow_stop = true                   # POST /stop enabled
//! shutdown_drain_seconds = 0          # /ready 503 this long before streams close on a stop
//! keep_alive_seconds = 15             # SSE keep-alive, WebSocket ping, heartbeat interval
//! insecure_no_auth = false            # allow an open service on a non-loopback address
//! cors_origins = []                   # e.g. ["https://app.example.com"], or ["*"]
//!
//! [ami]
//! host = "127.0.0.1"
//! port = 5038
//! username = "pbxis"
//! secret = ""
//! md5 = false
//! keepalive_seconds = 20              # a Ping this often
//! keepalive_timeout_seconds = 10      # no answer by then: the link is dead, reconnect
//! reconnect_max_seconds = 30          # longest wait between reconnects (and after a refusal)
//!
//! [limits]
//! max_body_bytes = 16384
//! max_header_bytes = 16384
//! max_agents_per_ticket = 1000
//! max_queues_per_ticket = 200
//! max_tickets = 4000
//! max_tickets_per_owner = 1000
//! max_pairs_per_ticket = 5000         # agents x queues of one ticket
//! max_pending_events = 10000
//! max_pending_bytes = 1048576         # undelivered bytes per ticket, snapshot included
//! max_history_events = 512            # delivered events kept per ticket for a reconnect
//! max_history_bytes = 262144          # their bytes
//! max_streams_per_client = 64
//! max_connections = 10000             # open TCP connections; accepting pauses above
//! header_read_timeout_seconds = 10    # a request head not complete by then: connection closed
//!
//! [[auth.keys]]                       # see the README, "Security"
//! ```

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

mod args;
mod limits;
mod tickets;
pub use args::{DemoArgs, Overrides, ServeArgs};
pub use limits::Limits;
use std::time::Duration;
pub use tickets::TicketSettings;

use crate::ami::AmiConfig;
use crate::http::auth::AuthConfig;
use crate::pbx::service::PbxConfig;
use crate::pbx::values::Context;

/// Errors while loading the settings.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a wrong key or value.
    #[error("invalid configuration: {0}")]
    Toml(#[from] toml::de::Error),
    /// A value is out of range or malformed.
    #[error("invalid configuration value `{key}`: {reason}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// Why.
        reason: String,
    },
}

/// How to reach Asterisk.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AmiSettings {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Manager user (`manager.conf`).
    pub username: String,
    /// Manager secret (redacted in `Debug`).
    pub secret: String,
    /// Log in with the MD5 challenge.
    pub md5: bool,
    /// Keep-alive `Ping` period.
    pub keepalive_seconds: u64,
    /// No answer to a `Ping` within this: the link is dead.
    pub keepalive_timeout_seconds: u64,
    /// Longest wait between reconnect attempts, and the wait after a refused login.
    pub reconnect_max_seconds: u64,
}

impl Default for AmiSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 5038,
            username: "pbxis".into(),
            secret: String::new(),
            md5: false,
            keepalive_seconds: 20,
            keepalive_timeout_seconds: 10,
            reconnect_max_seconds: 30,
        }
    }
}

impl std::fmt::Debug for AmiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmiSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .field("md5", &self.md5)
            .field("keepalive_seconds", &self.keepalive_seconds)
            .field("keepalive_timeout_seconds", &self.keepalive_timeout_seconds)
            .field("reconnect_max_seconds", &self.reconnect_max_seconds)
            .finish()
    }
}

/// All settings of the service.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address of the web service.
    pub listen: SocketAddr,
    /// Asterisk.
    pub ami: AmiSettings,
    /// Template from agent id to queue interface (`{agent}` replaced).
    pub location: String,
    /// Dialplan context of the agents' hints.
    pub hint_context: String,
    /// Context where originated calls are placed.
    pub originate_context: String,
    /// Long-poll timeout.
    pub poll_timeout_seconds: u64,
    /// SSE keep-alive and WebSocket ping interval (and heartbeat interval, for streams that ask
    /// for heartbeats).
    pub keep_alive_seconds: u64,
    /// How long a ticket without a stream lives.
    pub unsub_delay_seconds: u64,
    /// Refresh period of summary events; 0 = off.
    pub summary_refresh_seconds: u64,
    /// Milliseconds `GET /queue/status` reuses an answer of Asterisk; 0 = not reused
    /// (concurrent requests share one action either way).
    pub queue_status_cache_ms: u64,
    /// Whether `POST /stop` exists (when false it answers 404).
    pub allow_stop: bool,
    /// Seconds between a stop (SIGTERM, `POST /stop`) and closing the streams, during which
    /// `/ready` answers 503 while everything else is served: a load balancer takes the instance
    /// out before its clients move. 0 = close at once.
    pub shutdown_drain_seconds: u64,
    /// Allow an open service (no API key) on a non-loopback address.
    pub insecure_no_auth: bool,
    /// Origins allowed by CORS and for WebSocket upgrades (`*` = any).
    pub cors_origins: Vec<String>,
    /// Bounds.
    pub limits: Limits,
    /// API keys.
    pub auth: AuthConfig,
    /// Signed tickets, for several instances behind a load balancer.
    pub tickets: TicketSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 58615)),
            ami: AmiSettings::default(),
            location: "PJSIP/{agent}".into(),
            hint_context: "default".into(),
            originate_context: "default".into(),
            poll_timeout_seconds: 30,
            keep_alive_seconds: 15,
            unsub_delay_seconds: 15,
            summary_refresh_seconds: 0,
            queue_status_cache_ms: 1000,
            allow_stop: true,
            shutdown_drain_seconds: 0,
            insecure_no_auth: false,
            cors_origins: Vec::new(),
            limits: Limits::default(),
            auth: AuthConfig::default(),
            tickets: TicketSettings::default(),
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("ami", &self.ami)
            .field("location", &self.location)
            .field("hint_context", &self.hint_context)
            .field("originate_context", &self.originate_context)
            .field("poll_timeout_seconds", &self.poll_timeout_seconds)
            .field("keep_alive_seconds", &self.keep_alive_seconds)
            .field("unsub_delay_seconds", &self.unsub_delay_seconds)
            .field("summary_refresh_seconds", &self.summary_refresh_seconds)
            .field("queue_status_cache_ms", &self.queue_status_cache_ms)
            .field("allow_stop", &self.allow_stop)
            .field("shutdown_drain_seconds", &self.shutdown_drain_seconds)
            .field("insecure_no_auth", &self.insecure_no_auth)
            .field("cors_origins", &self.cors_origins)
            .field("limits", &self.limits)
            .field(
                "auth_keys",
                &format_args!("<{} keys, redacted>", self.auth.keys.len()),
            )
            .field("tickets", &self.tickets)
            .finish()
    }
}

impl Settings {
    /// Parses a TOML document (unknown keys are refused).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Ok(toml::from_str(text)?)
    }

    /// Reads a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// The settings of `pbxis-ws serve`: the file (if any), then environment and flags.
    pub fn load(args: &ServeArgs) -> Result<Self, ConfigError> {
        let mut settings = match &args.config {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        args.overrides.apply(&mut settings);
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values that the types alone do not.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| ConfigError::Invalid {
            key,
            reason: reason.to_owned(),
        };
        if !self.location.contains("{agent}") {
            return Err(invalid("location", "must contain {agent}"));
        }
        if self.location.chars().any(char::is_control) {
            return Err(invalid("location", "must not contain control characters"));
        }
        for (key, value) in [
            ("hint_context", &self.hint_context),
            ("originate_context", &self.originate_context),
        ] {
            Context::parse(value).map_err(|e| invalid(key, &e.to_string()))?;
        }
        for (key, value) in [
            ("ami.keepalive_seconds", self.ami.keepalive_seconds),
            (
                "ami.keepalive_timeout_seconds",
                self.ami.keepalive_timeout_seconds,
            ),
            ("ami.reconnect_max_seconds", self.ami.reconnect_max_seconds),
        ] {
            if value == 0 || value > 3600 {
                return Err(invalid(key, "must be 1..=3600"));
            }
        }
        if self.poll_timeout_seconds == 0 || self.poll_timeout_seconds > 3600 {
            return Err(invalid("poll_timeout_seconds", "must be 1..=3600"));
        }
        if self.unsub_delay_seconds == 0 {
            return Err(invalid(
                "unsub_delay_seconds",
                "must be at least 1 (0 would drop every ticket before a stream could attach)",
            ));
        }
        if self.queue_status_cache_ms > 60_000 {
            return Err(invalid(
                "queue_status_cache_ms",
                "must be 0..=60000 (a queue's status older than a minute is not a status)",
            ));
        }
        self.tickets
            .check()
            .map_err(|(key, reason)| invalid(key, &reason))?;
        if self.keep_alive_seconds == 0 || self.keep_alive_seconds > 300 {
            return Err(invalid("keep_alive_seconds", "must be 1..=300"));
        }
        if self.shutdown_drain_seconds > 300 {
            return Err(invalid("shutdown_drain_seconds", "must be 0..=300"));
        }
        let limits = &self.limits;
        if limits.max_connections == 0 {
            return Err(invalid("limits.max_connections", "must be at least 1"));
        }
        if limits.header_read_timeout_seconds == 0 || limits.header_read_timeout_seconds > 3600 {
            return Err(invalid(
                "limits.header_read_timeout_seconds",
                "must be 1..=3600",
            ));
        }
        if limits.max_pending_bytes < 4096 {
            return Err(invalid("limits.max_pending_bytes", "must be at least 4096"));
        }
        if self.limits.max_body_bytes < 256 {
            return Err(invalid("limits.max_body_bytes", "must be at least 256"));
        }
        if self.limits.max_header_bytes < 1024 {
            return Err(invalid("limits.max_header_bytes", "must be at least 1024"));
        }
        Ok(())
    }

    /// The AMI client's configuration.
    pub fn ami_config(&self) -> AmiConfig {
        let mut config = AmiConfig::new(
            self.ami.host.clone(),
            self.ami.port,
            self.ami.username.clone(),
            self.ami.secret.clone(),
        );
        config.md5 = self.ami.md5;
        config.ping_interval = Duration::from_secs(self.ami.keepalive_seconds);
        config.ping_timeout = Duration::from_secs(self.ami.keepalive_timeout_seconds);
        config.backoff_max = Duration::from_secs(self.ami.reconnect_max_seconds);
        config
    }

    /// The model's configuration (`validate` has checked the contexts).
    pub fn pbx_config(&self) -> Result<PbxConfig, ConfigError> {
        let context = |key, value: &str| {
            Context::parse(value).map_err(|e| ConfigError::Invalid {
                key,
                reason: e.to_string(),
            })
        };
        Ok(PbxConfig {
            location: self.location.clone(),
            hint_context: context("hint_context", &self.hint_context)?,
            originate_context: context("originate_context", &self.originate_context)?,
            summary_refresh: (self.summary_refresh_seconds > 0)
                .then(|| Duration::from_secs(self.summary_refresh_seconds)),
            queue_status_reuse: Duration::from_millis(self.queue_status_cache_ms),
        })
    }
}

#[cfg(test)]
mod tests;
