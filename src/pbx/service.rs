//! The model's public face: [`spawn`] starts the task that owns the model (`task.rs`) and
//! returns a cloneable [`PbxHandle`]. Commands reach the task over a bounded channel; AMI
//! actions are sent from the caller's task with the client's handle, so a slow Asterisk never
//! blocks the model. Subscribing runs the caller's closure on the snapshot *inside* the task, so
//! it is atomic with publishing: no gap, no duplicate.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

use super::actions;
use super::channels::CallChannels;
use super::event::{Event, Filter};
use super::ids::{AgentId, QueueName};
use super::names::{Location, TemplateError};
use super::status_cache::{Fetch, StatusCache};
use super::status_report;
pub use super::status_report::QueueStatusReport;
use super::supervisor::Supervisor;
use super::task::Command;
use super::values::{CallerId, Context, Destination, MemberName, PauseReason};
use super::variables::Variables;
use crate::ami::{AmiError, AmiHandle, AmiMessage, ClientEvent};
use crate::supervise::Pacing;

/// Where the model's events go (the hub). Called from the model task only, in order.
pub trait EventSink: Send + Sync + 'static {
    /// Delivers events to every matching subscriber.
    fn publish(&self, events: &[Event]);

    /// The model's state was lost (its task ended and was restarted): what subscribers were
    /// told may no longer hold, so each must be sent `resync` and a fresh snapshot. Called from
    /// the supervisor, after the `pbxStatus` down event was published.
    fn resync_all(&self) {}
}

/// Settings of the model.
#[derive(Clone, Debug)]
pub struct PbxConfig {
    /// Template from agent id to queue interface, `{agent}` replaced: `PJSIP/{agent}`.
    pub location: String,
    /// Dialplan context of the agents' hints (for `ExtensionState`).
    pub hint_context: Context,
    /// Context where originated calls are placed.
    pub originate_context: Context,
    /// Refresh period of summary events (`None`: off).
    pub summary_refresh: Option<Duration>,
    /// How long a `QueueStatus` answer is reused for `GET /queue/status` (zero: not reused;
    /// concurrent requests share one action in flight either way).
    pub queue_status_reuse: Duration,
    /// Where the link's ups and downs, the AMI events and the rebuilds are counted.
    pub metrics: crate::telemetry::Metrics,
}

impl Default for PbxConfig {
    fn default() -> Self {
        Self {
            location: "PJSIP/{agent}".into(),
            hint_context: Context::parse("default").expect("a valid constant"),
            originate_context: Context::parse("default").expect("a valid constant"),
            summary_refresh: None,
            queue_status_reuse: Duration::from_secs(1),
            metrics: crate::telemetry::Metrics::default(),
        }
    }
}

/// A typed queue command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueAction {
    /// Log an agent on a queue.
    Add {
        /// Queue.
        queue: QueueName,
        /// Agent.
        agent: AgentId,
        /// Member name Asterisk will use.
        member_name: Option<MemberName>,
        /// Start paused.
        paused: Option<bool>,
    },
    /// Log an agent off a queue.
    Remove {
        /// Queue.
        queue: QueueName,
        /// Agent.
        agent: AgentId,
    },
    /// Pause or unpause an agent.
    Pause {
        /// Queue.
        queue: QueueName,
        /// Agent.
        agent: AgentId,
        /// Paused or not.
        paused: bool,
        /// Pause reason.
        reason: Option<PauseReason>,
    },
    /// Reset statistics of one queue, or all.
    Reset {
        /// The queue; all queues when `None`.
        queue: Option<QueueName>,
    },
}

/// Errors of model commands.
#[derive(Debug, thiserror::Error)]
pub enum PbxError {
    /// Asterisk is not connected.
    #[error("not connected to Asterisk")]
    NotConnected,
    /// Asterisk refused; its message.
    #[error("Asterisk refused: {0}")]
    Refused(String),
    /// No such queue.
    #[error("no such queue: {0}")]
    UnknownQueue(String),
    /// An AMI failure.
    #[error(transparent)]
    Ami(#[from] AmiError),
    /// The model task has stopped.
    #[error("the service is shutting down")]
    Closed,
    /// The model task failed and is being restarted.
    #[error("the model is restarting after a failure")]
    Restarting,
    /// The agent has no call to act on.
    #[error("agent {0} has no call")]
    NoCall(String),
    /// The agent has several calls: the client must name a channel.
    #[error("the agent has several calls; name the channel")]
    SeveralCalls(Vec<CallChannels>),
    /// No channel of this name is known.
    #[error("no such channel: {0}")]
    UnknownChannel(String),
}

/// The link as the model sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkState {
    /// Logged in to Asterisk.
    pub connected: bool,
    /// Connected and the model rebuilt.
    pub ready: bool,
}

