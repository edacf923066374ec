//! The processes of a failover test: child processes tied to the test's life (killed when
//! their handle is dropped, or by the kernel if the test process dies first), and HAProxy run
//! with `deploy/haproxy.cfg` as shipped on a listening socket the test bound itself (handed
//! over as `fd@3`, so no other process can take its port in between), driven through its
//! admin socket.

#![allow(dead_code)]

use std::fs::File;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

/// HAProxy: `$HAPROXY`, else on the `PATH`, else where Debian puts it.
fn program() -> PathBuf {
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

/// A command whose process is killed when its handle is dropped, and by the kernel if this
/// test process dies first; its stdout and stderr are appended to `log`.
pub fn owned_command(program: impl AsRef<std::ffi::OsStr>, log: &Path) -> Command {
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
    // SAFETY: prctl is async-signal-safe, and nothing else runs between fork and exec.
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

/// Starts HAProxy on a loopback port of its own (returned) with `servers` (in the order of
/// the configuration's `PBXIS_INSTANCE_<n>`), its admin socket at `stats`.
pub fn start(dir: &Path, stats: &Path, servers: &[SocketAddr]) -> (Child, SocketAddr) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let front = listener.local_addr().expect("its address");
    let fd = listener.as_raw_fd();
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/haproxy.cfg");
    let mut command = owned_command(program(), &dir.join("haproxy.log"));
    command
        .args(["-db", "-f", config])
        .env("PBXIS_HAPROXY_BIND", "fd@3")
        .env("PBXIS_HAPROXY_STATS", stats);
    for (i, server) in servers.iter().enumerate() {
        command.env(format!("PBXIS_INSTANCE_{}", i + 1), server.to_string());
    }
    // SAFETY: dup2 and fcntl are async-signal-safe; the listener outlives the spawn.
    unsafe {
        command.pre_exec(move || {
            let result = if fd == 3 {
                libc::fcntl(3, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, 3)
            };
            if result == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = command
        .spawn()
        .expect("haproxy starts (Debian: apt-get install haproxy)");
    (child, front)
}

/// One command on the admin socket at `stats`: its answer, `None` while the socket is not
/// there yet.
pub async fn admin(stats: &Path, command: &str) -> Option<String> {
    let mut socket = tokio::net::UnixStream::connect(stats).await.ok()?;
    socket
        .write_all(format!("{command}\n").as_bytes())
        .await
        .ok()?;
    let mut answer = String::new();
    socket.read_to_string(&mut answer).await.ok()?;
    Some(answer)
}

/// The status of each server of backend `pbxis` in the answer to `show stat` (`UP`, `DOWN`,
/// `UP 1/2`...).
pub fn server_statuses(show_stat: &str) -> Vec<(String, String)> {
    let mut lines = show_stat.lines();
    let Some(header) = lines.next().and_then(|h| h.strip_prefix("# ")) else {
        return Vec::new();
    };
    let header: Vec<&str> = header.split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name);
    let (Some(px), Some(sv), Some(status)) = (column("pxname"), column("svname"), column("status"))
    else {
        return Vec::new();
    };
    lines
        .map(|line| line.split(',').collect::<Vec<_>>())
        .filter(|f| f.len() > status && f[px] == "pbxis" && f[sv].starts_with("pbxis"))
        .map(|f| (f[sv].to_owned(), f[status].to_owned()))
        .collect()
}
