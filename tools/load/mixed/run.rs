//! The phases of a mixed run:
//!
//! 1. the simulator starts with its call traffic on, then the service and the probe driver;
//! 2. a ticket for every page, and every page's SSE stream open;
//! 3. `--warmup`: the calls pile up to their steady state (the AMI rate is printed);
//! 4. the window: stamped probes at `--probe-rate` for `--seconds` on top of the traffic; the
//!    service's AMI events, CPU time and RSS, and every page's events, read at both ends;
//! 5. the last probes' deliveries are awaited (at most [`DRAIN_WAIT`]), the pages close, the
//!    service stops (`POST /stop`), then the simulator.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::args::MixedArgs;
use super::joins::Joins;
use super::pages::{Kind, Shared};
use super::report::{load_average, KindReport, MixedReport, ServiceUse};
use super::rig::{probe_pairs, Rig};
use super::streams::Pages;
use crate::compare::procs::Procs;
use crate::report::Percentiles;
use crate::stamp::Clock;
use crate::tally::histogram;

/// How long the pages may take to open, per thousand.
const OPEN_WAIT_PER_1000: Duration = Duration::from_secs(20);
/// How long the last probes may take to arrive once the window is over.
const DRAIN_WAIT: Duration = Duration::from_secs(10);
/// Grace beyond `--seconds` for the driver to send its last probes.
const DRIVE_GRACE: Duration = Duration::from_secs(10);

/// Runs the mixed load; progress lines go to `progress`.
pub async fn run(args: MixedArgs, progress: fn(&str)) -> anyhow::Result<MixedReport> {
    let bin = crate::soak::service_bin(args.service_bin.as_deref())?;
    let rig = Rig::start(&args, &bin).await?;
    progress(&format!("service ready at {}", rig.http));
    let result = measure(&args, &rig, progress).await;
    let exit_ok = rig.stop().await;
    let mut report = result?;
    report.service_exit_ok = exit_ok;
    report.judge();
    Ok(report)
}

/// What is read at each end of the window.
struct Reading {
    at: Instant,
    cpu_us: u64,
    rss_kib: u64,
    ami_events: u64,
    calls: usize,
    events: [u64; 3],
    load: [f64; 3],
}

impl Reading {
    async fn take(rig: &Rig, procs: &Procs, shared: &Shared) -> anyhow::Result<Reading> {
        Ok(Reading {
            ami_events: rig.ami_events().await?,
            calls: rig.calls().await,
            at: Instant::now(),
            cpu_us: procs.cpu_us(),
            rss_kib: procs.rss_kib(),
            events: Kind::ALL.map(|k| shared.kind(k).events.load(Ordering::SeqCst)),
            load: load_average(),
        })
    }
}

async fn measure(args: &MixedArgs, rig: &Rig, progress: fn(&str)) -> anyhow::Result<MixedReport> {
    let clock = Clock::new();
    let joins = Arc::new(Joins::default());
    rig.watch_joins(clock, joins.clone()).await?;
    let shared = Arc::new(Shared::new(clock, (0..args.agents).collect(), joins));
    let pages = rig.pages(args).await.context("tickets")?;
    let pages = Pages::open(rig.http, pages, shared);
    let result = async {
        wait_open(&pages, progress).await?;
        warm_up(args, rig, progress).await?;
        window(args, rig, &pages, clock, progress).await
    }
    .await;
    pages.close().await;
    result
}