/// The link flags, shared between the task (writer) and handles (readers).
#[derive(Debug, Default)]
pub(super) struct LinkFlags {
    pub(super) connected: AtomicBool,
    pub(super) ready: AtomicBool,
    /// Rebuilds finished (successful or not).
    pub(super) rebuilds: AtomicU64,
    /// A rebuild is running.
    pub(super) rebuilding: AtomicBool,
    /// The model task failed; its successor has not started yet.
    pub(super) restarting: AtomicBool,
}

/// The model's rebuilds so far (for monitoring, and for tests that wait for one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rebuilds {
    /// Rebuilds finished, successful or not.
    pub finished: u64,
    /// A rebuild is running now (a pending one starts before this is cleared).
    pub running: bool,
}

mod call_control;
pub use call_control::Target;

/// How many commands may wait for the model task.
const COMMAND_QUEUE: usize = 256;

/// A cloneable handle to the model task.
#[derive(Clone)]
pub struct PbxHandle {
    commands: mpsc::Sender<Command>,
    ami: AmiHandle,
    location: Arc<Location>,
    originate_context: Context,
    link: Arc<LinkFlags>,
    status: Arc<StatusCache>,
}

impl PbxHandle {
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, PbxError> {
        let (tx, rx) = oneshot::channel();
        let unanswered = |_| {
            if self.link.restarting.load(Ordering::Acquire) {
                PbxError::Restarting
            } else {
                PbxError::Closed
            }
        };
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| PbxError::Closed)?;
        rx.await.map_err(unanswered)
    }

    /// Runs `f` on the snapshot for `filter` inside the model task, so that whatever `f` registers
    /// (a ticket) sees no gap and no duplicate with the events published after it.
    pub async fn subscribe<R: Send + 'static>(
        &self,
        filter: Filter,
        f: impl FnOnce(Vec<Event>) -> R + Send + 'static,
    ) -> Result<R, PbxError> {
        self.ask(|tx| Command::Subscribe {
            filter,
            run: Box::new(move |snapshot| {
                let _ = tx.send(f(snapshot));
            }),
        })
        .await
    }

    /// Runs a queue command; `Ok` carries Asterisk's message. A queue the model does not know
    /// (once it is built) is refused with [`PbxError::UnknownQueue`] before anything is sent.
    pub async fn queue_action(&self, action: QueueAction) -> Result<String, PbxError> {
        if let Some(queue) = actions::queue_of(&action).cloned() {
            let known = self
                .ask(|tx| Command::KnowsQueue {
                    queue: queue.clone(),
                    tx,
                })
                .await?;
            if !known {
                return Err(PbxError::UnknownQueue(queue.to_string()));
            }
        }
        let msg = actions::queue_action(&action, &self.location);
        let response = self.ami.send(msg).await.map_err(refused)?;
        if let QueueAction::Reset { queue } = action {
            // No event tells of a reset: the model's figures follow it here.
            let _ = self.commands.send(Command::ResetStats { queue }).await;
        }
        Ok(response.message().unwrap_or_default().to_owned())
    }

    /// Places a call from `src`'s extension to `dest`; returns the action id. If the call fails
    /// later, `originateFailed` with this id is published for `src`.
    pub async fn originate(
        &self,
        src: AgentId,
        dest: Destination,
        caller_id: Option<CallerId>,
        variables: Variables,
    ) -> Result<String, PbxError> {
        let action_id = new_action_id();
        let msg = actions::originate(
            &action_id,
            &src,
            &dest,
            caller_id.as_ref(),
            &variables,
            &self.originate_context,
            &self.location,
        );
        let id = action_id.clone();
        self.ask(|tx| Command::ExpectOriginate {
            action_id: id,
            agent: src,
            dest: dest.as_str().to_owned(),
            tx,
        })
        .await?;
        self.send_expected(msg, action_id).await
    }

    /// Sends an Originate whose outcome the model was told to expect under `action_id`;
    /// when Asterisk refuses it, the model forgets the expectation. Returns the action id.
    async fn send_expected(
        &self,
        action: AmiMessage,
        action_id: String,
    ) -> Result<String, PbxError> {
        match self.ami.send(action).await {
            Ok(_) => Ok(action_id),
            Err(e) => {
                let _ = self
                    .commands
                    .send(Command::ForgetOriginate { action_id })
                    .await;
                Err(refused(e))
            }
        }
    }

    /// The status of one queue or all: per queue, its properties and one property map per
    /// member (`location`, `status`, `paused`, ...), as Asterisk's `QueueStatus` reports them.
    /// Concurrent calls share one action, and an answer is reused for
    /// [`PbxConfig::queue_status_reuse`] (see `status_cache`).
    pub async fn queue_status(
        &self,
        queue: Option<QueueName>,
    ) -> Result<Vec<QueueStatusReport>, PbxError> {
        self.status.get(queue).await
    }

    /// The link state right now.
    pub fn link(&self) -> LinkState {
        LinkState {
            connected: self.link.connected.load(Ordering::Acquire),
            ready: self.link.ready.load(Ordering::Acquire),
        }
    }

    /// The rebuilds so far.
    pub fn rebuilds(&self) -> Rebuilds {
        Rebuilds {
            finished: self.link.rebuilds.load(Ordering::Acquire),
            running: self.link.rebuilding.load(Ordering::Acquire),
        }
    }

    /// Stops the model task and logs off from Asterisk.
    pub async fn shutdown(&self) {
        let _ = self.ask(|tx| Command::Shutdown { tx }).await;
    }

    /// Test hook: makes the model task panic, to test its supervisor. Nothing outside the
    /// tests calls it (no route leads here).
    #[doc(hidden)]
    pub async fn crash_model_for_tests(&self) {
        let _ = self.commands.send(Command::Crash).await;
    }

    /// Test hook: makes the AMI client's task panic, to test its supervisor.
    #[doc(hidden)]
    pub async fn crash_ami_for_tests(&self) {
        self.ami.crash_for_tests().await;
    }
}

