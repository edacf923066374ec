//! The driver: the event source. Over its own AMI connection to the simulator it pauses
//! members with a stamp as the pause reason (`QueuePause`, `Queue` and `Interface` set); each
//! such action makes the simulator emit one `QueueMemberPause`, from which the service publishes
//! one `queueMemberStatus` carrying the stamp. The reason changes every time, so every action is
//! a change the model publishes.
//!
//! One task per (agent, queue) pair sends that pair's actions one after another (the next after
//! the previous one's answer), so the pair's events are emitted in sequence order; the pairs run
//! side by side. A pacer hands out permits at `--rate` per second. The driver's own connection
//! turns its event stream off (`Events: off`), so it costs the simulator nothing more.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use pbxis_ws::ami::{self, AmiConfig, AmiHandle, AmiMessage, ClientEvent};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::stamp::Clock;
use crate::tally::{histogram, MAX_LATENCY_US};

/// An (agent, queue) pair and the interface that names the member.
#[derive(Clone, Debug)]
pub struct Pair {
    /// The agent.
    pub agent: String,
    /// The queue.
    pub queue: String,
    /// The member's interface (the location template applied).
    pub interface: String,
}

/// What the driver did.
#[derive(Debug)]
pub struct Driven {
    /// Actions answered with success, per pair: the stamps each subscriber of the pair must get.
    pub sent: Vec<u32>,
    /// Failed actions (refused, timed out, link lost); a failed pair stops.
    pub errors: Vec<String>,
    /// Round trip of each action (send to answer), microseconds.
    pub round_trip: Histogram<u64>,
    /// From the first action to the last answer.
    pub elapsed: Duration,
    /// True when the deadline cut the driving short.
    pub cut: bool,
}

/// The AMI connection the driver sends through.
pub struct Source {
    handle: AmiHandle,
}

impl Source {
    /// Connects and logs in (within `wait`), then turns its event stream off.
    pub async fn connect(config: AmiConfig, wait: Duration) -> anyhow::Result<Source> {
        let (handle, mut events) = ami::client::connect(config);
        let connected = tokio::time::timeout(wait, async {
            while let Some(event) = events.recv().await {
                match event {
                    ClientEvent::Connected { .. } => return Ok(()),
                    ClientEvent::Disconnected { reason } => anyhow::bail!("AMI: {reason}"),
                    _ => {}
                }
            }
            anyhow::bail!("AMI client ended")
        })
        .await;
        match connected {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => anyhow::bail!("no AMI login within {wait:?}"),
        }
        tokio::spawn(drain(events));
        handle
            .send(AmiMessage::action("Events").with("EventMask", "off"))
            .await?;
        Ok(Source { handle })
    }

    /// Sends `events` stamped pauses over `pairs`, at `rate` per second (0 = unpaced), until
    /// done or `stop`.
    pub async fn drive(
        &self,
        clock: Clock,
        pairs: &[Pair],
        events: u64,
        rate: f64,
        stop: CancellationToken,
    ) -> Driven {
        let budget = Arc::new(AtomicU64::new(events));
        let permits = Arc::new(Semaphore::new(0));
        let pacer = (rate > 0.0).then(|| tokio::spawn(pace(permits.clone(), rate, events)));
        let (rtt_tx, mut rtt_rx) = mpsc::channel::<u64>(4096);
        let started = Instant::now();
        let mut tasks = JoinSet::new();
        for (index, pair) in pairs.iter().enumerate() {
            let ctx = PairCtx {
                handle: self.handle.clone(),
                clock,
                index: index as u32,
                pair: pair.clone(),
                budget: budget.clone(),
                permits: pacer.is_some().then(|| permits.clone()),
                rtt: rtt_tx.clone(),
                stop: stop.clone(),
            };
            tasks.spawn(async move { (index, drive_pair(ctx).await) });
        }
        drop(rtt_tx);
        let mut round_trip = histogram();
        let collect = async {
            while let Some(us) = rtt_rx.recv().await {
                let _ = round_trip.record(us.clamp(1, MAX_LATENCY_US));
            }
        };
        let joined = join_pairs(tasks, pairs.len(), started);
        let ((sent, errors, last), ()) = tokio::join!(joined, collect);
        if let Some(pacer) = pacer {
            pacer.abort();
        }
        Driven {
            sent,
            errors,
            round_trip,
            elapsed: last - started,
            cut: stop.is_cancelled() && budget.load(Ordering::Relaxed) > 0,
        }
    }

