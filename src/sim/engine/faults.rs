//! Faults and load injected into the engine: closing every connection, the restart
//! (`Shutdown`, close, refuse connections, fresh state), and the firehose of events.

use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::{Engine, Job};
use crate::sim::server::ServerCtl;
use crate::sim::session::Out;
use crate::sim::state::{Member, State};

/// How often the firehose emits its batch.
pub(super) const FIREHOSE_TICK: Duration = Duration::from_millis(10);

impl Engine {
    /// Closes every connection at once.
    pub fn close_all(&mut self) {
        for (_, s) in std::mem::take(&mut self.sessions) {
            s.cancel.cancel();
        }
    }

    /// Stalls every session (no reading, no writing) and the engine for `d`.
    pub(super) async fn stall_for(&mut self, d: Duration, reply: oneshot::Sender<()>) {
        let _ = self.stall.send(Some(Instant::now() + d));
        let _ = reply.send(());
        tokio::time::sleep(d).await;
    }

    /// Writes `bytes` as they are to every connection.
    pub(super) fn send_garbage(&mut self, bytes: Vec<u8>, reply: oneshot::Sender<()>) {
        let ids: Vec<u64> = self.sessions.keys().copied().collect();
        for id in ids {
            self.send(id, Out::Raw(bytes.clone()));
        }
        let _ = reply.send(());
    }

    /// Stops the listener for good; the engine ends.
    pub(super) async fn shut_down(&mut self, reply: oneshot::Sender<()>) {
        let (tx, rx) = oneshot::channel();
        let _ = self.server.send(ServerCtl::Stop(tx)).await;
        let _ = rx.await;
        self.stopped = true;
        let _ = reply.send(());
    }

    pub(super) async fn restart(&mut self, downtime: Duration, reply: oneshot::Sender<()>) {
        tracing::info!(?downtime, "restart: Shutdown, close, refuse connections");
        let shutdown = crate::sim::events::event("Shutdown", "system,all")
            .with("Shutdown", "Cleanly")
            .with("Restart", "True");
        self.emit(shutdown);
        let ids: Vec<u64> = self.sessions.keys().copied().collect();
        for id in ids {
            self.send(id, Out::Close);
        }
        self.sessions.clear();
        let (tx, rx) = oneshot::channel();
        let _ = self.server.send(ServerCtl::Pause(downtime, tx)).await;
        let _ = rx.await;
        self.timers.clear();
        self.sync_originates.clear();
        self.state = State::new(&self.config, self.unix_secs());
        self.schedule_background();
        let _ = reply.send(());
    }

    /// The restart fault, from the `Command: core restart now` action: runs once the current
    /// action's response is queued.
    pub fn request_restart(&mut self, downtime: Duration) {
        self.pending_restart = Some(downtime);
    }

    /// Firehose step: emits this tick's share of the configured events per second.
    pub fn firehose_tick(&mut self) {
        // The rate follows the real time elapsed, however late the timer fires.
        let now = tokio::time::Instant::now();
        let elapsed = now
            .duration_since(self.firehose_last)
            .as_secs_f64()
            .min(1.0);
        self.firehose_last = now;
        self.firehose_carry += f64::from(self.config.firehose) * elapsed;
        let n = self.firehose_carry.floor() as usize;
        self.firehose_carry -= n as f64;
        let members: Vec<(String, Member)> = self
            .state
            .queues
            .iter()
            .flat_map(|q| q.members.iter().map(|m| (q.name.clone(), m.clone())))
            .collect();
        for _ in 0..n {
            self.firehose_next = self.firehose_next.wrapping_add(1);
            let Some((queue, m)) = members.get(self.firehose_next % members.len().max(1)) else {
                break;
            };
            let dev = self.state.device(&m.state_interface).to_owned();
            let msg = crate::sim::events::member_event("QueueMemberStatus", queue, m, &dev);
            self.emit(msg);
        }
        self.after_real(FIREHOSE_TICK, Job::Firehose);
    }
}
