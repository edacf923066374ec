//! The service under soak as a child process: `pbxis-ws serve` on 127.0.0.1 port 0, connected
//! to the tool's simulator, so that its resident memory (`/proc/<pid>/status`) is its own and
//! nothing of the tool's. Its settings go in a private temporary file (removed once it runs),
//! the AMI secret in its environment; its address is read from its JSON log (`service bound`),
//! whose last lines are kept for the report. It stops with `POST /stop`, or is killed.

use std::collections::VecDeque;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use futures_util::StreamExt;
use hyper::{Method, StatusCode};
use pbxis_ws::config::Settings;
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio_util::codec::{FramedRead, LinesCodec};

use crate::http::Connection;

/// How long the service may take to bind and become ready.
const START_WAIT: Duration = Duration::from_secs(20);
/// How long it may take to stop after `POST /stop`.
const STOP_WAIT: Duration = Duration::from_secs(15);
/// Log lines kept for the report.
const TAIL_LINES: usize = 20;
/// Longest log line read (longer ones end the reading).
const MAX_LOG_LINE: usize = 64 * 1024;
/// The simulator's AMI secret (a local test simulator's, not a secret).
pub const AMI_SECRET: &str = "pbxis";

/// What the service logged.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct LogTail {
    /// `WARN` lines.
    pub warnings: u64,
    /// `ERROR` lines.
    pub errors: u64,
    /// The last lines.
    pub last: VecDeque<String>,
}

/// The running service.
pub struct ServiceChild {
    /// Its HTTP address.
    pub http: SocketAddr,
    /// Its process id.
    pub pid: u32,
    child: Child,
    logs: Arc<Mutex<LogTail>>,
}

impl ServiceChild {
    /// Starts `bin serve` against the simulator at `ami`, with room for every subscriber's
    /// streams and tickets from 127.0.0.1, and waits until it is ready.
    pub async fn start(
        bin: &Path,
        ami: SocketAddr,
        wanted: &Wanted,
    ) -> anyhow::Result<ServiceChild> {
        Self::start_with(bin, ami, wanted, toml::Table::new()).await
    }

