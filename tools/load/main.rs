//! `pbxis-load`: the load tool behind the README's performance figures. Against loopback only,
//! it starts the simulated Asterisk and the service in-process (or takes a running one with
//! `--url` and `--ami`), opens subscribers on SSE, WebSocket and long-poll, drives stamped
//! events through the whole pipeline (simulator → AMI → model → hub → transport), and reports
//! per transport the latency percentiles, throughput, losses and duplicates (which must be
//! zero), and the process's memory. Bounded counts and a hard time limit: it always stops.
//!
//! - `args`: flags and bounds; `service`: the service under load; `driver`: the event source;
//! - `stamp`: what each event carries; `subscriber`, `http`, `sse`: the three clients;
//! - `tally`: what one subscriber saw; `run`: the phases; `report`, `print`: the results;
//! - `memory`: resident memory from `/proc`, and live heap per side (service, simulator,
//!   clients) from a counting allocator; `usage`: CPU time and write calls per side.
//!
//! - `compare`: pbxis-ws and Pushpin side by side (`pbxis-load compare`).
//! - `mixed`: the mixed realistic load (`pbxis-load mixed`): agent pages, supervisors and
//!   wallboards under live call traffic, latency per kind of page, the service's CPU and RSS.
//! - `soak`: the soak mode (`pbxis-load soak`): traffic and faults for a given time, resuming
//!   subscribers, the service's RSS over time and every subscriber's end state.
//!
//! Exit status: 0 when every event reached every subscriber exactly once and in order, 1 when
//! not, 2 for bad flags, 3 when the run overran its time limit (no report then).

mod args;
mod compare;
mod driver;
mod http;
mod memory;
mod mixed;
mod print;
mod report;
mod run;
mod service;
mod soak;
mod sse;
mod stamp;
mod subscriber;
mod tally;
mod usage;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// Counts live heap bytes per side (service, simulator, clients).
#[global_allocator]
static ALLOCATOR: memory::Counting = memory::Counting;

/// Grace after `--time-limit` for start-up and shutdown before the run is abandoned.
const OVERRUN_GRACE: Duration = Duration::from_secs(30);
/// Worker threads of the load clients' runtime (the in-process service has its own).
const CLIENT_THREADS: usize = 2;

fn main() -> ExitCode {
    let cli = args::LoadArgs::parse();
    match cli.command.clone() {
        Some(args::LoadCommand::Soak(soak)) => run_soak(soak),
        Some(args::LoadCommand::Compare(compare)) => run_compare(compare),
        Some(args::LoadCommand::Mixed(mixed)) => run_mixed(mixed),
        None => {}
    }
    let plan = match args::Plan::from_args(cli) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("pbxis-load: {e}");
            return ExitCode::from(2);
        }
    };
    init_logs();
    let Some(runtime) = client_runtime() else {
        return ExitCode::FAILURE;
    };
    let json = plan.args.json;
    let limit = plan.time_limit() + OVERRUN_GRACE;
    let outcome = runtime.block_on(async { tokio::time::timeout(limit, run::run(plan)).await });
    let code = match outcome {
        Ok(Ok(report)) => {
            if json {
                match serde_json::to_string_pretty(&report) {
                    Ok(text) => println!("{text}"),
                    Err(e) => eprintln!("pbxis-load: {e}"),
                }
            } else {
                print!("{}", print::text(&report));
            }
            if report.ok {
                0
            } else {
                1
            }
        }
        Ok(Err(e)) => {
            eprintln!("pbxis-load: {e:#}");
            1
        }
        Err(_) => {
            eprintln!("pbxis-load: the run overran its time limit by {OVERRUN_GRACE:?}; abandoned");
            3
        }
    };
    // Whatever is still running (an abandoned run) ends with the process.
    std::process::exit(code);
}

fn init_logs() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,tower_http=off")),
        )
        .with_writer(std::io::stderr)
        .init();
}

fn client_runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(CLIENT_THREADS)
        .thread_name("load")
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("pbxis-load: cannot start the runtime: {e}");
            None
        }
    }
}

