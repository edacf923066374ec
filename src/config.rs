//! Settings: one model (serde structs, every key with its default) loaded in layers: the
//! defaults, a TOML file, `PBXIS_*` environment variables, then command-line flags, each winning
//! over the one before (see [`load`]). The variables and flags are generated from the model
//! ([`keys`]); `pbxis.example.toml` holds every key with its meaning ([`example`]). Secrets (the
//! AMI secret, ticket secrets, API keys) are redacted in `Debug` and `Serialize`.

use serde::{Deserialize, Serialize, Serializer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

mod ami;
mod args;
mod checks;
pub mod example;
pub mod keys;
mod limits;
pub mod load;
mod tickets;
pub use ami::AmiSettings;
pub use args::{DemoArgs, KeyFlags, ServeArgs};
pub use limits::Limits;
pub use load::{Origin, Sources};
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
    /// The text is not valid TOML or has a wrong key or value.
    #[error("invalid configuration: {}", load::one_line(&.0.to_string()))]
    Toml(#[from] toml::de::Error),
    /// A key with a wrong, out of range or malformed value, or an unknown key.
    #[error("{}", invalid_line(origin, key, reason))]
    Invalid {
        /// Where the value came from.
        origin: Origin,
        /// The key (dotted path); empty when the file as a whole is not TOML.
        key: String,
        /// Why.
        reason: String,
    },
}

fn invalid_line(origin: &Origin, key: &str, reason: &str) -> String {
    let mut line = String::from("invalid configuration");
    if *origin != Origin::Unknown {
        line.push_str(&format!(" ({origin})"));
    }
    if !key.is_empty() {
        line.push_str(&format!(": `{key}`"));
    }
    format!("{line}: {reason}")
}

/// Serializes a secret as `<redacted>` (empty stays empty, so that defaults show).
pub(crate) fn redact<S: Serializer>(secret: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if secret.is_empty() { "" } else { "<redacted>" })
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The `[log]` section.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// `text` or `json`.
    pub format: LogFormat,
}

/// All settings of the service.
#[derive(Clone, Deserialize, Serialize)]
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
    /// Logs.
    pub log: LogSettings,
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
            log: LogSettings::default(),
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
            .field("log", &self.log)
            .finish()
    }
}

impl Settings {
    /// Parses a TOML document (unknown keys are refused).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Ok(toml::from_str(text)?)
    }

    /// Reads a TOML file, and checks it.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        load::from_file(path)
    }

    /// The settings of `pbxis-ws serve`: the file (if any), then the environment, then the
    /// flags; checked.
    pub fn load(args: &ServeArgs) -> Result<Self, ConfigError> {
        args.sources().load()
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
        let context = |key: &str, value: &str| {
            Context::parse(value).map_err(|e| ConfigError::Invalid {
                origin: Origin::Unknown,
                key: key.to_owned(),
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
            metrics: crate::telemetry::Metrics::default(),
        })
    }
}

#[cfg(test)]
mod tests;
