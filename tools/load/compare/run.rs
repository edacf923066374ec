//! The phases of a comparison, run on one side after the other (never both at once):
//!
//! 1. start the side; its resident memory with no subscriber is the baseline;
//! 2. `--idle` subscribers open their streams (SSE, or WebSockets with `--idle-transport`); events are sent every 300 ms until each has read
//!    one (so every stream is live end to end), then, after a settling pause (12 s), memory again:
//!    `(RSS − baseline) / subscribers` is the memory per idle subscriber;
//! 3. `--broadcasts` times one event, from its sending to the moment the last subscriber read it;
//! 4. the idle streams close; `--subscribers` streams open and are reached the same way; then
//!    for each of `--rates`, events at that rate for `--seconds`: latency percentiles (send to
//!    read, every delivery), deliveries against those expected, and the side's CPU time per
//!    delivery (every thread of its processes, from `/proc`).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::args::{CompareArgs, Only, Transport};
use super::fleet::Fleet;
use super::pbxis::Pbxis;
use super::procs::Procs;
use super::pushpin::Pushpin;
use super::report::{CompareReport, IdleReport, RateReport, SideReport};
use crate::stamp::Clock;

/// How long streams may take to open, per thousand.
const OPEN_WAIT_PER_1000: Duration = Duration::from_secs(10);
/// How long a probe may take to reach every subscriber before the next is sent.
const PROBE_EVERY: Duration = Duration::from_millis(300);
/// How long all subscribers may take to be reached by probes.
const REACH_WAIT: Duration = Duration::from_secs(90);
/// Pause before memory is read: what opening the streams allocated settles, and pbxis-ws drops
/// each ticket's snapshot from its history 10 s after its stream attached. Both sides get it.
const SETTLE: Duration = Duration::from_secs(12);
/// How long the last deliveries of a phase may take after its last event was sent.
const DRAIN_WAIT: Duration = Duration::from_secs(15);
/// How long one broadcast may take to reach every idle subscriber.
const BROADCAST_WAIT: Duration = Duration::from_secs(60);

/// One side under comparison.
enum Server {
    Pbxis(Pbxis),
    Pushpin(Pushpin, usize),
}

impl Server {
    fn name(&self) -> &'static str {
        match self {
            Server::Pbxis(_) => "pbxis-ws",
            Server::Pushpin(..) => "Pushpin",
        }
    }

    fn http(&self) -> SocketAddr {
        match self {
            Server::Pbxis(p) => p.http,
            Server::Pushpin(p, _) => p.http,
        }
    }

    fn procs(&self) -> Procs {
        match self {
            Server::Pbxis(p) => Procs::one(p.pid),
            Server::Pushpin(p, _) => Procs::tree(p.pid),
        }
    }

    async fn paths(&self, n: usize, transport: Transport) -> anyhow::Result<Vec<String>> {
        match self {
            Server::Pbxis(p) => p.paths(n, transport).await,
            Server::Pushpin(..) => Ok(vec!["/stream".to_owned(); n]),
        }
    }

    async fn publish(&self, clock: Clock, events: u64, rate: f64) -> u64 {
        match self {
            Server::Pbxis(p) => p.publish(clock, events, rate).await,
            Server::Pushpin(p, lanes) => p.publish(clock, *lanes, events, rate).await,
        }
    }

    async fn stop(self) {
        match self {
            Server::Pbxis(p) => p.stop().await,
            Server::Pushpin(p, _) => p.stop().await,
        }
    }
}

/// Runs the comparison.
pub async fn run(args: CompareArgs, progress: fn(&str)) -> anyhow::Result<CompareReport> {
    let mut sides = Vec::new();
    if args.only != Only::Pushpin {
        let bin = crate::soak::service_bin(args.service_bin.as_deref())?;
        let subscribers = args.idle.max(args.subscribers);
        let server = Server::Pbxis(Pbxis::start(&bin, args.queues, subscribers).await?);
        sides.push(measure(&args, server, progress).await);
    }
    if args.only != Only::Pbxis {
        let pushpin = Pushpin::start(&args.pushpin_bin).await?;
        let server = Server::Pushpin(pushpin, args.queues);
        sides.push(measure(&args, server, progress).await);
    }
    Ok(CompareReport::new(&args, sides))
}

