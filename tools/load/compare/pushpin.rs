//! Pushpin as the other side: its runner (`pushpin`, with condure, zurl, pushpin-proxy and
//! pushpin-handler under it) started from a configuration in a private temporary directory, a
//! tiny GRIP origin in this process that answers every subscribe request with
//! `Grip-Hold: stream` and `Grip-Channel`, and a publisher that sends each event through
//! Pushpin's HTTP publish API, as an SSE frame carrying the same data as pbxis-ws's
//! `queueMemberStatus`. Settings are Pushpin's shipped defaults except the ports, the
//! directories and `message_rate`/`message_hwm` (raised so that Pushpin's own rate limit of
//! 2,500 messages/s is not what is measured).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hyper::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::http::Connection;
use crate::stamp::Clock;

/// The channel every subscriber is held on.
const CHANNEL: &str = "pbxis";
/// How long Pushpin may take to listen.
const START_WAIT: Duration = Duration::from_secs(60);

/// A running Pushpin and its origin.
pub struct Pushpin {
    /// Where subscribers connect.
    pub http: SocketAddr,
    /// The publish API.
    pub publish: SocketAddr,
    /// The runner's process id (its children are Pushpin's other processes).
    pub pid: u32,
    child: Child,
    dir: TempDir,
    origin: CancellationToken,
}

impl Pushpin {
    /// Starts the origin and Pushpin (`bin`, normally `pushpin`), and waits until both its HTTP
    /// port and its publish port accept connections.
    pub async fn start(bin: &Path) -> anyhow::Result<Pushpin> {
        let origin_listener = TcpListener::bind("127.0.0.1:0").await?;
        let origin_addr = origin_listener.local_addr()?;
        let origin = CancellationToken::new();
        tokio::spawn(serve_origin(origin_listener, origin.clone()));
        let dir = TempDir::create()?;
        let ports = free_ports(5)?;
        let http = SocketAddr::from(([127, 0, 0, 1], ports[0]));
        let publish = SocketAddr::from(([127, 0, 0, 1], ports[1]));
        std::fs::write(dir.0.join("routes"), format!("* {origin_addr}\n"))?;
        std::fs::write(dir.0.join("pushpin.conf"), config(&dir.0, &ports))?;
        std::fs::create_dir_all(dir.0.join("run"))?;
        std::fs::create_dir_all(dir.0.join("log"))?;
        let mut child = Command::new(bin)
            .arg("--config")
            .arg(dir.0.join("pushpin.conf"))
            .arg("--merge-output")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot run {} (is Pushpin installed?)", bin.display()))?;
        let pid = child.id().context("Pushpin exited at once")?;
        let deadline = tokio::time::Instant::now() + START_WAIT;
        for addr in [http, publish] {
            while TcpStream::connect(addr).await.is_err() {
                if tokio::time::Instant::now() > deadline {
                    let _ = child.start_kill();
                    anyhow::bail!("Pushpin does not listen on {addr}");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Ok(Pushpin {
            http,
            publish,
            pid,
            child,
            dir,
            origin,
        })
    }

    /// Publishes `events` stamped events over `lanes` connections side by side (each sends its
    /// next one after the previous one's answer), at `rate` per second (0: unpaced). Returns how
    /// many were accepted.
    pub async fn publish(&self, clock: Clock, lanes: usize, events: u64, rate: f64) -> u64 {
        let budget = Arc::new(AtomicU64::new(events));
        let permits = Arc::new(Semaphore::new(0));
        let pacer =
            (rate > 0.0).then(|| tokio::spawn(crate::driver::pace(permits.clone(), rate, events)));
        let mut tasks = JoinSet::new();
        for lane in 0..lanes.max(1) {
            let (budget, permits) = (budget.clone(), pacer.is_some().then(|| permits.clone()));
            let publish = self.publish;
            tasks.spawn(async move {
                let Ok(mut conn) = Connection::open(publish, None).await else {
                    return 0;
                };
                let mut sent = 0u64;
                loop {
                    if let Some(permits) = &permits {
                        match permits.acquire().await {
                            Ok(p) => p.forget(),
                            Err(_) => return sent,
                        }
                    }
                    match crate::driver::take_one(&budget) {
                        None => return sent,
                        Some(0) => {
                            if let Some(permits) = &permits {
                                permits.close();
                            }
                        }
                        Some(_) => {}
                    }
                    let stamp = clock.encode(lane as u32, sent as u32, clock.now_us());
                    let body = item(&stamp, sent);
                    if post(&mut conn, body.clone()).await.is_err() {
                        // Pushpin may close a publish connection after an answer: once more on a
                        // new one.
                        match Connection::open(publish, None).await {
                            Ok(fresh) => conn = fresh,
                            Err(_) => return sent,
                        }
                        if post(&mut conn, body).await.is_err() {
                            return sent;
                        }
                    }
                    sent += 1;
                }
            });
        }
        let mut sent = 0;
        while let Some(done) = tasks.join_next().await {
            sent += done.unwrap_or(0);
        }
        if let Some(pacer) = pacer {
            pacer.abort();
        }
        sent
    }

    /// Stops Pushpin and the origin, removes the directory.
    pub async fn stop(mut self) {
        self.origin.cancel();
        if let Some(pid) = self.child.id() {
            // SIGTERM: the runner stops its children.
            let _ = Command::new("kill").arg(pid.to_string()).status().await;
        }
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.start_kill();
            let _ = self.child.wait().await;
        }
        drop(self.dir);
    }
}

/// `POST /publish/` with `body`.
async fn post(conn: &mut Connection, body: String) -> Result<(), crate::http::ClientError> {
    conn.call(Method::POST, "/publish/", Some(body), StatusCode::OK)
        .await
        .map(drop)
}

/// The publish request: one item, the SSE frame pbxis-ws would write for the event.
fn item(stamp: &str, seq: u64) -> String {
    let data = serde_json::json!({
        "agent": "1001", "queue": "lq1", "status": "paused", "reason": stamp,
    });
    let content = format!("id: {seq}\nevent: queueMemberStatus\ndata: {data}\n\n");
    serde_json::json!({
        "items": [{ "channel": CHANNEL, "formats": { "http-stream": { "content": content } } }]
    })
    .to_string()
}

/// The GRIP origin: every request on every connection gets an empty 200 that tells Pushpin to
/// hold the stream on the channel.
async fn serve_origin(listener: TcpListener, stop: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            a = listener.accept() => a,
        };
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        tokio::spawn(origin_connection(stream));
    }
}

