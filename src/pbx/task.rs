//! The task that owns the model. It consumes the AMI client's events in wire order, rebuilds the
//! model from list actions after login, `FullyBooted`, an app_queue `Reload` and an event
//! overflow, serves the handles' commands, and publishes to the sink, in order, from here only.
//!
//! While a rebuild runs, live events are buffered (`rebuild_buffer`: bounded in count and
//! bytes; beyond either the buffer is dropped, later events are dropped until the rebuild ends,
//! and another rebuild follows) and applied to the rebuilt model afterwards. A rebuild trigger (`FullyBooted`, a
//! queue `Reload`, an overflow, a reconnect) that arrives while a rebuild runs marks the model
//! dirty: exactly one more rebuild runs right after the current one, however many triggers came.
//! Pending originates are remembered for [`ORIGINATE_TTL`], at most [`MAX_ORIGINATES`] (the
//! oldest is forgotten).
//!
//! Fairness: every turn of the loop serves, in this order, the end of a running rebuild, then
//! at most [`EVENT_BATCH`] AMI events, then at most [`COMMAND_BATCH`] commands (subscribe, REST),
//! then the timers. So neither a flood of AMI events nor a flood of commands can starve the
//! others, and a rebuild's result is taken as soon as it is there (its buffer stops growing).

use std::collections::{BTreeSet, VecDeque};
use std::ops::ControlFlow;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, Interval};

use super::channels::CallChannels;
use super::event::{Event, Filter, SpyMode};
use super::ids::{AgentId, QueueName};
use super::names::Location;
use super::park_wait::{ParkWaiters, ParkedAt};
use super::rebuild_buffer::{Pushed, RebuildBuffer};
use super::service::{EventSink, LinkFlags, PbxConfig};
use super::snapshot::snapshot;
use super::state::State;
use super::summary::summary_events;
use super::sync::{collect, is_resync_trigger, rebuild, sync_events, Lists};
use crate::ami::{AmiError, AmiHandle, AmiMessage, ClientEvent};

/// Most pending originates remembered.
pub const MAX_ORIGINATES: usize = 10_000;
/// How long an originate's failure is waited for.
pub const ORIGINATE_TTL: Duration = Duration::from_secs(300);
/// Most AMI events handled in one turn of the loop.
pub const EVENT_BATCH: usize = 256;
/// Most commands handled in one turn of the loop.
pub const COMMAND_BATCH: usize = 32;
/// Delay before a failed rebuild is tried again.
const RETRY: Duration = Duration::from_secs(1);

/// What a handle asks of the task.
pub(super) enum Command {
    Subscribe {
        filter: Filter,
        run: Box<dyn FnOnce(Vec<Event>) + Send>,
    },
    KnowsQueue {
        queue: QueueName,
        tx: oneshot::Sender<bool>,
    },
    ExpectOriginate {
        action_id: String,
        agent: AgentId,
        dest: String,
        tx: oneshot::Sender<()>,
    },
    ForgetOriginate {
        action_id: String,
    },
    /// An agent's calls as channels.
    Calls {
        agent: AgentId,
        tx: oneshot::Sender<Vec<CallChannels>>,
    },
    /// The queues the agent is a member of.
    MemberQueues {
        agent: AgentId,
        tx: oneshot::Sender<Vec<QueueName>>,
    },
    /// Waits for the `ParkedCall` of a channel.
    AwaitPark {
        channel: String,
        tx: oneshot::Sender<ParkedAt>,
        registered: oneshot::Sender<()>,
    },
    /// Whether a channel of this name is known.
    KnowsChannel {
        name: String,
        tx: oneshot::Sender<bool>,
    },
    /// A spy of ours: an originate of `supervisor` whose channel is `action_id`.
    ExpectSpy {
        action_id: String,
        supervisor: AgentId,
        mode: SpyMode,
        tx: oneshot::Sender<()>,
    },
    /// Asterisk accepted a `QueueReset`: the figures go back to zero in the model too.
    ResetStats {
        queue: Option<QueueName>,
    },
    Shutdown {
        tx: oneshot::Sender<()>,
    },
    /// Test hook: the task panics (to test its supervisor).
    Crash,
}

