//! The `pbxis-ws` command: `serve`, `simulate` or `demo`. Logs go to stderr through a
//! non-blocking writer (`logs`; `RUST_LOG` honoured, `info` by default); stdout carries only
//! what `demo` prints.

use clap::{Parser, Subcommand};
use pbxis_ws::{app, config, logs, sim};

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
    // Kept until exit: dropping it flushes the log lines still queued.
    let _logs = logs::init(cli.log_json);
    pbxis_ws::supervise::log_panics();
    match cli.command {
        Command::Serve(args) => app::serve(*args).await,
        Command::Simulate(args) => sim::run(args).await,
        Command::Demo(args) => app::demo(args).await,
    }
}