    /// The same, with `extra` settings laid over those of `wanted` (a table such as `limits`
    /// is merged key by key).
    pub async fn start_with(
        bin: &Path,
        ami: SocketAddr,
        wanted: &Wanted,
        extra: toml::Table,
    ) -> anyhow::Result<ServiceChild> {
        let config = TempConfig::write(&settings_toml(ami, wanted, extra)?)?;
        let mut command = Command::new(bin);
        command
            .arg("--log-json")
            .arg("serve")
            .arg("--config")
            .arg(&config.0)
            .env("PBXIS_AMI_SECRET", AMI_SECRET)
            // Warnings and errors, and the line with the address; not every request.
            .env("RUST_LOG", "warn,pbxis_ws::app=info,tower_http=off")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Nothing of this environment's own settings may override the soak's.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PBXIS_") && key != "PBXIS_AMI_SECRET" {
                command.env_remove(key);
            }
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot run {}", bin.display()))?;
        let pid = child.id().context("the service exited at once")?;
        let logs = Arc::new(Mutex::new(LogTail::default()));
        let (bound_tx, bound_rx) = oneshot::channel();
        let stderr = child.stderr.take().context("no stderr")?;
        tokio::spawn(read_logs(stderr, logs.clone(), bound_tx));
        let http = match tokio::time::timeout(START_WAIT, bound_rx).await {
            Ok(Ok(addr)) => addr,
            _ => {
                let _ = child.start_kill();
                let tail = logs.lock().map(|l| l.last.clone()).unwrap_or_default();
                anyhow::bail!("the service did not start; its last log lines: {tail:?}");
            }
        };
        drop(config);
        let service = ServiceChild {
            http,
            pid,
            child,
            logs,
        };
        service.wait_ready().await?;
        Ok(service)
    }

    async fn wait_ready(&self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + START_WAIT;
        while !crate::http::ready(self.http, None).await {
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!("the service at {} is not ready (GET /ready)", self.http);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Its resident set now, KiB (`None` once it is gone).
    pub fn rss_kib(&self) -> Option<u64> {
        crate::memory::process(self.pid).map(|(rss, _)| rss)
    }

    /// What it logged so far.
    pub fn logs(&self) -> LogTail {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// `POST /stop`, then waits for the process; kills it if it does not exit in time.
    pub async fn stop(mut self) -> Option<ExitStatus> {
        if let Ok(mut conn) = Connection::open(self.http, None).await {
            let _ = conn
                .call(Method::POST, "/stop", None, StatusCode::ACCEPTED)
                .await;
        }
        match tokio::time::timeout(STOP_WAIT, self.child.wait()).await {
            Ok(status) => status.ok(),
            Err(_) => {
                let _ = self.child.start_kill();
                self.child.wait().await.ok()
            }
        }
    }
}

/// What the soak sets in the service.
#[derive(Clone, Debug)]
pub struct Wanted {
    /// `location` (and the simulator's devices).
    pub location: String,
    /// Subscribers: room for their streams and tickets.
    pub subscribers: usize,
    /// `limits.max_pending_events`.
    pub max_pending: usize,
    /// `unsub_delay_seconds`.
    pub unsub_delay: u64,
}

/// The settings file: loopback, the simulator, room for every subscriber, and `extra` over it.
fn settings_toml(ami: SocketAddr, wanted: &Wanted, extra: toml::Table) -> anyhow::Result<String> {
    let room = i64::try_from(wanted.subscribers * 2 + 16)?;
    let mut ami_table = toml::Table::new();
    ami_table.insert("host".into(), ami.ip().to_string().into());
    ami_table.insert("port".into(), i64::from(ami.port()).into());
    ami_table.insert("username".into(), "pbxis".into());
    let mut limits = toml::Table::new();
    for key in [
        "max_streams_per_client",
        "max_tickets",
        "max_tickets_per_owner",
    ] {
        limits.insert(key.into(), room.max(1000).into());
    }
    // Every stream is a connection too.
    limits.insert("max_connections".into(), room.max(10_000).into());
    let pending = i64::try_from(wanted.max_pending)?;
    limits.insert("max_pending_events".into(), pending.into());
    let mut table = toml::Table::new();
    table.insert("listen".into(), "127.0.0.1:0".into());
    table.insert("location".into(), wanted.location.as_str().into());
    let unsub = i64::try_from(wanted.unsub_delay)?;
    table.insert("unsub_delay_seconds".into(), unsub.into());
    table.insert("ami".into(), ami_table.into());
    table.insert("limits".into(), limits.into());
    for (key, value) in extra {
        match (table.get_mut(&key), value) {
            (Some(toml::Value::Table(old)), toml::Value::Table(new)) => old.extend(new),
            (_, value) => {
                table.insert(key, value);
            }
        }
    }
    let text = toml::to_string(&table)?;
    // The service would refuse a file it cannot read: better to know here.
    Settings::from_toml(&text)?.validate()?;
    Ok(text)
}

/// A private temporary file, removed when dropped.
struct TempConfig(PathBuf);

impl TempConfig {
    fn write(text: &str) -> anyhow::Result<TempConfig> {
        use std::os::unix::fs::OpenOptionsExt as _;
        let name = format!(
            "pbxis-soak-{}-{:016x}.toml",
            std::process::id(),
            rand::random::<u64>()
        );
        let path = std::env::temp_dir().join(name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let config = TempConfig(path);
        file.write_all(text.as_bytes())?;
        Ok(config)
    }
}

impl Drop for TempConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Reads the service's JSON log lines: counts warnings and errors, keeps the last lines, and
/// sends the address of the `service bound` line.
async fn read_logs(
    stderr: tokio::process::ChildStderr,
    logs: Arc<Mutex<LogTail>>,
    bound: oneshot::Sender<SocketAddr>,
) {
    let mut bound = Some(bound);
    let mut lines = FramedRead::new(stderr, LinesCodec::new_with_max_length(MAX_LOG_LINE));
    while let Some(Ok(line)) = lines.next().await {
        let json: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if json["fields"]["message"] == "service bound" {
            let addr = json["fields"]["addr"].as_str().and_then(|a| a.parse().ok());
            if let (Some(addr), Some(tx)) = (addr, bound.take()) {
                let _ = tx.send(addr);
            }
        }
        let Ok(mut tail) = logs.lock() else {
            return;
        };
        match json["level"].as_str() {
            Some("WARN") => tail.warnings += 1,
            Some("ERROR") => tail.errors += 1,
            _ => {}
        }
        if tail.last.len() >= TAIL_LINES {
            tail.last.pop_front();
        }
        tail.last.push_back(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_file_is_one_the_service_accepts() {
        let wanted = Wanted {
            location: "PJSIP/{agent}".into(),
            subscribers: 3000,
            max_pending: 256,
            unsub_delay: 5,
        };
        let text = settings_toml(
            "127.0.0.1:5038".parse().unwrap(),
            &wanted,
            toml::Table::new(),
        )
        .unwrap();
        let settings = Settings::from_toml(&text).unwrap();
        assert_eq!(settings.ami.port, 5038);
        assert_eq!(settings.limits.max_streams_per_client, 6016);
        assert_eq!(settings.limits.max_pending_events, 256);
        assert_eq!(settings.unsub_delay_seconds, 5);
        assert!(settings.listen.ip().is_loopback());
        assert!(
            settings.ami.secret.is_empty(),
            "the secret is not in the file"
        );
    }

    #[test]
    fn extra_settings_are_laid_over() {
        let wanted = Wanted {
            location: "PJSIP/{agent}".into(),
            subscribers: 10,
            max_pending: 256,
            unsub_delay: 5,
        };
        let extra: toml::Table =
            toml::from_str("summary_refresh_seconds = 7\n[limits]\nmax_pairs_per_ticket = 20000")
                .unwrap();
        let text = settings_toml("127.0.0.1:5038".parse().unwrap(), &wanted, extra).unwrap();
        let settings = Settings::from_toml(&text).unwrap();
        assert_eq!(settings.summary_refresh_seconds, 7);
        assert_eq!(settings.limits.max_pairs_per_ticket, 20_000);
        assert_eq!(settings.limits.max_pending_events, 256, "the rest kept");
    }
}
