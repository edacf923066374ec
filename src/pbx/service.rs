//! The task that owns the model and its cloneable handle. (Interface only; the implementation
//! lands with the model issue.)

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

use super::event::{Event, Filter};
use super::ids::{AgentId, QueueName};
use super::values::{CallerId, Context, Destination, MemberName, PauseReason};
use crate::ami::{AmiError, AmiHandle, ClientEvent};

/// Where the model's events go (the hub). Called from the model task only, in order.
pub trait EventSink: Send + Sync + 'static {
    /// Delivers events to every matching subscriber.
    fn publish(&self, events: &[Event]);
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
}

impl Default for PbxConfig {
    fn default() -> Self {
        Self {
            location: "PJSIP/{agent}".into(),
            hint_context: Context::parse("default").expect("a valid constant"),
            originate_context: Context::parse("default").expect("a valid constant"),
            summary_refresh: None,
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

/// One queue in the `GET /queue/status` report: the queue's properties and its members', as
/// Asterisk reports them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueStatusReport {
    /// The queue name.
    pub queue: String,
    /// QueueParams properties (camelCase keys).
    pub properties: BTreeMap<String, String>,
    /// One map per member, with `location` and the other QueueMember properties.
    pub members: Vec<BTreeMap<String, String>>,
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
}

/// The link as the model sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkState {
    /// Logged in to Asterisk.
    pub connected: bool,
    /// Connected and the model rebuilt.
    pub ready: bool,
}

/// A cloneable handle to the model task.
#[derive(Clone)]
pub struct PbxHandle {
    _private: (),
}

impl PbxHandle {
    /// Runs `f` on the snapshot for `filter` inside the model task, so that whatever `f` registers
    /// (a ticket) sees no gap and no duplicate with the events published after it.
    pub async fn subscribe<R: Send + 'static>(
        &self,
        filter: Filter,
        f: impl FnOnce(Vec<Event>) -> R + Send + 'static,
    ) -> Result<R, PbxError> {
        let _ = (filter, f);
        Err(PbxError::Closed)
    }

    /// Runs a queue command; `Ok` carries Asterisk's message.
    pub async fn queue_action(&self, action: QueueAction) -> Result<String, PbxError> {
        let _ = action;
        Err(PbxError::Closed)
    }

    /// Places a call from `src`'s extension to `dest`; returns the action id.
    pub async fn originate(
        &self,
        src: AgentId,
        dest: Destination,
        caller_id: Option<CallerId>,
    ) -> Result<String, PbxError> {
        let _ = (src, dest, caller_id);
        Err(PbxError::Closed)
    }

    /// The status of one queue or all.
    pub async fn queue_status(
        &self,
        queue: Option<QueueName>,
    ) -> Result<Vec<QueueStatusReport>, PbxError> {
        let _ = queue;
        Err(PbxError::Closed)
    }

    /// The link state right now.
    pub fn link(&self) -> LinkState {
        LinkState::default()
    }

    /// Stops the model task and logs off from Asterisk.
    pub async fn shutdown(&self) {}
}

/// Starts the model task on an AMI client's handle and event stream.
pub fn spawn(
    ami: AmiHandle,
    events: mpsc::Receiver<ClientEvent>,
    sink: Arc<dyn EventSink>,
    config: PbxConfig,
) -> PbxHandle {
    let _ = (ami, events, sink, config);
    PbxHandle { _private: () }
}
