//! The ends of sessions and of the actor: logging off, telling callers and consumer that the
//! link was lost (once per distinct reason), and the final shutdown.

use futures_util::StreamExt;
use tokio::sync::oneshot;

use super::actor::{write, Actor, End, Session, LOGOFF_WAIT};
use super::handle::Command;
use super::pending::Routed;
use super::{AmiError, ClientEvent};
use crate::ami::codec::AmiFrame;
use crate::ami::message::{AmiMessage, MessageKind};

impl Actor<'_> {
    /// Sends `Logoff` and waits (briefly) for the `Goodbye` or the close.
    pub(super) async fn logoff(
        &mut self,
        s: &mut Session,
        done: Option<oneshot::Sender<()>>,
    ) -> End {
        let id = self.fresh_id();
        let logoff = AmiMessage::action("Logoff").with("ActionID", &id);
        let wait = self.config.action_timeout.min(LOGOFF_WAIT);
        let bye = async {
            write(&mut s.conn, &logoff, wait).await?;
            while let Some(Ok(frame)) = s.conn.next().await {
                if let AmiFrame::Message(m) = frame {
                    if m.kind() == MessageKind::Response && m.action_id() == Some(id.as_str()) {
                        return Ok(());
                    }
                    if let Routed::Event(e) = self.pending.offer(m) {
                        self.outbox.event(e);
                    }
                }
            }
            Ok::<(), String>(())
        };
        if let Ok(Err(why)) = tokio::time::timeout(wait, bye).await {
            tracing::debug!(%why, "Logoff could not be sent");
        }
        End::Shutdown(done)
    }

    /// The session was lost: callers and consumer learn it, in order.
    pub(super) fn lost(&mut self, reason: String) {
        tracing::warn!(%reason, "lost the connection to Asterisk");
        self.shared.set_connected(false);
        self.pending.fail_all(|| AmiError::Disconnected);
        self.outbox.link(ClientEvent::Disconnected {
            reason: reason.clone(),
        });
        self.last_reason = Some(reason);
    }

    /// A failed attempt to open a session; reported once per distinct reason.
    pub(super) fn report(&mut self, reason: String) {
        tracing::warn!(%reason, "cannot open a session with Asterisk");
        if self.last_reason.as_deref() != Some(reason.as_str()) {
            self.outbox.link(ClientEvent::Disconnected {
                reason: reason.clone(),
            });
            self.last_reason = Some(reason);
        }
    }

    /// Asterisk refused the login; reported (as [`ClientEvent::AuthFailed`]) once per distinct
    /// refusal.
    pub(super) fn report_auth(&mut self, message: String) {
        tracing::warn!(%message, "Asterisk refused the login");
        let reason = AmiError::AuthFailed(message.clone()).to_string();
        if self.last_reason.as_deref() != Some(reason.as_str()) {
            self.outbox.link(ClientEvent::AuthFailed { message });
            self.last_reason = Some(reason);
        }
    }

    /// Ends the actor: everyone waiting learns it, the event stream ends.
    pub(super) fn finish(mut self, done: Option<oneshot::Sender<()>>) {
        self.shared.set_closed();
        self.pending.fail_all(|| AmiError::Closed);
        self.commands.close();
        let mut also_done = Vec::new();
        while let Ok(cmd) = self.commands.try_recv() {
            match cmd {
                Command::Shutdown { done } => also_done.push(done),
                other => reject(other, AmiError::Closed),
            }
        }
        self.outbox.link(ClientEvent::Disconnected {
            reason: "the client shut down".into(),
        });
        drop(self.outbox);
        for done in done.into_iter().chain(also_done) {
            let _ = done.send(());
        }
        tracing::info!("AMI client shut down");
    }
}

/// Answers a command that cannot be carried out.
pub(super) fn reject(cmd: Command, error: AmiError) {
    match cmd {
        Command::Send { reply, .. } => {
            let _ = reply.send(Err(error));
        }
        Command::SendList { reply, .. } => {
            let _ = reply.send(Err(error));
        }
        Command::Shutdown { done } => {
            let _ = done.send(());
        }
        Command::Crash => {}
    }
}