async fn origin_connection(mut stream: TcpStream) {
    let answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nGrip-Hold: stream\r\n\
         Grip-Channel: {CHANNEL}\r\nContent-Length: 0\r\n\r\n"
    );
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Ok(n) = stream.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        // Subscribe requests have no body: every blank line ends one.
        while let Some(end) = memchr::memmem::find(&buf, b"\r\n\r\n") {
            buf.drain(..end + 4);
            if stream.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
        }
        if buf.len() > 64 * 1024 {
            return;
        }
    }
}

/// Pushpin's configuration: the shipped defaults (`/usr/share/pushpin/pushpin.conf.condure`),
/// with this run's ports and directories, zurl for the origin requests, and no rate limit.
fn config(dir: &Path, ports: &[u16]) -> String {
    let d = dir.display();
    let [http, publish, pull, sub, command] = [ports[0], ports[1], ports[2], ports[3], ports[4]];
    format!(
        "[global]\ninclude={{libdir}}/internal.conf\nrundir={d}/run\nipc_prefix=pushpin-\n\
         port_offset=0\nstats_connection_ttl=120\n\
         [runner]\nservices=condure,zurl,pushpin-proxy,pushpin-handler\nhttp_port={http}\n\
         logdir={d}/log\nlog_level=1\nclient_buffer_size=8192\nclient_maxconn=50000\n\
         condure_bin=condure\nzurl_bin=zurl\n\
         [proxy]\nroutesfile={d}/routes\nsig_key=changeme\nupdates_check=off\n\
         zurl_out_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-in\n\
         zurl_out_stream_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-in-stream\n\
         zurl_in_specs=ipc://{{rundir}}/{{ipc_prefix}}zurl-out\n\
         [handler]\npush_in_spec=tcp://127.0.0.1:{pull}\n\
         push_in_sub_specs=tcp://127.0.0.1:{sub}\npush_in_sub_connect=false\n\
         push_in_http_addr=127.0.0.1\npush_in_http_port={publish}\n\
         stats_spec=ipc://{{rundir}}/{{ipc_prefix}}stats\n\
         command_spec=tcp://127.0.0.1:{command}\n\
         message_rate=10000000\nmessage_hwm=10000000\nmessage_wait=5000\n\
         connection_subscription_max=20\nsubscription_linger=60\n"
    )
}

/// `n` TCP ports free right now, below the kernel's ephemeral range (so that no connection of an
/// earlier phase, still in `TIME_WAIT` on a port of that range, keeps Pushpin from binding).
fn free_ports(n: usize) -> anyhow::Result<Vec<u16>> {
    let mut ports = Vec::with_capacity(n);
    let mut held = Vec::with_capacity(n);
    let start = 20_000 + rand::random::<u16>() % 10_000;
    for port in (start..32_000).chain(20_000..start) {
        if ports.len() == n {
            break;
        }
        if let Ok(l) = std::net::TcpListener::bind(("0.0.0.0", port)) {
            ports.push(port);
            held.push(l);
        }
    }
    anyhow::ensure!(
        ports.len() == n,
        "no {n} free ports between 20000 and 32000"
    );
    Ok(ports)
}

/// A private temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn create() -> anyhow::Result<TempDir> {
        let name = format!(
            "pbxis-compare-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        );
        let path = std::env::temp_dir().join(name);
        std::fs::create_dir(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_item_is_an_sse_frame_with_the_stamp() {
        let body: serde_json::Value = serde_json::from_str(&item("L0.1.2.3", 7)).unwrap();
        let content = body["items"][0]["formats"]["http-stream"]["content"]
            .as_str()
            .unwrap();
        assert!(content.starts_with("id: 7\nevent: queueMemberStatus\ndata: {"));
        assert!(content.ends_with("}\n\n"));
        assert_eq!(
            super::super::wire::reason(content.as_bytes()),
            Some("L0.1.2.3")
        );
        assert_eq!(body["items"][0]["channel"], CHANNEL);
    }
}
