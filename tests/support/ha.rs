//! A cluster for failover tests, all on loopback: the simulated Asterisk (in this process),
//! `pbxis-ws serve` child processes (the built binary), each with its own AMI session to it,
//! and HAProxy in front, run with `deploy/haproxy.cfg` as shipped: its addresses are set
//! through the environment variables it reads. HAProxy's admin socket tells when it sees an
//! instance up or down. Every child is killed when the cluster is dropped (and by the kernel
//! should the test process die first), and the logs of all are printed if the test failed.

#![allow(dead_code)]

use pbxis_ws::sim::{self, SimConfig, SimHandle};
use serde_json::Value;
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

/// The servers of `deploy/haproxy.cfg`.
pub const INSTANCES: usize = 3;
/// The stickiness cookie of `deploy/haproxy.cfg`.
pub const COOKIE: &str = "PBXIS";
/// Bound on waiting for a process or HAProxy to reach a state.
pub const PATIENCE: Duration = Duration::from_secs(20);
/// The secret the instances share (signed tickets: any instance accepts any instance's).
const TICKET_SECRET: &str = "failover-test-secret-0123456789abcdef";
/// How long an instance says 503 on `/ready` before its streams close, when stopped: above the
/// time HAProxy takes to see it down (deploy/haproxy.cfg: `inter 1s fastinter 500ms fall 2`,
/// at most 1.5 s), with room for a loaded machine.
pub const DRAIN_SECONDS: u64 = 3;

/// One `pbxis-ws serve` process, started and stopped by the test.
pub struct Instance {
    /// Its server name (and cookie value) in haproxy.cfg: `pbxis1`...
    pub name: String,
    pub addr: SocketAddr,
    child: Option<Child>,
    log: PathBuf,
}

/// REST through HAProxy.
#[derive(Clone)]
pub struct Balancer {
    /// HAProxy's frontend, `http://127.0.0.1:port`.
    pub base: String,
    http: reqwest::Client,
}

impl Balancer {
    /// A POST with a JSON body: (status, body), or what went wrong.
    pub async fn post_json(&self, path: &str, body: &Value) -> Result<(u16, Value), String> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }
}

/// The simulator, the instances and HAProxy.
pub struct Cluster {
    pub sim: SimHandle,
    pub balancer: Balancer,
    http: reqwest::Client,
    pub instances: Vec<Instance>,
    /// Whether the instances share a ticket secret (else tickets are instance-local).
    signed: bool,
    sim_addr: SocketAddr,
    haproxy: Child,
    stats: PathBuf,
    dir: tempfile::TempDir,
}

/// A loopback address with a port free right now.
fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address")
}

/// HAProxy: `$HAPROXY`, else on the `PATH`, else where Debian puts it.
fn haproxy_program() -> PathBuf {
    if let Some(path) = std::env::var_os("HAPROXY") {
        return path.into();
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|dir| dir.join("haproxy").is_file()))
        .unwrap_or(false);
    if on_path {
        "haproxy".into()
    } else {
        "/usr/sbin/haproxy".into()
    }
}

/// A command whose process the kernel kills if this test process dies first, and which is
/// killed when its handle is dropped.
fn owned_command(program: impl AsRef<std::ffi::OsStr>, log: &Path) -> Command {
    let mut command = Command::new(program);
    let log = File::options()
        .create(true)
        .append(true)
        .open(log)
        .expect("a log file");
    command
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .kill_on_drop(true);
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command
}

impl Cluster {
    /// Starts the simulator, every instance (ready) and HAProxy (every instance seen up). With
    /// `signed`, the instances share a ticket secret; without, tickets are instance-local.
    pub async fn start(signed: bool) -> Cluster {
        let sim = sim::start(SimConfig::quiet(), "127.0.0.1:0".parse().unwrap())
            .await
            .expect("simulator starts");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let instances: Vec<Instance> = (1..=INSTANCES)
            .map(|i| Instance {
                name: format!("pbxis{i}"),
                addr: free_addr(),
                child: None,
                log: dir.path().join(format!("pbxis{i}.log")),
            })
            .collect();
        let front = free_addr();
        let stats = dir.path().join("haproxy.sock");
        let haproxy = Self::start_haproxy(dir.path(), front, &stats, &instances);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut cluster = Cluster {
            sim_addr: sim.addr(),
            sim,
            balancer: Balancer {
                base: format!("http://{front}"),
                http: http.clone(),
            },
            http,
            instances,
            signed,
            haproxy,
            stats,
            dir,
        };
        for i in 0..INSTANCES {
            cluster.start_instance(i).await;
        }
        for i in 0..INSTANCES {
            cluster.wait_seen(i, "UP").await;
        }
        cluster
    }

    fn start_haproxy(dir: &Path, front: SocketAddr, stats: &Path, instances: &[Instance]) -> Child {
        let config = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/haproxy.cfg");
        let mut command = owned_command(haproxy_program(), &dir.join("haproxy.log"));
        command
            .args(["-db", "-f", config])
            .env("PBXIS_HAPROXY_BIND", front.to_string())
            .env("PBXIS_HAPROXY_STATS", stats);
        for (i, instance) in instances.iter().enumerate() {
            command.env(
                format!("PBXIS_INSTANCE_{}", i + 1),
                instance.addr.to_string(),
            );
        }
        command
            .spawn()
            .expect("haproxy starts (Debian: apt-get install haproxy)")
    }

