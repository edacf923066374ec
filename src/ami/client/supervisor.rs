//! The connection actor's supervisor: it owns the command receiver and the event sender, runs
//! the actor with its panics caught, and after a panic starts a fresh actor (paced), which
//! tells the consumer `Disconnected` and reconnects. Handles and the event stream outlive it.

use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::actor::{self, Restart};
use super::handle::{Command, Shared};
use super::{AmiConfig, ClientEvent};
use crate::supervise::{run_caught, Pacing};

/// Runs actors, one after the other, until one shuts down.
pub(super) async fn run(
    config: AmiConfig,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<ClientEvent>,
    shared: Arc<Shared>,
) {
    let config = Arc::new(config);
    let mut pacing = Pacing::default();
    let mut restart = None;
    loop {
        let started = Instant::now();
        let body = actor::run(
            Arc::clone(&config),
            &mut commands,
            events.clone(),
            Arc::clone(&shared),
            restart.take(),
        );
        match run_caught(body).await {
            Ok(()) => return,
            Err(panic) => {
                shared.set_connected(false);
                let delay = pacing.next_delay(started.elapsed());
                tracing::error!(
                    %panic,
                    ?delay,
                    failures = pacing.failures(),
                    "the AMI client task panicked; it restarts and reconnects"
                );
                restart = Some(Restart {
                    reason: "the AMI client failed and restarts".into(),
                    delay,
                });
            }
        }
    }
}