/// Why [`Task::run`] returned.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Exit {
    /// A shutdown command was served.
    Shutdown,
    /// The AMI client's event stream ended: the client has shut down.
    EventsEnded,
}

/// What woke the loop.
enum Turn {
    Synced(Result<Lists, AmiError>),
    Events(usize),
    Command(Option<Command>),
    Retry,
    Summary,
    Expiry,
}

/// The model task's state.
pub(super) struct Task {
    ami: AmiHandle,
    sink: Arc<dyn EventSink>,
    config: PbxConfig,
    state: State,
    link: Arc<LinkFlags>,
    /// What subscribers were last told in `pbxStatus`.
    told_connected: bool,
    sync: Option<JoinHandle<Result<Lists, AmiError>>>,
    sync_again: bool,
    /// When the running (or last) rebuild started.
    sync_started: Instant,
    retry_at: Option<Instant>,
    buffer: RebuildBuffer,
    originates: VecDeque<(Instant, String)>,
    park_waiters: ParkWaiters,
}

impl Task {
    pub(super) fn new(
        ami: AmiHandle,
        sink: Arc<dyn EventSink>,
        config: PbxConfig,
        location: Location,
        link: Arc<LinkFlags>,
    ) -> Self {
        let state = State::new(location, config.hint_context.as_str());
        Self {
            ami,
            sink,
            config,
            state,
            link,
            told_connected: false,
            sync: None,
            sync_again: false,
            sync_started: Instant::now(),
            retry_at: None,
            buffer: RebuildBuffer::default(),
            originates: VecDeque::new(),
            park_waiters: ParkWaiters::default(),
        }
    }

    fn publish(&self, events: &[Event]) {
        if !events.is_empty() {
            self.sink.publish(events);
        }
    }

    /// After a restart: if the link is up, the model is rebuilt at once (the `Connected` that
    /// would trigger it went to the task that died).
    pub(super) fn resume(&mut self) {
        let connected = self.ami.is_connected();
        self.link.connected.store(connected, Ordering::Release);
        if connected {
            self.start_sync();
        }
    }

    /// The loop: until the client's event stream ends or a shutdown command. The receivers are
    /// borrowed: they outlive the task, so a restarted one serves the same handles.
    pub(super) async fn run(
        mut self,
        events: &mut mpsc::Receiver<ClientEvent>,
        commands: &mut mpsc::Receiver<Command>,
    ) -> Exit {
        let mut summary_tick: Option<Interval> = self.config.summary_refresh.map(|p| {
            let mut i = tokio::time::interval(p.max(Duration::from_millis(100)));
            i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            i
        });
        let mut expiry = tokio::time::interval(Duration::from_secs(10));
        let mut commands_open = true;
        let mut batch = Vec::with_capacity(EVENT_BATCH);
        loop {
            let turn = tokio::select! {
                biased;
                res = wait_sync(&mut self.sync), if self.sync.is_some() => Turn::Synced(res),
                n = events.recv_many(&mut batch, EVENT_BATCH) => Turn::Events(n),
                cmd = commands.recv(), if commands_open => Turn::Command(cmd),
                () = sleep_until(self.retry_at), if self.retry_at.is_some() => Turn::Retry,
                _ = tick(&mut summary_tick), if summary_tick.is_some() => Turn::Summary,
                _ = expiry.tick() => Turn::Expiry,
            };
            let mut first = None;
            match turn {
                Turn::Synced(res) => {
                    self.sync = None;
                    self.finish_sync(res);
                }
                Turn::Events(0) => return Exit::EventsEnded,
                Turn::Events(_) => {
                    for ev in batch.drain(..) {
                        self.on_client_event(ev);
                    }
                }
                Turn::Command(Some(cmd)) => first = Some(cmd),
                Turn::Command(None) => commands_open = false,
                Turn::Retry => {
                    self.retry_at = None;
                    self.start_sync();
                }
                Turn::Summary => self.publish_summary(),
                Turn::Expiry => self.expire_originates(),
            }
            if commands_open && self.serve_commands(first, commands).await.is_break() {
                return Exit::Shutdown;
            }
        }
    }

