//! The engine: the one task that owns the call-center state. It runs client actions, handle
//! commands and timed steps (ringing, answering, hanging up) one at a time, in order, so a run
//! is reproducible from its seed.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::config::SimConfig;
use super::handle::Shared;
use super::truth::SimSnapshot;

/// What the handle asks of the engine.
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
    Shutdown(oneshot::Sender<()>),
}

/// Spawns the engine; returns the command channel.
pub(crate) fn spawn(
    config: SimConfig,
    listener: TcpListener,
    shared: Arc<Shared>,
) -> mpsc::Sender<Command> {
    let (tx, mut rx) = mpsc::channel(256);
    let _ = (config, listener, shared);
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    tx
}