/// Asks Asterisk for the status of `queue` (every queue when `None`).
async fn fetch_queue_status(
    ami: AmiHandle,
    queue: Option<QueueName>,
) -> Result<Vec<QueueStatusReport>, PbxError> {
    let mut action = AmiMessage::action("QueueStatus");
    if let Some(q) = &queue {
        action.push("Queue", q.as_str());
    }
    let list = ami.send_list(action).await.map_err(refused)?;
    let reports = status_report::from_items(&list.items);
    match queue {
        Some(q) if reports.is_empty() => Err(PbxError::UnknownQueue(q.to_string())),
        _ => Ok(reports),
    }
}

/// Asterisk's refusal becomes [`PbxError::Refused`], a lost link [`PbxError::NotConnected`].
/// A fresh id for an action whose later events the model links back to it (originates).
fn new_action_id() -> String {
    format!("pbxis-{:016x}", rand::random::<u64>())
}

fn refused(e: AmiError) -> PbxError {
    match e {
        AmiError::Refused(m) => PbxError::Refused(m),
        AmiError::NotConnected => PbxError::NotConnected,
        other => PbxError::Ami(other),
    }
}

/// Starts the model task on an AMI client's handle and event stream. A location template that
/// does not parse is replaced by the default `PJSIP/{agent}` (and logged); validate it first with
/// [`try_spawn`] or [`Location::parse`].
pub fn spawn(
    ami: AmiHandle,
    events: mpsc::Receiver<ClientEvent>,
    sink: Arc<dyn EventSink>,
    config: PbxConfig,
) -> PbxHandle {
    match Location::parse(&config.location) {
        Ok(location) => start(ami, events, sink, config, location),
        Err(e) => {
            tracing::error!(error = %e, "bad location template; using PJSIP/{{agent}}");
            let location = Location::parse("PJSIP/{agent}").expect("a valid constant");
            start(ami, events, sink, config, location)
        }
    }
}

/// [`spawn`], refusing a bad location template.
pub fn try_spawn(
    ami: AmiHandle,
    events: mpsc::Receiver<ClientEvent>,
    sink: Arc<dyn EventSink>,
    config: PbxConfig,
) -> Result<PbxHandle, TemplateError> {
    let location = Location::parse(&config.location)?;
    Ok(start(ami, events, sink, config, location))
}

fn status_fetch(ami: AmiHandle) -> Fetch {
    Arc::new(move |queue| Box::pin(fetch_queue_status(ami.clone(), queue)))
}

fn start(
    ami: AmiHandle,
    events: mpsc::Receiver<ClientEvent>,
    sink: Arc<dyn EventSink>,
    config: PbxConfig,
    location: Location,
) -> PbxHandle {
    let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
    let link = Arc::new(LinkFlags::default());
    let handle = PbxHandle {
        commands: tx,
        ami: ami.clone(),
        location: Arc::new(location.clone()),
        originate_context: config.originate_context.clone(),
        link: link.clone(),
        status: StatusCache::new(config.queue_status_reuse, status_fetch(ami.clone())),
    };
    let supervisor = Supervisor {
        ami,
        sink,
        config,
        location,
        link,
        pacing: Pacing::default(),
    };
    tokio::spawn(supervisor.run(events, rx));
    handle
}
