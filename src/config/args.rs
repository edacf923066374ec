//! The command line of `serve` and `demo`: the flags (each with its `PBXIS_*` environment
//! variable) that override the configuration file.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::Settings;

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
    /// SSE keep-alive, WebSocket ping and heartbeat interval in seconds, 1..=300 [default: 15].
    #[arg(long, env = "PBXIS_KEEP_ALIVE_SECONDS")]
    pub keep_alive_seconds: Option<u64>,
    /// Seconds a ticket without a stream lives [default: 15].
    #[arg(long, env = "PBXIS_UNSUB_DELAY_SECONDS")]
    pub unsub_delay_seconds: Option<u64>,
    /// Summary refresh in seconds, 0 = off [default: 0].
    #[arg(long, env = "PBXIS_SUMMARY_REFRESH_SECONDS")]
    pub summary_refresh_seconds: Option<u64>,
    /// Milliseconds GET /queue/status reuses an answer of Asterisk, 0 = never [default: 1000].
    #[arg(long, env = "PBXIS_QUEUE_STATUS_CACHE_MS")]
    pub queue_status_cache_ms: Option<u64>,
    /// Seconds /ready answers 503 on a stop before the streams close, 0..=300 [default: 0].
    #[arg(long, env = "PBXIS_SHUTDOWN_DRAIN_SECONDS")]
    pub shutdown_drain_seconds: Option<u64>,
    /// Secret that signs tickets, the same on every instance behind one balancer (prefer the
    /// environment variable or the file over the flag).
    #[arg(long, env = "PBXIS_TICKET_SECRET", hide_env_values = true)]
    pub ticket_secret: Option<String>,
    /// Earlier ticket secrets, still accepted, comma-separated.
    #[arg(
        long,
        env = "PBXIS_TICKET_PREVIOUS_SECRETS",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub ticket_previous_secrets: Option<Vec<String>>,
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
        set(&mut s.keep_alive_seconds, o.keep_alive_seconds);
        set(&mut s.summary_refresh_seconds, o.summary_refresh_seconds);
        set(&mut s.queue_status_cache_ms, o.queue_status_cache_ms);
        set(&mut s.allow_stop, o.allow_stop);
        set(&mut s.shutdown_drain_seconds, o.shutdown_drain_seconds);
        set(&mut s.tickets.secret, o.ticket_secret);
        set(&mut s.tickets.previous_secrets, o.ticket_previous_secrets);
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
    /// SSE keep-alive, WebSocket ping and heartbeat interval in seconds.
    #[arg(long, default_value_t = 15)]
    pub keep_alive_seconds: u64,
}
