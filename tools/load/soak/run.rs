//! One soak, start to end: the simulator (on a runtime of its own in this process, so the
//! faults are driven on its handle), the service as a child process, the chaos proxy, the
//! subscribers; then traffic and faults for the duration with a report line per interval;
//! then the traffic stops (no new callers, every call hung up) and every subscriber has
//! `--settle` to believe the simulator's truth; then everything stops.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use pbxis_ws::sim::{self, SimConfig, SimHandle};
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::args::SoakArgs;
use super::belief::Belief;
use super::chaos::ChaosProxy;
use super::child::{ServiceChild, Wanted};
use super::client::{self, Away, Counters, Setup};
use super::faults::{self, FaultCounts};
use super::report::{Outcome, Sample, SoakReport, SubscriberEnd};
use crate::memory::{self, Side};
use crate::subscriber::Transport;

/// Members' interfaces and devices in the simulator and the service.
const LOCATION: &str = "PJSIP/{agent}";
/// How long the simulator may take to end its calls once told.
const QUIESCE_WAIT: Duration = Duration::from_secs(30);
/// How long a subscriber may take to stop.
const SUBSCRIBER_STOP_WAIT: Duration = Duration::from_secs(5);
/// Lines of difference kept per subscriber.
const MAX_DIFFERENCES: usize = 5;

/// A running subscriber.
struct Sub {
    setup: Setup,
    via_proxy: bool,
    counters: Arc<Counters>,
    handle: JoinHandle<()>,
}

/// Runs the soak; report lines go to `line` as they come.
pub async fn run(args: SoakArgs, line: fn(&str)) -> anyhow::Result<SoakReport> {
    let bin = service_bin(args.service_bin.as_deref())?;
    let sim_runtime = simulator_runtime()?;
    let sim = sim_runtime
        .spawn(sim::start(sim_config(&args), loopback()))
        .await
        .context("the simulator's start-up task failed")?
        .context("cannot start the simulator")?;
    let result = soak(&args, &bin, &sim, line).await;
    sim.shutdown().await;
    let _ = tokio::task::spawn_blocking(move || sim_runtime.shutdown_timeout(SUBSCRIBER_STOP_WAIT))
        .await;
    result
}

async fn soak(
    args: &SoakArgs,
    bin: &std::path::Path,
    sim: &SimHandle,
    line: fn(&str),
) -> anyhow::Result<SoakReport> {
    let wanted = Wanted {
        location: LOCATION.to_owned(),
        subscribers: args.subscribers(),
        max_pending: args.max_pending,
        unsub_delay: args.unsub_delay,
    };
    let service = ServiceChild::start(bin, sim.addr(), &wanted).await?;
    let proxy = ChaosProxy::start(service.http, args.cut_every.into(), args.seed)
        .await
        .context("cannot start the chaos proxy")?;
    let stop_subs = CancellationToken::new();
    let subs = start_subscribers(args, service.http, proxy.addr(), &stop_subs);
    let fault_counts = Arc::new(FaultCounts::default());
    let stop_faults = CancellationToken::new();
    let injector = start_faults(args, sim, &fault_counts, &stop_faults);
    let watch = Watch {
        subs: &subs,
        proxy: &proxy,
        faults: &fault_counts,
        service: &service,
    };
    let samples = sample(args, &watch, line).await;
    stop_faults.cancel();
    let _ = injector.await;
    proxy.calm();
    quiesce(sim).await;
    let quiet = Instant::now();
    let converged = converge(args, sim, &subs).await;
    let converged_after_s = converged.then(|| quiet.elapsed().as_secs_f64());
    let ends = finish(sim, args, subs, &stop_subs).await;
    let service_logs = service.logs();
    let exit = service.stop().await;
    proxy.stop();
    Ok(SoakReport::build(Outcome {
        duration: args.duration.into(),
        rss_tolerance: args.rss_tolerance,
        samples,
        faults: fault_counts.by_kind(),
        converged_after_s,
        ends,
        service_logs,
        service_exit_ok: exit.is_some_and(|s| s.success()),
    }))
}

