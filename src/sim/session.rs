//! One AMI connection: writes the banner, decodes actions and hands them to the engine, and
//! writes what the engine queues for it. The output queue is bounded and every write has a
//! deadline: a client that does not read is disconnected, as Asterisk does after its
//! `writetimeout`. Faults reach here too: stalls (no reading, no writing), split writes.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use futures_util::StreamExt;
use rand::Rng;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::codec::{Encoder, FramedRead};
use tokio_util::sync::CancellationToken;

use super::engine::Command;
use super::handle::Shared;
use crate::ami::codec::{AmiCodec, AmiFrame};
use crate::ami::message::AmiMessage;

/// The banner Asterisk 22 sends first.
pub(crate) const BANNER: &str = "Asterisk Call Manager/11.0.0\r\n";

/// What the engine queues for a client.
#[derive(Debug)]
pub(crate) enum Out {
    Msg(AmiMessage),
    Raw(Vec<u8>),
    /// Flush, then close the connection.
    Close,
}

/// Bounds of one session.
#[derive(Clone, Debug)]
pub(crate) struct SessionLimits {
    pub max_pending: usize,
    pub write_timeout: Duration,
}

/// Everything a session needs.
pub(crate) struct SessionArgs {
    pub id: u64,
    pub peer: SocketAddr,
    pub engine: mpsc::Sender<Command>,
    pub shared: Arc<Shared>,
    pub stall: watch::Receiver<Option<Instant>>,
    pub limits: SessionLimits,
}

/// Runs one connection to its end.
pub(crate) async fn run(stream: TcpStream, args: SessionArgs) {
    let _ = stream.set_nodelay(true);
    let (rd, wr) = stream.into_split();
    let (out_tx, out_rx) = mpsc::channel(args.limits.max_pending);
    let cancel = CancellationToken::new();
    let open = Command::Open {
        id: args.id,
        out: out_tx,
        cancel: cancel.clone(),
        peer: args.peer.to_string(),
    };
    if args.engine.send(open).await.is_err() {
        return;
    }
    let writer = tokio::spawn(write_loop(
        wr,
        out_rx,
        cancel.clone(),
        args.shared.clone(),
        args.stall.clone(),
        args.limits.write_timeout,
    ));
    let mut frames = FramedRead::new(rd, AmiCodec::server());
    let mut stall = args.stall.clone();
    loop {
        wait_stall(&mut stall).await;
        let frame = tokio::select! {
            () = cancel.cancelled() => break,
            f = frames.next() => f,
        };
        match frame {
            Some(Ok(AmiFrame::Message(msg))) if !msg.is_empty() => {
                args.shared.log_action(&msg);
                let cmd = Command::Action { id: args.id, msg };
                if args.engine.send(cmd).await.is_err() {
                    break;
                }
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    cancel.cancel();
    let _ = args.engine.send(Command::Closed { id: args.id }).await;
    let _ = writer.await;
}

async fn wait_stall(stall: &mut watch::Receiver<Option<Instant>>) {
    let until = *stall.borrow_and_update();
    if let Some(until) = until {
        if until > Instant::now() {
            tokio::time::sleep_until(until).await;
        }
    }
}

async fn write_loop(
    mut wr: OwnedWriteHalf,
    mut rx: mpsc::Receiver<Out>,
    cancel: CancellationToken,
    shared: Arc<Shared>,
    mut stall: watch::Receiver<Option<Instant>>,
    write_timeout: Duration,
) {
    let mut codec = AmiCodec::server();
    let mut buf = BytesMut::new();
    if write_all(&mut wr, BANNER.as_bytes(), write_timeout, false)
        .await
        .is_err()
    {
        cancel.cancel();
        return;
    }
    loop {
        let out = tokio::select! {
            () = cancel.cancelled() => break,
            o = rx.recv() => o,
        };
        wait_stall(&mut stall).await;
        let split = shared.split_writes.load(Ordering::Relaxed);
        let result = match out {
            Some(Out::Msg(msg)) => {
                buf.clear();
                if codec.encode(&msg, &mut buf).is_err() {
                    // Refused by the codec (a CR/LF in a value): never written.
                    continue;
                }
                write_all(&mut wr, &buf, write_timeout, split).await
            }
            Some(Out::Raw(bytes)) => write_all(&mut wr, &bytes, write_timeout, split).await,
            Some(Out::Close) | None => break,
        };
        if result.is_err() {
            tracing::warn!("AMI client write timed out or failed: disconnected");
            break;
        }
    }
    let _ = wr.shutdown().await;
    cancel.cancel();
}

/// Writes `bytes` within `timeout`; with `split`, in random pieces flushed one by one.
async fn write_all(
    wr: &mut OwnedWriteHalf,
    bytes: &[u8],
    timeout: Duration,
    split: bool,
) -> std::io::Result<()> {
    let work = async {
        if !split || bytes.len() < 2 {
            return wr.write_all(bytes).await;
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = rand::thread_rng().gen_range(1..=rest.len().min(7));
            wr.write_all(&rest[..n]).await?;
            wr.flush().await?;
            tokio::task::yield_now().await;
            rest = &rest[n..];
        }
        Ok(())
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "write timeout",
        )),
    }
}
