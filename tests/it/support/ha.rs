//! A cluster for failover tests, all on loopback: the simulated Asterisk (in this process),
//! `pbxis-ws serve` child processes (the built binary), each with its own AMI session to it,
//! and HAProxy in front, run with `deploy/haproxy.cfg` as shipped: the instances' addresses
//! are set through the environment variables it reads, and through its admin socket when an
//! instance comes back on another port. Every port is picked by the kernel for the process
//! that listens on it (an instance binds port 0 and logs its address), so tests running side
//! by side never meet. The admin socket tells when HAProxy sees an instance up or down. Every
//! child is killed when the cluster is dropped, and the logs of all are printed if the test
//! failed.

#![allow(dead_code)]

mod haproxy;

use pbxis_ws::sim::{self, SimConfig, SimHandle};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;
use tokio::process::Child;

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
    /// HAProxy, once started.
    haproxy: Option<Child>,
    stats: PathBuf,
    dir: tempfile::TempDir,
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
                addr: "127.0.0.1:0".parse().unwrap(),
                child: None,
                log: dir.path().join(format!("pbxis{i}.log")),
            })
            .collect();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let mut cluster = Cluster {
            sim_addr: sim.addr(),
            sim,
            balancer: Balancer {
                base: String::new(),
                http: http.clone(),
            },
            http,
            instances,
            signed,
            haproxy: None,
            stats: dir.path().join("haproxy.sock"),
            dir,
        };
        for i in 0..INSTANCES {
            cluster.start_instance(i).await;
        }
        let servers: Vec<SocketAddr> = cluster.instances.iter().map(|i| i.addr).collect();
        let (child, front) = haproxy::start(cluster.dir.path(), &cluster.stats, &servers);
        cluster.haproxy = Some(child);
        cluster.balancer.base = format!("http://{front}");
        for i in 0..INSTANCES {
            cluster.wait_seen(i, "UP").await;
        }
        cluster
    }

    /// Starts instance `i` on a port of its own and waits until it answers `/ready` 200; tells
    /// HAProxy, if it runs, where the instance is now.
    pub async fn start_instance(&mut self, i: usize) {
        let instance = &self.instances[i];
        assert!(instance.child.is_none(), "{} runs already", instance.name);
        let logged = std::fs::metadata(&instance.log).map_or(0, |m| m.len());
        let mut command = haproxy::owned_command(env!("CARGO_BIN_EXE_pbxis-ws"), &instance.log);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PBXIS_") {
                command.env_remove(key);
            }
        }
        command
            .arg("serve")
            .env("PBXIS_LISTEN", "127.0.0.1:0")
            .env("PBXIS_AMI_HOST", "127.0.0.1")
            .env("PBXIS_AMI_PORT", self.sim_addr.port().to_string())
            .env("PBXIS_AMI_USER", "pbxis")
            .env("PBXIS_AMI_SECRET", "pbxis")
            .env("PBXIS_SHUTDOWN_DRAIN_SECONDS", DRAIN_SECONDS.to_string())
            .env("RUST_LOG", "pbxis_ws=info");
        if self.signed {
            command.env("PBXIS_TICKET_SECRET", TICKET_SECRET);
        }
        let mut child = command.spawn().expect("pbxis-ws starts");
        let addr = bound_address(&instance.log, logged, &mut child).await;
        let name = instance.name.clone();
        self.instances[i].child = Some(child);
        self.instances[i].addr = addr;
        self.wait_ready(addr, &name).await;
        if self.haproxy.is_some() {
            let command = format!(
                "set server pbxis/{name} addr {} port {}",
                addr.ip(),
                addr.port()
            );
            let answer = haproxy::admin(&self.stats, &command)
                .await
                .unwrap_or_default();
            assert!(answer.contains("changed"), "{command}: {answer}");
        }
    }

    /// Waits until the instance at `addr` answers `/ready` 200.
    async fn wait_ready(&self, addr: SocketAddr, name: &str) {
        let url = format!("http://{addr}/ready");
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
        .unwrap_or_else(|_| panic!("{name} becomes ready"));
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
        let answer = haproxy::admin(&self.stats, "show stat").await;
        haproxy::server_statuses(&answer.unwrap_or_default())
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
            if let Some(Ok(Some(exit))) = self.haproxy.as_mut().map(Child::try_wait) {
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
        if let Some(haproxy) = self.haproxy.as_mut() {
            let _ = haproxy.start_kill();
        }
        for instance in &mut self.instances {
            if let Some(child) = instance.child.as_mut() {
                let _ = child.start_kill();
            }
        }
    }
}

/// The address an instance logged it is bound to (`service bound addr=...`), reading its log
/// from byte `from`; fails if it exits first.
async fn bound_address(log: &Path, from: u64, child: &mut Child) -> SocketAddr {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let text = std::fs::read(log).unwrap_or_default();
        let start = usize::try_from(from).unwrap_or(usize::MAX).min(text.len());
        let text = String::from_utf8_lossy(&text[start..]);
        let found = text
            .lines()
            .filter_map(|line| {
                line.split_once("service bound")?
                    .1
                    .split_once("addr=")
                    .map(|(_, a)| a)
            })
            .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
            .next();
        if let Some(addr) = found {
            return addr;
        }
        if let Ok(Some(exit)) = child.try_wait() {
            panic!("pbxis-ws exited before listening: {exit}\n{text}");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "pbxis-ws does not listen: {text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