/// Starts injecting faults into the simulator, until `stop`.
fn start_faults(
    args: &SoakArgs,
    sim: &SimHandle,
    counts: &Arc<FaultCounts>,
    stop: &CancellationToken,
) -> JoinHandle<()> {
    let plan = faults::Plan {
        kinds: args.faults.clone(),
        every: args.fault_every.into(),
        seed: args.seed,
    };
    tokio::spawn(faults::inject(
        sim.clone(),
        plan,
        counts.clone(),
        stop.clone(),
    ))
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// `--service-bin`, or `pbxis-ws` beside this tool's own binary.
pub(crate) fn service_bin(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(bin) = given {
        return Ok(bin.to_owned());
    }
    let me = std::env::current_exe().context("cannot find this tool's own binary")?;
    let bin = me.with_file_name("pbxis-ws");
    anyhow::ensure!(
        bin.exists(),
        "no pbxis-ws beside {} (build it, or give --service-bin)",
        me.display()
    );
    Ok(bin)
}

fn simulator_runtime() -> anyhow::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name(crate::usage::SIMULATOR_THREAD)
        .on_thread_start(|| memory::mark_thread(Side::Simulator))
        .enable_all()
        .build()
        .context("cannot build the simulator's runtime")
}

fn sim_config(args: &SoakArgs) -> SimConfig {
    let mut config = SimConfig::quiet();
    config.agents = args.agent_ids();
    config.queues = args.queue_names();
    config.location = LOCATION.to_owned();
    config.device = LOCATION.to_owned();
    config.answer_delays = config
        .agents
        .iter()
        .map(|a| (a.clone(), Some(Duration::from_secs(3))))
        .collect();
    config.call_rate = args.call_rate;
    config.time_scale = args.time_scale;
    config.seed = args.seed;
    config
}

/// Each transport's subscribers, the first `--chaos-share` of them behind the proxy.
fn start_subscribers(
    args: &SoakArgs,
    service: SocketAddr,
    proxy: SocketAddr,
    stop: &CancellationToken,
) -> Vec<Sub> {
    let mut subs = Vec::with_capacity(args.subscribers());
    for (transport, n) in [
        (Transport::Sse, args.sse),
        (Transport::Websocket, args.websocket),
        (Transport::LongPoll, args.long_poll),
    ] {
        let behind = (n as f64 * args.chaos_share).round() as usize;
        for i in 0..n {
            let via_proxy = i < behind;
            let away = via_proxy.then(|| Away {
                chance: args.away_chance,
                longest: args.away_max.into(),
                seed: args.seed.wrapping_add(subs.len() as u64),
            });
            let setup = Setup {
                away,
                transport,
                connect: if via_proxy { proxy } else { service },
                service,
                agents: args.agent_ids(),
                queues: args.queue_names(),
            };
            let counters = Arc::new(Counters::default());
            let handle = tokio::spawn(client::run(setup.clone(), counters.clone(), stop.clone()));
            subs.push(Sub {
                setup,
                via_proxy,
                counters,
                handle,
            });
        }
    }
    subs
}

/// What the report lines read.
struct Watch<'a> {
    subs: &'a [Sub],
    proxy: &'a ChaosProxy,
    faults: &'a FaultCounts,
    service: &'a ServiceChild,
}

impl Watch<'_> {
    fn sample(&self, elapsed: Duration) -> Sample {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut s = Sample {
            elapsed_s: elapsed.as_secs_f64(),
            cuts: self.proxy.cuts(),
            faults: self.faults.total(),
            rss_kib: self.service.rss_kib(),
            ..Sample::default()
        };
        for sub in self.subs {
            let c = &sub.counters;
            s.deliveries += load(&c.deliveries);
            s.reconnects += load(&c.reconnects);
            s.aways += load(&c.aways);
            s.new_tickets += load(&c.new_tickets);
            if let Ok(r) = c.resyncs.lock() {
                for (reason, n) in r.iter() {
                    *s.resyncs.entry((*reason).to_owned()).or_default() += n;
                }
            }
        }
        s
    }
}