/// Every phase on one side; the side is stopped at the end whatever happened.
async fn measure(args: &CompareArgs, server: Server, progress: fn(&str)) -> SideReport {
    let name = server.name();
    progress(&format!("{name}: started"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let procs = server.procs();
    let mut report = SideReport::new(name, procs.rss_kib());
    if let Err(e) = phases(args, &server, &procs, &mut report, progress).await {
        report.errors.push(format!("{e:#}"));
    }
    server.stop().await;
    report
}

async fn phases(
    args: &CompareArgs,
    server: &Server,
    procs: &Procs,
    report: &mut SideReport,
    progress: fn(&str),
) -> anyhow::Result<()> {
    let clock = Clock::new();
    if args.idle > 0 {
        let fleet = open(server, args.idle, args.idle_transport, clock, progress).await?;
        let idle = idle_phase(args, server, procs, &fleet, report.baseline_rss_kib, clock).await;
        fleet.close().await;
        let idle = idle?;
        progress(&format!(
            "{}: {:.1} KiB per idle subscriber, broadcast {:.1} ms",
            server.name(),
            idle.rss_per_subscriber_kib,
            idle.broadcast_ms
        ));
        report.idle = Some(idle);
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    if args.rates.is_empty() {
        return Ok(());
    }
    let fleet = open(server, args.subscribers, Transport::Sse, clock, progress).await?;
    let result = async {
        reach_all(server, &fleet, clock).await?;
        for &rate in &args.rates {
            let r = rate_phase(args, server, procs, &fleet, clock, rate).await;
            progress(&format!(
                "{}: {} × {rate}/s: p50 {:.2} ms, p99 {:.2} ms, {:.2} µs CPU per delivery",
                server.name(),
                fleet.size,
                r.p50_ms,
                r.p99_ms,
                r.cpu_us_per_delivery
            ));
            report.rates.push(r);
        }
        Ok::<(), anyhow::Error>(())
    }
    .await;
    fleet.close().await;
    result
}

/// Opens `n` streams and waits until they are all open.
async fn open(
    server: &Server,
    n: usize,
    transport: Transport,
    clock: Clock,
    progress: fn(&str),
) -> anyhow::Result<Fleet> {
    let paths = server
        .paths(n, transport)
        .await
        .context("subscribe paths")?;
    let fleet = Fleet::open(server.http(), paths, transport, clock);
    let wait = OPEN_WAIT_PER_1000 * (n / 1000 + 1) as u32;
    let started = Instant::now();
    loop {
        let s = &fleet.shared;
        let (opened, failed) = (
            s.opened.load(Ordering::SeqCst),
            s.failed.load(Ordering::SeqCst),
        );
        if failed > 0 {
            let error = s.first_error().unwrap_or_default();
            fleet.close().await;
            anyhow::bail!("{failed} of {n} streams failed; the first: {error}");
        }
        if opened == n {
            progress(&format!(
                "{}: {n} {transport:?} streams open in {:.1?}",
                server.name(),
                started.elapsed()
            ));
            return Ok(fleet);
        }
        if started.elapsed() > wait {
            fleet.close().await;
            anyhow::bail!("only {opened} of {n} streams opened within {wait:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends probes until every stream has read one.
async fn reach_all(server: &Server, fleet: &Fleet, clock: Clock) -> anyhow::Result<()> {
    let s = &fleet.shared;
    s.begin_phase();
    let started = Instant::now();
    // A probe must be able to reach them all before the next one goes (no pile-up of probes).
    let every = PROBE_EVERY.max(Duration::from_micros(200) * fleet.size as u32);
    while s.reached.load(Ordering::SeqCst) < fleet.size {
        if started.elapsed() > REACH_WAIT {
            anyhow::bail!(
                "probes reached {} of {} subscribers within {REACH_WAIT:?}",
                s.reached.load(Ordering::SeqCst),
                fleet.size
            );
        }
        server.publish(clock, 1, 0.0).await;
        let sent = Instant::now();
        while s.reached.load(Ordering::SeqCst) < fleet.size && sent.elapsed() < every {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    Ok(())
}

async fn idle_phase(
    args: &CompareArgs,
    server: &Server,
    procs: &Procs,
    fleet: &Fleet,
    baseline_kib: u64,
    clock: Clock,
) -> anyhow::Result<IdleReport> {
    reach_all(server, fleet, clock).await?;
    tokio::time::sleep(SETTLE).await;
    let rss_kib = procs.rss_kib();
    let s = &fleet.shared;
    let mut broadcasts_ms = Vec::new();
    for _ in 0..args.broadcasts {
        let start = s.begin_phase();
        server.publish(clock, 1, 0.0).await;
        let sent = Instant::now();
        // Every stream still open (one the side closed is counted apart, see `streams_ended`).
        let open = || fleet.size.saturating_sub(s.failed.load(Ordering::SeqCst));
        while s.reached.load(Ordering::SeqCst) < open() {
            if sent.elapsed() > BROADCAST_WAIT {
                anyhow::bail!(
                    "a broadcast reached {} of {} subscribers in {BROADCAST_WAIT:?} ({} streams \
                     failed; the first: {})",
                    s.reached.load(Ordering::SeqCst),
                    fleet.size,
                    s.failed.load(Ordering::SeqCst),
                    s.first_error().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let last = s.last_read_us.load(Ordering::SeqCst);
        broadcasts_ms.push(last.saturating_sub(start) as f64 / 1000.0);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut report = IdleReport::new(fleet.size, baseline_kib, rss_kib, broadcasts_ms);
    report.transport = args.idle_transport;
    report.streams_ended = s.failed.load(Ordering::SeqCst);
    report.first_end = s.first_error();
    Ok(report)
}

async fn rate_phase(
    args: &CompareArgs,
    server: &Server,
    procs: &Procs,
    fleet: &Fleet,
    clock: Clock,
    rate: f64,
) -> RateReport {
    let s = &fleet.shared;
    s.begin_phase();
    let cpu_before = procs.cpu_us();
    let client_before = crate::usage::sample();
    let started = Instant::now();
    let events = (rate * args.seconds as f64).round().max(1.0) as u64;
    let sent = server.publish(clock, events, rate).await;
    let expected = sent * fleet.size as u64;
    let last_sent = Instant::now();
    while s.received.load(Ordering::SeqCst) < expected && last_sent.elapsed() < DRAIN_WAIT {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let cpu_us = procs.cpu_us().saturating_sub(cpu_before);
    let tool = crate::usage::sample().since(&client_before);
    let received = s.received.load(Ordering::SeqCst);
    let mut report = RateReport::new(
        rate,
        fleet.size,
        sent,
        expected,
        received,
        &s.latency(),
        cpu_us,
        elapsed,
    );
    // This process: the subscribers, and the simulator (pbxis-ws) or the publisher (Pushpin).
    report.tool_cpu_us = tool.clients_cpu_us + tool.simulator_cpu_us + tool.service_cpu_us;
    report
}