/// `pbxis-load soak`: exits 0 when the verdict is ok, 1 when not (or the soak failed), 2 for
/// bad flags, 3 when it overran its time limit.
fn run_soak(args: soak::args::SoakArgs) -> ! {
    if let Err(e) = args.check() {
        eprintln!("pbxis-load soak: {e}");
        std::process::exit(2);
    }
    init_logs();
    let Some(runtime) = client_runtime() else {
        std::process::exit(1);
    };
    let json = args.json;
    let limit = args.time_limit() + OVERRUN_GRACE;
    let line: fn(&str) = if json {
        |l| eprintln!("{l}")
    } else {
        |l| println!("{l}")
    };
    let outcome =
        runtime.block_on(async { tokio::time::timeout(limit, soak::run(args, line)).await });
    let code = match outcome {
        Ok(Ok(report)) => {
            if json {
                match serde_json::to_string_pretty(&report) {
                    Ok(text) => println!("{text}"),
                    Err(e) => eprintln!("pbxis-load soak: {e}"),
                }
            } else {
                print!("{}", report.summary());
            }
            i32::from(!report.ok)
        }
        Ok(Err(e)) => {
            eprintln!("pbxis-load soak: {e:#}");
            1
        }
        Err(_) => {
            eprintln!("pbxis-load soak: overran its time limit; abandoned");
            3
        }
    };
    std::process::exit(code);
}

/// `pbxis-load compare`: exits 0 when both sides ran clean (every delivery arrived), 1 when not
/// (or the comparison failed), 2 for bad flags, 3 when it overran its time limit.
fn run_compare(args: compare::args::CompareArgs) -> ! {
    if let Err(e) = args.check() {
        eprintln!("pbxis-load compare: {e}");
        std::process::exit(2);
    }
    init_logs();
    let Some(runtime) = client_runtime() else {
        std::process::exit(1);
    };
    let json = args.json;
    let limit = args.time_limit() + OVERRUN_GRACE;
    let progress: fn(&str) = |l| eprintln!("{l}");
    let outcome =
        runtime.block_on(async { tokio::time::timeout(limit, compare::run(args, progress)).await });
    let code = match outcome {
        Ok(Ok(report)) => {
            if json {
                match serde_json::to_string_pretty(&report) {
                    Ok(text) => println!("{text}"),
                    Err(e) => eprintln!("pbxis-load compare: {e}"),
                }
            } else {
                print!("{}", report.text());
            }
            i32::from(!report.ok)
        }
        Ok(Err(e)) => {
            eprintln!("pbxis-load compare: {e:#}");
            1
        }
        Err(_) => {
            eprintln!("pbxis-load compare: overran its time limit; abandoned");
            3
        }
    };
    std::process::exit(code);
}

/// `pbxis-load mixed`: exits 0 when every probe reached every page it should (whether the
/// goals are met is in the report), 1 when not (or the run failed), 2 for bad flags, 3 when it
/// overran its time limit.
fn run_mixed(args: mixed::args::MixedArgs) -> ! {
    if let Err(e) = args.check() {
        eprintln!("pbxis-load mixed: {e}");
        std::process::exit(2);
    }
    init_logs();
    let Some(runtime) = client_runtime() else {
        std::process::exit(1);
    };
    let json = args.json;
    let limit = args.time_limit() + OVERRUN_GRACE;
    let progress: fn(&str) = |l| eprintln!("{l}");
    let outcome =
        runtime.block_on(async { tokio::time::timeout(limit, mixed::run(args, progress)).await });
    let code = match outcome {
        Ok(Ok(report)) => {
            if json {
                match serde_json::to_string_pretty(&report) {
                    Ok(text) => println!("{text}"),
                    Err(e) => eprintln!("pbxis-load mixed: {e}"),
                }
            } else {
                print!("{}", report.text());
            }
            i32::from(!report.ok)
        }
        Ok(Err(e)) => {
            eprintln!("pbxis-load mixed: {e:#}");
            1
        }
        Err(_) => {
            eprintln!("pbxis-load mixed: overran its time limit; abandoned");
            3
        }
    };
    std::process::exit(code);
}
