//! One run, start to end: the service, the tickets and subscribers (all attached before the
//! first event), the driver, the wait for the last deliveries, and the tidy stop. Every phase
//! has its deadline inside `--time-limit`: driving stops at 70% of it, waiting at 100%.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use pbxis_ws::ami::AmiConfig;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::args::Plan;
use crate::driver::{Pair, Source};
use crate::memory;
use crate::report::{Memories, Outcome, Report};
use crate::service::Service;
use crate::stamp::Clock;
use crate::subscriber::{self, Subscriber, Transport};
use crate::tally::Tally;
use crate::usage;

/// How long a subscriber may take to stop once told.
const SUBSCRIBER_STOP_WAIT: Duration = Duration::from_secs(5);
/// How long the driver's AMI login may take.
const LOGIN_WAIT: Duration = Duration::from_secs(10);

/// Runs the plan and reports.
pub async fn run(plan: Plan) -> anyhow::Result<Report> {
    let started = Instant::now();
    let deadline = started + plan.time_limit();
    let mut memories = Memories {
        start: memory::sample(),
        ..Memories::default()
    };
    let service = Service::start(&plan).await?;
    memories.ready = memory::sample();
    let clock = Clock::new();
    let pairs = pairs(&plan);
    let stop = CancellationToken::new();
    let subs = subscribe(&plan, &service, clock, &pairs, &stop).await?;
    memories.subscribed = memory::sample();

    let (host, port) = (service.ami.ip().to_string(), service.ami.port());
    let config = AmiConfig::new(host, port, &plan.args.ami_user, &plan.args.ami_secret);
    let source = Source::connect(config, LOGIN_WAIT)
        .await
        .context("the driver's AMI connection")?;
    let drive_stop = CancellationToken::new();
    let drive_deadline = started + plan.time_limit().mul_f64(0.7);
    let timer = cancel_at(drive_stop.clone(), drive_deadline);
    let usage_before = usage::sample();
    let drive_start = Instant::now();
    let driven = source
        .drive(clock, &pairs, plan.args.events, plan.args.rate, drive_stop)
        .await;
    timer.abort();

    let complete = wait_for_deliveries(&subs, &driven.sent, deadline).await;
    let used = usage::sample().since(&usage_before);
    memories.after = memory::sample();
    stop.cancel();
    let mut finished = Vec::with_capacity(subs.len());
    for running in subs {
        match tokio::time::timeout(SUBSCRIBER_STOP_WAIT, running.handle).await {
            Ok(Ok(sub)) => finished.push(sub),
            Ok(Err(e)) => anyhow::bail!("a subscriber task failed: {e}"),
            Err(_) => anyhow::bail!("a subscriber did not stop within {SUBSCRIBER_STOP_WAIT:?}"),
        }
    }
    let in_process = service.in_process();
    if !in_process {
        source.unpause(&pairs).await;
    }
    source.close().await;
    service.stop().await;
    let outcome = Outcome {
        in_process,
        pairs: pairs.len(),
        driven: &driven,
        drive_start,
        subs: &finished,
        complete,
        memory: memories,
        usage: used,
    };
    Ok(Report::build(&plan, outcome))
}

/// Every (agent, queue) pair, agents first.
fn pairs(plan: &Plan) -> Vec<Pair> {
    plan.agents
        .iter()
        .flat_map(|agent| {
            plan.queues.iter().map(move |queue| Pair {
                agent: agent.clone(),
                queue: queue.clone(),
                interface: plan.args.location.replace("{agent}", agent),
            })
        })
        .collect()
}

/// The transport of subscriber `index`: the SSE ones first, then WebSocket, then long-poll.
fn transport_of(plan: &Plan, index: usize) -> Transport {
    if index < plan.args.sse {
        Transport::Sse
    } else if index < plan.args.sse + plan.args.websocket {
        Transport::Websocket
    } else {
        Transport::LongPoll
    }
}

/// A started subscriber.
struct Running {
    handle: JoinHandle<Subscriber>,
    /// Stamps it received once so far.
    progress: Arc<AtomicU64>,
    /// The pairs its ticket covers.
    covered: Vec<u32>,
}

/// Takes a ticket for every subscriber, starts it, and waits until every stream is attached.
async fn subscribe(
    plan: &Plan,
    service: &Service,
    clock: Clock,
    pairs: &[Pair],
    stop: &CancellationToken,
) -> anyhow::Result<Vec<Running>> {
    let max_seq = u32::try_from(plan.args.events).unwrap_or(u32::MAX);
    let mut running = Vec::with_capacity(plan.subscribers());
    let mut attached = Vec::with_capacity(plan.subscribers());
    for index in 0..plan.subscribers() {
        let agents = plan.ticket_agents(index);
        let api_key = plan.args.api_key.as_deref();
        let ticket = crate::http::ticket(service.http, api_key, &agents, &plan.queues)
            .await
            .with_context(|| format!("ticket for subscriber {index}"))?;
        let covered: Vec<u32> = (0..pairs.len() as u32)
            .filter(|p| agents.contains(&pairs[*p as usize].agent))
            .collect();
        let tally = Tally::new(clock, &covered, max_seq);
        let progress = tally.progress.clone();
        let sub = Subscriber {
            transport: transport_of(plan, index),
            ticket,
            tally,
        };
        let (tx, rx) = oneshot::channel();
        let handle = tokio::spawn(subscriber::run(sub, service.http, stop.clone(), tx));
        running.push(Running {
            handle,
            progress,
            covered,
        });
        attached.push(rx);
    }
    for rx in attached {
        // A subscriber that failed to attach says so too (its error is in its tally).
        let _ = rx.await;
    }
    Ok(running)
}

/// Cancels `token` at `at`.
fn cancel_at(token: CancellationToken, at: Instant) -> JoinHandle<()> {
    tokio::spawn(async move {
        tokio::time::sleep_until(at.into()).await;
        token.cancel();
    })
}

/// Waits until every live subscriber has every stamp of its pairs, or the deadline. True when
/// all arrived.
async fn wait_for_deliveries(subs: &[Running], sent: &[u32], deadline: Instant) -> bool {
    let expected: Vec<u64> = subs
        .iter()
        .map(|s| s.covered.iter().map(|p| u64::from(sent[*p as usize])).sum())
        .collect();
    let missing = |s: &Running, want: u64| s.progress.load(Ordering::Relaxed) < want;
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    loop {
        let waiting = subs
            .iter()
            .zip(&expected)
            .any(|(s, want)| !s.handle.is_finished() && missing(s, *want));
        if !waiting {
            return !subs
                .iter()
                .zip(&expected)
                .any(|(s, want)| missing(s, *want));
        }
        if Instant::now() >= deadline {
            return false;
        }
        tick.tick().await;
    }
}
