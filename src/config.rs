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
//! allow_stop = true                   # POST /stop enabled
//! insecure_no_auth = false            # allow an open service on a non-loopback address
//! cors_origins = []                   # e.g. ["https://app.example.com"], or ["*"]
//!
//! [ami]
//! host = "127.0.0.1"
//! port = 5038
//! username = "pbxis"
//! secret = ""
//! md5 = false
//!
//! [limits]
//! max_body_bytes = 16384
//! max_agents_per_ticket = 1000
//! max_queues_per_ticket = 200
//! max_tickets = 10000
//! max_tickets_per_owner = 1000
//! max_pending_events = 10000
//! max_streams_per_client = 64
//!
//! [[auth.keys]]                       # see the README, "Security"
//! ```

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
}

impl Default for AmiSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 5038,
            username: "pbxis".into(),
            secret: String::new(),
            md5: false,
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
            .finish()
    }
}

/// Bounds on what clients may ask for. When a bound is hit the request is refused with a JSON
/// error (400, 413 or 429) and nothing changes.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body (413 above).
    pub max_body_bytes: usize,
    /// Most agents one ticket may ask for (400 above).
    pub max_agents_per_ticket: usize,
    /// Most queues one ticket may ask for (400 above).
    pub max_queues_per_ticket: usize,
    /// Most live tickets in total (429 above).
    pub max_tickets: usize,
    /// Most live tickets per API key (429 above).
    pub max_tickets_per_owner: usize,
    /// Events kept per ticket while no stream is attached (the ticket is closed with
    /// `overflow` above).
    pub max_pending_events: usize,
    /// Concurrent streams (long-poll, SSE, WebSocket) per client address (429 above).
    pub max_streams_per_client: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 * 1024,
            max_agents_per_ticket: 1000,
            max_queues_per_ticket: 200,
            max_tickets: 10_000,
            max_tickets_per_owner: 1000,
            max_pending_events: 10_000,
            max_streams_per_client: 64,
        }
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
    /// How long a ticket without a stream lives.
    pub unsub_delay_seconds: u64,
    /// Refresh period of summary events; 0 = off.
    pub summary_refresh_seconds: u64,
    /// Whether `POST /stop` exists (when false it answers 404).
    pub allow_stop: bool,
    /// Allow an open service (no API key) on a non-loopback address.
    pub insecure_no_auth: bool,
    /// Origins allowed by CORS and for WebSocket upgrades (`*` = any).
    pub cors_origins: Vec<String>,
    /// Bounds.
    pub limits: Limits,
    /// API keys.
    pub auth: AuthConfig,
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
            unsub_delay_seconds: 15,
            summary_refresh_seconds: 0,
            allow_stop: true,
            insecure_no_auth: false,
            cors_origins: Vec::new(),
            limits: Limits::default(),
            auth: AuthConfig::default(),
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
            .field("unsub_delay_seconds", &self.unsub_delay_seconds)
            .field("summary_refresh_seconds", &self.summary_refresh_seconds)
            .field("allow_stop", &self.allow_stop)
            .field("insecure_no_auth", &self.insecure_no_auth)
            .field("cors_origins", &self.cors_origins)
            .field("limits", &self.limits)
            .field(
                "auth_keys",
                &format_args!("<{} redacted>", self.auth.keys.len()),
            )
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
        if self.poll_timeout_seconds == 0 || self.poll_timeout_seconds > 3600 {
            return Err(invalid("poll_timeout_seconds", "must be 1..=3600"));
        }
        if self.limits.max_body_bytes < 256 {
            return Err(invalid("limits.max_body_bytes", "must be at least 256"));
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
        })
    }
}

/// Settings that flags and `PBXIS_*` environment variables override.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Overrides {
    /// Address of the web service [default: 127.0.0.1:58615].
    #[arg(long, env = "PBXIS_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Asterisk host [default: 127.0.0.1].
    #[arg(long, env = "PBXIS_AMI_HOST")]
    pub ami_host: Option<String>,
    /// Asterisk AMI port [default: 5038].
    #[arg(long, env = "PBXIS_AMI_PORT")]
    pub ami_port: Option<u16>,
    /// AMI user [default: pbxis].
    #[arg(long, env = "PBXIS_AMI_USER")]
    pub ami_user: Option<String>,
    /// AMI secret (prefer the environment variable or the file over the flag).
    #[arg(long, env = "PBXIS_AMI_SECRET", hide_env_values = true)]
    pub ami_secret: Option<String>,
    /// Queue interface template [default: PJSIP/{agent}].
    #[arg(long, env = "PBXIS_LOCATION")]
    pub location: Option<String>,
    /// Context of the agents' hints [default: default].
    #[arg(long, env = "PBXIS_HINT_CONTEXT")]
    pub hint_context: Option<String>,
    /// Context for originated calls [default: default].
    #[arg(long, env = "PBXIS_ORIGINATE_CONTEXT")]
    pub originate_context: Option<String>,
    /// Long-poll timeout in seconds [default: 30].
    #[arg(long, env = "PBXIS_POLL_TIMEOUT_SECONDS")]
    pub poll_timeout_seconds: Option<u64>,
    /// Seconds a ticket without a stream lives [default: 15].
    #[arg(long, env = "PBXIS_UNSUB_DELAY_SECONDS")]
    pub unsub_delay_seconds: Option<u64>,
    /// Summary refresh in seconds, 0 = off [default: 0].
    #[arg(long, env = "PBXIS_SUMMARY_REFRESH_SECONDS")]
    pub summary_refresh_seconds: Option<u64>,
    /// Enable or disable POST /stop [default: true].
    #[arg(long, env = "PBXIS_ALLOW_STOP")]
    pub allow_stop: Option<bool>,
    /// Allowed CORS / WebSocket origins, comma-separated (`*` = any).
    #[arg(long, env = "PBXIS_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Option<Vec<String>>,
    /// Allow serving without any API key on a non-loopback address (labs only).
    #[arg(long, env = "PBXIS_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
}

impl Overrides {
    /// Applies every given override.
    pub fn apply(&self, s: &mut Settings) {
        let o = self.clone();
        set(&mut s.listen, o.listen);
        set(&mut s.ami.host, o.ami_host);
        set(&mut s.ami.port, o.ami_port);
        set(&mut s.ami.username, o.ami_user);
        set(&mut s.ami.secret, o.ami_secret);
        set(&mut s.location, o.location);
        set(&mut s.hint_context, o.hint_context);
        set(&mut s.originate_context, o.originate_context);
        set(&mut s.poll_timeout_seconds, o.poll_timeout_seconds);
        set(&mut s.unsub_delay_seconds, o.unsub_delay_seconds);
        set(&mut s.summary_refresh_seconds, o.summary_refresh_seconds);
        set(&mut s.allow_stop, o.allow_stop);
        set(&mut s.cors_origins, o.cors_origins);
        s.insecure_no_auth |= o.insecure_no_auth;
    }
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// `pbxis-ws serve` options.
#[derive(Clone, Debug, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file (see the README, "Configuration").
    #[arg(long, env = "PBXIS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Overrides of the file's settings.
    #[command(flatten)]
    pub overrides: Overrides,
}

/// `pbxis-ws demo` options.
#[derive(Clone, Debug, clap::Args)]
pub struct DemoArgs {
    /// Address of the web service (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:58615")]
    pub listen: SocketAddr,
    /// Address of the simulated Asterisk's AMI (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub ami_listen: SocketAddr,
    /// Simulated inbound calls per minute (0 = no automatic traffic).
    #[arg(long, default_value_t = 6.0)]
    pub call_rate: f64,
}

#[cfg(test)]
mod tests;
