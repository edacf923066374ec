//! [`AmiHandle`]: the cheap, cloneable front of the connection actor, and the commands it sends
//! to it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

use super::{AmiError, AmiList};
use crate::ami::codec::{self, Side};
use crate::ami::message::AmiMessage;
use crate::telemetry::Metrics;

/// How many commands may queue for the actor before senders wait.
const COMMAND_QUEUE: usize = 256;

/// What the handle asks of the actor.
pub(super) enum Command {
    /// Send an action, answer with its response.
    Send {
        action: AmiMessage,
        reply: oneshot::Sender<Result<AmiMessage, AmiError>>,
    },
    /// Send a list action, answer with its collected items.
    SendList {
        action: AmiMessage,
        reply: oneshot::Sender<Result<AmiList, AmiError>>,
    },
    /// Log off, close, end the event stream; answer when done.
    Shutdown { done: oneshot::Sender<()> },
    /// Test hook: the actor panics (to test its supervisor).
    Crash,
}

/// State the actor publishes for the handles.
#[derive(Debug, Default)]
pub(super) struct Shared {
    connected: AtomicBool,
    closed: AtomicBool,
}

impl Shared {
    pub(super) fn set_connected(&self, on: bool) {
        self.connected.store(on, Ordering::SeqCst);
    }

    pub(super) fn set_closed(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.connected.store(false, Ordering::SeqCst);
    }
}

/// A cheap, cloneable handle to the connection actor.
#[derive(Clone, Debug)]
pub struct AmiHandle {
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    action_timeout: Duration,
    metrics: Metrics,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Send { action, .. } => f.debug_tuple("Send").field(action).finish(),
            Command::SendList { action, .. } => f.debug_tuple("SendList").field(action).finish(),
            Command::Shutdown { .. } => f.write_str("Shutdown"),
            Command::Crash => f.write_str("Crash"),
        }
    }
}

impl AmiHandle {
    pub(super) fn new(
        action_timeout: Duration,
        metrics: Metrics,
    ) -> (Self, mpsc::Receiver<Command>) {
        let (commands, rx) = mpsc::channel(COMMAND_QUEUE);
        let handle = Self {
            commands,
            shared: Arc::new(Shared::default()),
            action_timeout,
            metrics,
        };
        (handle, rx)
    }

    pub(super) fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// Sends an action and waits for its response. An `ActionID` is assigned unless the action
    /// carries one. A `Response: Error` comes back as [`AmiError::Refused`]. The action is
    /// checked by the codec first (CR, LF or NUL anywhere: [`AmiError::Codec`]); while the link
    /// is down it fails at once with [`AmiError::NotConnected`].
    pub async fn send(&self, action: AmiMessage) -> Result<AmiMessage, AmiError> {
        let (name, started) = (action_label(&action), tokio::time::Instant::now());
        let result = async {
            self.precheck(&action)?;
            let (reply, answer) = oneshot::channel();
            self.request(Command::Send { action, reply }, answer).await
        }
        .await;
        self.metrics
            .ami_action(&name, result_label(&result), started.elapsed());
        result
    }

    /// Sends a list action and collects its items up to the `*Complete` event that carries its
    /// `ActionID`. Errors as for [`AmiHandle::send`].
    pub async fn send_list(&self, action: AmiMessage) -> Result<AmiList, AmiError> {
        let (name, started) = (action_label(&action), tokio::time::Instant::now());
        let result = async {
            self.precheck(&action)?;
            let (reply, answer) = oneshot::channel();
            self.request(Command::SendList { action, reply }, answer)
                .await
        }
        .await;
        self.metrics
            .ami_action(&name, result_label(&result), started.elapsed());
        result
    }

    /// True while logged in.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::SeqCst)
    }

    /// Logs off and closes the connection; the event stream ends. Waits until that is done
    /// (bounded by the action timeout). Calling it again does nothing.
    pub async fn shutdown(&self) {
        let (done, finished) = oneshot::channel();
        if self.commands.send(Command::Shutdown { done }).await.is_ok() {
            let _ = finished.await;
        }
    }

    /// Test hook: makes the actor's task panic, to test its supervisor: the link drops and
    /// comes back, handles keep working. Nothing outside the tests calls it.
    #[doc(hidden)]
    pub async fn crash_for_tests(&self) {
        let _ = self.commands.send(Command::Crash).await;
    }

    fn precheck(&self, action: &AmiMessage) -> Result<(), AmiError> {
        if self.shared.closed.load(Ordering::SeqCst) {
            return Err(AmiError::Closed);
        }
        if action.action_name().is_none() {
            return Err(AmiError::NotSent(
                "the message does not start with an `Action` field".into(),
            ));
        }
        codec::check(action, Side::Client)?;
        if !self.is_connected() {
            return Err(AmiError::NotConnected);
        }
        Ok(())
    }

    async fn request<T>(
        &self,
        command: Command,
        answer: oneshot::Receiver<Result<T, AmiError>>,
    ) -> Result<T, AmiError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| AmiError::Closed)?;
        // The actor answers every command (its own deadline gives `Timeout`); this wait only
        // guards against an actor that stopped answering.
        let backstop = self.action_timeout.saturating_mul(2) + Duration::from_secs(1);
        match tokio::time::timeout(backstop, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(AmiError::Closed),
            Err(_) => Err(AmiError::Timeout),
        }
    }
}

/// An action's name as a metric label (our own names; clipped all the same).
fn action_label(action: &AmiMessage) -> String {
    crate::clip::clip(action.action_name().unwrap_or("none"), 40).to_owned()
}

/// An action's result as a metric label.
fn result_label<T>(result: &Result<T, AmiError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(AmiError::Refused(_)) => "refused",
        Err(AmiError::Timeout) => "timeout",
        Err(AmiError::NotConnected | AmiError::Disconnected) => "not_connected",
        Err(_) => "error",
    }
}