/// One sample per `--report-every` until `--duration`, each printed as it is taken.
async fn sample(args: &SoakArgs, watch: &Watch<'_>, line: fn(&str)) -> Vec<Sample> {
    let started = Instant::now();
    let duration: Duration = args.duration.into();
    let every: Duration = args.report_every.into();
    let mut samples: Vec<Sample> = Vec::new();
    let mut next = started + every;
    loop {
        let end = started + duration;
        tokio::time::sleep_until(next.min(end).into()).await;
        let mut s = watch.sample(started.elapsed());
        let (before, at) = samples
            .last()
            .map_or((0, 0.0), |p| (p.deliveries, p.elapsed_s));
        s.per_second =
            (s.deliveries - before.min(s.deliveries)) as f64 / (s.elapsed_s - at).max(1e-9);
        line(&s.line());
        samples.push(s);
        if next >= end {
            return samples;
        }
        next += every;
    }
}

/// No new callers, and every call hung up, until the simulator has none.
async fn quiesce(sim: &SimHandle) {
    sim.set_call_rate(0.0).await;
    let deadline = Instant::now() + QUIESCE_WAIT;
    while Instant::now() < deadline {
        let calls = sim.truth().await.calls;
        if calls.is_empty() {
            return;
        }
        for call in calls {
            sim.hangup(&call.uniqueid).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The belief every subscriber should reach now.
async fn expected(args: &SoakArgs, sim: &SimHandle) -> Belief {
    let truth = sim.truth().await;
    let (agents, queues) = (args.agent_ids(), args.queue_names());
    Belief::expected(&truth, &agents, &queues, LOCATION, LOCATION)
}

/// Waits up to `--settle` until every subscriber believes the truth. True when they all do.
async fn converge(args: &SoakArgs, sim: &SimHandle, subs: &[Sub]) -> bool {
    let deadline = Instant::now() + Duration::from(args.settle);
    loop {
        let truth = expected(args, sim).await;
        let all = subs.iter().all(|s| {
            s.counters
                .belief
                .lock()
                .is_ok_and(|b| b.differences(&truth, 1).is_empty())
        });
        if all {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Stops the subscribers and says how each ended, against the truth now.
async fn finish(
    sim: &SimHandle,
    args: &SoakArgs,
    subs: Vec<Sub>,
    stop: &CancellationToken,
) -> Vec<SubscriberEnd> {
    let truth = expected(args, sim).await;
    stop.cancel();
    let mut ends = Vec::with_capacity(subs.len());
    for (index, sub) in subs.into_iter().enumerate() {
        let _ = tokio::time::timeout(SUBSCRIBER_STOP_WAIT, sub.handle).await;
        let c = &sub.counters;
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let belief = c.belief.lock().map(|b| b.clone()).unwrap_or_default();
        let differences = belief.differences(&truth, MAX_DIFFERENCES);
        ends.push(SubscriberEnd {
            index,
            transport: sub.setup.transport.name(),
            via_proxy: sub.via_proxy,
            deliveries: load(&c.deliveries),
            resyncs: c
                .resyncs
                .lock()
                .map(|r| r.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect())
                .unwrap_or_default(),
            reconnects: load(&c.reconnects),
            aways: load(&c.aways),
            new_tickets: load(&c.new_tickets),
            gaps: load(&c.gaps),
            repeats: load(&c.repeats),
            errors: load(&c.errors),
            last_error: c.last_error.lock().ok().and_then(|e| e.clone()),
            converged: differences.is_empty(),
            differences,
        });
    }
    ends
}