    /// Unpauses every pair's member (tidying a long-running simulator); errors are ignored.
    pub async fn unpause(&self, pairs: &[Pair]) {
        for pair in pairs {
            let action = AmiMessage::action("QueuePause")
                .with("Queue", &pair.queue)
                .with("Interface", &pair.interface)
                .with("Paused", "false");
            let _ = self.handle.send(action).await;
        }
    }

    /// Logs off.
    pub async fn close(self) {
        self.handle.shutdown().await;
    }
}

/// Waits for every pair's task: sends per pair, errors, and when the last answer came.
async fn join_pairs(
    mut tasks: JoinSet<(usize, PairDone)>,
    pairs: usize,
    started: Instant,
) -> (Vec<u32>, Vec<String>, Instant) {
    let mut sent = vec![0; pairs];
    let mut errors = Vec::new();
    let mut last = started;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((index, done)) => {
                sent[index] = done.sent;
                errors.extend(done.error);
                last = last.max(done.last_answer.unwrap_or(started));
            }
            Err(e) => errors.push(format!("driver task: {e}")),
        }
    }
    (sent, errors, last)
}

async fn drain(mut events: mpsc::Receiver<ClientEvent>) {
    while events.recv().await.is_some() {}
}

/// Adds permits so that `rate × elapsed` actions may have started, up to `events`.
pub(crate) async fn pace(permits: Arc<Semaphore>, rate: f64, events: u64) {
    let start = Instant::now();
    let mut given = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    while given < events {
        tick.tick().await;
        let due = ((start.elapsed().as_secs_f64() * rate) as u64).min(events);
        if due > given {
            permits.add_permits((due - given) as usize);
            given = due;
        }
    }
}

struct PairCtx {
    handle: AmiHandle,
    clock: Clock,
    index: u32,
    pair: Pair,
    budget: Arc<AtomicU64>,
    permits: Option<Arc<Semaphore>>,
    rtt: mpsc::Sender<u64>,
    stop: CancellationToken,
}

/// What one pair's task did.
struct PairDone {
    /// Actions answered with success.
    sent: u32,
    /// The error that stopped it.
    error: Option<String>,
    /// When its last answer came.
    last_answer: Option<Instant>,
}

/// Sends one pair's actions in order, until the budget is spent, `stop`, or an error.
async fn drive_pair(ctx: PairCtx) -> PairDone {
    let mut done = PairDone {
        sent: 0,
        error: None,
        last_answer: None,
    };
    loop {
        if let Some(permits) = &ctx.permits {
            tokio::select! {
                () = ctx.stop.cancelled() => return done,
                permit = permits.acquire() => match permit {
                    Ok(p) => p.forget(),
                    Err(_) => return done,
                },
            }
        }
        if ctx.stop.is_cancelled() {
            return done;
        }
        match take_one(&ctx.budget) {
            None => return done,
            // The last one: wake the pairs waiting for a permit, there are no more.
            Some(0) => {
                if let Some(permits) = &ctx.permits {
                    permits.close();
                }
            }
            Some(_) => {}
        }
        let seq = done.sent;
        let sent_us = ctx.clock.now_us();
        let action = AmiMessage::action("QueuePause")
            .with("Queue", &ctx.pair.queue)
            .with("Interface", &ctx.pair.interface)
            .with("Paused", "true")
            .with("Reason", ctx.clock.encode(ctx.index, seq, sent_us));
        match ctx.handle.send(action).await {
            Ok(_) => {
                done.sent += 1;
                done.last_answer = Some(Instant::now());
                let _ = ctx
                    .rtt
                    .send(ctx.clock.now_us().saturating_sub(sent_us))
                    .await;
            }
            Err(e) => {
                let pair = format!("{}@{}", ctx.pair.agent, ctx.pair.queue);
                done.error = Some(format!("QueuePause {pair} #{seq}: {e}"));
                return done;
            }
        }
    }
}

/// Takes one event from the shared budget: what is left after it, `None` when it was spent.
pub(crate) fn take_one(budget: &AtomicU64) -> Option<u64> {
    budget
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .ok()
        .map(|before| before - 1)
}
