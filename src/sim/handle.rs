//! The library API of the simulator: [`start`] it on an address (port 0 in tests) and drive it
//! with the [`SimHandle`]: inject calls, read the truth, inject faults.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::config::SimConfig;
use super::engine::{self, Command};
use super::truth::SimSnapshot;
use crate::ami::message::AmiMessage;

/// State shared by the handle, the engine and the sessions (never locked across `.await`).
pub(crate) struct Shared {
    pub(crate) addr: SocketAddr,
    pub(crate) actions: Mutex<VecDeque<AmiMessage>>,
    pub(crate) max_logged_actions: usize,
    pub(crate) split_writes: AtomicBool,
    pub(crate) refuse_logins: AtomicBool,
    pub(crate) answer_delays: Mutex<std::collections::BTreeMap<String, Option<Duration>>>,
    /// Actions (lower case) whose next arrival fails: [`SimHandle::fail_next`].
    pub(crate) fail_next: Mutex<std::collections::BTreeSet<String>>,
}

impl Shared {
    /// Records an action in the bounded log (the oldest entry goes when full).
    pub(crate) fn log_action(&self, msg: &AmiMessage) {
        if let Ok(mut log) = self.actions.lock() {
            if log.len() >= self.max_logged_actions.max(1) {
                log.pop_front();
            }
            log.push_back(msg.clone());
        }
    }

    /// The current answer delay of `agent` (`None` = never answers).
    pub(crate) fn answer_delay(&self, agent: &str) -> Option<Duration> {
        self.answer_delays
            .lock()
            .ok()
            .and_then(|m| m.get(agent).copied().flatten())
    }

    /// True once for an action `fail_next` named (`name` in lower case).
    pub(crate) fn take_failure(&self, name: &str) -> bool {
        self.fail_next.lock().is_ok_and(|mut s| s.remove(name))
    }
}

/// A running simulator. Cheap to clone; every clone drives the same simulator.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
    commands: mpsc::Sender<Command>,
}

/// Starts a simulator listening on `listen` (use port 0 to let the OS choose).
pub async fn start(config: SimConfig, listen: SocketAddr) -> std::io::Result<SimHandle> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        addr,
        actions: Mutex::new(VecDeque::new()),
        max_logged_actions: config.max_logged_actions,
        split_writes: AtomicBool::new(false),
        refuse_logins: AtomicBool::new(false),
        answer_delays: Mutex::new(config.answer_delays.clone()),
        fail_next: Mutex::new(std::collections::BTreeSet::new()),
    });
    let commands = engine::spawn(config, listener, shared.clone());
    Ok(SimHandle { shared, commands })
}

impl SimHandle {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(make(tx)).await.ok()?;
        rx.await.ok()
    }

    /// The address the simulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// A caller (`caller_number`, optional name) enters `queue` now, like the recorded rig's
    /// `Local/<queue>@callers` callers. Returns the caller channel's Uniqueid, or an empty
    /// string when the queue is unknown or the call limit is reached.
    pub async fn inbound_call(
        &self,
        queue: &str,
        caller_number: &str,
        caller_name: Option<&str>,
    ) -> String {
        let (queue, number) = (queue.to_owned(), caller_number.to_owned());
        let name = caller_name.map(str::to_owned);
        self.ask(|reply| Command::InboundCall {
            queue,
            number,
            name,
            reply,
        })
        .await
        .flatten()
        .unwrap_or_default()
    }

    /// Hangs up the call whose channel has this Uniqueid (caller or agent side), as if that
    /// party hung up. False when no such channel.
    pub async fn hangup(&self, uniqueid: &str) -> bool {
        let uniqueid = uniqueid.to_owned();
        self.ask(|reply| Command::Hangup { uniqueid, reply })
            .await
            .unwrap_or(false)
    }

    /// Sets how long `agent` takes to answer from now on (`None` = never answers).
    pub fn set_answer_delay(&self, agent: &str, delay: Option<Duration>) {
        if let Ok(mut m) = self.shared.answer_delays.lock() {
            m.insert(agent.to_owned(), delay);
        }
    }

    /// Every action any client sent, oldest first (bounded: the oldest are dropped).
    pub fn actions_received(&self) -> Vec<AmiMessage> {
        self.shared
            .actions
            .lock()
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Empties the action log.
    pub fn clear_actions(&self) {
        if let Ok(mut l) = self.shared.actions.lock() {
            l.clear();
        }
    }

    /// The simulator's state right now.
    pub async fn truth(&self) -> SimSnapshot {
        self.ask(Command::Truth).await.unwrap_or_default()
    }

    /// Fault: closes every AMI connection at once (no goodbye).
    pub async fn drop_connections(&self) {
        self.ask(Command::DropConnections).await;
    }

    /// Fault: the simulator stops reading and writing for `d` (real time), then goes on.
    pub async fn stall(&self, d: Duration) {
        self.ask(|reply| Command::Stall { d, reply }).await;
    }

    /// Fault: sends `Event: Shutdown`, closes every connection, refuses connections for
    /// `downtime` (real time), then comes back with fresh state on the same address.
    pub async fn restart(&self, downtime: Duration) {
        self.ask(|reply| Command::Restart { downtime, reply }).await;
    }

    /// Fault: writes these raw bytes to every logged-in client.
    pub async fn send_garbage(&self, bytes: &[u8]) {
        let bytes = bytes.to_vec();
        self.ask(|reply| Command::Garbage { bytes, reply }).await;
    }

    /// Fault: when on, every message is written in several pieces cut at random points.
    pub fn split_writes(&self, on: bool) {
        self.shared.split_writes.store(on, Ordering::Relaxed);
    }

    /// Fault: when on, every login is refused as with a wrong secret (`InvalidPassword`, then
    /// `Authentication failed` and the close), as after a restart with a changed
    /// `manager.conf`. Sessions already logged in go on.
    pub fn refuse_logins(&self, on: bool) {
        self.shared.refuse_logins.store(on, Ordering::Relaxed);
    }

    /// Fault: the next `action` (`Hangup`, `Redirect`, `Park`, `Originate`...) meets a world
    /// that moved, and gets Asterisk's own answer for it: the channel it names hangs up just
    /// before it arrives (its party hung up first: `No such channel`, `Channel does not exist:
    /// <name>`), and an `Originate` is refused with `Originate failed` (what `manager.c` answers
    /// when it cannot start even an asynchronous one). Once; later ones run as usual.
    pub fn fail_next(&self, action: &str) {
        if let Ok(mut s) = self.shared.fail_next.lock() {
            s.insert(action.to_ascii_lowercase());
        }
    }

    /// Sets the automatic callers' rate (per simulated minute; 0 = none) from now on; calls in
    /// progress go on. A restart keeps the new rate.
    pub async fn set_call_rate(&self, rate: f64) {
        self.ask(|reply| Command::SetCallRate { rate, reply }).await;
    }

    /// Stops the simulator: closes every connection and the listener.
    pub async fn shutdown(&self) {
        self.ask(Command::Shutdown).await;
    }
}