    /// Starts instance `i` on its address and waits until it answers `/ready` 200 itself.
    pub async fn start_instance(&mut self, i: usize) {
        let instance = &self.instances[i];
        assert!(instance.child.is_none(), "{} runs already", instance.name);
        let mut command = owned_command(env!("CARGO_BIN_EXE_pbxis-ws"), &instance.log);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PBXIS_") {
                command.env_remove(key);
            }
        }
        command
            .arg("serve")
            .env("PBXIS_LISTEN", instance.addr.to_string())
            .env("PBXIS_AMI_HOST", "127.0.0.1")
            .env("PBXIS_AMI_PORT", self.sim_addr.port().to_string())
            .env("PBXIS_AMI_USER", "pbxis")
            .env("PBXIS_AMI_SECRET", "pbxis")
            .env("PBXIS_SHUTDOWN_DRAIN_SECONDS", DRAIN_SECONDS.to_string())
            .env("RUST_LOG", "pbxis_ws=info");
        if self.signed {
            command.env("PBXIS_TICKET_SECRET", TICKET_SECRET);
        }
        let child = command.spawn().expect("pbxis-ws starts");
        let url = format!("http://{}/ready", instance.addr);
        self.instances[i].child = Some(child);
        let http = self.http.clone();
        tokio::time::timeout(PATIENCE, async {
            loop {
                if let Ok(r) = http.get(&url).send().await {
                    if r.status() == 200 {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{} becomes ready", self.instances[i].name));
    }

    /// `kill -9` instance `i`; waits until it is gone.
    pub async fn kill(&mut self, i: usize) {
        let mut child = self.instances[i].child.take().expect("a running instance");
        child.kill().await.expect("kill -9");
    }

    /// `kill -TERM` instance `i` (it drains, then stops).
    pub fn terminate(&mut self, i: usize) {
        let child = self.instances[i]
            .child
            .as_ref()
            .expect("a running instance");
        let pid = child.id().expect("a pid") as libc::pid_t;
        // SAFETY: a plain syscall on the pid of our own child, not yet reaped.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "SIGTERM");
    }

    /// Whether instance `i`'s process is still running.
    pub fn running(&mut self, i: usize) -> bool {
        let child = self.instances[i]
            .child
            .as_mut()
            .expect("a started instance");
        matches!(child.try_wait(), Ok(None))
    }

    /// Waits until instance `i`'s process has exited; its exit status.
    pub async fn wait_exit(&mut self, i: usize) -> ExitStatus {
        let mut child = self.instances[i].child.take().expect("a started instance");
        tokio::time::timeout(PATIENCE, child.wait())
            .await
            .unwrap_or_else(|_| panic!("{} stops", self.instances[i].name))
            .expect("its exit status")
    }

    /// The status HAProxy gives each server of the backend (`UP`, `DOWN`, `UP 1/2`...); empty
    /// while its admin socket is not there yet.
    pub async fn seen(&self) -> Vec<(String, String)> {
        let Ok(mut socket) = tokio::net::UnixStream::connect(&self.stats).await else {
            return Vec::new();
        };
        let mut text = String::new();
        if socket.write_all(b"show stat\n").await.is_err()
            || socket.read_to_string(&mut text).await.is_err()
        {
            return Vec::new();
        }
        let mut lines = text.lines();
        let Some(header) = lines.next().and_then(|h| h.strip_prefix("# ")) else {
            return Vec::new();
        };
        let header: Vec<&str> = header.split(',').collect();
        let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let (px, sv, status) = (column("pxname"), column("svname"), column("status"));
        lines
            .map(|line| line.split(',').collect::<Vec<_>>())
            .filter(|f| f.len() > status && f[px] == "pbxis" && f[sv].starts_with("pbxis"))
            .map(|f| (f[sv].to_owned(), f[status].to_owned()))
            .collect()
    }

    /// Waits until HAProxy shows instance `i` with `status` (`UP`, `DOWN`).
    pub async fn wait_seen(&mut self, i: usize, status: &str) {
        let name = self.instances[i].name.clone();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let seen = self.seen().await;
            if seen.iter().any(|(n, s)| *n == name && s == status) {
                return;
            }
            if let Ok(Some(exit)) = self.haproxy.try_wait() {
                panic!("haproxy exited: {exit}");
            }
            if tokio::time::Instant::now() > deadline {
                panic!("haproxy does not see {name} {status}: {seen:?}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The last lines of every log, for a failed test.
    fn logs(&self) -> String {
        let mut out = String::new();
        let mut names: Vec<PathBuf> = self.instances.iter().map(|i| i.log.clone()).collect();
        names.push(self.dir.path().join("haproxy.log"));
        for path in names {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(200)..].join("\n");
            out.push_str(&format!("==== {}\n{tail}\n", path.display()));
        }
        out
    }
}

impl Drop for Cluster {
    /// The children are killed by their handles (`kill_on_drop`); a failed test shows why.
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.logs());
        }
        let _ = self.haproxy.start_kill();
        for instance in &mut self.instances {
            if let Some(child) = instance.child.as_mut() {
                let _ = child.start_kill();
            }
        }
    }
}
