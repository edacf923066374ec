//! The engine: the one task that owns the call-center state. It runs client actions, handle
//! commands and timed steps (ringing, answering, hanging up) one at a time, in order, so a run
//! is reproducible from its seed. Output to a client goes through that client's bounded queue;
//! a client whose queue is full is disconnected (Asterisk's `writetimeout` policy).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::config::SimConfig;
use super::handle::Shared;
use super::mask::Mask;
use super::server::{self, ServerCtl};
use super::session::Out;
use super::state::State;
use super::truth::SimSnapshot;
use super::{actions, traffic, truth};
use crate::ami::message::AmiMessage;

mod faults;

use faults::FIREHOSE_TICK;

/// The read permission of the simulated AMI user (`read = all`).
const READ_PERMISSION: Mask = Mask::ALL;

/// What the handle, the server and the sessions ask of the engine.
pub(crate) enum Command {
    InboundCall {
        queue: String,
        number: String,
        name: Option<String>,
        reply: oneshot::Sender<Option<String>>,
    },
    Hangup {
        uniqueid: String,
        reply: oneshot::Sender<bool>,
    },
    Truth(oneshot::Sender<SimSnapshot>),
    DropConnections(oneshot::Sender<()>),
    Stall {
        d: Duration,
        reply: oneshot::Sender<()>,
    },
    Restart {
        downtime: Duration,
        reply: oneshot::Sender<()>,
    },
    Garbage {
        bytes: Vec<u8>,
        reply: oneshot::Sender<()>,
    },
    SetCallRate {
        rate: f64,
        reply: oneshot::Sender<()>,
    },
    Shutdown(oneshot::Sender<()>),
    /// A connection was accepted.
    Open {
        id: u64,
        out: mpsc::Sender<Out>,
        cancel: CancellationToken,
        peer: String,
    },
    /// A client sent an action.
    Action {
        id: u64,
        msg: AmiMessage,
    },
    /// A connection ended.
    Closed {
        id: u64,
    },
}

/// A timed step.
#[derive(Clone, Debug)]
pub(crate) enum Job {
    Arrival,
    Firehose,
    LoginFailed {
        session: u64,
        action_id: Option<String>,
    },
    Patience {
        call: u64,
    },
    /// The `Queue()` application's own timeout (`MAXWAIT`): a ringing member gets
    /// `AgentRingNoAnswer`, then the caller leaves as abandoned.
    QueueTimeout {
        call: u64,
    },
    /// A rig-style caller reaches `Queue()`.
    LocalJoin(Box<crate::sim::traffic::PendingJoin>),
    Ring {
        call: u64,
        gen: u64,
    },
    Answer {
        call: u64,
        gen: u64,
        interface: String,
    },
    RingTimeout {
        call: u64,
        gen: u64,
    },
    TalkEnd {
        call: u64,
        by_agent: bool,
    },
    OrigAnswer {
        orig: u64,
    },
    OrigTimeout {
        orig: u64,
    },
    OrigRemoteAnswer {
        orig: u64,
    },
    OrigEnd {
        orig: u64,
    },
    /// `ChanSpy` finds its channel a moment after the spying phone answers.
    SpyStart {
        orig: u64,
    },
    /// The phone a moved caller runs answers.
    PhoneAnswer {
        call: u64,
    },
    /// A parked call's time runs out (`since` tells this parking from a later one).
    ParkTimeout {
        call: u64,
        space: u32,
        since: u64,
    },
}

/// Where a session is in the login dance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Auth {
    None,
    Challenged(String),
    LoggedIn,
    /// Failed login: waiting to answer and close; everything else is ignored.
    Failing,
}

/// One connected client.
pub(crate) struct SessionEntry {
    pub out: mpsc::Sender<Out>,
    pub cancel: CancellationToken,
    pub auth: Auth,
    pub mask: Mask,
    pub peer: String,
}

/// The engine state.
pub(crate) struct Engine {
    pub config: SimConfig,
    pub shared: Arc<Shared>,
    pub state: State,
    pub rng: StdRng,
    pub sessions: BTreeMap<u64, SessionEntry>,
    timers: BTreeMap<(Instant, u64), Job>,
    timer_seq: u64,
    start: Instant,
    start_unix: f64,
    server: mpsc::Sender<ServerCtl>,
    stall: watch::Sender<Option<Instant>>,
    firehose_carry: f64,
    firehose_last: Instant,
    firehose_next: usize,
    stopped: bool,
    pending_restart: Option<Duration>,
    /// Synchronous Originates waiting for their outcome, by originate id.
    pub sync_originates: BTreeMap<u64, AmiMessage>,
}

/// Spawns the engine and the listener; returns the command channel.
pub(crate) fn spawn(
    config: SimConfig,
    listener: TcpListener,
    shared: Arc<Shared>,
) -> mpsc::Sender<Command> {
    let (tx, rx) = mpsc::channel(1024);
    let (stall, stall_rx) = watch::channel(None);
    let server = server::spawn(listener, tx.clone(), shared.clone(), stall_rx, &config);
    let start_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let mut engine = Engine {
        rng: StdRng::seed_from_u64(config.seed),
        state: State::new(&config, start_unix as u64),
        config,
        shared,
        sessions: BTreeMap::new(),
        timers: BTreeMap::new(),
        timer_seq: 0,
        start: Instant::now(),
        start_unix,
        server,
        stall,
        firehose_carry: 0.0,
        firehose_last: Instant::now(),
        firehose_next: 0,
        stopped: false,
        pending_restart: None,
        sync_originates: BTreeMap::new(),
    };
    engine.schedule_background();
    tokio::spawn(engine.run(rx));
    tx
}