/// Waits until every page's stream is open; fails at the first failure.
async fn wait_open(pages: &Pages, progress: fn(&str)) -> anyhow::Result<()> {
    let n = pages.size;
    let wait = OPEN_WAIT_PER_1000 * (n / 1000 + 1) as u32;
    let started = Instant::now();
    let s = &pages.shared;
    loop {
        if s.failed.load(Ordering::SeqCst) > 0 {
            anyhow::bail!(
                "a page failed to open: {}",
                s.first_error().unwrap_or_default()
            );
        }
        let opened = s.opened.load(Ordering::SeqCst);
        if opened == n {
            progress(&format!("{n} pages open in {:.1?}", started.elapsed()));
            return Ok(());
        }
        if started.elapsed() > wait {
            anyhow::bail!("only {opened} of {n} pages opened within {wait:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Lets the traffic run `--warmup` seconds, and says what AMI rate it came to.
async fn warm_up(args: &MixedArgs, rig: &Rig, progress: fn(&str)) -> anyhow::Result<()> {
    if args.warmup == 0 {
        return Ok(());
    }
    let before = rig.ami_events().await?;
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.warmup)).await;
    let after = rig.ami_events().await?;
    progress(&format!(
        "warm-up: {:.0} AMI events/s, {} calls live",
        after.saturating_sub(before) as f64 / started.elapsed().as_secs_f64(),
        rig.calls().await
    ));
    Ok(())
}

async fn window(
    args: &MixedArgs,
    rig: &Rig,
    pages: &Pages,
    clock: Clock,
    progress: fn(&str),
) -> anyhow::Result<MixedReport> {
    let shared = &pages.shared;
    let procs = Procs::one(rig.pid);
    let pairs = probe_pairs(args);
    let start = Reading::take(rig, &procs, shared).await?;
    shared.begin_window();
    progress(&format!(
        "window: {} probes at {}/s over {} s",
        args.probes(),
        args.probe_rate,
        args.seconds
    ));
    let stop = CancellationToken::new();
    let guard = stop.clone();
    let limit = Duration::from_secs(args.seconds) + DRIVE_GRACE;
    let timer = tokio::spawn(async move {
        tokio::time::sleep(limit).await;
        guard.cancel();
    });
    let driven = rig
        .source
        .drive(clock, &pairs, args.probes(), args.probe_rate, stop)
        .await;
    timer.abort();
    let end = Reading::take(rig, &procs, shared).await?;
    let sent: u64 = driven.sent.iter().map(|&n| u64::from(n)).sum();
    let expected = |kind: Kind| match kind {
        Kind::Agent => sent,
        Kind::Supervisor => sent * args.supervisors as u64,
        Kind::Wallboard => 0,
    };
    let drained = Instant::now();
    while Kind::ALL
        .iter()
        .any(|&k| shared.kind(k).probes.load(Ordering::SeqCst) < expected(k))
        && drained.elapsed() < DRAIN_WAIT
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let window_s = end.at.duration_since(start.at).as_secs_f64().max(1e-9);
    let (mut all, mut all_joins) = (histogram(), histogram());
    let kinds = Kind::ALL
        .iter()
        .enumerate()
        .map(|(i, &kind)| {
            let k = shared.kind(kind);
            let latency = k.latency();
            let _ = all.add(&latency);
            let join_latency = k.join_latency();
            let _ = all_joins.add(&join_latency);
            let events = end.events[i].saturating_sub(start.events[i]);
            let received = k.probes.load(Ordering::SeqCst);
            KindReport {
                kind: kind.name(),
                pages: count(args, kind),
                events,
                events_per_s: events as f64 / window_s,
                resyncs: k.resyncs.load(Ordering::SeqCst),
                probes_expected: expected(kind),
                probes_received: received,
                lost: expected(kind).saturating_sub(received),
                repeats: k.repeats.load(Ordering::SeqCst),
                foreign: k.foreign.load(Ordering::SeqCst),
                latency: Percentiles::of(&latency),
                joins: k.joins.load(Ordering::SeqCst),
                join_latency: Percentiles::of(&join_latency),
            }
        })
        .collect();
    let cpu_s = end.cpu_us.saturating_sub(start.cpu_us) as f64 / 1e6;
    let ami_events = end.ami_events.saturating_sub(start.ami_events);
    Ok(MixedReport {
        agents: args.agents,
        queues: args.queues,
        queues_per_agent: args.queues_per_agent,
        strategy: args.strategy,
        call_rate: args.call_rate,
        time_scale: args.time_scale,
        calls_live: (start.calls, end.calls),
        window_s,
        ami_events,
        ami_events_per_s: ami_events as f64 / window_s,
        probes_sent: sent,
        probe_round_trip: Percentiles::of(&driven.round_trip),
        probe_errors: driven.errors,
        kinds,
        latency: Percentiles::of(&all),
        join_latency: Percentiles::of(&all_joins),
        service: ServiceUse {
            cpu_s,
            cores: cpu_s / window_s,
            rss_kib_start: start.rss_kib,
            rss_kib_end: end.rss_kib,
        },
        load_average: (start.load, end.load),
        streams_failed: shared.failed.load(Ordering::SeqCst),
        first_error: shared.first_error(),
        service_exit_ok: false,
        goal_p99: false,
        goal_cpu: false,
        ok: false,
    })
}

/// Pages of `kind`.
fn count(args: &MixedArgs, kind: Kind) -> usize {
    match kind {
        Kind::Agent => args.agents,
        Kind::Supervisor => args.supervisors,
        Kind::Wallboard => args.wallboards,
    }
}
