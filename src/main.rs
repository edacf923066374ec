//! The `pbxis-ws` command: `serve`, `simulate` or `demo`. Logs go to stderr (tracing,
//! `RUST_LOG` honoured, `info` by default); stdout carries only what `demo` prints.

use clap::{Parser, Subcommand};
use pbxis_ws::{app, config, sim};
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Puts an Asterisk call center on the web: agents and queues over REST, long-poll, SSE and
/// WebSocket.
#[derive(Parser)]
#[command(name = "pbxis-ws", version, about, long_about = None)]
struct Cli {
    /// Log as JSON lines instead of text (levels from RUST_LOG, `info` by default).
    #[arg(long, global = true, env = "PBXIS_LOG_JSON")]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service against an Asterisk (AMI).
    Serve(Box<config::ServeArgs>),
    /// Run only the simulated Asterisk: an AMI server with a live call center.
    Simulate(sim::SimulateArgs),
    /// Run the simulator and the service connected to it, and print the page URLs.
    Demo(config::DemoArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal, not in a file or a service manager's journal.
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter);
    if cli.log_json {
        logs.json().init();
    } else {
        logs.init();
    }
    pbxis_ws::supervise::log_panics();
    match cli.command {
        Command::Serve(args) => app::serve(*args).await,
        Command::Simulate(args) => sim::run(args).await,
        Command::Demo(args) => app::demo(args).await,
    }
}