impl Engine {
    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        while !self.stopped {
            let next = self.timers.keys().next().map(|(at, _)| *at);
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.command(cmd).await,
                    None => break,
                },
                () = sleep_until(next), if next.is_some() => self.fire_due(),
            }
        }
        self.close_all();
    }

    fn fire_due(&mut self) {
        let now = Instant::now();
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let job = entry.remove();
            traffic::run_job(self, job);
        }
    }

    /// Schedules `job` after `d` of simulated time.
    pub fn after(&mut self, d: Duration, job: Job) {
        let real = d.div_f64(self.config.time_scale.max(1e-6));
        self.after_real(real, job);
    }

    /// Schedules `job` after `d` of real time.
    pub fn after_real(&mut self, d: Duration, job: Job) {
        self.timer_seq += 1;
        let at = Instant::now() + d;
        self.timers.insert((at, self.timer_seq), job);
    }

    /// Simulated seconds since start.
    pub fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * self.config.time_scale
    }

    /// Simulated unix time, in seconds.
    pub fn unix(&self) -> f64 {
        self.start_unix + self.now()
    }

    /// Simulated unix time, whole seconds.
    pub fn unix_secs(&self) -> u64 {
        self.unix() as u64
    }

    fn schedule_background(&mut self) {
        if self.config.call_rate > 0.0 {
            traffic::schedule_arrival(self);
        }
        if self.config.firehose > 0 {
            self.firehose_last = Instant::now();
            self.after_real(FIREHOSE_TICK, Job::Firehose);
        }
    }

    /// Changes the automatic callers' rate from now on (0 = none): the pending arrival is
    /// dropped and the next one drawn at the new rate. Calls in progress go on.
    fn set_call_rate(&mut self, rate: f64) {
        self.config.call_rate = if rate.is_finite() { rate.max(0.0) } else { 0.0 };
        self.timers.retain(|_, job| !matches!(job, Job::Arrival));
        if self.config.call_rate > 0.0 {
            traffic::schedule_arrival(self);
        }
    }

    /// Sends `msg` to every logged-in client whose event mask and read permission hold
    /// every class of its `Privilege`.
    pub fn emit(&mut self, msg: AmiMessage) {
        let privilege = msg.get("Privilege").unwrap_or("");
        let targets: Vec<u64> = self
            .sessions
            .iter()
            .filter(|(_, s)| {
                s.auth == Auth::LoggedIn && s.mask.delivers(READ_PERMISSION, privilege)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in targets {
            self.send(id, Out::Msg(msg.clone()));
        }
    }

    /// Sends `out` to one client; a client whose queue is full is disconnected.
    pub fn send(&mut self, id: u64, out: Out) {
        let Some(s) = self.sessions.get(&id) else {
            return;
        };
        if s.out.try_send(out).is_err() {
            tracing::warn!(session = id, peer = %s.peer, "AMI client not reading: disconnected");
            s.cancel.cancel();
            self.sessions.remove(&id);
        }
    }

    /// Sends an action's response (or list item) to one client.
    pub fn reply(&mut self, id: u64, msg: AmiMessage) {
        self.send(id, Out::Msg(msg));
    }

    async fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Open {
                id,
                out,
                cancel,
                peer,
            } => self.open_session(id, out, cancel, peer),
            Command::Action { id, msg } => self.run_action(id, msg).await,
            Command::Closed { id } => {
                self.sessions.remove(&id);
            }
            Command::InboundCall {
                queue,
                number,
                name,
                reply,
            } => {
                let uid = traffic::inbound_call(self, &queue, &number, name.as_deref());
                let _ = reply.send(uid);
            }
            Command::Hangup { uniqueid, reply } => {
                let _ = reply.send(traffic::hangup_uniqueid(self, &uniqueid));
            }
            Command::Truth(reply) => {
                let _ = reply.send(truth::snapshot(self));
            }
            Command::DropConnections(reply) => {
                self.close_all();
                let _ = reply.send(());
            }
            Command::Stall { d, reply } => self.stall_for(d, reply).await,
            Command::Restart { downtime, reply } => self.restart(downtime, reply).await,
            Command::Garbage { bytes, reply } => self.send_garbage(bytes, reply),
            Command::SetCallRate { rate, reply } => {
                self.set_call_rate(rate);
                let _ = reply.send(());
            }
            Command::Shutdown(reply) => self.shut_down(reply).await,
        }
    }

    /// A new connection: not logged in yet, every event class on.
    fn open_session(
        &mut self,
        id: u64,
        out: mpsc::Sender<Out>,
        cancel: CancellationToken,
        peer: String,
    ) {
        let entry = SessionEntry {
            out,
            cancel,
            auth: Auth::None,
            mask: Mask::ALL,
            peer,
        };
        self.sessions.insert(id, entry);
    }

    /// Runs a client's action; a restart it asked for (`core restart now`) happens after.
    async fn run_action(&mut self, id: u64, msg: AmiMessage) {
        actions::dispatch(self, id, msg);
        if let Some(downtime) = self.pending_restart.take() {
            let (tx, _rx) = oneshot::channel();
            self.restart(downtime, tx).await;
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
