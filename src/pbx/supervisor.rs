//! The model task's supervisor. It owns the receivers of the AMI events and of the handles'
//! commands and lends them to the model task (`task.rs`), so when the task panics they survive
//! and every [`super::service::PbxHandle`] keeps working.
//!
//! When the task panics: `/ready` turns 503 at once (the link flags say not ready),
//! subscribers get `pbxStatus` down, the panic is logged once, and after a paced wait
//! ([`crate::supervise::Pacing`]) a task with a fresh model starts. Before it runs, the AMI
//! events that waited meanwhile are dropped (they predate the rebuild that follows), every
//! subscriber is told to resync ([`EventSink::resync_all`]), and, if the link is up, the
//! rebuild starts at once. Commands that arrive during the wait are refused
//! ([`super::service::PbxError::Restarting`]), but a shutdown, which is served.
//!
//! A shutdown command, or the end of the AMI client's event stream (the client shut down), ends
//! the supervisor: neither is a failure. The supervisor's own calls into the sink are guarded
//! too: a sink that panics is logged, and does not end the supervisor.

use std::ops::ControlFlow;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::event::Event;
use super::names::Location;
use super::service::{EventSink, LinkFlags, PbxConfig};
use super::task::{Command, Exit, Task};
use crate::ami::{AmiHandle, ClientEvent};
use crate::supervise::{call_caught, run_caught, Pacing};

/// What a model task is made of, kept to make the next one.
pub(super) struct Supervisor {
    pub(super) ami: AmiHandle,
    pub(super) sink: Arc<dyn EventSink>,
    pub(super) config: PbxConfig,
    pub(super) location: Location,
    pub(super) link: Arc<LinkFlags>,
    pub(super) pacing: Pacing,
}

impl Supervisor {
    /// Runs model tasks, one after the other, until a shutdown or the end of the AMI events.
    pub(super) async fn run(
        mut self,
        mut events: mpsc::Receiver<ClientEvent>,
        mut commands: mpsc::Receiver<Command>,
    ) {
        let mut restarted = false;
        loop {
            let mut task = Task::new(
                self.ami.clone(),
                Arc::clone(&self.sink),
                self.config.clone(),
                self.location.clone(),
                Arc::clone(&self.link),
            );
            if restarted {
                let stale = drain(&mut events);
                if let Err(panic) = call_caught(|| self.sink.resync_all()) {
                    tracing::error!(%panic, "telling subscribers to resync failed");
                }
                task.resume();
                self.link.restarting.store(false, Ordering::Release);
                tracing::info!(stale, "the model task restarted; rebuilding the model");
            }
            let started = Instant::now();
            match run_caught(task.run(&mut events, &mut commands)).await {
                Ok(Exit::Shutdown) => return,
                Ok(Exit::EventsEnded) => {
                    tracing::info!("the AMI client has shut down; the model task ends");
                    return;
                }
                Err(panic) => {
                    self.fail();
                    let delay = self.pacing.next_delay(started.elapsed());
                    tracing::error!(
                        %panic,
                        ?delay,
                        failures = self.pacing.failures(),
                        "the model task panicked; it restarts with a fresh model"
                    );
                    if self.wait(delay, &mut commands).await.is_break() {
                        return;
                    }
                    restarted = true;
                }
            }
        }
    }

    /// The model is lost: not ready, subscribers told the link is down.
    fn fail(&self) {
        self.link.restarting.store(true, Ordering::Release);
        self.link.ready.store(false, Ordering::Release);
        self.link.rebuilding.store(false, Ordering::Release);
        self.link
            .connected
            .store(self.ami.is_connected(), Ordering::Release);
        let down = [Event::PbxStatus { connected: false }];
        if let Err(panic) = call_caught(|| self.sink.publish(&down)) {
            tracing::error!(%panic, "telling subscribers the link is down failed");
        }
    }

    /// Waits `delay` before the restart, refusing commands (their callers get
    /// `PbxError::Restarting`) but a shutdown, which is served: `Break`.
    async fn wait(
        &self,
        delay: Duration,
        commands: &mut mpsc::Receiver<Command>,
    ) -> ControlFlow<()> {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        let mut open = true;
        loop {
            tokio::select! {
                () = &mut sleep => return ControlFlow::Continue(()),
                cmd = commands.recv(), if open => match cmd {
                    Some(Command::Shutdown { tx }) => {
                        self.ami.shutdown().await;
                        let _ = tx.send(());
                        return ControlFlow::Break(());
                    }
                    Some(refused) => drop(refused),
                    None => open = false,
                },
            }
        }
    }
}

/// Drops the AMI events that waited for the restarted task; how many.
fn drain(events: &mut mpsc::Receiver<ClientEvent>) -> usize {
    let mut n = 0;
    while events.try_recv().is_ok() {
        n += 1;
    }
    n
}