    /// `first` and then up to [`COMMAND_BATCH`] commands that are waiting; `Break` after a
    /// shutdown.
    async fn serve_commands(
        &mut self,
        mut next: Option<Command>,
        commands: &mut mpsc::Receiver<Command>,
    ) -> ControlFlow<()> {
        for _ in 0..COMMAND_BATCH {
            let cmd = match next.take() {
                Some(cmd) => cmd,
                None => match commands.try_recv() {
                    Ok(cmd) => cmd,
                    Err(_) => break,
                },
            };
            if let Command::Shutdown { tx } = cmd {
                self.ami.shutdown().await;
                let _ = tx.send(());
                return ControlFlow::Break(());
            }
            self.on_command(cmd);
        }
        ControlFlow::Continue(())
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Subscribe { filter, run } => {
                run(snapshot(&self.state, &filter, self.told_connected));
            }
            Command::KnowsQueue { queue, tx } => {
                let ready = self.link.ready.load(Ordering::Acquire);
                let known = !ready || self.state.queues().contains_key(&queue);
                let _ = tx.send(known);
            }
            Command::ExpectOriginate {
                action_id,
                agent,
                dest,
                tx,
            } => {
                self.remember_originate(&action_id, agent, Some(&dest));
                let _ = tx.send(());
            }
            Command::ForgetOriginate { action_id } => self.state.forget_originate(&action_id),
            Command::Calls { agent, tx } => {
                let _ = tx.send(self.state.calls_of(&agent));
            }
            Command::MemberQueues { agent, tx } => {
                let queues = self
                    .state
                    .agents()
                    .get(&agent)
                    .map(|a| a.members.keys().cloned().collect())
                    .unwrap_or_default();
                let _ = tx.send(queues);
            }
            Command::AwaitPark {
                channel,
                tx,
                registered,
            } => {
                self.park_waiters.add(channel, tx);
                let _ = registered.send(());
            }
            Command::KnowsChannel { name, tx } => {
                let _ = tx.send(self.state.knows_channel(&name));
            }
            Command::ExpectSpy {
                action_id,
                supervisor,
                mode,
                tx,
            } => {
                self.remember_originate(&action_id, supervisor.clone(), None);
                self.state.expect_spy(&action_id, supervisor, mode);
                let _ = tx.send(());
            }
            Command::ResetStats { queue } => self.state.reset_stats(queue.as_ref()),
            Command::Shutdown { .. } => {}
            Command::Crash => panic!("the model task was crashed on purpose (test hook)"),
        }
    }

    /// Remembers an originate of ours (its action id is its `ChannelId`, as
    /// `actions::originate` and spies send it), the oldest forgotten beyond [`MAX_ORIGINATES`].
    fn remember_originate(&mut self, action_id: &str, agent: AgentId, dest: Option<&str>) {
        if self.originates.len() >= MAX_ORIGINATES {
            if let Some((_, old)) = self.originates.pop_front() {
                self.state.forget_originate(&old);
            }
        }
        self.state
            .expect_originate_on(action_id, agent, dest, Some(action_id));
        self.originates
            .push_back((Instant::now(), action_id.to_owned()));
    }

    fn expire_originates(&mut self) {
        let now = Instant::now();
        while let Some((at, id)) = self.originates.front() {
            if now.duration_since(*at) < ORIGINATE_TTL {
                break;
            }
            self.state.forget_originate(id);
            self.originates.pop_front();
        }
    }

    fn on_client_event(&mut self, ev: ClientEvent) {
        match &ev {
            ClientEvent::Disconnected { .. } => self.config.metrics.ami_disconnected("lost"),
            ClientEvent::AuthFailed { .. } => self.config.metrics.ami_disconnected("refused"),
            _ => {}
        }
        match ev {
            ClientEvent::Connected { .. } => {
                self.config.metrics.ami_connected();
                self.link.connected.store(true, Ordering::Release);
                self.start_sync();
            }
            ClientEvent::Disconnected { reason } | ClientEvent::AuthFailed { message: reason } => {
                tracing::info!(%reason, "AMI link down");
                if let Some(s) = self.sync.take() {
                    s.abort();
                }
                self.sync_again = false;
                self.retry_at = None;
                self.link.rebuilding.store(false, Ordering::Release);
                let mut out = self.apply_buffer();
                self.link.connected.store(false, Ordering::Release);
                self.link.ready.store(false, Ordering::Release);
                self.tell_connected(false, &mut out);
                self.publish(&out);
            }
            ClientEvent::Overflow { dropped } => {
                tracing::warn!(dropped, "AMI events were dropped; rebuilding the model");
                self.start_sync();
            }
            ClientEvent::Event(msg) => {
                self.config
                    .metrics
                    .ami_event(msg.event_name().unwrap_or("none"));
                self.on_event(msg)
            }
        }
    }

    fn on_event(&mut self, msg: AmiMessage) {
        self.park_waiters.on_event(&msg);
        let resync = is_resync_trigger(&msg).is_some();
        if self.sync.is_some() {
            if resync {
                // Coalesced: one more rebuild after this one, however many triggers come.
                self.sync_again = true;
            }
            if self.buffer.push(msg) == Pushed::Overflowed {
                tracing::warn!("too many events during a rebuild; rebuilding again");
                self.sync_again = true;
            }
            return;
        }
        let out = self.state.apply(&msg);
        self.publish(&out);
        if resync && self.link.connected.load(Ordering::Acquire) {
            self.start_sync();
        }
    }

    fn tell_connected(&mut self, connected: bool, out: &mut Vec<Event>) {
        if self.told_connected != connected {
            self.told_connected = connected;
            out.push(Event::PbxStatus { connected });
        }
    }

    fn apply_buffer(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        for msg in self.buffer.take() {
            out.extend(self.state.apply(&msg));
        }
        out
    }

    fn start_sync(&mut self) {
        if self.sync.is_some() {
            self.sync_again = true;
            return;
        }
        self.retry_at = None;
        let agents: BTreeSet<AgentId> = self.state.agents().keys().cloned().collect();
        let ami = self.ami.clone();
        let ctx = self.config.hint_context.as_str().to_owned();
        let location = self.state.location().clone();
        self.sync = Some(tokio::spawn(collect(ami, ctx, agents, location)));
        self.sync_started = Instant::now();
        self.link.rebuilding.store(true, Ordering::Release);
    }

    fn finish_sync(&mut self, res: Result<Lists, AmiError>) {
        let result = if res.is_ok() { "ok" } else { "failed" };
        self.config
            .metrics
            .model_rebuild(result, self.sync_started.elapsed());
        let out = match res {
            Ok(lists) => {
                let new = rebuild(&self.state, &lists);
                let mut out = sync_events(&self.state, &new);
                self.state = new;
                out.extend(self.apply_buffer());
                self.link.ready.store(true, Ordering::Release);
                self.tell_connected(true, &mut out);
                tracing::info!(agents = self.state.agents().len(), "model rebuilt");
                out
            }
            Err(e) => {
                tracing::warn!(error = %e, "rebuilding the model failed");
                if self.link.connected.load(Ordering::Acquire) {
                    self.retry_at = Some(Instant::now() + RETRY);
                }
                self.apply_buffer()
            }
        };
        self.publish(&out);
        // `running` is cleared before `finished` counts, and never between two rebuilds in a row:
        // whoever sees the count also sees whether another one follows.
        let again =
            std::mem::take(&mut self.sync_again) && self.link.connected.load(Ordering::Acquire);
        if !again {
            self.link.rebuilding.store(false, Ordering::Release);
        }
        self.link.rebuilds.fetch_add(1, Ordering::AcqRel);
        if again {
            self.start_sync();
        }
    }

    /// Publishes the wallboard summaries, from the model (once it is built).
    fn publish_summary(&mut self) {
        if !self.link.ready.load(Ordering::Acquire) {
            return;
        }
        let out = summary_events(&self.state, Instant::now());
        self.publish(&out);
    }
}

impl Drop for Task {
    /// However the task ends (a return or a panic), its rebuild stops with it.
    fn drop(&mut self) {
        if let Some(s) = self.sync.take() {
            s.abort();
        }
        self.link.rebuilding.store(false, Ordering::Release);
    }
}

async fn wait_sync(
    sync: &mut Option<JoinHandle<Result<Lists, AmiError>>>,
) -> Result<Lists, AmiError> {
    match sync {
        Some(h) => h.await.unwrap_or(Err(AmiError::Closed)),
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn tick(i: &mut Option<Interval>) {
    match i {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}
